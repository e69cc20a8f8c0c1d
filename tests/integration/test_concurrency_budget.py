"""The deployment-wide concurrency budget on a real Redis, against the emulator.

Several "machines" (forked processes, each with its own file token cache) whose tasks each allow
the whole cap stay under one cap together, counted by the emulator (``peak_in_flight``), not by the
clients; a holder killed mid-call gives its slots back within one lease; no slot is held while a
call backs off; without Redis, calls go ahead on the task's own limit.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import signal
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import redis

from airflow_provider_zohorel.zoho.concurrency_budget import RedisConcurrencyBudget
from tests.integration.zoho_integration import CAMPAIGNS, LEADS, make_hook

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]

REDIS_URL = "redis://127.0.0.1:6379/2"  # this suite's own database, emptied around each test
CAP = 4
MACHINES = 3
CALLS_PER_MACHINE = 16


@pytest.fixture
def redis_db():
    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.ping()
    except redis.ConnectionError as exc:  # pragma: no cover - the machine runs Redis (see .ci/run)
        pytest.fail(f"Redis is not running on 127.0.0.1:6379: {exc}")
    client.flushdb()
    yield client
    client.flushdb()


def _machine(barrier: Any, out: Any, cache_dir: str, leads: list[str]) -> None:
    """One worker machine: a task allowed the whole cap, sending one PUT per lead from CAP threads."""
    try:
        os.environ["ZOHOREL_TOKEN_CACHE_DIR"] = cache_dir
        hook = make_hook(max_concurrency=CAP)
        hook.get_access_token()  # the budget is about calls, not mints
        barrier.wait(timeout=60)
        with ThreadPoolExecutor(CAP) as pool:
            codes = list(
                pool.map(
                    lambda lead: (
                        hook.update_related_records("Campaigns", CAMPAIGNS[0], "Leads", [{"id": lead}])[
                            0
                        ].code
                    ),
                    leads,
                )
            )
        out.put((codes, hook.client.stats.throttled))
    except BaseException as exc:
        out.put(([f"{type(exc).__name__}: {exc}"], -1))
        raise


def test_machines_sharing_the_budget_never_exceed_the_cap(zoho, set_conn, redis_db, tmp_path):
    """3 machines x a task allowed CAP calls = 3 x CAP wanted at once; Zoho sees at most CAP."""
    zoho.admin.patch_config(latency_ms=30, concurrency_limit=CAP)
    set_conn(
        "zoho_crm_default",
        zoho.base_url,
        token_cache=REDIS_URL,
        concurrency_budget=REDIS_URL,
        concurrency_cap=str(CAP),
    )
    ctx = multiprocessing.get_context("fork")
    barrier, out = ctx.Barrier(MACHINES), ctx.Queue()
    procs = [
        ctx.Process(
            target=_machine,
            args=(barrier, out, str(tmp_path / f"machine-{m}"), (LEADS * 2)[m::MACHINES][:CALLS_PER_MACHINE]),
        )
        for m in range(MACHINES)
    ]
    for proc in procs:
        proc.start()
    rows = [out.get(timeout=90) for _ in procs]
    for proc in procs:
        proc.join(timeout=30)

    assert [code for codes, _ in rows for code in codes] == ["SUCCESS"] * MACHINES * CALLS_PER_MACHINE, rows
    counters = zoho.admin.counters()
    assert counters["too_many_requests"] == 0  # no call was ever refused for the cap
    assert counters["peak_in_flight"] == CAP  # the cap was reached (contention) and never passed
    assert counters["in_flight"] == 0
    slots = [key for key in redis_db.scan_iter("zohorel:budget:*") if redis_db.type(key) == b"zset"]
    assert sum(redis_db.zcard(key) for key in slots) == 0  # no lease left behind


def _hold_every_slot(ready: Any, cap: int) -> None:
    budget = RedisConcurrencyBudget(redis.Redis.from_url(REDIS_URL), cap, "dying", lease_margin=0)
    with contextlib.ExitStack() as stack:
        for _ in range(cap):
            stack.enter_context(budget.slot(lease=2.0))
        ready.set()
        threading.Event().wait()  # until SIGKILL: no release ever runs


def test_a_killed_holders_slots_come_back_after_its_lease(redis_db):
    ctx = multiprocessing.get_context("fork")
    ready = ctx.Event()
    holder = ctx.Process(target=_hold_every_slot, args=(ready, CAP))
    holder.start()
    assert ready.wait(timeout=60)
    os.kill(holder.pid, signal.SIGKILL)
    holder.join(timeout=30)

    budget = RedisConcurrencyBudget(redis_db, CAP, "dying", lease_margin=0)
    assert budget.in_use() == CAP  # the dead holder's slots are still leased
    with contextlib.ExitStack() as stack:
        for _ in range(CAP):  # blocks until the leases expire (bounded by the test's timeout)
            stack.enter_context(budget.slot(lease=5.0))
        assert budget.reclaimed == CAP  # every slot came back from the dead holder
        assert budget.in_use() == CAP
    assert budget.in_use() == 0


def test_a_call_holds_no_slot_while_it_backs_off(zoho, set_conn, redis_db):
    set_conn("zoho_crm_default", zoho.base_url, concurrency_budget=REDIS_URL, concurrency_cap="1")
    hook = make_hook()
    budget = hook.client.budget
    assert isinstance(budget, RedisConcurrencyBudget)
    held_during_backoff: list[int] = []
    hook.client.sleep = lambda seconds: held_during_backoff.append(budget.in_use())
    zoho.admin.set_faults(error_500_next=2)

    [result] = hook.update_related_records("Campaigns", CAMPAIGNS[0], "Leads", [{"id": LEADS[0]}])
    assert result.code == "SUCCESS"
    assert held_during_backoff == [0, 0]  # two backoffs, no slot held in either
    assert budget.in_use() == 0
    assert zoho.admin.counters()["crm_requests"] == 3


def test_without_redis_calls_go_ahead_within_the_tasks_own_limit(zoho, set_conn, caplog):
    set_conn("zoho_crm_default", zoho.base_url, concurrency_budget="redis://127.0.0.1:1/2")
    hook = make_hook()
    results = [
        hook.update_related_records("Campaigns", CAMPAIGNS[0], "Leads", [{"id": lead}])[0]
        for lead in LEADS[:3]
    ]
    assert [r.code for r in results] == ["SUCCESS"] * 3
    budget = hook.client.budget
    assert isinstance(budget, RedisConcurrencyBudget)
    assert budget.unavailable == 3
    warnings = [r.getMessage() for r in caplog.records if "concurrency budget" in r.getMessage()]
    assert len(warnings) == 1
    assert "Redis unreachable" in warnings[0]
