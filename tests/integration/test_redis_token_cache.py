"""A cluster-wide token cache on a real Redis: processes on different "machines" (each with its own
file cache directory, so only Redis is shared) cause one mint between them."""

from __future__ import annotations

import multiprocessing
import os
from typing import Any

import pendulum
import pytest
import redis

from airflow_provider_zohorel.zoho.oauth import AccessToken
from airflow_provider_zohorel.zoho.token_cache_redis import RedisTokenCache
from tests.integration.zoho_integration import CAMPAIGNS, LEADS, make_hook

pytestmark = pytest.mark.integration

REDIS_URL = "redis://127.0.0.1:6379/15"  # a database of its own, emptied around each test
PROCESSES = 16


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


def _machine(barrier: Any, out: Any, lead: str, cache_dir: str) -> None:
    try:
        os.environ["ZOHOREL_TOKEN_CACHE_DIR"] = cache_dir  # a different machine: nothing shared on disk
        hook = make_hook()
        assert isinstance(hook.client.tokens.cache, RedisTokenCache)
        barrier.wait(timeout=60)
        [result] = hook.update_related_records("Campaigns", CAMPAIGNS[1], "Leads", [{"id": lead}])
        out.put((lead, result.code, hook.client.tokens.get().value, hook.client.minter.mints))
    except BaseException as exc:
        out.put((lead, f"{type(exc).__name__}: {exc}", None, -1))
        raise


def test_workers_on_different_machines_share_one_mint_through_redis(zoho, set_conn, redis_db, tmp_path):
    zoho.admin.patch_config(mint_limit=1000)  # a sharing bug shows as a count, not a lock-out
    set_conn("zoho_crm_default", zoho.base_url, token_cache=REDIS_URL)
    ctx = multiprocessing.get_context("fork")
    barrier, out = ctx.Barrier(PROCESSES), ctx.Queue()
    leads = LEADS[:PROCESSES]
    procs = [
        ctx.Process(target=_machine, args=(barrier, out, lead, str(tmp_path / f"machine-{i}")))
        for i, lead in enumerate(leads)
    ]
    for proc in procs:
        proc.start()
    rows = [out.get(timeout=120) for _ in procs]
    for proc in procs:
        proc.join(timeout=60)
    assert {r[1] for r in rows} == {"SUCCESS"}, rows
    assert len({r[2] for r in rows}) == 1
    assert sum(r[3] for r in rows) == 1
    assert zoho.admin.counters()["tokens_minted"] == 1
    assert not any((tmp_path / f"machine-{i}").exists() for i in range(PROCESSES))  # no file cache used


def test_tokens_expire_in_redis_with_the_token(redis_db):
    cache = RedisTokenCache(redis_db, prefix="t:")
    token = AccessToken(
        "1000.redis-token", "https://www.zohoapis.com", pendulum.now("UTC").add(seconds=90), 3600
    )
    cache.store("abc", token)
    assert cache.load("abc") == token
    assert 80_000 < redis_db.pttl("t:abc") <= 90_000
    redis_db.set("t:broken", "{not json")
    assert cache.load("broken") is None
    with cache.lock("abc"):
        assert redis_db.exists("t:abc:lock")
    assert not redis_db.exists("t:abc:lock")


def test_a_redis_password_in_the_url_is_masked(zoho, set_conn, redis_db, monkeypatch):
    masked = []
    monkeypatch.setattr("airflow_provider_zohorel.hooks.zoho_crm.mask_secret", masked.append)
    set_conn("zoho_crm_default", zoho.base_url, token_cache=REDIS_URL)
    make_hook().client  # noqa: B018 - building the client picks the cache
    assert REDIS_URL in masked
