"""Example 4 on a real CeleryExecutor: 8 mapped shards on two workers ("machines": own hostname,
HOME and token cache directory) keep one Zoho budget and one token between them, and survive a
worker killed mid-run. Zoho's side is counted by the emulator (``peak_in_flight``, 429s, mints,
relations), never by the clients.

``pytest -m celery`` (``make test-celery``) runs it alone; it needs Redis and Postgres on
127.0.0.1 (``.ci/run`` starts them).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import pytest

from airflow_provider_zohorel.emulator import ZohoEmulator
from airflow_provider_zohorel.zoho.concurrency_budget import RedisConcurrencyBudget
from tests.deployment.celery_support import SHARDS, WORKERS, CeleryCluster, Members, celery_cluster, combined
from tests.reliability.accounting import assert_accounted

pytestmark = [pytest.mark.celery, pytest.mark.timeout(900)]

CAP, LATENCY_MS = 10, 100
#: 20,000 relations: 200 calls, 2 s at the cap (the benchmark, make bench-celery, sends 100,000).
MEMBERS = Members(parents=200, per_parent=100)
RUN_TIMEOUT = 400.0


@pytest.fixture(scope="module")
def zoho() -> Iterator[ZohoEmulator]:
    with ZohoEmulator(seed="demo") as emulator:
        yield emulator


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory, zoho: ZohoEmulator) -> Iterator[CeleryCluster]:
    with celery_cluster(tmp_path_factory.mktemp("celery-cluster"), zoho.base_url, CAP, MEMBERS) as running:
        yield running


@pytest.fixture
def world(zoho: ZohoEmulator, cluster: CeleryCluster) -> ZohoEmulator:
    """A fresh emulator world; the Redis token cache is emptied, as the reset voids its token."""
    MEMBERS.seed(zoho.admin, CAP, LATENCY_MS)
    cluster.forget_tokens()
    return zoho


def test_shards_on_two_workers_share_one_budget_and_one_token(cluster: CeleryCluster, world: ZohoEmulator):
    run_id = cluster.trigger_example_4()
    assert cluster.wait_run(run_id, RUN_TIMEOUT)["state"] == "success"

    instances = cluster.shard_instances(run_id)
    assert [ti["state"] for ti in instances] == ["success"] * SHARDS
    assert {ti["hostname"] for ti in instances} == set(WORKERS)  # both machines ran shards
    summaries = cluster.shard_summaries(run_id)
    assert_accounted(MEMBERS.rows(), combined(summaries), world.admin, scenario="celery: 8 shards, 2 workers")
    assert sum(s["api_calls"] for s in summaries) == MEMBERS.parents  # one PUT per campaign: no call split

    counters = world.admin.counters()
    assert counters["peak_in_flight"] <= CAP  # the whole cluster, as Zoho counts it
    assert counters["too_many_requests"] == 0
    assert counters["tokens_minted"] == 1  # one mint for every task on both machines
    assert cluster.budget_slots_held() == 0  # every slot given back
    for name in WORKERS:  # only Redis was shared: no worker used its own file cache
        assert not (cluster.root / name / "token-cache").exists()


def test_a_worker_killed_mid_run_its_shards_resume_on_the_other(cluster: CeleryCluster, world: ZohoEmulator):
    """Calls are held unanswered and let go a budget at a time: the budget fills (exactly CAP held,
    the rest wait for a slot); once both workers run shards and worker-1's have recorded finished
    batches, it is SIGKILLed with calls in flight, then the held calls are let go."""
    world.admin.patch_config(hold_after_requests=0)
    run_id = cluster.trigger_example_4()
    cluster.hold_until_ready_to_kill(run_id, world.admin, CAP, WORKERS[0], RUN_TIMEOUT)
    assert world.admin.counters()["held_requests"] == CAP  # the budget, not Zoho, stopped the rest
    dead_holders = cluster.leases_of(WORKERS[0])
    cluster.kill_worker(WORKERS[0])
    world.admin.patch_config(hold_after_requests=None)
    assert cluster.wait_run(run_id, RUN_TIMEOUT)["state"] == "success"

    instances = cluster.shard_instances(run_id)
    assert [ti["state"] for ti in instances] == ["success"] * SHARDS
    retried = [ti for ti in instances if ti["try_number"] > 1]
    assert retried  # the killed worker's shards ran again ...
    assert {ti["hostname"] for ti in retried} == {WORKERS[1]}  # ... on the machine still alive
    summaries = cluster.shard_summaries(run_id)
    assert sum(s["resumed_items"] for s in summaries) > 0  # ... from what they had finished
    assert_accounted(MEMBERS.rows(), combined(summaries), world.admin, scenario="celery: worker killed")

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
