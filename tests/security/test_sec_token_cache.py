"""Token caches under attack (issue 15, points 3, 4 and 5): write access to a cache yields nothing.

- A forged Redis entry (another token, the attacker's API host) is ignored: its HMAC seal does not
  match, so every PUT still goes to Zoho with a token Zoho issued.
- A correctly sealed entry whose api_domain is not a Zoho host is ignored too (defence in depth).
- The file cache follows no symlink (directory swapped, token file, lock file), reads no file
  another user owns, and a stuck lock holder delays others only up to the lock timeout.
- A ``redis://`` URL without TLS or AUTH is accepted with a warning.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import threading

import pendulum
import pytest
import redis

from airflow_provider_zohorel.emulator import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, DEMO_REFRESH_TOKEN
from airflow_provider_zohorel.zoho.client import ZohoClient
from airflow_provider_zohorel.zoho.credentials import ZohoCredentials
from airflow_provider_zohorel.zoho.errors import ZohoAuthUnavailable
from airflow_provider_zohorel.zoho.oauth import AccessToken
from airflow_provider_zohorel.zoho.related_records_api import RelatedRecordsApi
from airflow_provider_zohorel.zoho.token_cache import FileTokenCache, TokenCacheError
from airflow_provider_zohorel.zoho.token_cache_redis import RedisTokenCache
from airflow_provider_zohorel.zoho.token_provider import TokenProvider
from tests.security.hostile_server import json_response

pytestmark = pytest.mark.integration

CAMPAIGN, LEAD = "3652397000000327001", "3652397000001829002"
CREDS = ZohoCredentials("1000.CACHEATTACK", "cache-attack-secret", "1000.cache-attack-refresh")


@pytest.fixture
def redis_db(redis_url):
    """The suite's own Redis database (tests/services.py), emptied around each test."""
    client = redis.Redis.from_url(redis_url)
    client.flushdb()
    yield client
    client.flushdb()


def forged(api_domain: str, value: str = "1000.attacker-token") -> dict:
    return {
        "value": value,
        "api_domain": api_domain,
        "expires_at": pendulum.now("UTC").add(hours=1).isoformat(),
        "lifetime": 3600,
        "seal": "00" * 32,
    }


def test_a_forged_redis_entry_sends_nothing_to_the_attacker(zoho_emulator_demo, redis_db, hostile):
    """Someone who can write the Redis key points every worker at their own host, which answers
    SUCCESS for everything: the run would report relations that were never made."""
    attacker = hostile(lambda req: [json_response({"data": [{"code": "SUCCESS", "status": "success"}]})])
    creds = ZohoCredentials(
        DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, DEMO_REFRESH_TOKEN, accounts_url=zoho_emulator_demo.base_url
    )
    client = ZohoClient(creds, token_cache=RedisTokenCache(redis_db), sleep=lambda _: None)
    redis_db.set("zohorel:token:" + client.tokens.key, json.dumps(forged(attacker.url)))
    [result] = RelatedRecordsApi(client).update_related_records(
        "Campaigns", CAMPAIGN, "Leads", [{"id": LEAD}]
    )
    assert attacker.requests == []  # the bearer token and the data went nowhere else
    assert result.code == "SUCCESS"
    assert [r["id"] for r in zoho_emulator_demo.admin.relations_of(CAMPAIGN, "Leads")] == [LEAD]
    assert client.tokens.get().value != "1000.attacker-token"
    stored = json.loads(redis_db.get("zohorel:token:" + client.tokens.key))
    assert stored["value"] == client.tokens.get().value  # the forged entry was replaced


class OneMinter:
    credentials = CREDS

    def __init__(self) -> None:
        self.mints = 0

    def mint(self) -> AccessToken:
        self.mints += 1
        return AccessToken(
            f"1000.minted-{self.mints}", "https://www.zohoapis.eu", pendulum.now("UTC").add(hours=1)
        )


def plain(api_domain: str = "https://www.zohoapis.eu", value: str = "1000.planted") -> AccessToken:
    return AccessToken(value, api_domain, pendulum.now("UTC").add(hours=1))


def sealed(api_domain: str, value: str = "1000.planted") -> AccessToken:
    """What someone holding this connection's secrets could write: the seal is right."""
    token = AccessToken(value, api_domain, pendulum.now("UTC").add(hours=1))
    return token.sealed(CREDS.seal_key, CREDS.cache_key)


@pytest.mark.parametrize(
    "api_domain", ["https://evil.example", "https://www.zohoapis.com.evil.example", "http://127.0.0.1:9"]
)
def test_a_sealed_entry_pointing_away_from_zoho_is_ignored(tmp_path, api_domain):
    cache = FileTokenCache(tmp_path / "c")
    cache.store(CREDS.cache_key, sealed(api_domain))
    minter = OneMinter()
    token = TokenProvider(minter, cache).get()  # type: ignore[arg-type]
    assert token.value == "1000.minted-1"
    assert minter.mints == 1


def test_the_control_a_sealed_zoho_entry_is_shared(tmp_path):
    cache = FileTokenCache(tmp_path / "c")
    cache.store(CREDS.cache_key, sealed("https://www.zohoapis.eu"))
    minter = OneMinter()
    assert TokenProvider(minter, cache).get().value == "1000.planted"  # type: ignore[arg-type]
    assert minter.mints == 0


def test_a_cache_directory_swapped_for_a_symlink_is_refused(tmp_path):
    """Checked at start-up, then replaced (e.g. in a shared parent directory) by a link to a
    directory holding a planted token: every later open must notice."""
    directory = tmp_path / "tokens"
    cache = FileTokenCache(directory)
    planted = tmp_path / "planted"
    planted.mkdir(mode=0o700)
    FileTokenCache(planted).store(CREDS.cache_key, plain())
    directory.rename(tmp_path / "moved-away")
    directory.symlink_to(planted)
    assert cache.load(CREDS.cache_key) is None
    with pytest.raises(TokenCacheError, match="symlink"):
        cache.store(CREDS.cache_key, plain(value="1000.mine"))


def test_a_symlinked_token_file_is_not_followed(tmp_path):
    cache = FileTokenCache(tmp_path / "c")
    outside = tmp_path / "outside.json"
    outside.write_text(json.dumps(plain().to_json()))
    (tmp_path / "c" / f"{CREDS.cache_key}.json").symlink_to(outside)
    assert cache.load(CREDS.cache_key) is None


def test_storing_replaces_a_planted_symlink_instead_of_writing_through_it(tmp_path):
    cache = FileTokenCache(tmp_path / "c")
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    link = tmp_path / "c" / f"{CREDS.cache_key}.json"
    link.symlink_to(victim)
    cache.store(CREDS.cache_key, plain())
    assert victim.read_text() == "precious"
    assert not link.is_symlink()


def test_a_planted_lock_symlink_creates_nothing_elsewhere(tmp_path):
    cache = FileTokenCache(tmp_path / "c")
    victim = tmp_path / "created-by-the-lock"
    (tmp_path / "c" / f"{CREDS.cache_key}.lock").symlink_to(victim)
    with pytest.raises(TokenCacheError, match="symlink"), cache.lock(CREDS.cache_key):
        pass
    assert not victim.exists()


@pytest.mark.skipif(os.getuid() != 0, reason="planting a file owned by another user needs root")
def test_a_token_file_owned_by_another_user_is_not_read(tmp_path):
    cache = FileTokenCache(tmp_path / "c")
    cache.store(CREDS.cache_key, plain())
    os.chown(tmp_path / "c" / f"{CREDS.cache_key}.json", 65534, 65534)
    assert cache.load(CREDS.cache_key) is None


def run_bounded(call):
    """Run ``call`` in a thread; one still blocked after two minutes fails the test (a hang guard:
    the lock below is held until the test ends)."""
    outcome: list = []

    def target() -> None:
        try:
            outcome.append(call())
        except BaseException as exc:
            outcome.append(exc)

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(timeout=120)
    assert outcome, "still waiting for the lock"
    return outcome[0]


def test_a_stuck_lock_holder_delays_others_only_up_to_the_lock_timeout(tmp_path):
    cache = FileTokenCache(tmp_path / "c")
    cache.lock_timeout = 0.3
    held = os.open(tmp_path / "c" / f"{CREDS.cache_key}.lock", os.O_CREAT | os.O_RDWR, 0o600)
    fcntl.flock(held, fcntl.LOCK_EX)  # another process that minted and then hung
    try:
        provider = TokenProvider(OneMinter(), cache)  # type: ignore[arg-type]
        error = run_bounded(provider.get)
    finally:
        os.close(held)
    assert isinstance(error, ZohoAuthUnavailable)  # the task fails retryably, it does not hang
    assert error.code == "TOKEN_CACHE_BUSY"


@pytest.mark.parametrize(
    ("url", "warnings"),
    [
        ("redis://redis.internal:6379/0", {"TLS", "AUTH"}),
        ("redis://:pw@redis.internal:6379/0", {"TLS"}),
        ("rediss://redis.internal:6379/0", {"AUTH"}),
        ("redis://127.0.0.1:6379/15", {"AUTH"}),  # loopback: no network to encrypt
        ("rediss://user:pw@redis.internal:6379/0", set()),
    ],
)
def test_a_redis_url_without_tls_or_auth_is_warned_about(caplog, url, warnings):
    caplog.set_level(logging.WARNING)
    RedisTokenCache.from_url(url)  # redis-py connects lazily: nothing is contacted here
    text = " ".join(r.getMessage() for r in caplog.records if "Redis token cache" in r.getMessage())
    assert {w for w in ("TLS", "AUTH") if w in text} == warnings
    assert "pw" not in text
