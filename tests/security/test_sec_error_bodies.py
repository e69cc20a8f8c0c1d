"""Zoho error bodies quoted in messages are size-limited and cannot inject log lines.

A local stand-in for Zoho answers with hostile text (newlines, carriage returns, ANSI escapes,
Unicode line separators, 100 KB) in every place the client quotes: per-item and request-level
messages and codes, ``details``, 5xx bodies (JSON or plain text), the token endpoint's errors.
Every resulting exception message, item code and message, and summary string is one line and
bounded (``details`` stay Zoho's structured data; where they are rendered, they are quoted too).
"""

from __future__ import annotations

import http.server
import json
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from airflow_provider_zohorel.zoho.client import ClientSettings, ZohoClient
from airflow_provider_zohorel.zoho.credentials import ZohoCredentials
from airflow_provider_zohorel.zoho.errors import ZohoError
from airflow_provider_zohorel.zoho.related_records_api import RelatedRecordsApi
from airflow_provider_zohorel.zoho.retry import RetryPolicy
from airflow_provider_zohorel.zoho.token_cache import MemoryTokenCache

pytestmark = pytest.mark.integration

HOSTILE = (
    "ok\nINJECTED line\r\nINJECTED cr\x1b[31mINJECTED ansi\x1b[0m\u2028INJECTED ls\x85INJECTED nel "
    + "A" * 100_000
)
BOUND = 2_000  # characters: generous for our own wording, tiny next to the 100 KB sent
PARENT = "3652397000000327001"
IDS = ["3652397000001829002", "3652397000001829003"]


def hostile_error(code: str = "INVALID_DATA", **extra: Any) -> dict[str, Any]:
    return {"code": code, "message": HOSTILE, "status": "error", "details": {"why": HOSTILE, **extra}}


#: scenario -> (HTTP status, body) the fake CRM answers to the PUT
ANSWERS: dict[str, tuple[int, Any]] = {
    "per-item messages": (
        207,
        {"data": [hostile_error(), {**hostile_error(), "code": "SUCCESS", "status": "success"}]},
    ),
    "per-item codes": (400, {"data": [hostile_error(code=HOSTILE), hostile_error(code="X" * 5000)]}),
    "request-level INVALID_DATA": (400, hostile_error(resource_path_index=1)),
    "configuration error": (403, {**hostile_error(), "code": "NO_PERMISSION"}),
    "unknown request-level code": (400, hostile_error(code=HOSTILE)),
    "500 with JSON": (500, hostile_error(code="INTERNAL_ERROR")),
    "500 with a hostile code": (500, hostile_error(code=HOSTILE)),
    "500 with text": (500, HOSTILE),
    "token rejected twice": (401, {**hostile_error(), "code": "INVALID_TOKEN"}),
    "200 without data": (200, {"unexpected": HOSTILE}),
}

#: scenario -> body the token endpoint answers (HTTP 200, as Zoho Accounts does)
TOKEN_ANSWERS: dict[str, Any] = {
    "token error": {"error": "invalid_client", "error_description": HOSTILE},
    "token error with a hostile code": {"error": HOSTILE},
    "token throttled": {"error": "Access Denied", "error_description": HOSTILE},
    "token response not an object": [HOSTILE],
}


class FakeZoho(http.server.ThreadingHTTPServer):
    crm_answer: tuple[int, Any]
    token_answer: Any


class _Handler(http.server.BaseHTTPRequestHandler):
    server: FakeZoho

    def _send(self, status: int, body: Any) -> None:
        raw = body.encode() if isinstance(body, str) else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("content-type", "text/plain" if isinstance(body, str) else "application/json")
        self.send_header("content-length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    def do_POST(self) -> None:  # the token endpoint
        self.rfile.read(int(self.headers.get("content-length", 0)))
        if self.server.token_answer is not None:
            self._send(200, self.server.token_answer)
            return
        host, port = self.server.server_address[:2]
        self._send(
            200, {"access_token": "1000.fake", "api_domain": f"http://{host}:{port}", "expires_in": 3600}
        )

    def do_PUT(self) -> None:
        self.rfile.read(int(self.headers.get("content-length", 0)))
        self._send(*self.server.crm_answer)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def fake_zoho() -> Iterator[FakeZoho]:
    server = FakeZoho(("127.0.0.1", 0), _Handler)
    server.crm_answer, server.token_answer = (200, {}), None
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def client_for(server: FakeZoho) -> ZohoClient:
    creds = ZohoCredentials(
        client_id="1000.FAKE",
        client_secret="fake-secret",
        refresh_token="1000.fake.refresh",
        accounts_url=f"http://127.0.0.1:{server.server_address[1]}",
        api_version="v8",
    )
    settings = ClientSettings(retry=RetryPolicy(max_attempts=2, base_delay=0, max_delay=0))
    client = ZohoClient(creds, settings=settings, token_cache=MemoryTokenCache(), sleep=lambda _: None)
    client.minter.throttle_policy = RetryPolicy(max_attempts=2, base_delay=0, max_delay=0)
    return client


def strings(value: Any) -> Iterator[str]:
    """Every string inside a result, exception or summary (keys too)."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from strings(k)
            yield from strings(v)
    elif isinstance(value, (list, tuple)):
        for v in value:
            yield from strings(v)


def assert_one_bounded_line(where: str, text: str) -> None:
    for bad in ("\n", "\r", "\x1b", "\u2028", "\u2029", "\x85"):
        assert bad not in text, f"{where}: {bad!r} in {text[:200]!r}"
    assert len(text) <= BOUND, f"{where}: {len(text)} characters"


def run_one(server: FakeZoho) -> tuple[Any, BaseException | None]:
    """Relate two items through the client; returns (item results, the exception if one escaped)."""
    api = RelatedRecordsApi(client_for(server))
    try:
        return api.update_related_records("Campaigns", PARENT, "Leads", [{"id": i} for i in IDS]), None
    except ZohoError as exc:
        return None, exc


@pytest.mark.parametrize("scenario", [*ANSWERS, *TOKEN_ANSWERS])
def test_hostile_error_bodies_become_one_bounded_line(fake_zoho, scenario):
    fake_zoho.crm_answer = ANSWERS.get(scenario, (200, {}))
    fake_zoho.token_answer = TOKEN_ANSWERS.get(scenario)
    results, exc = run_one(fake_zoho)
    if exc is not None:
        assert_one_bounded_line(f"{scenario}: str(exception)", str(exc))
        assert_one_bounded_line(f"{scenario}: exception code", exc.code)
        assert_one_bounded_line(f"{scenario}: exception message", exc.zoho_message)
    else:
        assert len(results) == len(IDS)
        for result in results:
            # ``details`` stays Zoho's structured data; what is rendered is the code and message.
            for text in (result.code, result.message):
                assert_one_bounded_line(f"{scenario}: item result", text)


class RecordingTI:
    def __init__(self) -> None:
        self.pushed: dict[str, Any] = {}

    def xcom_push(self, key: str, value: Any) -> None:
        self.pushed[key] = value


def test_the_operator_log_and_summary_carry_no_injected_line(fake_zoho, monkeypatch, capfd):
    """Through the operator: no log line it writes starts with injected text, and the summary's
    strings are one bounded line each."""
    from airflow_provider_zohorel._compat import AirflowException
    from airflow_provider_zohorel.operators.related_records import UpdateRelatedRecordsOperator

    port = fake_zoho.server_address[1]
    monkeypatch.setenv(
        "AIRFLOW_CONN_ZOHO_CRM_DEFAULT",
        json.dumps(
            {
                "conn_type": "zoho_crm",
                "login": "1000.FAKE",
                "password": "fake-secret",
                "extra": {
                    "refresh_token": "1000.fake.refresh",
                    "accounts_url": f"http://127.0.0.1:{port}",
                    "api_version": "v8",
                    "token_cache": "memory",
                },
            }
        ),
    )
    for scenario in ("per-item messages", "per-item codes", "500 with a hostile code", "configuration error"):
        fake_zoho.crm_answer, fake_zoho.token_answer = ANSWERS[scenario], None
        ti = RecordingTI()

        operator = UpdateRelatedRecordsOperator(
            task_id="relate",
            module="Campaigns",
            related_list="Leads",
            records=[{"record_id": PARENT, "id": i} for i in IDS],
            request_retry=RetryPolicy(max_attempts=1),
        )
        capfd.readouterr()
        with pytest.raises(AirflowException) as raised:
            operator.execute({"ti": ti})  # type: ignore[arg-type]
        assert_one_bounded_line(f"{scenario}: task exception", str(raised.value))
        for text in strings(ti.pushed["return_value"]):
            assert_one_bounded_line(f"{scenario}: summary", text)
        out, err = capfd.readouterr()
        logged = out + err  # the task log, as Airflow writes it
        assert "INJECTED" in logged or scenario == "configuration error"  # quoted, but...
        assert not any(line.lstrip().startswith("INJECTED") for line in logged.splitlines()), scenario
        assert "\x1b" not in logged
