"""A real CeleryExecutor deployment: what ``deployment_support`` starts, plus two Celery workers.

Redis is the broker (db 3) and result backend (db 4); the connection's shared concurrency budget and
token cache are on db 2; the metadata database is a fresh Postgres database named ``celery_*``.
The api-server, scheduler and dag-processor run as for the LocalExecutor deployment; each worker
is ``airflow celery worker`` in its own process group, with its own Celery hostname, task-instance
hostname (``hostname_callable``), ``HOME`` and token cache directory, as two machines would have.

Used by tests/deployment/test_celery.py and by ``make bench-celery`` (bench/celery_cluster.py).
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sqlite3
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil
import redis

from airflow_provider_zohorel.emulator import DEMO_CLIENT_ID
from airflow_provider_zohorel.zoho.concurrency_budget import DEFAULT_PREFIX, budget_name
from tests.deployment.deployment_support import (
    REPO,
    STARTUP_TIMEOUT,
    AirflowDeployment,
    _signal_group,
    deployment_env,
    free_port,
    launch,
    metadata_database,
    tail,
    wait_for,
    zoho_connection,
)

BUDGET_URL = "redis://127.0.0.1:6379/2"
BROKER_URL = "redis://127.0.0.1:6379/3"
RESULTS_URL = "redis://127.0.0.1:6379/4"
WORKERS = ("worker-1", "worker-2")
#: Example 4's DAG and its mapped Zoho task (dags_examples/example_scale_out.py).
DAG_ID, TASK_ID, SHARDS = "zoho_scale_out", "relate_shard", 8
CAMPAIGN_BASE, LEAD_BASE = 3652397300000000000, 3652397400000000000
STATUSES = ("Planning", "Active", "Sent")
#: Task slots per worker: 8 shards on 2 workers all run at once.
WORKER_CONCURRENCY = 4


@dataclass
class CeleryCluster:
    """The deployment, its workers by name, and the Redis the budget lives in."""

    airflow: AirflowDeployment
    root: Path
    budget_redis: Any
    zoho_base_url: str

    def worker_env(self, name: str) -> dict[str, str]:
        home = self.root / name
        return {
            **self.airflow.env,
            "HOME": str(home / "home"),
            "ZOHOREL_TOKEN_CACHE_DIR": str(home / "token-cache"),
            "ZOHOREL_TEST_HOSTNAME": name,
            "AIRFLOW__CORE__HOSTNAME_CALLABLE": "tests.deployment.worker_hostname.hostname",
            "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])),
        }

    def start_worker(self, name: str) -> None:
        env = self.worker_env(name)
        Path(env["HOME"]).mkdir(parents=True, exist_ok=True)
        saved = self.airflow.env
        self.airflow.env = env
        try:
            self.airflow.start(
                name,
                "celery",
                "worker",
                "--celery-hostname",
                f"{name}@%h",
                "--concurrency",
                str(WORKER_CONCURRENCY),
                "--without-mingle",
                "--without-gossip",
            )
        finally:
            self.airflow.env = saved

    def wait_worker_ready(self, name: str) -> None:
        log = self.airflow.log_file(name)

        def ready() -> bool:
            self.airflow.check_alive()
            return f"{name}@" in tail(log, 400) and " ready." in tail(log, 400)

        wait_for(ready, STARTUP_TIMEOUT, f"celery {name} to be ready")

    def kill_worker(self, name: str) -> None:
        """SIGKILL the worker's whole process group (the machine dies: no task gets to clean up)."""
        proc = self.airflow.processes.pop(name)
        _signal_group(proc, signal.SIGKILL)
        proc.wait(timeout=30)

    def forget_tokens(self) -> None:
        """Empty the Redis token cache (after an emulator reset its token is void)."""
        for key in self.budget_redis.scan_iter("zohorel:token:*"):
            self.budget_redis.delete(key)

    def trigger_example_4(self) -> str:
        return self.airflow.trigger(DAG_ID, conf={"demo_rows": False})

    def shard_instances(self, run_id: str) -> list[dict[str, Any]]:
        path = f"/dags/{DAG_ID}/dagRuns/{run_id}/taskInstances/{TASK_ID}/listMapped"
        return list(self.airflow.api("GET", path)["task_instances"])

    def shard_summaries(self, run_id: str) -> list[dict[str, Any]]:
        path = f"/dags/{DAG_ID}/dagRuns/{run_id}/taskInstances/{TASK_ID}/xcomEntries/return_value"
        return [dict(self.airflow.api("GET", path, params={"map_index": n})["value"]) for n in range(SHARDS)]

    def wait_run(self, run_id: str, timeout: float) -> dict[str, Any]:
        def finished() -> dict[str, Any] | None:
            run = self.airflow.api("GET", f"/dags/{DAG_ID}/dagRuns/{run_id}")
            return run if run["state"] in ("success", "failed") else None

        return wait_for(finished, timeout, f"{DAG_ID} run {run_id} to finish", interval=0.5)

    def recorded_batches(self, run_id: str, worker: str) -> int:
        """Finished batches the shards running on ``worker`` have written to their task state store
        (what a retry of theirs resumes from)."""
        path = f"/dags/{DAG_ID}/dagRuns/{run_id}/taskInstances/{TASK_ID}/state-store"
        recorded = 0
        for ti in self.shard_instances(run_id):
            if ti["state"] == "running" and ti["hostname"] == worker:
                store = self.airflow.api("GET", path, params={"map_index": ti["map_index"]})
                recorded += sum(
                    len(entry["value"])
                    for entry in store["task_state_store"]
                    if entry["key"].startswith("zohorel/done/")
                )
        return recorded

    def hold_until_ready_to_kill(self, run_id: str, admin: Any, cap: int, victim: str, timeout: float) -> int:
        """Reach the kill scenario's known point with the emulator's ``hold_after_requests`` (set to
        0 before the run, so every call is held): let the held calls go ``cap`` at a time until the
        budget is full of held calls again, both workers run shards, and the victim's shards have
        recorded finished batches (so their retries resume). Returns the calls let through."""

        def full() -> bool:
            return bool(admin.counters()["held_requests"] == cap and self.running_on(run_id) == set(WORKERS))

        while True:
            wait_for(full, timeout, "the budget to fill with held calls, shards running on both workers")
            if self.recorded_batches(run_id, victim) == 0:
                admin.patch_config(hold_after_requests=int(admin.counters()["crm_requests"]))  # the held go
            elif full():  # still full after reading the stores: a held call may have ended meanwhile
                return int(admin.get_config()["hold_after_requests"])

    def running_on(self, run_id: str) -> set[str]:
        """Hostnames of the workers running a shard now."""
        return {ti["hostname"] for ti in self.shard_instances(run_id) if ti["state"] == "running"}

    def budget_key(self) -> str:
        """The Redis key of the connection's budget (one per Zoho client)."""
        return DEFAULT_PREFIX + budget_name(DEMO_CLIENT_ID, self.zoho_base_url.rstrip("/"))

    def holders(self) -> set[str]:
        """Leases in the shared budget now (expired ones included until someone takes them back)."""
        return {h.decode() for h in self.budget_redis.zrange(self.budget_key(), 0, -1)}

    def budget_slots_held(self) -> int:
        return len(self.holders())

    def leases_of(self, name: str) -> set[str]:
        """The leases held by the processes of worker ``name`` (holders are ``host:pid:id``)."""
        proc = psutil.Process(self.airflow.processes[name].pid)
        pids = {str(p.pid) for p in [proc, *proc.children(recursive=True)]}
        return {h for h in self.holders() if h.split(":")[-2] in pids}


@dataclass(frozen=True)
class Members:
    """Example 4's input: ``parents`` campaigns with ``per_parent`` leads each, in the warehouse."""

    parents: int
    per_parent: int

    def rows(self) -> list[dict[str, str]]:
        return [
            {
                "record_id": str(CAMPAIGN_BASE + p),
                "id": str(LEAD_BASE + r),
                "Member_Status": STATUSES[(p + r) % len(STATUSES)],
            }
            for p in range(1, self.parents + 1)
            for r in range(1, self.per_parent + 1)
        ]

    def write_warehouse(self, path: Path) -> None:
        """The ``campaign_members`` table example 4 shards (its demo rows are not loaded)."""
        with sqlite3.connect(path) as conn:
            conn.execute("DROP TABLE IF EXISTS campaign_members")
            conn.execute("CREATE TABLE campaign_members (record_id TEXT, id TEXT, Member_Status TEXT)")
            conn.executemany(
                "INSERT INTO campaign_members VALUES (:record_id, :id, :Member_Status)", self.rows()
            )

    def seed(self, admin: Any, cap: int, latency_ms: float) -> None:
        """Back to the demo seed (client and user) plus the records the rows name; zero counters."""
        admin.reset(seed="demo")
        admin.patch_config(latency_ms=latency_ms, concurrency_limit=cap)
        admin.add_records("Campaigns", id_range=(str(CAMPAIGN_BASE + 1), str(CAMPAIGN_BASE + self.parents)))
        admin.add_records("Leads", id_range=(str(LEAD_BASE + 1), str(LEAD_BASE + self.per_parent)))
        admin.reset_counters()


def combined(summaries: list[dict[str, Any]]) -> dict[str, Any]:
    """The shards' summaries as one run's, for the accounting invariant over the whole input."""
    by_code: Counter[str] = Counter()
    for summary in summaries:
        by_code.update(summary["by_code"])
    keys = ("total", "succeeded", "failed", "added", "updated", "resumed_items", "api_calls")
    total = {key: sum(s[key] for s in summaries) for key in keys}
    failed = [item for s in summaries for item in s["failed_items"]]
    return {**total, "by_code": dict(by_code), "failed_items": failed, "failed_items_truncated": 0}


def celery_env(root: Path, database_uri: str, port: int, zoho_base_url: str, cap: int) -> dict[str, str]:
    env = deployment_env(root, database_uri, port, zoho_base_url)
    conn = zoho_connection(zoho_base_url)
    extra = {
        **json.loads(conn["extra"]),
        "concurrency_budget": BUDGET_URL,
        "concurrency_cap": str(cap),
        "cache_backend": BUDGET_URL,
    }
    env.update(
        {
            "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor",
            "AIRFLOW__CORE__PARALLELISM": "16",
            "AIRFLOW__CELERY__BROKER_URL": BROKER_URL,
            "AIRFLOW__CELERY__RESULT_BACKEND": RESULTS_URL,
            "AIRFLOW__CELERY__WORKER_CONCURRENCY": str(WORKER_CONCURRENCY),
            # A killed worker's task is found dead by its missing heartbeats within ~30 s, not 5 min.
            "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT": "20",
            "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT_DETECTION_INTERVAL": "5",
            "AIRFLOW_CONN_ZOHO_CRM_DEFAULT": json.dumps({**conn, "extra": extra}),
        }
    )
    return env


@contextlib.contextmanager
def celery_cluster(root: Path, zoho_base_url: str, cap: int, members: Members) -> Iterator[CeleryCluster]:
    """Start the whole cluster (fresh Redis dbs, fresh ``celery_*`` database, the warehouse table of
    ``members``); stop it afterwards."""
    members.write_warehouse(root / "warehouse.db")
    for url in (BUDGET_URL, BROKER_URL, RESULTS_URL):
        redis.Redis.from_url(url).flushdb()
    with metadata_database(prefix="celery_af") as uri:
        port = free_port()
        airflow = AirflowDeployment(
            home=root / "home",
            logs=root / "process-logs",
            env=celery_env(root, uri, port, zoho_base_url, cap),
            base_url=f"http://127.0.0.1:{port}",
            token_cache=root / "token-cache",
        )
        cluster = CeleryCluster(airflow, root, redis.Redis.from_url(BUDGET_URL), zoho_base_url)
        try:
            launch(airflow, port)
            for name in WORKERS:
                cluster.start_worker(name)
            for name in WORKERS:
                cluster.wait_worker_ready(name)
            yield cluster
        finally:
            airflow.stop()
            for url in (BUDGET_URL, BROKER_URL, RESULTS_URL):
                redis.Redis.from_url(url).flushdb()
