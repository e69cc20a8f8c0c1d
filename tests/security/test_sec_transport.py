"""Transport: secrets travel only over verified TLS, or in clear text to loopback (the emulator).

``http://`` to any other host is refused before anything is sent, whether it comes from the
connection or from a token response's ``api_domain``. TLS verification is on and cannot be turned
off by the environment: an https endpoint with a self-signed certificate fails with an SSL error
instead of receiving the client secret.
"""

from __future__ import annotations

import http.server
import json
import ssl
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from airflow_provider_zohorel.zoho.client import ZohoClient, new_session
from airflow_provider_zohorel.zoho.credentials import ZohoCredentials
from airflow_provider_zohorel.zoho.errors import ConnectionConfigError, ZohoAuthError
from airflow_provider_zohorel.zoho.token_cache import MemoryTokenCache
from tests.security.hostile_server import self_signed
from tests.security.sec_support import connection_json

pytestmark = pytest.mark.integration


@pytest.mark.parametrize("field", ["accounts_url", "api_domain"])
@pytest.mark.parametrize(
    "url",
    ["http://accounts.zoho.com", "http://zoho.invalid:8080", "http://10.1.2.3", "http://[2001:db8::1]"],
)
def test_http_to_a_non_loopback_host_is_refused(field, url, no_remote_network):
    extra = {"accounts_url": "https://accounts.zoho.eu", field: url}
    with pytest.raises(ConnectionConfigError, match="https://") as raised:
        ZohoCredentials.from_fields(
            client_id="1000.X", client_secret="s", extra={"refresh_token": "r", **extra}
        )
    assert field in str(raised.value)
    assert no_remote_network == []  # refused before any name was even resolved


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:9", "http://localhost:9", "http://[::1]:9", "http://127.8.9.10"]
)
def test_http_to_loopback_is_allowed(url):
    creds = ZohoCredentials(client_id="1000.X", client_secret="s", refresh_token="r", accounts_url=url)
    assert creds.accounts_url == url


def test_an_http_connection_fails_the_task_without_a_request(monkeypatch, no_remote_network, world):
    from airflow_provider_zohorel.hooks.zoho_crm import ZohoCRMHook

    monkeypatch.setenv(
        "AIRFLOW_CONN_ZOHO_CRM_DEFAULT", connection_json("http://accounts.zoho.invalid", world.credentials)
    )
    ok, message = ZohoCRMHook().test_connection()
    assert not ok
    assert "http://" in message
    assert "https://" in message
    assert no_remote_network == []
    assert world.admin.counters()["requests"] == {}


def test_a_token_response_pointing_to_http_elsewhere_is_refused(world, no_remote_network):
    """A token endpoint (or someone in between) names a clear-text API domain: no CRM call goes there."""
    world.admin.patch_config(public_url="http://crm.zoho.invalid")
    from airflow_provider_zohorel.hooks.zoho_crm import ZohoCRMHook

    hook = ZohoCRMHook()
    with pytest.raises(ConnectionConfigError, match="api_domain"):
        hook.update_related_records(
            "Campaigns", "3652397000000327001", "Leads", [{"id": "3652397000001829002"}]
        )
    assert no_remote_network == []
    assert world.admin.counters()["crm_requests"] == 0


def test_sessions_verify_tls():
    assert new_session(4).verify is True


# --- a local https server with a self-signed certificate --------------------------------------


class TokenServer(http.server.ThreadingHTTPServer):
    requests_seen: list[bytes]


class _Handler(http.server.BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        length = int(self.headers.get("content-length", 0))
        self.server.requests_seen.append(self.rfile.read(length))  # type: ignore[attr-defined]
        host, port = self.server.server_address[:2]  # type: ignore[index]
        body = json.dumps(
            {
                "access_token": "1000.tls-test-token",
                "api_domain": f"https://{host}:{port}",
                "expires_in": 3600,
            }
        ).encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def https_server(tmp_path: Path) -> Iterator[tuple[str, Path, TokenServer]]:
    cert, key = self_signed(tmp_path)
    server = TokenServer(("127.0.0.1", 0), _Handler)
    server.requests_seen = []
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"https://127.0.0.1:{server.server_address[1]}", cert, server
    finally:
        server.shutdown()
        server.server_close()


def mint(url: str) -> object:
    creds = ZohoCredentials(
        client_id="1000.TLS",
        client_secret="tls-secret-never-sent",
        refresh_token="1000.tls.refresh",
        accounts_url=url,
    )
    client = ZohoClient(creds, token_cache=MemoryTokenCache(), sleep=lambda _: None)
    return client.tokens.get()


@pytest.mark.parametrize(
    "env",
    [
        {},
        {"REQUESTS_CA_BUNDLE": ""},
        {"CURL_CA_BUNDLE": ""},
        {"REQUESTS_CA_BUNDLE": "", "CURL_CA_BUNDLE": ""},
    ],
    ids=["default", "REQUESTS_CA_BUNDLE empty", "CURL_CA_BUNDLE empty", "both empty"],
)
def test_a_self_signed_certificate_is_refused(https_server, monkeypatch, env):
    url, _, server = https_server
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(ZohoAuthError, match="SSLError"):
        mint(url)
    assert server.requests_seen == []  # the client secret never left the process


def test_the_same_server_is_reachable_once_its_certificate_is_trusted(https_server, monkeypatch):
    """The control: with the certificate in a CA bundle the mint succeeds, so the refusals above are
    TLS verification and nothing else."""
    url, cert, server = https_server
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(cert))
    token = mint(url)
    assert token.value == "1000.tls-test-token"  # type: ignore[attr-defined]
    assert len(server.requests_seen) == 1
