"""ZohoCRMHook without a network: how a connection becomes credentials, which values are handed to
Airflow's masker, and which token cache is chosen. (Calls against the emulator: tests/integration.)"""

from __future__ import annotations

import json
import logging
import types

import pytest

from airflow_provider_zohorel.hooks import zoho_crm
from airflow_provider_zohorel.hooks.zoho_crm import ZohoCRMHook
from airflow_provider_zohorel.zoho.errors import ConnectionConfigError
from airflow_provider_zohorel.zoho.limits import DEFAULT_MAX_CONCURRENCY
from airflow_provider_zohorel.zoho.token_cache import PROCESS_CACHE, FileTokenCache, MemoryTokenCache

SECRET = "zohorel-unit-client-secret"
REFRESH = "1000.unit.refresh-token"


@pytest.fixture
def connection(monkeypatch):
    """``connection(conn_id, extra=..., **fields)`` defines an env-var connection of type zoho_crm."""

    def define(conn_id="zoho_unit", *, extra=None, conn_type="zoho_crm", **fields):
        doc = {"conn_type": conn_type, "login": "1000.CLIENT", "password": SECRET, **fields}
        doc["extra"] = {"refresh_token": REFRESH, "region": "eu"} if extra is None else extra
        monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", json.dumps(doc))
        return conn_id

    return define


@pytest.fixture
def masked(monkeypatch) -> list[object]:
    seen: list[object] = []
    monkeypatch.setattr(zoho_crm, "mask_secret", lambda value, name=None: seen.append(value))
    return seen


def test_a_connection_becomes_credentials(connection):
    hook = ZohoCRMHook(connection(extra={"refresh_token": REFRESH, "region": "EU", "api_version": "v8"}))
    creds = hook.credentials
    assert (creds.client_id, creds.client_secret, creds.refresh_token) == ("1000.CLIENT", SECRET, REFRESH)
    assert (creds.accounts_url, creds.api_domain, creds.api_version) == (
        "https://accounts.zoho.eu",
        None,
        "v8",
    )


def test_legacy_prefixed_extras_are_read(connection):
    hook = ZohoCRMHook(
        connection(extra={"extra__zoho_crm__refresh_token": REFRESH, "extra__zoho_crm__region": "in"})
    )
    assert (hook.credentials.refresh_token, hook.credentials.accounts_url) == (
        REFRESH,
        "https://accounts.zoho.in",
    )


def test_the_client_secret_and_every_secret_extra_are_masked(connection, masked):
    ZohoCRMHook(connection()).credentials  # noqa: B018
    assert SECRET in masked
    assert REFRESH in masked


def test_a_bad_field_names_the_connection_and_never_the_secret(connection):
    hook = ZohoCRMHook(connection("zoho_mars", extra={"refresh_token": REFRESH, "region": "mars"}))
    with pytest.raises(ConnectionConfigError, match=r"Connection 'zoho_mars': .*'region' is 'mars'") as err:
        hook.credentials  # noqa: B018
    assert SECRET not in str(err.value)
    assert REFRESH not in str(err.value)


def test_extra_that_is_not_a_json_object_is_refused(monkeypatch):
    """Airflow 3.3 hands such an extra over as it is (3.0's env-var reader refuses it earlier)."""
    hook = ZohoCRMHook("zoho_list")
    conn = types.SimpleNamespace(
        conn_type="zoho_crm", login="1000.CLIENT", password=SECRET, extra_dejson=["refresh_token", REFRESH]
    )
    monkeypatch.setattr(hook, "get_connection", lambda conn_id: conn)
    with pytest.raises(ConnectionConfigError, match="'zoho_list': extra must be a JSON object"):
        hook.credentials  # noqa: B018


def test_a_connection_of_another_type_is_used_with_a_warning(connection, caplog):
    hook = ZohoCRMHook(connection("zoho_http", conn_type="http"))
    hook._log = logging.getLogger("zohorel.test")  # a stdlib logger caplog sees (Airflow's goes to structlog)
    with caplog.at_level(logging.WARNING, logger="zohorel.test"):
        assert hook.credentials.refresh_token == REFRESH
    assert "has type 'http', expected 'zoho_crm'" in caplog.text


@pytest.mark.parametrize(
    ("setting", "expected"),
    [(None, FileTokenCache), ("file", FileTokenCache), ("FILE", FileTokenCache), ("memory", None)],
)
def test_the_token_cache_setting_picks_the_cache(connection, tmp_path, monkeypatch, setting, expected):
    monkeypatch.setenv("ZOHOREL_TOKEN_CACHE_DIR", str(tmp_path / "tokens"))
    extra = {"refresh_token": REFRESH, **({"cache_backend": setting} if setting else {})}
    cache = ZohoCRMHook(connection(extra=extra))._choose_token_cache()
    if expected is None:
        assert cache is PROCESS_CACHE
    else:
        assert isinstance(cache, expected)


def test_a_redis_token_cache_url_is_masked(connection, masked):
    pytest.importorskip("redis")
    url = "redis://:redis-password@127.0.0.1:6379/15"
    cache = ZohoCRMHook(
        connection(extra={"refresh_token": REFRESH, "cache_backend": url})
    )._choose_token_cache()
    assert type(cache).__name__ == "RedisTokenCache"
    assert url in masked


def test_the_cache_backend_is_read_under_its_old_name_token_cache(connection):
    extra = {"refresh_token": REFRESH, "token_cache": "memory"}
    assert ZohoCRMHook(connection(extra=extra))._choose_token_cache() is PROCESS_CACHE


def test_an_unknown_cache_backend_is_refused_by_name(connection):
    hook = ZohoCRMHook(connection("zoho_cache", extra={"refresh_token": REFRESH, "cache_backend": "disk"}))
    with pytest.raises(
        ConnectionConfigError, match=r"'zoho_cache': extra 'cache_backend' .* must be file, memory"
    ):
        hook._choose_token_cache()


def test_an_unknown_cache_url_is_not_quoted(connection):
    url = "memcache://:pw-4711@cache-host/0"
    hook = ZohoCRMHook(connection(extra={"refresh_token": REFRESH, "cache_backend": url}))
    with pytest.raises(ConnectionConfigError) as err:
        hook._choose_token_cache()
    assert "pw-4711" not in str(err.value)


def test_a_connection_test_message_does_not_name_airflow_s_temporary_id(connection):
    """The UI and REST API test a copy under a random id such as 'onhlEfCu'."""
    hook = ZohoCRMHook(connection("onhlEfCu", extra={"region": "eu"}))
    ok, message = hook.test_connection()
    assert not ok
    assert "onhlEfCu" not in message
    assert message.startswith("Connection field extra 'refresh_token' (Refresh Token, under Extra Fields")


def test_a_token_cache_passed_to_the_hook_wins_over_the_connection(connection):
    mine = MemoryTokenCache()
    hook = ZohoCRMHook(
        connection(extra={"refresh_token": REFRESH, "cache_backend": "disk"}), token_cache=mine
    )
    assert hook._choose_token_cache() is mine
    assert hook.client.tokens.cache is mine


def test_client_settings_come_from_the_hook_arguments():
    hook = ZohoCRMHook("unused", max_concurrency=3, connect_timeout=2.0, read_timeout=7.0)
    assert (hook.settings.max_concurrency, hook.settings.connect_timeout, hook.settings.read_timeout) == (
        3,
        2.0,
        7.0,
    )
    assert ZohoCRMHook("unused").settings.max_concurrency == DEFAULT_MAX_CONCURRENCY


def test_no_concurrency_budget_by_default(connection):
    hook = ZohoCRMHook(connection())
    assert hook._choose_budget() is None
    assert hook.client.budget is None


@pytest.mark.parametrize(("cap", "slots"), [(None, 10), ("ultimate", 25), ("Free", 5), ("12", 12), (7, 7)])
def test_the_concurrency_budget_is_sized_by_the_cap_and_its_url_masked(connection, masked, cap, slots):
    pytest.importorskip("redis")
    url = "redis://:redis-password@127.0.0.1:6379/2"
    extra = {"refresh_token": REFRESH, "concurrency_budget": url, **({"concurrency_cap": cap} if cap else {})}
    budget = ZohoCRMHook(connection(extra=extra)).client.budget
    assert type(budget).__name__ == "RedisConcurrencyBudget"
    assert budget.cap == slots
    assert url in masked
    assert "1000.CLIENT" not in budget.key  # keyed by a digest of the client


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"concurrency_budget": "yes"}, "extra 'concurrency_budget' must be a redis:// URL"),
        (
            {"concurrency_budget": "redis://h/0", "concurrency_cap": "gold"},
            "extra 'concurrency_cap'.*got 'gold'",
        ),
        ({"concurrency_budget": "redis://h/0", "concurrency_cap": "0"}, "extra 'concurrency_cap'.*got 0"),
    ],
)
def test_a_bad_concurrency_budget_is_refused_by_name(connection, extra, message):
    hook = ZohoCRMHook(connection("zoho_budget", extra={"refresh_token": REFRESH, **extra}))
    with pytest.raises(ConnectionConfigError, match=f"'zoho_budget': {message}"):
        hook._choose_budget()
