"""Throughput as users run it: the operator as a real Airflow task, default settings, SQL input.

The DAGs are bench/dags/zohorel_bench.py: ``UpdateRelatedRecordsOperator`` relating the rows of a
SQLite table (``warehouse`` connection, 100,000 rows over 1,000 campaigns) with nothing but
``max_concurrency`` set, so ``resume=True`` and its ``task_state_store`` bookkeeping are on, as for
every user on Airflow 3.3. They run two ways:

- ``airflow dags test`` on a SQLite metadata database: how users try a DAG, and the harshest case
  for the store, whose execution API then runs inside the task's own process;
- a deployment (api-server, scheduler, dag-processor, LocalExecutor, Postgres metadata database),
  started with the deployment tests' own support code; the store is then an HTTP call to the
  api-server, and the scheduler, api-server and dag-processor share the cores with the task.

Every efficiency is limit / time with limit = calls x L / C. The sending window is the emulator's
(bench/window.py): arrival of the first PUT to the end of the last answer. The task's own
start-to-end comes from its task instance; Airflow's start-up before it, the planning before the
first PUT and the wind-down after the last answer are shown apart. CPU seconds of every process
during the sending window (bench/cpu.py) say who competed with the task, independently of load.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.common import API_VERSION, ROOT, STATUSES, Row, fmt_n, fmt_s, fmt_x, load, verdict, workdir
from bench.cpu import OTHER, CpuSampler, children_map, cmdline, descendants, parent
from bench.window import Window, WindowedEmulator, windowed_emulator

DAGS = ROOT / "bench" / "dags"
TASK_ID = "relate"
EFFICIENCY_TARGET = 0.93
RESUME_COST_TARGET = 0.05
#: Fixed record ids, so the warehouse table and the connection stay valid across emulator resets.
CAMPAIGN_BASE, LEAD_BASE = 3652397100000000000, 3652397200000000000


@dataclass(frozen=True)
class Config:
    parents: int = 1_000
    per_parent: int = 100
    latency_ms: float = 100.0
    caps: tuple[int, ...] = (10, 25)
    deployment_cap: int = 10
    deployment: bool = True
    compare_no_resume: bool = True
    naive_seconds: float | None = None  # the naive client's time on the same input (throughput)
    profile: Path | None = None  # py-spy the task process during sending (extra, unmeasured runs)
    timeout: float = 900.0

    @property
    def items(self) -> int:
        return self.parents * self.per_parent

    @property
    def calls(self) -> int:
        """The minimum number of calls: every parent's rows in batches of 100."""
        return self.parents * -(-self.per_parent // 100)

    def limit(self, cap: int) -> float:
        return self.calls * self.latency_ms / 1000.0 / cap


@dataclass
class TaskRun:
    """One run of the Zoho task and what every clock and counter said about it."""

    how: str
    dag_id: str
    cap: int
    resume: bool
    limit: float
    launched: float  # `airflow dags test` started, or the DAG run was triggered
    task_start: float
    task_end: float
    window: Window
    summary: dict[str, Any]
    counters: dict[str, Any]
    cpu: dict[str, float] = field(default_factory=dict)
    load: tuple[float, float, float] = (0.0, 0.0, 0.0)
    run_id: str = ""

    @property
    def sending_efficiency(self) -> float:
        return self.limit / self.window.seconds

    @property
    def task_seconds(self) -> float:
        return self.task_end - self.task_start

    @property
    def task_efficiency(self) -> float:
        return self.limit / self.task_seconds

    @property
    def startup(self) -> float:
        return self.task_start - self.launched

    @property
    def before_first_put(self) -> float:
        return self.window.first_request - self.task_start

    @property
    def planning(self) -> float:
        """Reading the SQL rows, validating and grouping them (the operator's own account)."""
        return float(self.summary.get("planning_seconds", 0.0))

    @property
    def after_last_answer(self) -> float:
        return self.task_end - self.window.last_answer

    @property
    def bookkeeping(self) -> dict[str, Any]:
        return dict(self.summary.get("resume_bookkeeping") or {})


# --- the world: records in Zoho, rows in the warehouse --------------------------------------------


def dag_id(cap: int, resume: bool) -> str:
    return f"zohorel_bench_c{cap}" + ("" if resume else "_no_resume")


def add_world(emu: WindowedEmulator, config: Config) -> None:
    """The campaigns and leads the warehouse rows name (the demo seed has the client and user)."""
    admin = emu.admin
    admin.add_records("Campaigns", id_range=(str(CAMPAIGN_BASE + 1), str(CAMPAIGN_BASE + config.parents)))
    admin.add_records("Leads", id_range=(str(LEAD_BASE + 1), str(LEAD_BASE + config.per_parent)))
    admin.reset_counters()
    emu.reset_window()


def write_warehouse(path: Path, config: Config) -> None:
    rows = (
        (str(CAMPAIGN_BASE + p), str(LEAD_BASE + r), STATUSES[(p + r) % len(STATUSES)])
        for p in range(1, config.parents + 1)
        for r in range(1, config.per_parent + 1)
    )
    with sqlite3.connect(path) as conn:
        conn.execute("DROP TABLE IF EXISTS members")
        conn.execute("CREATE TABLE members (record_id TEXT, id TEXT, Member_Status TEXT)")
        conn.executemany("INSERT INTO members VALUES (?, ?, ?)", rows)


def zoho_connection(base_url: str) -> str:
    """``zoho_crm_default`` for the emulator's demo seed (the client and user the runs use)."""
    from airflow_provider_zohorel.emulator import connection_json

    return connection_json(base_url, api_version=API_VERSION)


def emulator_args(config: Config, cap: int) -> list[str]:
    return ["--seed", "demo", "--latency-ms", f"{config.latency_ms:g}", "--concurrency", str(cap)]


def _timestamp(value: Any) -> float:
    """A task instance date (SQLite text, or the REST API's ISO string) as a POSIX timestamp."""
    if isinstance(value, dt.datetime):
        moment = value
    else:
        moment = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.timezone.utc)
    return moment.timestamp()


# --- airflow dags test ------------------------------------------------------------------------------


@dataclass
class DagsTestHome:
    """A private AIRFLOW_HOME on SQLite, migrated once, with the benchmark DAGs as its DAG folder."""

    home: Path
    warehouse: Path
    env: dict[str, str]

    @property
    def db(self) -> Path:
        return self.home / "airflow.db"

    @classmethod
    def create(cls, config: Config, timeout: float) -> tuple[DagsTestHome, float]:
        home = Path(tempfile.mkdtemp(prefix="dags-test-home-", dir=workdir()))
        warehouse = home / "warehouse.db"
        write_warehouse(warehouse, config)
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "_AIRFLOW", "ZOHOREL_"))}
        env.update(
            AIRFLOW_HOME=str(home),
            AIRFLOW__DATABASE__SQL_ALCHEMY_CONN=f"sqlite:///{home / 'airflow.db'}",
            AIRFLOW__CORE__DAGS_FOLDER=str(DAGS),
            AIRFLOW__CORE__LOAD_EXAMPLES="False",
            AIRFLOW_CONN_WAREHOUSE=json.dumps({"conn_type": "sqlite", "host": str(warehouse)}),
        )
        started = time.perf_counter()
        _airflow(["db", "migrate"], env, home / "db-migrate.log", timeout)
        return cls(home, warehouse, env), time.perf_counter() - started

    def run_env(self, emu: WindowedEmulator, name: str) -> dict[str, str]:
        env = dict(self.env)
        env["AIRFLOW_CONN_ZOHO_CRM_DEFAULT"] = zoho_connection(emu.base_url)
        env["ZOHOREL_TOKEN_CACHE_DIR"] = tempfile.mkdtemp(prefix=f"tokens-{name}-", dir=workdir())
        return env

    def latest(self, dag: str) -> tuple[str, float, float, dict[str, Any]]:
        """The newest run of ``dag``: run id, task start and end, and the task's summary XCom."""
        with sqlite3.connect(self.db) as conn:
            run_id, start, end = conn.execute(
                "SELECT ti.run_id, ti.start_date, ti.end_date FROM task_instance ti JOIN dag_run r "
                "ON r.dag_id = ti.dag_id AND r.run_id = ti.run_id WHERE ti.dag_id = ? AND ti.task_id = ? "
                "ORDER BY r.id DESC LIMIT 1",
                (dag, TASK_ID),
            ).fetchone()
            (value,) = conn.execute(
                "SELECT value FROM xcom WHERE dag_id = ? AND run_id = ? AND task_id = ? AND key = "
                "'return_value'",
                (dag, run_id, TASK_ID),
            ).fetchone()
        summary = json.loads(value if isinstance(value, str) else bytes(value).decode())
        return str(run_id), _timestamp(start), _timestamp(end), summary


def _airflow(args: list[str], env: Mapping[str, str], log: Path, timeout: float) -> None:
    with log.open("wb") as out:
        done = subprocess.run(
            [str(Path(sys.executable).with_name("airflow")), *args],
            cwd=ROOT,
            env=dict(env),
            stdout=out,
            stderr=subprocess.STDOUT,
            timeout=timeout,
            check=False,
        )
    if done.returncode != 0:
        tail = log.read_text(errors="replace")[-3000:]
        raise RuntimeError(f"airflow {' '.join(args)} exited {done.returncode}: {tail}")


@contextmanager
def _sampled(groups: Callable[[], Mapping[str, list[int]]]) -> Iterator[CpuSampler]:
    with CpuSampler(groups) as sampler:
        yield sampler


def _all_answered(emu: WindowedEmulator, calls: int) -> bool:
    """The emulator has answered ``calls`` CRM requests and has none in flight."""
    counters = emu.admin.counters()
    return calls > 0 and int(counters["crm_requests"]) >= calls and int(counters["in_flight"]) == 0


def _is_task_process(title: str) -> bool:
    return title.startswith("airflow worker -- ") and "LocalExecutor" not in title


class TaskProfiler:
    """py-spy on the task process from the first PUT to the end of the block (GIL holder only, so
    the shares are shares of the task's Python CPU). Written to ``out`` (raw) and ``out``.txt."""

    def __init__(
        self,
        find_pid: Callable[[], int | None],
        emu: WindowedEmulator,
        out: Path,
        say: Callable[[str], None],
        flags: tuple[str, ...] = ("--gil",),
        calls: int = 0,
    ) -> None:
        self.flags = flags
        self.calls = calls
        self.find_pid = find_pid
        self.emu = emu
        self.out = out
        self.say = say
        self.spy: subprocess.Popen[bytes] | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._attach, daemon=True)

    def __enter__(self) -> TaskProfiler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.finish()

    def finish(self) -> None:
        """Stop sampling (at the last answer, when the caller can tell; else at the block's end)."""
        if self.spy is not None and self.spy.poll() is None:
            self.spy.send_signal(signal.SIGINT)
            self.spy.wait(60)
            if self.out.exists():
                from bench.profile import summarise

                self.out.with_suffix(".txt").write_text(summarise(self.out, top=40) + "\n")
                self.say(f"    profile: {self.out.with_suffix('.txt')}")

    def _attach(self) -> None:
        spy = str(Path(sys.executable).with_name("py-spy"))
        while not self._stop.is_set():
            pid = self.find_pid()
            if pid is not None and int(self.emu.admin.counters()["crm_requests"]) > 0:
                self.out.parent.mkdir(parents=True, exist_ok=True)
                cmd = [spy, "record", *self.flags, "--nonblocking", "-r", "250", "-f", "raw"]
                cmd += ["-o", str(self.out)]
                self.spy = subprocess.Popen(
                    [*cmd, "--pid", str(pid)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
                )
                self.say(f"    py-spy on the task process (pid {pid}) from the first PUT")
                break
            self._stop.wait(0.02)
        while not self._stop.is_set() and not _all_answered(self.emu, self.calls):
            self._stop.wait(0.05)
        self.finish()


def dags_test_run(
    home: DagsTestHome,
    config: Config,
    cap: int,
    resume: bool,
    say: Callable[[str], None],
    profile: Path | None,
) -> TaskRun:
    dag = dag_id(cap, resume)
    with windowed_emulator(*emulator_args(config, cap)) as emu:
        add_world(emu, config)
        env = home.run_env(emu, dag)
        log = home.home / f"{dag}-{time.monotonic_ns()}.log"
        say(f"    airflow dags test {dag}{' (profiled, not measured)' if profile else ''}")
        before = load()
        launched = time.time()
        with log.open("wb") as out:
            process = subprocess.Popen(
                [str(Path(sys.executable).with_name("airflow")), "dags", "test", dag],
                cwd=ROOT,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )

        def groups() -> dict[str, list[int]]:
            return {
                "task process (airflow dags test)": descendants(process.pid),
                "emulator": [emu.pid],
                "benchmark": [os.getpid()],
            }

        profiler = None
        if profile is not None:
            profiler = TaskProfiler(lambda: process.pid, emu, profile, say, calls=config.calls)
        with _sampled(groups) as sampler, profiler or contextlib.nullcontext():
            code = process.wait(config.timeout)
        if code != 0:
            raise RuntimeError(
                f"airflow dags test {dag} exited {code}: {log.read_text(errors='replace')[-3000:]}"
            )
        window = emu.window()
        counters = emu.admin.counters()
    run_id, start, end, summary = home.latest(dag)
    return TaskRun(
        "dags test",
        dag,
        cap,
        resume,
        config.limit(cap),
        launched,
        start,
        end,
        window,
        summary,
        counters,
        sampler.between(window.first_request, window.last_answer),
        before,
        run_id,
    )


@dataclass(frozen=True)
class RetryRun:
    """A second try of a finished task in the same DAG run: everything resumed from the store."""

    wall: float
    summary: dict[str, Any]
    calls: int

    @property
    def bookkeeping(self) -> dict[str, Any]:
        return dict(self.summary.get("resume_bookkeeping") or {})

    @property
    def resume_seconds(self) -> float:
        """Reading the store plus walking every batch past it (the summary's relating seconds)."""
        return float(self.bookkeeping.get("seconds", 0.0)) + float(self.summary.get("seconds", 0.0))


def dags_test_retry(
    home: DagsTestHome, config: Config, first: TaskRun, say: Callable[[str], None]
) -> RetryRun:
    """``airflow tasks test DAG relate RUN_ID``: the task again in the first run, as a retry is."""
    with windowed_emulator(*emulator_args(config, first.cap)) as emu:
        add_world(emu, config)
        env = home.run_env(emu, "retry")
        say(f"    airflow tasks test {first.dag_id} {TASK_ID} {first.run_id} (the retry)")
        started = time.perf_counter()
        _airflow(
            ["tasks", "test", first.dag_id, TASK_ID, first.run_id],
            env,
            home.home / "retry.log",
            config.timeout,
        )
        wall = time.perf_counter() - started
        calls = int(emu.admin.counters()["crm_requests"])
    _, _, _, summary = home.latest(first.dag_id)
    return RetryRun(wall, summary, calls)


# --- a deployment -------------------------------------------------------------------------------------


def deployment_runs(config: Config, say: Callable[[str], None]) -> tuple[list[TaskRun], RetryRun | None]:
    from tests.deployment.deployment_support import (
        AirflowDeployment,
        deployment_env,
        free_port,
        launch,
        metadata_database,
        wait_for,
    )

    cap = config.deployment_cap
    root = Path(tempfile.mkdtemp(prefix="deployment-", dir=workdir()))
    warehouse = root / "warehouse.db"
    write_warehouse(warehouse, config)
    runs: list[TaskRun] = []
    retry: RetryRun | None = None
    with (
        metadata_database("zohorel_bench") as database,
        windowed_emulator(*emulator_args(config, cap)) as emu,
    ):
        port = free_port()
        env = deployment_env(root, database, port, emu.base_url)
        env.update(
            AIRFLOW__CORE__DAGS_FOLDER=str(DAGS),
            AIRFLOW_CONN_WAREHOUSE=json.dumps({"conn_type": "sqlite", "host": str(warehouse)}),
        )
        deployment = AirflowDeployment(
            home=root / "home",
            logs=root / "process-logs",
            env=env,
            base_url=f"http://127.0.0.1:{port}",
            token_cache=root / "token-cache",
        )
        say("    starting the deployment (db migrate, api-server, scheduler, dag-processor)")
        try:
            launch(deployment, port)

            def groups() -> dict[str, list[int]]:
                found: dict[str, list[int]] = {"emulator": [emu.pid], "benchmark": [os.getpid()]}
                children = children_map()
                for name, process in deployment.processes.items():
                    pids = descendants(process.pid, children)
                    # The task runner titles itself "airflow worker -- <ti id>"; its parent, a
                    # LocalExecutor worker ("airflow worker -- LocalExecutor: ..."), supervises it.
                    task = [pid for pid in pids if _is_task_process(cmdline(pid))]
                    supervisor = [p for p in (parent(pid) for pid in task) if p is not None]
                    if task:
                        found["task process"] = task
                        found["task supervisor"] = supervisor
                    found[name] = [pid for pid in pids if pid not in task and pid not in supervisor]
                return found

            say("    warm-up run (a fresh api-server and scheduler serve their first task)")
            warmup = deployment.trigger("zohorel_bench_warmup")
            deployment.wait_run("zohorel_bench_warmup", warmup)

            def task_pid() -> int | None:
                return next(iter(groups().get("task process", [])), None)

            def one_run(resume: bool, profile: Path | None = None) -> TaskRun:
                dag = dag_id(cap, resume)
                deployment.wait_dag_parsed(dag)
                emu.admin.reset(seed="demo")
                add_world(emu, config)
                deployment.forget_tokens()
                say(f"    trigger {dag} through the REST API{' (profiled, not measured)' if profile else ''}")
                before = load()
                calls = config.calls
                profiler = TaskProfiler(task_pid, emu, profile, say, calls=calls) if profile else None
                with CpuSampler(groups) as sampler, profiler or contextlib.nullcontext():
                    launched = time.time()
                    run_id = deployment.trigger(dag)
                    # Watch the emulator, not the REST API, while the task sends: polling the
                    # api-server four times a second would compete with the task for the cores.
                    wait_for(lambda: _all_answered(emu, calls), 600, "every call answered", interval=0.5)
                    state = deployment.wait_run(dag, run_id)["state"]
                if state != "success":
                    raise RuntimeError(f"{dag} run {run_id} ended {state}: {deployment.report()[-3000:]}")
                ti = deployment.task_instance(dag, run_id, TASK_ID)
                window = emu.window()
                return TaskRun(
                    "deployment",
                    dag,
                    cap,
                    resume,
                    config.limit(cap),
                    launched,
                    _timestamp(ti["start_date"]),
                    _timestamp(ti["end_date"]),
                    window,
                    deployment.xcom(dag, run_id, TASK_ID),
                    emu.admin.counters(),
                    sampler.between(window.first_request, window.last_answer),
                    before,
                    run_id,
                )

            runs.append(one_run(True))
            retry = _deployment_clear(deployment, emu, runs[-1].dag_id, runs[-1].run_id, wait_for, say)
            if config.compare_no_resume:
                runs.append(one_run(False))
            if config.profile is not None:
                one_run(True, config.profile.with_name("profile-deployment.raw"))
        finally:
            deployment.stop()
    return runs, retry


def _deployment_clear(
    deployment: Any, emu: WindowedEmulator, dag: str, run_id: str, wait_for: Any, say: Callable[[str], None]
) -> RetryRun:
    """Clear the finished task (the UI's Clear button): try 2 reads the store over HTTP."""
    say(f"    clear {dag} {TASK_ID} (try 2 resumes everything)")
    calls_before = int(emu.admin.counters()["crm_requests"])
    started = time.perf_counter()
    deployment.api(
        "POST",
        f"/dags/{dag}/clearTaskInstances",
        json={
            "dry_run": False,
            "only_failed": False,
            "task_ids": [TASK_ID],
            "dag_run_id": run_id,
            "include_upstream": False,
            "include_downstream": False,
        },
    )

    def second_try_done() -> dict[str, Any] | None:
        ti = deployment.task_instance(dag, run_id, TASK_ID)
        return ti if ti["try_number"] == 2 and ti["state"] in ("success", "failed") else None

    wait_for(second_try_done, 300, "the cleared task's second try")
    wall = time.perf_counter() - started
    summary = deployment.xcom(dag, run_id, TASK_ID)
    return RetryRun(wall, summary, int(emu.admin.counters()["crm_requests"]) - calls_before)


# --- the rows -----------------------------------------------------------------------------------------


def _cpu_line(run: TaskRun) -> str:
    cpu = run.cpu
    parts = [f"{name} {seconds:.2f}" for name, seconds in sorted(cpu.items(), key=lambda kv: -kv[1])
             if name not in ("machine", OTHER) and seconds >= 0.005]  # fmt: skip
    parts.append(f"{OTHER} {cpu.get(OTHER, 0.0):.2f}")
    cores = os.cpu_count() or 1
    return (
        f"{'; '.join(parts)} (machine {cpu.get('machine', 0.0):.2f} of "
        f"{cores * run.window.seconds:.2f} core-seconds)"
    )


def rows_for(section: str, runs: list[TaskRun], naive_seconds: float | None) -> list[Row]:
    rows: list[Row] = []
    by_cap: dict[int, list[TaskRun]] = {}
    for run in runs:
        by_cap.setdefault(run.cap, []).append(run)
    for cap, group in by_cap.items():
        default = next(r for r in group if r.resume)
        other = next((r for r in group if not r.resume), None)
        tag = f"C={cap}"
        calls = int(default.counters["crm_requests"])
        rows.append(
            Row(
                section,
                f"{tag}: limit time (calls x L / C = {calls} calls, {cap} at once)",
                fmt_s(default.limit),
            )
        )
        for run in (default, other):
            if run is None:
                continue
            name = "resume=True (default)" if run.resume else "resume=False"
            rows += [
                Row(
                    section,
                    f"{tag}, {name}: sending efficiency = limit / emulator's window "
                    f"(first PUT to last answer: {fmt_s(run.window.seconds)}; load {run.load[0]:.2f})",
                    f"{run.sending_efficiency:.3f}",
                    f">= {EFFICIENCY_TARGET:.2f}" if run.resume else "",
                    verdict(run.sending_efficiency >= EFFICIENCY_TARGET) if run.resume else "",
                ),
                Row(
                    section,
                    f"{tag}, {name}: task efficiency = limit / task start-to-end ({fmt_s(run.task_seconds)})",
                    f"{run.task_efficiency:.3f}",
                ),
            ]
        run = default
        bookkeeping = run.bookkeeping
        read = float(bookkeeping.get("read_seconds", 0.0))
        startup = "CLI start to task start" if run.how == "dags test" else "trigger to task start"
        rows += [
            Row(section, f"{tag}, default: Airflow start-up ({startup})", fmt_s(run.startup)),
            Row(
                section,
                f"{tag}, default: in the task, before the first PUT ({fmt_s(run.before_first_put)})",
                f"planning {fmt_s(run.planning)}; store read {fmt_s(read)}; the rest (Airflow's task "
                f"start-up, hook, token) {fmt_s(run.before_first_put - run.planning - read)}",
            ),
            Row(
                section,
                f"{tag}, default: in the task, after the last answer (last store write, summary, XCom)",
                fmt_s(run.after_last_answer),
            ),
            Row(
                section,
                f"{tag}, default: resume bookkeeping (task_state_store reads, writes; seconds in store "
                "calls; CPU seconds of the task's threads in them)",
                f"{bookkeeping.get('reads', 0)}, {bookkeeping.get('writes', 0)}; "
                f"{float(bookkeeping.get('seconds', 0.0)):.3f} s; "
                f"{float(bookkeeping.get('cpu_seconds', 0.0)):.3f} s",
            ),
            Row(section, f"{tag}, default: CPU seconds during the sending window", _cpu_line(run)),
            Row(
                section,
                f"{tag}, default: HTTP 429 answers (emulator), items related (summary)",
                f"{int(run.counters['too_many_requests'])}, {fmt_n(run.summary['succeeded'])} / "
                f"{fmt_n(run.summary['total'])}",
                "0, all",
                verdict(int(run.counters["too_many_requests"]) == 0 and run.summary["failed"] == 0),
            ),
        ]
        if naive_seconds:
            rows.append(
                Row(
                    section,
                    f"{tag}, default: speed-up over naive = naive time / task start-to-end",
                    fmt_x(naive_seconds / run.task_seconds),
                )
            )
    return rows


def retry_rows(section: str, how: str, first: TaskRun, retry: RetryRun) -> list[Row]:
    first_book = first.bookkeeping
    book = retry.bookkeeping
    ratio = retry.resume_seconds / first.window.seconds
    found = int(book.get("batches_found", 0))
    return [
        Row(
            section,
            f"{how}: first try, store writes and seconds (sending window {fmt_s(first.window.seconds)})",
            f"{first_book.get('writes', 0)} writes, {float(first_book.get('seconds', 0.0)):.3f} s",
        ),
        Row(
            section,
            f"{how}: retry, store reads and seconds ({found} finished batches found)",
            f"{book.get('reads', 0)} reads, {float(book.get('seconds', 0.0)):.3f} s",
        ),
        Row(
            section,
            f"{how}: retry, calls to Zoho and batches resumed (summary)",
            f"{retry.calls}, {retry.summary.get('resumed_batches')}",
            "0, all",
            verdict(retry.calls == 0 and retry.summary.get("resumed_items") == first.summary.get("total")),
        ),
        Row(
            section,
            f"{how}: resume cost / sending cost = (store reads + walking the resumed batches: "
            f"{fmt_s(retry.resume_seconds)}) / first try's sending window",
            f"{ratio:.4f}",
            f"< {RESUME_COST_TARGET:.2f}",
            verdict(ratio < RESUME_COST_TARGET),
        ),
        Row(section, f"{how}: retry wall time (the whole second try, Airflow included)", fmt_s(retry.wall)),
    ]


def run(config: Config, say: Callable[[str], None]) -> list[Row]:
    items = config.items
    dags_section = (
        f"8. As an Airflow task: `airflow dags test`, SQLite metadata, {fmt_n(items)} SQL rows / "
        f"{fmt_n(config.parents)} parents, L={config.latency_ms:g} ms, default settings"
    )
    deploy_section = (
        "9. As an Airflow task in a deployment (api-server, scheduler, dag-processor, LocalExecutor, "
        f"Postgres), C={config.deployment_cap}"
    )
    retry_section = f"10. A retry that resumes {fmt_n(items)} finished relations"
    say("    airflow db migrate (not counted)")
    home, migrate = DagsTestHome.create(config, config.timeout)
    runs: list[TaskRun] = []
    retries: list[Row] = []
    for cap in config.caps:
        for resume in (True, False) if config.compare_no_resume else (True,):
            runs.append(dags_test_run(home, config, cap, resume, say, None))
            if resume and cap == config.caps[0]:
                retry = dags_test_retry(home, config, runs[-1], say)
                retries += retry_rows(retry_section, "`airflow dags test`", runs[-1], retry)
    if config.profile is not None:
        for cap in config.caps[:1]:
            dags_test_run(home, config, cap, True, say, config.profile.with_name("profile-dags-test.raw"))
    rows = [Row(dags_section, "`airflow db migrate` (once, not counted)", fmt_s(migrate))]
    rows += rows_for(dags_section, runs, config.naive_seconds)
    if config.deployment:
        deployed, deployed_retry = deployment_runs(config, say)
        rows += rows_for(deploy_section, deployed, config.naive_seconds)
        if deployed_retry is not None:
            first = next(r for r in deployed if r.resume)
            retries += retry_rows(retry_section, "deployment (Clear, store over HTTP)", first, deployed_retry)
    return rows + retries
