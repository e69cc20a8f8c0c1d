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

PROCESSES = 16


@pytest.fixture
def redis_db(redis_url):
    """The suite's own Redis database (tests/services.py), emptied around each test."""
    client = redis.Redis.from_url(redis_url)
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


def test_workers_on_different_machines_share_one_mint_through_redis(
    zoho, set_conn, redis_db, redis_url, tmp_path
):
    zoho.admin.patch_config(mint_limit=1000)  # a sharing bug shows as a count, not a lock-out
    set_conn("zoho_crm_default", zoho.base_url, token_cache=redis_url)
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


def test_a_redis_password_in_the_url_is_masked(zoho, set_conn):
    """A ``token_cache`` URL with a password goes to Airflow's real secrets masker: a line that
    quotes the URL is redacted (redis-py connects lazily, so no server is needed)."""
    from airflow.sdk.log import redact

    password = f"redis-pw-{os.urandom(6).hex()}"
    url = f"redis://:{password}@127.0.0.1:6399/3"
    assert password in redact(f"cache at {url}")  # not masked before the hook saw it
    set_conn("zoho_crm_default", zoho.base_url, token_cache=url)
    make_hook().client  # noqa: B018 - building the client picks the cache
    assert password not in redact(f"cache at {url}")
