"""What every benchmark shares: the process environment, the emulator wiring, the machine record
and the rows of the one results table.

Airflow reads its configuration when it is first imported, so :func:`prepare_environment` must run
before anything imports ``airflow``; the benchmark modules therefore import the operator inside
their functions, never at module level.
"""

from __future__ import annotations

import datetime as dt
import os
import platform
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from airflow_provider_zohorel.emulator import Credentials, EmulatorAdmin

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench" / "out"
API_VERSION = "v8"
MODULE, RELATED_LIST = "Campaigns", "Leads"
STATUSES = ("Planning", "Active", "Sent")


@dataclass(frozen=True)
class Row:
    """One line of the results table: a figure, its value, the target it is held to, the verdict."""

    section: str
    figure: str
    value: str
    target: str = ""
    verdict: str = ""


def verdict(ok: bool) -> str:
    return "met" if ok else "**MISSED**"


def fmt_s(seconds: float) -> str:
    return f"{seconds:,.2f} s"


def fmt_x(ratio: float) -> str:
    return f"{ratio:,.2f}x"


def fmt_n(count: float) -> str:
    return f"{count:,.0f}"


# --- environment ------------------------------------------------------------------------------


_WORKDIR: Path | None = None


def workdir() -> Path:
    """This run's private scratch directory (AIRFLOW_HOME, token caches, plan spills)."""
    if _WORKDIR is None:
        raise RuntimeError("prepare_environment() has not run")
    return _WORKDIR


def prepare_environment(base: Path | None = None) -> Path:
    """Point Airflow and the token cache at private temp directories; call before importing airflow."""
    global _WORKDIR
    directory = Path(tempfile.mkdtemp(prefix="zohorel-bench-", dir=base))
    home = directory / "airflow-home"
    home.mkdir()
    os.environ.update(
        AIRFLOW_HOME=str(home),
        AIRFLOW__DATABASE__SQL_ALCHEMY_CONN=f"sqlite:///{home / 'airflow.db'}",
        AIRFLOW__CORE__LOAD_EXAMPLES="False",
        AIRFLOW__CORE__UNIT_TEST_MODE="False",
        AIRFLOW__LOGGING__LOGGING_LEVEL="ERROR",  # not "execute() outside the Task Runner" x 10
        ZOHOREL_TOKEN_CACHE_DIR=str(directory / "token-cache"),
    )
    _WORKDIR = directory
    return directory


def fresh_token_cache(name: str) -> Path:
    """A new, empty token cache directory, made current for hooks created from now on.

    Each emulator forgets the tokens of the last one, so each benchmark starts with an empty cache
    (and pays for exactly one mint, as a first task on a new machine does)."""
    path = Path(tempfile.mkdtemp(prefix=f"tokens-{name}-", dir=workdir()))
    os.environ["ZOHOREL_TOKEN_CACHE_DIR"] = str(path)
    return path


def zoho_connection(base_url: str, creds: Credentials) -> str:
    """An ``AIRFLOW_CONN_*`` value (JSON form) for the emulator at ``base_url``."""
    from airflow_provider_zohorel.emulator import connection_json

    return connection_json(base_url, creds, api_version=API_VERSION)


class Emulator(Protocol):
    """A running emulator: ``ZohoEmulator``, or bench/window.py's, which also clocks the sending window."""

    @property
    def base_url(self) -> str: ...

    @property
    def admin(self) -> EmulatorAdmin: ...


def use_emulator(emu: Emulator, creds: Credentials, name: str) -> None:
    """Make ``zoho_crm_default`` point at ``emu`` with ``creds``, with an empty token cache."""
    os.environ["AIRFLOW_CONN_ZOHO_CRM_DEFAULT"] = zoho_connection(emu.base_url, creds)
    fresh_token_cache(name)


@dataclass(frozen=True)
class Seeded:
    """Credentials and record ids of a freshly seeded emulator."""

    creds: Credentials
    parents: list[str]
    related: list[str]


def seed(emu: Emulator, parents: int, related: int) -> Seeded:
    """A user, client and refresh token, ``parents`` campaigns and ``related`` leads; zero counters."""
    admin = emu.admin
    creds = admin.create_credentials()
    campaigns = admin.add_records(MODULE, count=parents)
    leads = admin.add_records(RELATED_LIST, count=related)
    admin.reset_counters()
    return Seeded(creds, campaigns, leads)


def member_rows(groups: Mapping[str, list[str]]) -> list[dict[str, str]]:
    """Operator input: one ``{record_id, id, Member_Status}`` row per (campaign, lead)."""
    rows = []
    n = 0
    for parent, leads in groups.items():
        for lead in leads:
            rows.append({"record_id": parent, "id": lead, "Member_Status": STATUSES[n % 3]})
            n += 1
    return rows


def minimum_calls(groups: Mapping[str, list[str]], batch: int = 100) -> int:
    """Zoho's lower bound for a grouping: sum over parents of ceil(distinct items / 100)."""
    return sum(-(-len(set(leads)) // batch) for leads in groups.values() if leads)


# --- running the operator in-process ----------------------------------------------------------


class FakeTI:
    """The one thing the operator asks of ``context["ti"]`` outside a failure table: xcom_push."""

    def __init__(self) -> None:
        self.xcom: dict[str, Any] = {}

    def xcom_push(self, key: str, value: Any) -> None:
        self.xcom[key] = value


@dataclass(frozen=True)
class OperatorRun:
    summary: dict[str, Any]
    wall: float
    cpu: float

    @property
    def sending(self) -> float:
        """Seconds spent relating, after planning (the summary's ``seconds``)."""
        return float(self.summary.get("seconds", 0.0))

    @property
    def before_sending(self) -> float:
        """Planning, hook set-up and the rest of execute() outside the sending loop."""
        return max(0.0, self.wall - self.sending)


def make_operator(max_concurrency: int, **input_kwargs: Any) -> Any:
    """The real operator, built outside any timing (BaseOperator walks ``records`` for XComArgs)."""
    from airflow_provider_zohorel.operators.related_records import UpdateRelatedRecordsOperator

    return UpdateRelatedRecordsOperator(
        task_id="bench_relate",
        module=MODULE,
        related_list=RELATED_LIST,
        max_concurrency=max_concurrency,
        progress_interval=3600.0,
        **input_kwargs,
    )


def execute(operator: Any) -> OperatorRun:
    """``operator.execute(context)`` with a minimal context (no task_state_store): wall and CPU."""
    context: dict[str, Any] = {"ti": FakeTI()}
    cpu0, wall0 = time.process_time(), time.perf_counter()
    summary = operator.execute(context)
    wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    return OperatorRun(summary, wall, cpu)


# --- the machine --------------------------------------------------------------------------------


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def load() -> tuple[float, float, float]:
    one, five, fifteen = os.getloadavg()
    return round(one, 2), round(five, 2), round(fifteen, 2)


def machine() -> dict[str, Any]:
    return {
        "date": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "cores": os.cpu_count(),
        "cpu": cpu_model(),
        "python": platform.python_version(),
        "airflow": metadata.version("apache-airflow"),
        "provider": metadata.version("airflow-provider-zohorel"),
        "platform": platform.platform(),
    }


def wait_for_quiet(threshold: float, max_wait: float, say: Callable[[str], None]) -> float:
    """Poll the 1-minute load average until it drops below ``threshold``; returns seconds waited."""
    started = time.monotonic()
    while True:
        one = os.getloadavg()[0]
        waited = time.monotonic() - started
        if one < threshold:
            return waited
        if waited >= max_wait:
            say(f"load average still {one:.2f} after {waited:.0f} s; measuring anyway (recorded)")
            return waited
        say(f"load average {one:.2f} >= {threshold}; waiting (up to {max_wait - waited:.0f} s more)")
        time.sleep(min(30.0, max_wait - waited))


@contextmanager
def timed(label: str, say: Callable[[str], None]) -> Iterator[None]:
    started = time.perf_counter()
    say(f"--> {label}")
    try:
        yield
    finally:
        say(f"<-- {label}: {time.perf_counter() - started:.1f} s")
