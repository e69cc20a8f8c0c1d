"""Helpers of the reliability suite (its fixtures are in conftest.py): the operator run the way a
task runs it, a client with no real waiting, watchers that act mid-run, real DAG runs, and the seeds
of the randomized scenarios. A module of its own, because every test directory has a
``conftest`` and test modules cannot tell them apart by import."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from airflow_provider_zohorel.emulator import (
    DEMO_CLIENT_ID,
    DEMO_CLIENT_SECRET,
    DEMO_REFRESH_TOKEN,
    EmulatorAdmin,
)
from airflow_provider_zohorel.zoho.retry import RetryPolicy
from tests.dag_runs import DagResult
from tests.dag_runs import run_dag_test as shared_run_dag_test

TESTS = Path(__file__).resolve().parents[1]
DAGS = TESTS / "dags"
#: Where every DAG run's captured output is kept, for the security suite's scan of the output.

#: Retries without real waiting: the behaviour under test is what is retried and how often.
FAST_RETRY = RetryPolicy(max_attempts=8, base_delay=0.001, max_delay=0.01, deadline=60.0)

CAMPAIGN_BASE = 3652397000090000000
LEAD_BASE = 3652397000091000000


def reliability_seeds() -> list[int]:
    """Seeds of the randomized scenarios: ``ZOHOREL_RELIABILITY_CASES`` of them (default 5) from
    ``ZOHOREL_RELIABILITY_SEED`` (default fixed, so CI replays the same cases)."""
    cases = int(os.environ.get("ZOHOREL_RELIABILITY_CASES", "5"))
    base = int(os.environ.get("ZOHOREL_RELIABILITY_SEED", "7100"))
    return [base + i for i in range(cases)]


@dataclass(frozen=True)
class World:
    """Campaigns and leads seeded for a scenario."""

    campaigns: list[str]
    leads: list[str]


def seed_world(admin: EmulatorAdmin, campaigns: int, leads: int) -> World:
    """``campaigns`` campaigns and ``leads`` leads with known, contiguous ids."""
    c = admin.add_records("Campaigns", id_range=(str(CAMPAIGN_BASE + 1), str(CAMPAIGN_BASE + campaigns)))
    ls = admin.add_records("Leads", id_range=(str(LEAD_BASE + 1), str(LEAD_BASE + leads)))
    return World(sorted(c), sorted(ls))


def memberships(campaigns: list[str], leads: list[str], status: str = "Active") -> list[dict[str, Any]]:
    return [{"record_id": c, "id": lead, "Member_Status": status} for c in campaigns for lead in leads]


class RecordingTI:
    """What the operator needs of ``context["ti"]`` outside a DAG run: it pushes its summary here."""

    dag_id, task_id, run_id, try_number = "reliability", "relate", "manual__reliability", 1

    def __init__(self) -> None:
        self.xcom: dict[str, Any] = {}

    def xcom_push(self, key: str, value: Any) -> None:
        self.xcom[key] = value


@dataclass
class Outcome:
    """The operator's summary (returned or pushed) and the exception the task would end with."""

    summary: dict[str, Any]
    error: BaseException | None

    @property
    def state(self) -> str:
        from airflow_provider_zohorel._compat import (
            AirflowException,
            AirflowFailException,
            AirflowSkipException,
        )

        if self.error is None:
            return "success"
        if isinstance(self.error, AirflowSkipException):
            return "skipped"
        if isinstance(self.error, AirflowFailException):
            return "failed, no retry"
        if isinstance(self.error, AirflowException):
            return "failed, retryable"
        return f"error {type(self.error).__name__}"


def execute_operator(**kwargs: Any) -> Outcome:
    """Run ``UpdateRelatedRecordsOperator.execute`` as a worker would (real hook, connection,
    emulator), keeping the summary in every outcome."""
    from airflow_provider_zohorel.operators.related_records import UpdateRelatedRecordsOperator

    kwargs.setdefault("module", "Campaigns")
    kwargs.setdefault("related_list", "Leads")
    kwargs.setdefault("request_retry", FAST_RETRY)
    kwargs.setdefault("progress_interval", 3600.0)
    operator = UpdateRelatedRecordsOperator(task_id="relate", **kwargs)
    ti = RecordingTI()
    try:
        result = operator.execute({"ti": ti})  # type: ignore[arg-type]
    except Exception as exc:
        return Outcome(ti.xcom.get("return_value"), exc)
    return Outcome(result, None)


@dataclass
class Watcher:
    """Polls the emulator's counters (with a deadline) and acts once ``condition`` holds.

    This is how a test changes the world *mid-run* (revoke a permission, expire tokens) without
    sleeping: the run itself is not touched. With ``hold_after``, the emulator answers that many
    CRM calls and holds every later one (its ``hold_after_requests`` test control) until the
    action is done: the action comes after call ``hold_after`` and before any later call is
    answered, however fast or slow the machine is.
    """

    admin: EmulatorAdmin
    condition: Callable[[dict[str, Any]], bool]
    action: Callable[[EmulatorAdmin], Any]
    hold_after: int | None = None
    deadline: float = 60.0
    fired_at: dict[str, Any] | None = None
    error: BaseException | None = None
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def start(self) -> Watcher:
        if self.hold_after is not None:
            self.admin.patch_config(hold_after_requests=self.hold_after)
        self._thread = threading.Thread(target=self._poll, name="watcher", daemon=True)
        self._thread.start()
        return self

    def _poll(self) -> None:
        end = time.monotonic() + self.deadline
        try:
            while not self._stop.is_set() and time.monotonic() < end:
                counters = self.admin.counters()
                held = self.hold_after is None or counters["held_requests"] > 0
                if held and self.condition(counters):
                    self.action(self.admin)
                    self.fired_at = counters
                    return
                self._stop.wait(0.005)
        except BaseException as exc:
            self.error = exc
        finally:
            if self.hold_after is not None:
                self.admin.patch_config(hold_after_requests=None)  # never leave the run held

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
        self.admin.close()
        if self.error is not None:
            raise self.error


# --- real DAG runs: tests/dag_runs.py, with the reliability DAGs -------------------------------


def run_dag_test(dag_id: str, conf: dict[str, Any] | None = None) -> DagResult:
    return shared_run_dag_test(dag_id, DAGS, conf)


def demo_client(
    base_url: str, *, max_concurrency: int = 4, retry: RetryPolicy = FAST_RETRY, **kwargs: Any
) -> Any:
    """A :class:`ZohoClient` on the demo credentials with a private token cache and no real waiting
    (the mint throttle's backoff included), for scenarios that tune what the operator does not expose."""
    from airflow_provider_zohorel.zoho.client import ClientSettings, ZohoClient
    from airflow_provider_zohorel.zoho.credentials import ZohoCredentials
    from airflow_provider_zohorel.zoho.token_cache import MemoryTokenCache

    credentials = ZohoCredentials(
        client_id=DEMO_CLIENT_ID,
        client_secret=DEMO_CLIENT_SECRET,
        refresh_token=DEMO_REFRESH_TOKEN,
        accounts_url=base_url,
        api_version="v8",
    )
    settings = ClientSettings(read_timeout=30.0, retry=retry, max_concurrency=max_concurrency)
    return ZohoClient(
        credentials, settings=settings, token_cache=MemoryTokenCache(), sleep=lambda _: None, **kwargs
    )


def run_with_client(
    client: Any, records: list[dict[str, Any]], module: str = "Campaigns", related_list: str = "Leads"
) -> dict[str, Any]:
    """What the operator does between its input and its exit: plan, run every batch, decide."""
    from airflow_provider_zohorel.zoho.planning import build_plan
    from airflow_provider_zohorel.zoho.policy import OutcomePolicy
    from airflow_provider_zohorel.zoho.related_records_api import RelatedRecordsApi
    from airflow_provider_zohorel.zoho.runner import BatchRunner
    from airflow_provider_zohorel.zoho.summary import RunSummary

    api = RelatedRecordsApi(client)
    plan = build_plan(records, spec=api.relation(module, related_list))
    summary = RunSummary()
    runner = BatchRunner(api, max_concurrency=client.settings.max_concurrency)
    report = runner.run(plan, lambda b, results, resumed: summary.record(b, results, resumed=resumed))
    plan.close()
    summary.ran(report, client.stats, None)
    verdict = OutcomePolicy().decide(summary, report.stopped_by)  # the default policy's
    summary.conclude(verdict.outcome, verdict.stopped_by)
    return summary.to_dict()
