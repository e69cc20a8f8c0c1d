"""Example 4 on a real CeleryExecutor: 8 mapped shards on two workers ("machines": own hostname,
HOME and token cache directory) keep one Zoho budget and one token between them, and survive a
worker killed mid-run. Zoho's side is counted by the emulator (``peak_in_flight``, 429s, mints,
relations), never by the clients.

``pytest -m celery`` (``make test-celery``) runs it alone; it needs Redis and Postgres on
127.0.0.1 (``.ci/run`` starts them).
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_zohorel.emulator import ZohoEmulator
from airflow_provider_zohorel.zoho.concurrency_budget import RedisConcurrencyBudget
from tests.deployment.celery_support import WORKERS, CeleryCluster, celery_cluster
from tests.deployment.deployment_support import wait_for
from tests.reliability.accounting import assert_accounted

pytestmark = [pytest.mark.celery, pytest.mark.timeout(900)]

DAG_ID, TASK_ID, SHARDS = "zoho_scale_out", "relate_shard", 8
CAP, LATENCY_MS = 10, 100
#: 20,000 relations: 200 calls, 2 s at the cap (the benchmark, make bench-celery, sends 100,000).
PARENTS, PER_PARENT = 200, 100
CAMPAIGN_BASE, LEAD_BASE = 3652397300000000000, 3652397400000000000
STATUSES = ("Planning", "Active", "Sent")
RUN_TIMEOUT = 400.0


def member_rows() -> list[dict[str, str]]:
    return [
        {
            "record_id": str(CAMPAIGN_BASE + p),
            "id": str(LEAD_BASE + r),
            "Member_Status": STATUSES[(p + r) % 3],
        }
        for p in range(1, PARENTS + 1)
        for r in range(1, PER_PARENT + 1)
    ]


def write_warehouse(path: Path, rows: list[dict[str, str]]) -> None:
    with sqlite3.connect(path) as conn:
        conn.execute("DROP TABLE IF EXISTS campaign_members")
        conn.execute("CREATE TABLE campaign_members (record_id TEXT, id TEXT, Member_Status TEXT)")
        conn.executemany("INSERT INTO campaign_members VALUES (:record_id, :id, :Member_Status)", rows)


def seed_world(zoho: ZohoEmulator) -> None:
    """Back to the demo seed (client and user) plus the campaigns and leads the rows name."""
    admin = zoho.admin
    admin.reset(seed="demo")
    admin.patch_config(latency_ms=LATENCY_MS, concurrency_limit=CAP)
    admin.add_records("Campaigns", id_range=(str(CAMPAIGN_BASE + 1), str(CAMPAIGN_BASE + PARENTS)))
    admin.add_records("Leads", id_range=(str(LEAD_BASE + 1), str(LEAD_BASE + PER_PARENT)))
    admin.reset_counters()


@pytest.fixture(scope="module")
def zoho() -> Iterator[ZohoEmulator]:
    with ZohoEmulator(seed="demo") as emulator:
        yield emulator


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory, zoho: ZohoEmulator) -> Iterator[CeleryCluster]:
    root = tmp_path_factory.mktemp("celery-cluster")
    write_warehouse(root / "warehouse.db", member_rows())
    with celery_cluster(root, zoho.base_url, CAP) as running:
        yield running


@pytest.fixture
def world(zoho: ZohoEmulator, cluster: CeleryCluster) -> ZohoEmulator:
    """A fresh emulator world; the Redis token cache is emptied, as the reset voids its token."""
    seed_world(zoho)
    for key in cluster.budget_redis.scan_iter("zohorel:token:*"):
        cluster.budget_redis.delete(key)
    return zoho


def shard_instances(cluster: CeleryCluster, run_id: str) -> list[dict[str, Any]]:
    path = f"/dags/{DAG_ID}/dagRuns/{run_id}/taskInstances/{TASK_ID}/listMapped"
    return list(cluster.airflow.api("GET", path)["task_instances"])


def shard_summaries(cluster: CeleryCluster, run_id: str) -> list[dict[str, Any]]:
    path = f"/dags/{DAG_ID}/dagRuns/{run_id}/taskInstances/{TASK_ID}/xcomEntries/return_value"
    return [dict(cluster.airflow.api("GET", path, params={"map_index": n})["value"]) for n in range(SHARDS)]


def combined(summaries: list[dict[str, Any]]) -> dict[str, Any]:
    """The shards' summaries as one run's, for the accounting invariant over the whole input."""
    by_code: Counter[str] = Counter()
    for summary in summaries:
        by_code.update(summary["by_code"])
    total = {
        key: sum(s[key] for s in summaries) for key in ("total", "succeeded", "failed", "added", "updated")
    }
    failed = [item for s in summaries for item in s["failed_items"]]
    return {**total, "by_code": dict(by_code), "failed_items": failed, "failed_items_truncated": 0}


def run_to_the_end(cluster: CeleryCluster, run_id: str) -> dict[str, Any]:
    def finished() -> dict[str, Any] | None:
        run = cluster.airflow.api("GET", f"/dags/{DAG_ID}/dagRuns/{run_id}")
        return run if run["state"] in ("success", "failed") else None

    return wait_for(finished, RUN_TIMEOUT, f"{DAG_ID} run {run_id} to finish", interval=1.0)


def test_shards_on_two_workers_share_one_budget_and_one_token(cluster: CeleryCluster, world: ZohoEmulator):
    run_id = cluster.airflow.trigger(DAG_ID, conf={"demo_rows": False})
    assert run_to_the_end(cluster, run_id)["state"] == "success"

    instances = shard_instances(cluster, run_id)
    assert [ti["state"] for ti in instances] == ["success"] * SHARDS
    assert {ti["hostname"] for ti in instances} == set(WORKERS)  # both machines ran shards
    summaries = shard_summaries(cluster, run_id)
    assert_accounted(member_rows(), combined(summaries), world.admin, scenario="celery: 8 shards, 2 workers")
    assert sum(s["api_calls"] for s in summaries) == PARENTS  # one PUT per campaign: no call split

    counters = world.admin.counters()
    assert counters["peak_in_flight"] <= CAP  # the whole cluster, as Zoho counts it
    assert counters["too_many_requests"] == 0
    assert counters["tokens_minted"] == 1  # one mint for every task on both machines
    assert cluster.budget_slots_held() == 0  # every slot given back
    for name in WORKERS:  # only Redis was shared: no worker used its own file cache
        assert not (cluster.root / name / "token-cache").exists()


def test_a_worker_killed_mid_run_its_shards_resume_on_the_other(cluster: CeleryCluster, world: ZohoEmulator):
    """Calls past the 60th are held unanswered: the budget fills (exactly CAP held, the rest wait
    for a slot); once both workers run shards, one is SIGKILLed with calls in flight, then the held
    calls are let go."""
    world.admin.patch_config(hold_after_requests=60)
    run_id = cluster.airflow.trigger(DAG_ID, conf={"demo_rows": False})

    def budget_full_on_both_machines() -> bool:
        if world.admin.counters()["held_requests"] < CAP:
            return False
        running = {ti["hostname"] for ti in shard_instances(cluster, run_id) if ti["state"] == "running"}
        return running == set(WORKERS)

    wait_for(budget_full_on_both_machines, RUN_TIMEOUT, "the budget to fill with held calls on both workers")
    assert world.admin.counters()["held_requests"] == CAP  # the budget, not Zoho, stopped the rest
    dead_holders = cluster.leases_of(WORKERS[0])
    cluster.kill_worker(WORKERS[0])
    world.admin.patch_config(hold_after_requests=None)
    assert run_to_the_end(cluster, run_id)["state"] == "success"

    instances = shard_instances(cluster, run_id)
    assert [ti["state"] for ti in instances] == ["success"] * SHARDS
    retried = [ti for ti in instances if ti["try_number"] > 1]
    assert retried  # the killed worker's shards ran again ...
    assert {ti["hostname"] for ti in retried} == {WORKERS[1]}  # ... on the machine still alive
    summaries = shard_summaries(cluster, run_id)
    assert sum(s["resumed_items"] for s in summaries) > 0  # ... from what they had finished
    assert_accounted(member_rows(), combined(summaries), world.admin, scenario="celery: worker killed")

    counters = world.admin.counters()
    assert counters["peak_in_flight"] <= CAP
    assert counters["too_many_requests"] == 0
    # The dead worker's leases come back: the whole budget can be taken again. This waits until the
    # leases it never released expire (bounded by the test's timeout), and takes them back.
    assert dead_holders  # it held slots when it died
    budget = RedisConcurrencyBudget(cluster.budget_redis, CAP, cluster.budget_key(), prefix="")
    with contextlib.ExitStack() as stack:
        for _ in range(CAP):
            stack.enter_context(budget.slot(lease=1.0))
        assert not dead_holders & cluster.holders()
        assert budget.in_use() == CAP
    assert cluster.budget_slots_held() == 0
