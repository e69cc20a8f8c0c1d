"""32 task processes on one machine, one token mint (DESIGN.md, quality bar "Tokens").

The processes are real OS processes (forked after Airflow is imported, so the suite stays fast),
each with its own ZohoCRMHook on the same env-var connection and the default file token cache;
a Barrier releases them at once. Only the cache directory and ``flock`` are shared.
"""

from __future__ import annotations

import multiprocessing
import os
import stat
from typing import Any

import pendulum
import pytest

from airflow_provider_zohorel.zoho.token_cache import FileTokenCache
from tests.integration.zoho_integration import CAMPAIGNS, LEADS, make_hook

pytestmark = pytest.mark.integration

PROCESSES = 32


def _task_process(barrier: Any, out: Any, lead: str, hours_later: int) -> None:
    """What one task does: build the hook, wait for the others, take a token, relate one lead."""
    try:
        if hours_later:  # this process starts an hour after the first wave (pendulum is the clock)
            real_now = pendulum.now
            pendulum.now = lambda tz=None: real_now(tz).add(hours=hours_later)  # type: ignore[assignment]
        hook = make_hook()
        assert isinstance(hook.client.tokens.cache, FileTokenCache)
        barrier.wait(timeout=60)
        token = hook.get_access_token()
        [result] = hook.update_related_records("Campaigns", CAMPAIGNS[0], "Leads", [{"id": lead}])
        final = hook.client.tokens.get().value
        out.put(
            (lead, result.code, token, final, hook.client.minter.mints, hook.client.stats.token_refreshes)
        )
    except BaseException as exc:  # reported to the parent, which fails the test with it
        out.put((lead, f"{type(exc).__name__}: {exc}", None, None, -1, -1))
        raise


def _wave(leads: list[str], hours_later: int = 0) -> list[tuple[Any, ...]]:
    ctx = multiprocessing.get_context("fork")
    barrier = ctx.Barrier(len(leads))
    out = ctx.Queue()
    procs = [ctx.Process(target=_task_process, args=(barrier, out, lead, hours_later)) for lead in leads]
    for proc in procs:
        proc.start()
    rows = [out.get(timeout=120) for _ in procs]
    for proc in procs:
        proc.join(timeout=60)
    assert [proc.exitcode for proc in procs] == [0] * len(procs), rows
    return rows


@pytest.fixture
def zoho_no_mint_limit(zoho):
    """A generous mint throttle, so a sharing bug shows up as a count instead of a lock-out."""
    zoho.admin.patch_config(mint_limit=1000)
    return zoho


def _check(rows: list[tuple[Any, ...]], leads: list[str]) -> str:
    assert sorted(r[0] for r in rows) == sorted(leads)
    assert {r[1] for r in rows} == {"SUCCESS"}, rows
    tokens = {r[2] for r in rows} | {r[3] for r in rows}
    assert len(tokens) == 1
    assert sum(r[4] for r in rows) == 1  # exactly one process minted
    return tokens.pop()


def test_32_processes_share_one_mint(zoho_no_mint_limit, token_cache_dir):
    zoho = zoho_no_mint_limit
    leads = LEADS[:PROCESSES]
    _check(_wave(leads), leads)
    counters = zoho.admin.counters()
    assert counters["tokens_minted"] == 1
    assert counters["live_tokens"] == 1
    assert counters["requests"]["crm.related_records.bulk"] == {"200": PROCESSES}
    assert sorted(r["id"] for r in zoho.admin.relations_of(CAMPAIGNS[0], "Leads")) == sorted(leads)
    # The shared cache is private to this OS user.
    assert stat.S_IMODE(token_cache_dir.stat().st_mode) == 0o700
    files = list(token_cache_dir.glob("*.json"))
    assert len(files) == 1
    assert stat.S_IMODE(files[0].stat().st_mode) == 0o600
    assert files[0].stat().st_uid == os.getuid()


def test_after_expiry_32_processes_cause_exactly_one_new_mint(zoho_no_mint_limit):
    zoho = zoho_no_mint_limit
    first = _check(_wave(LEADS[:PROCESSES]), LEADS[:PROCESSES])
    second_wave = LEADS[PROCESSES - 8 : PROCESSES + 8] * 2  # 16 leads, each twice: 32 processes

    # 1. Zoho kills the tokens (e.g. an admin ended all sessions) while the cache still trusts its
    # copy: processes that start before the replacement exists use the dead token once, meet a 401
    # and adopt the single replacement; later ones read the replacement from the cache.
    zoho.admin.expire_tokens()
    rows = _wave(second_wave)
    assert {r[1] for r in rows} == {"SUCCESS"}, rows
    assert sum(r[4] for r in rows) == 1  # exactly one process minted the replacement
    assert zoho.admin.counters()["tokens_minted"] == 2
    [second] = {r[3] for r in rows}
    assert second != first
    assert {r[2] for r in rows} <= {first, second}
    saw_401 = sum(1 for r in rows if r[2] == first)
    assert saw_401 >= 1
    assert sum(r[5] for r in rows) == saw_401
    assert zoho.admin.counters()["requests"]["crm.related_records.bulk"] == {
        "200": 2 * PROCESSES,
        "401": saw_401,
    }

    # 2. An hour passes for Zoho and for every task process: the cached token is stale everywhere,
    # so nobody uses it and exactly one process mints.
    zoho.admin.advance_clock(3600)
    rows = _wave(second_wave, hours_later=1)
    assert {r[1] for r in rows} == {"SUCCESS"}, rows
    assert sum(r[4] for r in rows) == 1
    assert zoho.admin.counters()["tokens_minted"] == 3
    [third] = {r[2] for r in rows} | {r[3] for r in rows}
    assert third not in (first, second)
    assert sum(r[5] for r in rows) == 0  # no process needed a 401 to find out
    assert zoho.admin.counters()["requests"]["crm.related_records.bulk"] == {
        "200": 3 * PROCESSES,
        "401": saw_401,
    }
