"""The HTTP client against scripted answers (requests-mock): which failures are retried, how often,
what stops at once, and that no secret ends up in an error. The same behaviours are exercised
against the real emulator in tests/integration."""

from __future__ import annotations

import contextlib

import pytest
import requests

from airflow_provider_zohorel.zoho.client import MAX_TOKEN_RENEWALS_PER_CALL, ClientSettings, ZohoClient
from airflow_provider_zohorel.zoho.credentials import ZohoCredentials
from airflow_provider_zohorel.zoho.errors import (
    ZohoAuthError,
    ZohoAuthUnavailable,
    ZohoConfigurationError,
    ZohoTokenRejected,
)
from airflow_provider_zohorel.zoho.related_records_api import RelatedRecordsApi
from airflow_provider_zohorel.zoho.retry import RetryPolicy
from airflow_provider_zohorel.zoho.token_cache import MemoryTokenCache

ACCOUNTS = "https://accounts.zoho.eu/oauth/v2/token"
API = "https://www.zohoapis.eu"
URL = f"{API}/crm/v2/Leads/111111111111111111/Campaigns"
SECRET, REFRESH = "client-secret-value-123", "1000.refresh-token-value-456"
TOKENS = ["1000.access-token-one-789", "1000.access-token-two-012"]


def token_body(n=0):
    return {"access_token": TOKENS[n], "api_domain": API, "token_type": "Bearer", "expires_in": 3600}


def item(rid="222222222222222222", code="SUCCESS", message="relation added"):
    return {
        "code": code,
        "details": {"id": rid},
        "message": message,
        "status": "success" if code == "SUCCESS" else "error",
    }


def error(code, message="x", **details):
    return {"code": code, "details": details, "message": message, "status": "error"}


@pytest.fixture
def sleeps():
    return []


@pytest.fixture
def client(sleeps):
    creds = ZohoCredentials("1000.CLIENT", SECRET, REFRESH, accounts_url="https://accounts.zoho.eu")
    return ZohoClient(
        creds,
        settings=ClientSettings(retry=RetryPolicy(max_attempts=4, base_delay=0.1, max_delay=1, deadline=60)),
        token_cache=MemoryTokenCache(),
        sleep=sleeps.append,
    )


def relate(client):
    return RelatedRecordsApi(client).update_related_records(
        "Leads", "111111111111111111", "Campaigns", [{"id": "222222222222222222", "Member_Status": "Active"}]
    )


def test_token_is_minted_once_and_sent_as_zoho_oauthtoken(requests_mock, client):
    mint = requests_mock.post(ACCOUNTS, json=token_body())
    put = requests_mock.put(URL, json={"data": [item()]})
    assert relate(client)[0].succeeded
    assert relate(client)[0].succeeded
    assert mint.call_count == 1
    assert put.last_request.headers["Authorization"] == f"Zoho-oauthtoken {TOKENS[0]}"
    assert put.last_request.json() == {"data": [{"id": "222222222222222222", "Member_Status": "Active"}]}
    form = mint.last_request.text
    assert "grant_type=refresh_token" in form
    assert "refresh_token=" in form  # sent in the body, never in the URL
    assert REFRESH not in mint.last_request.url


def test_invalid_token_refreshes_once_then_retries(requests_mock, client):
    requests_mock.post(ACCOUNTS, [{"json": token_body(0)}, {"json": token_body(1)}])
    put = requests_mock.put(
        URL,
        [
            {"status_code": 401, "json": error("INVALID_TOKEN", "invalid oauth token")},
            {"json": {"data": [item()]}},
        ],
    )
    assert relate(client)[0].succeeded
    assert put.request_history[1].headers["Authorization"] == f"Zoho-oauthtoken {TOKENS[1]}"
    assert client.stats.token_refreshes == 1


def test_authentication_failure_is_treated_like_invalid_token(requests_mock, client):
    requests_mock.post(ACCOUNTS, [{"json": token_body(0)}, {"json": token_body(1)}])
    requests_mock.put(
        URL, [{"status_code": 401, "json": error("AUTHENTICATION_FAILURE")}, {"json": {"data": [item()]}}]
    )
    assert relate(client)[0].succeeded


def test_a_token_rejected_twice_stops_the_run(requests_mock, client):
    requests_mock.post(ACCOUNTS, [{"json": token_body(0)}, {"json": token_body(1)}])
    requests_mock.put(URL, status_code=401, json=error("INVALID_TOKEN", "invalid oauth token"))
    with pytest.raises(ZohoAuthError, match="freshly minted") as err:
        relate(client)
    assert_no_secret(str(err.value))


def test_429_is_retried_honouring_retry_after(requests_mock, client, sleeps):
    requests_mock.post(ACCOUNTS, json=token_body())
    requests_mock.put(
        URL,
        [
            {"status_code": 429, "json": error("TOO_MANY_REQUESTS"), "headers": {"Retry-After": "0.7"}},
            {"status_code": 429, "json": error("TOO_MANY_REQUESTS")},
            {"json": {"data": [item()]}},
        ],
    )
    assert relate(client)[0].succeeded
    assert sleeps[0] == 0.7
    assert 0 <= sleeps[1] <= 0.2
    assert client.stats.throttled == 2


@pytest.mark.parametrize(
    ("failure", "code"),
    [
        ({"status_code": 500, "json": error("INTERNAL_ERROR", "Internal Server Error")}, "INTERNAL_ERROR"),
        ({"status_code": 503, "text": "<html>gateway</html>"}, "INTERNAL_ERROR"),
        ({"exc": requests.ConnectTimeout}, "TIMEOUT"),
        ({"exc": requests.ReadTimeout}, "TIMEOUT"),
        ({"exc": requests.ConnectionError}, "CONNECTION_ERROR"),
        ({"status_code": 429, "json": error("TOO_MANY_REQUESTS")}, "TOO_MANY_REQUESTS"),
    ],
)
def test_transient_failures_retry_then_fail_each_item_with_the_code(
    requests_mock, client, sleeps, failure, code
):
    requests_mock.post(ACCOUNTS, json=token_body())
    put = requests_mock.put(URL, **failure)
    results = relate(client)
    assert put.call_count == 4  # max_attempts
    assert len(sleeps) == 3
    assert [(r.code, r.succeeded) for r in results] == [(code, False)]
    assert "gave up after 4 attempts" in results[0].message
    # only an attempt that reached Zoho without an answer may have been applied
    maybe_applied = failure.get("exc") in (requests.ReadTimeout, requests.ConnectionError)
    assert ("Zoho may hold the change already" in results[0].message) == maybe_applied


def test_transient_failure_then_success(requests_mock, client):
    requests_mock.post(ACCOUNTS, json=token_body())
    requests_mock.put(
        URL,
        [
            {"exc": requests.ConnectionError},
            {"status_code": 500, "json": error("INTERNAL_ERROR")},
            {"json": {"data": [item()]}},
        ],
    )
    assert relate(client)[0].succeeded


@pytest.mark.parametrize(
    ("status", "code"),
    [
        (400, "INVALID_MODULE"),
        (404, "INVALID_URL_PATTERN"),
        (401, "OAUTH_SCOPE_MISMATCH"),
        (403, "NO_PERMISSION"),
        (400, "AUTHORIZATION_FAILED"),
        (400, "INVALID_REQUEST_METHOD"),
    ],
)
def test_configuration_errors_stop_at_once_with_the_resolution(requests_mock, client, status, code):
    requests_mock.post(ACCOUNTS, json=token_body())
    put = requests_mock.put(URL, status_code=status, json=error(code, "zoho says no"))
    with pytest.raises(ZohoConfigurationError) as err:
        relate(client)
    assert put.call_count == 1
    assert err.value.code == code
    assert "Resolution:" in str(err.value)
    assert_no_secret(str(err.value))


@pytest.mark.parametrize(
    ("error_name", "needle"),
    [
        ("invalid_client", "another data centre"),
        ("invalid_client_secret", "client secret is wrong"),
        ("invalid_code", "revoked"),
    ],
)
def test_token_errors_arrive_as_http_200_and_are_explained(requests_mock, client, error_name, needle):
    requests_mock.post(ACCOUNTS, status_code=200, json={"error": error_name})
    with pytest.raises(ZohoAuthError, match=needle) as err:
        relate(client)
    assert_no_secret(str(err.value))


def test_token_throttle_is_waited_out_with_backoff(requests_mock, client, sleeps):
    denied = {"error": "Access Denied", "error_description": "You have made too many requests continuously."}
    mint = requests_mock.post(ACCOUNTS, [{"json": denied}, {"json": denied}, {"json": token_body()}])
    requests_mock.put(URL, json={"data": [item()]})
    assert relate(client)[0].succeeded
    assert mint.call_count == 3
    assert len(sleeps) == 2


def test_token_throttle_gives_up_with_advice(requests_mock, client):
    requests_mock.post(ACCOUNTS, json={"error": "Access Denied"})
    with pytest.raises(ZohoAuthError, match="share tokens"):
        relate(client)


def test_legacy_expiry_shape_is_read_in_the_right_unit(requests_mock, client):
    requests_mock.post(
        ACCOUNTS,
        json={"access_token": TOKENS[0], "api_domain": API, "expires_in_sec": 3600, "expires_in": 3600000},
    )
    assert 3500 < client.tokens.get().seconds_left() <= 3600


def test_custom_api_domain_overrides_the_token_response(requests_mock, sleeps):
    creds = ZohoCredentials("1000.C", SECRET, REFRESH, api_domain="https://zylkercorp.zohoplatform.com")
    client = ZohoClient(creds, token_cache=MemoryTokenCache(), sleep=sleeps.append)
    requests_mock.post(
        "https://accounts.zoho.com/oauth/v2/token",
        json={**token_body(), "api_domain": "https://www.zohoapis.com"},
    )
    put = requests_mock.put(
        "https://zylkercorp.zohoplatform.com/crm/v2/Leads/111111111111111111/Campaigns",
        json={"data": [item()]},
    )
    assert relate(client)[0].succeeded
    assert put.called


def test_http_api_domain_from_a_token_response_is_refused(requests_mock, client):
    requests_mock.post(ACCOUNTS, json={**token_body(), "api_domain": "http://evil.example.com"})
    with pytest.raises(Exception, match="http:// for the non-loopback host"):
        relate(client)


def test_every_call_carries_a_timeout(client, monkeypatch, requests_mock):
    seen = []
    original = requests.Session.request

    def spy(self, method, url, **kwargs):
        seen.append((method, kwargs.get("timeout")))
        return original(self, method, url, **kwargs)

    monkeypatch.setattr(requests.Session, "request", spy)
    requests_mock.post(ACCOUNTS, json=token_body())
    requests_mock.put(URL, json={"data": [item()]})
    relate(client)
    assert seen == [("POST", (10.0, 60.0)), ("PUT", (10.0, 60.0))]


def assert_no_secret(text):
    for secret in (SECRET, REFRESH, *TOKENS):
        assert secret not in text


def test_a_netrc_default_entry_never_replaces_the_zoho_token(requests_mock, client, tmp_path, monkeypatch):
    """requests lets a ~/.netrc match override a plain Authorization header (a `default` line
    matches every host): Zoho would receive the user's netrc password as Basic auth."""
    netrc = tmp_path / "netrc"
    netrc.write_text("default login someone password netrc-password\n")
    netrc.chmod(0o600)
    monkeypatch.setenv("NETRC", str(netrc))
    requests_mock.post(ACCOUNTS, json=token_body())
    put = requests_mock.put(URL, json={"data": [item()]})
    relate(client)
    assert put.last_request.headers["Authorization"] == f"Zoho-oauthtoken {TOKENS[0]}"


# --- issue 10 points 1 and 5: every 401 token code, tokens that worked, waits counted --------------


@pytest.mark.parametrize(
    "answer",
    [
        {"json": error("INVALID_TOKEN")},
        {"json": error("INVALID_OAUTHTOKEN", "invalid oauth token")},  # evicted by the 16th live token
        {"json": error("AUTHENTICATION_FAILURE")},
        {"json": error("A_401_CODE_ZOHO_ADDS_LATER")},
        {"text": "Unauthorized"},  # no JSON at all
    ],
    ids=["INVALID_TOKEN", "INVALID_OAUTHTOKEN", "AUTHENTICATION_FAILURE", "unknown code", "no body"],
)
def test_every_401_but_a_scope_mismatch_replaces_the_token_and_retries(requests_mock, client, answer):
    requests_mock.post(ACCOUNTS, [{"json": token_body(0)}, {"json": token_body(1)}])
    put = requests_mock.put(URL, [{"status_code": 401, **answer}, {"json": {"data": [item()]}}])
    assert relate(client)[0].succeeded
    assert put.request_history[1].headers["Authorization"] == f"Zoho-oauthtoken {TOKENS[1]}"
    assert client.stats.token_refreshes == 1


def test_a_scope_mismatch_on_401_stops_without_a_new_token(requests_mock, client):
    mint = requests_mock.post(ACCOUNTS, json=token_body())
    requests_mock.put(URL, status_code=401, json=error("OAUTH_SCOPE_MISMATCH"))
    with pytest.raises(ZohoConfigurationError):
        relate(client)
    assert mint.call_count == 1


def test_a_token_that_worked_and_then_died_twice_is_replaced_without_error(requests_mock, client):
    """Revoked or evicted after working, then the replacement revoked before its first answer: the
    configuration is fine (the first token worked), so the run goes on with a third token."""
    requests_mock.post(ACCOUNTS, [{"json": token_body(0)}, {"json": token_body(1)}, {"json": token_body(0)}])
    gone = {"status_code": 401, "json": error("INVALID_OAUTHTOKEN")}
    put = requests_mock.put(URL, [{"json": {"data": [item()]}}, gone, gone, {"json": {"data": [item()]}}])
    assert relate(client)[0].succeeded
    assert relate(client)[0].succeeded
    assert put.call_count == 4
    assert client.stats.token_refreshes == 2


def test_fresh_tokens_rejected_on_first_use_fail_the_task_retryably(requests_mock, client):
    requests_mock.post(ACCOUNTS, [{"json": token_body(0)}, {"json": token_body(1)}])
    requests_mock.put(URL, status_code=401, json=error("INVALID_TOKEN"))
    with pytest.raises(ZohoAuthUnavailable) as err:  # the operator lets Airflow retry these
        relate(client)
    assert isinstance(err.value, ZohoTokenRejected)
    assert_no_secret(str(err.value))


def test_a_rejected_token_is_not_reused_when_its_replacement_cannot_be_minted(requests_mock, client):
    denied = {"json": {"error": "Access Denied"}}
    client.minter.throttle_policy = RetryPolicy(max_attempts=1)
    requests_mock.post(ACCOUNTS, [{"json": token_body(0)}, denied, {"json": token_body(1)}])
    put = requests_mock.put(
        URL, [{"status_code": 401, "json": error("INVALID_OAUTHTOKEN")}, {"json": {"data": [item()]}}]
    )
    with pytest.raises(ZohoAuthUnavailable):
        relate(client)  # the replacement mint is throttled
    assert client.tokens.cache.load(client.tokens.key) is None  # the dead token left the shared cache
    assert relate(client)[0].succeeded  # a later batch mints instead of sending the dead token
    assert [r.headers["Authorization"] for r in put.request_history] == [
        f"Zoho-oauthtoken {TOKENS[0]}",
        f"Zoho-oauthtoken {TOKENS[1]}",
    ]


def test_token_renewals_within_one_call_are_bounded(requests_mock, client, monkeypatch):
    """Tokens that keep working elsewhere but die for this call: after a few renewals the call's
    items are reported with Zoho's code instead of minting forever."""
    requests_mock.post(ACCOUNTS, json=token_body())
    put = requests_mock.put(URL, status_code=401, json=error("INVALID_OAUTHTOKEN"))
    renewals = []
    monkeypatch.setattr(client.tokens, "refresh", lambda stale: renewals.append(stale) or stale)
    [result] = relate(client)
    assert result.code == "INVALID_OAUTHTOKEN"
    assert len(renewals) == put.call_count - 1 == MAX_TOKEN_RENEWALS_PER_CALL


def test_every_mint_wait_is_logged_and_counted(requests_mock, client, sleeps, caplog):
    caplog.set_level("WARNING")
    denied = {"error": "Access Denied", "error_description": "You have made too many requests continuously."}
    requests_mock.post(ACCOUNTS, [{"json": denied}, {"json": denied}, {"json": token_body()}])
    requests_mock.put(URL, json={"data": [item()]})
    assert relate(client)[0].succeeded
    waits = [r.getMessage() for r in caplog.records if "waiting" in r.getMessage()]
    assert len(waits) == 2
    assert all("throttling" in w and "too many requests" in w and ACCOUNTS in w for w in waits)
    stats = client.stats.as_dict()
    assert stats["mint_waits"] == 2
    assert stats["mint_wait_ms"] == pytest.approx(sum(sleeps) * 1000, abs=2)


@pytest.mark.parametrize(
    ("answer", "needle"),
    [
        ({"status_code": 404, "text": "<html>Not Found</html>"}, "HTTP 404"),
        ({"status_code": 200, "json": {"unexpected": True}}, "HTTP 200"),
        ({"status_code": 400, "json": {"error": "invalid_client"}}, "HTTP 400"),
    ],
)
def test_accounts_errors_name_the_status_and_the_url(requests_mock, client, answer, needle):
    requests_mock.post(ACCOUNTS, **answer)
    with pytest.raises(ZohoAuthError) as err:
        relate(client)
    assert needle in str(err.value)
    assert ACCOUNTS in str(err.value)
    assert_no_secret(str(err.value))


def test_an_unreachable_accounts_server_is_named_with_its_last_status(requests_mock, client):
    client.minter.network_policy = RetryPolicy(max_attempts=2, base_delay=0.001, max_delay=0.01)
    requests_mock.post(ACCOUNTS, status_code=503, text="down")
    with pytest.raises(ZohoAuthUnavailable) as err:
        relate(client)
    assert "HTTP 503" in str(err.value)
    assert ACCOUNTS in str(err.value)


def test_a_mint_url_replaces_the_accounts_token_path(requests_mock, sleeps):
    portal = "https://zylkercorp.zohoplatform.com/clientoauth/v2/12345678/token"
    creds = ZohoCredentials(
        "1000.C", SECRET, REFRESH, mint_url=portal, api_domain="https://zylkercorp.zohoplatform.com"
    )
    client = ZohoClient(creds, token_cache=MemoryTokenCache(), sleep=sleeps.append)
    mint = requests_mock.post(portal, json={**token_body(), "api_domain": "https://www.zohoapis.com"})
    put = requests_mock.put(
        "https://zylkercorp.zohoplatform.com/crm/v2/Leads/111111111111111111/Campaigns",
        json={"data": [item()]},
    )
    assert relate(client)[0].succeeded
    assert (mint.call_count, put.call_count) == (1, 1)
    assert "refresh_token=" in mint.last_request.text


class RecordingBudget:
    """A concurrency budget that records its leases and whether a slot is held."""

    def __init__(self) -> None:
        self.leases: list[float] = []
        self.held = 0

    @contextlib.contextmanager
    def slot(self, lease):
        self.leases.append(lease)
        self.held += 1
        try:
            yield
        finally:
            self.held -= 1


def test_every_attempt_takes_one_budget_slot_leased_for_its_deadline(requests_mock, sleeps):
    budget = RecordingBudget()
    creds = ZohoCredentials("1000.CLIENT", SECRET, REFRESH, accounts_url="https://accounts.zoho.eu")
    client = ZohoClient(
        creds,
        settings=ClientSettings(connect_timeout=2, read_timeout=7, retry=RetryPolicy(max_attempts=3)),
        token_cache=MemoryTokenCache(),
        sleep=lambda seconds: sleeps.append(budget.held),
        budget=budget,
    )
    requests_mock.post(ACCOUNTS, json=token_body())
    requests_mock.put(
        URL,
        [
            {"status_code": 500, "json": error("INTERNAL_ERROR")},
            {"status_code": 200, "json": {"data": [item()]}},
        ],
    )
    assert [r.code for r in relate(client)] == ["SUCCESS"]
    assert budget.leases == [9, 9]  # one slot per attempt, leased for connect + read timeout
    assert sleeps == [0]  # none held while backing off
    assert budget.held == 0
