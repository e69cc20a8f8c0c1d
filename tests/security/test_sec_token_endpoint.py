"""The token request carries the client secret and the refresh token: attacks on it, each from a
real local server (issue 15, points 1, 2, 4 and 6).

- A redirect from the token endpoint is refused, not followed: the secrets never reach its target.
- An answer from a host that is neither Zoho's nor loopback is described by status and content
  type, never quoted, so the connection test cannot read back an internal service (SSRF).
- ``~/.netrc`` never adds ``Authorization: Basic`` to the token request.
- A gzip bomb, a dripping server and deeply nested JSON end the mint with a bounded, clear error.
"""

from __future__ import annotations

import gzip
import threading

import pytest

from airflow_provider_zohorel.zoho.client import ClientSettings, ZohoClient
from airflow_provider_zohorel.zoho.credentials import ZohoCredentials
from airflow_provider_zohorel.zoho.errors import ZohoAuthError, ZohoAuthUnavailable, ZohoTransientError
from airflow_provider_zohorel.zoho.retry import RetryPolicy
from airflow_provider_zohorel.zoho.token_cache import MemoryTokenCache
from tests.security.hostile_server import json_response, response

pytestmark = pytest.mark.integration

SECRET = "s3cret-of-the-token-endpoint-test"
REFRESH = "1000.refresh-of-the-token-endpoint-test"
INTERNAL_DATA = "INTERNAL-METADATA-ami-id-i-0abc123"
ONE_TRY = RetryPolicy(max_attempts=1, base_delay=0.001, max_delay=0.01, deadline=30)


def client_for(url: str, *, read_timeout: float = 10.0) -> ZohoClient:
    creds = ZohoCredentials("1000.ENDPOINTTEST", SECRET, REFRESH, accounts_url=url)
    client = ZohoClient(
        creds,
        settings=ClientSettings(read_timeout=read_timeout, retry=ONE_TRY),
        token_cache=MemoryTokenCache(),
        sleep=lambda _: None,
    )
    client.minter.network_policy = ONE_TRY
    return client


def token_answer(api_domain: str) -> bytes:
    body = {"access_token": "1000.endpoint-test-token", "api_domain": api_domain, "expires_in": 3600}
    return json_response(body)


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_a_redirect_from_the_token_endpoint_is_refused_and_the_secret_stays(hostile, status):
    thief = hostile(lambda req: [token_answer("http://127.0.0.1:9")])
    accounts = hostile(lambda req: [response(status, Location=f"{thief.url}/collect")])
    with pytest.raises(ZohoAuthError) as raised:
        client_for(accounts.url).tokens.get()
    assert raised.value.code == "REDIRECT_REFUSED"
    assert f"HTTP {status}" in str(raised.value)
    assert f"{accounts.url}/oauth/v2/token" in str(raised.value)
    assert thief.requests == []  # the client secret was sent once, to the configured endpoint only
    assert len(accounts.requests) == 1


def test_an_unknown_hosts_answer_is_never_quoted(hostile, internal_host):
    """A connection pointing at an internal service: the error (what the connection test shows)
    names the URL, the status and the content type, and nothing of the body."""
    name, tls = internal_host
    page = f"<html>{INTERNAL_DATA}</html>".encode()
    server = hostile(lambda req: [response(200, page, Content_Type="text/html")], tls=tls, host_name=name)
    with pytest.raises(ZohoAuthError) as raised:
        client_for(server.url).tokens.get()
    message = str(raised.value)
    assert INTERNAL_DATA not in message
    assert "HTTP 200" in message
    assert "text/html" in message
    assert f"{server.url}/oauth/v2/token" in message
    assert len(server.requests) == 1  # reached: the defence is what comes back, not the request


def test_an_unknown_hosts_error_code_is_not_quoted_either(hostile, internal_host):
    name, tls = internal_host
    server = hostile(lambda req: [json_response({"error": INTERNAL_DATA})], tls=tls, host_name=name)
    with pytest.raises(ZohoAuthError) as raised:
        client_for(server.url).tokens.get()
    assert INTERNAL_DATA not in str(raised.value)
    assert raised.value.code == "UNRECOGNISED_ERROR"


def test_zohos_own_error_codes_are_still_explained(hostile, internal_host):
    name, tls = internal_host
    server = hostile(lambda req: [json_response({"error": "invalid_client"})], tls=tls, host_name=name)
    with pytest.raises(ZohoAuthError, match="another data centre") as raised:
        client_for(server.url).tokens.get()
    assert raised.value.code == "invalid_client"


def test_loopback_answers_are_quoted_for_the_emulator(hostile):
    """The control: a loopback endpoint (the emulator) is trusted, so its body helps debugging."""
    server = hostile(lambda req: [response(404, b"no such route", Content_Type="text/plain")])
    with pytest.raises(ZohoAuthError) as raised:
        client_for(server.url).tokens.get()
    message = str(raised.value)
    assert "no such route" in message
    assert "HTTP 404" in message
    assert f"{server.url}/oauth/v2/token" in message


def test_netrc_never_adds_basic_auth_to_the_token_request(hostile, tmp_path, monkeypatch):
    netrc = tmp_path / "netrc"
    netrc.write_text("default login someone password netrc-password-for-every-host\n")
    netrc.chmod(0o600)
    monkeypatch.setenv("NETRC", str(netrc))
    server = hostile(lambda req: [token_answer("http://127.0.0.1:9")])
    client_for(server.url).tokens.get()
    [request] = server.requests
    assert "authorization" not in request.headers


def test_a_gzip_bomb_from_the_token_endpoint_is_cut_off(hostile):
    bomb = gzip.compress(b"{" + b" " * (64 * 1024 * 1024) + b"}", compresslevel=9)  # 64 MiB from ~64 KiB
    server = hostile(
        lambda req: [response(200, bomb, Content_Type="application/json", Content_Encoding="gzip")]
    )
    with pytest.raises(ZohoAuthError) as raised:
        client_for(server.url).tokens.get()
    assert raised.value.code == "INVALID_RESPONSE"
    assert "inflates to more than" in str(raised.value)


def test_deeply_nested_json_from_the_token_endpoint_is_an_invalid_response(hostile):
    nested = b"[" * 200_000 + b"]" * 200_000
    server = hostile(lambda req: [response(200, nested, Content_Type="application/json")])
    with pytest.raises(ZohoAuthError) as raised:
        client_for(server.url).tokens.get()
    assert raised.value.code == "INVALID_RESPONSE"


def drip(head: bytes) -> list[bytes | float]:
    """One byte every 0.2 s, for far longer than any test runs: only the client can end it."""
    steps: list[bytes | float] = []
    for byte in head * 50:
        steps += [bytes([byte]), 0.2]
    return steps


def run_bounded(call) -> BaseException | None:
    """Run ``call`` in a thread; a call that never returns fails the test (a hang guard, not a
    timing assertion: the dripping server never finishes on its own)."""
    outcome: list[BaseException | None] = []

    def target() -> None:
        try:
            call()
            outcome.append(None)
        except BaseException as exc:
            outcome.append(exc)

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(timeout=120)
    assert outcome, "the call was still held by the dripping server"
    return outcome[0]


def test_a_dripping_token_endpoint_cannot_hold_the_mint(hostile):
    server = hostile(lambda req: drip(b"HTTP/1.1 200 OK\r\nX-Padding: "))
    client = client_for(server.url, read_timeout=1.0)  # each byte comes well within the read timeout
    error = run_bounded(client.tokens.get)
    assert isinstance(error, ZohoAuthError)
    assert error.code == "ACCOUNTS_UNREACHABLE"


def test_an_unknown_api_domains_error_page_is_not_quoted(hostile, internal_host):
    """A connection whose api_domain is an internal service: its 5xx page is described, not shown."""
    name, tls = internal_host
    api = hostile(
        lambda req: [response(503, INTERNAL_DATA.encode(), Content_Type="text/plain")],
        tls=tls,
        host_name=name,
    )
    accounts = hostile(lambda req: [token_answer(api.url)])
    creds = ZohoCredentials(
        "1000.ENDPOINTTEST", SECRET, REFRESH, accounts_url=accounts.url, api_domain=api.url
    )
    client = ZohoClient(
        creds, settings=ClientSettings(retry=ONE_TRY), token_cache=MemoryTokenCache(), sleep=lambda _: None
    )
    with pytest.raises(ZohoTransientError) as raised:
        client.request("GET", "/users", params={"type": "CurrentUser"})
    assert INTERNAL_DATA not in str(raised.value)
    assert "HTTP 503" in str(raised.value)
    assert "text/plain" in str(raised.value)


THREE_TRIES = RetryPolicy(max_attempts=3, base_delay=0.001, max_delay=0.01, deadline=30)


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_a_token_endpoint_answering_5xx_is_retried_then_reported_accounts_unreachable(hostile, status):
    accounts = hostile(
        lambda req: [response(status, b"<html>down for maintenance</html>", Content_Type="text/html")]
    )
    client = client_for(accounts.url)
    client.minter.network_policy = THREE_TRIES
    with pytest.raises(ZohoAuthUnavailable) as raised:
        client.tokens.get()
    assert type(raised.value) is ZohoAuthUnavailable  # retryable by a later task try
    assert raised.value.code == "ACCOUNTS_UNREACHABLE"
    assert raised.value.http_status == status
    assert f"HTTP {status}" in str(raised.value)
    assert len(accounts.requests) == 3  # the whole budget, then a clear error
    assert SECRET not in str(raised.value)
    assert REFRESH not in str(raised.value)


def test_an_unreachable_token_endpoint_is_reported_accounts_unreachable():
    """Nothing listens on the port (a socket of this test holds it, bound but not listening, so no
    other process can take it meanwhile): every attempt is refused, then ACCOUNTS_UNREACHABLE."""
    import socket

    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        port = held.getsockname()[1]
        client = client_for(f"http://127.0.0.1:{port}")
        client.minter.network_policy = THREE_TRIES
        with pytest.raises(ZohoAuthUnavailable) as raised:
            client.tokens.get()
    assert raised.value.code == "ACCOUNTS_UNREACHABLE"
    assert "after 3 attempts" in str(raised.value)
    assert "ConnectionError" in str(raised.value)
