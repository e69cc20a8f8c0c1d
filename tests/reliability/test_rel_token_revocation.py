"""Tokens revoked under load (issue 10, point 5), against a small local Zoho that revokes the
presented access token on every 7th batch call and answers ``INVALID_OAUTHTOKEN`` for it (Zoho's
answer for a revoked token or one evicted by the 16th live token), with 10 calls in flight.

A token that has worked is never taken for a configuration error: the task succeeds, every item is
related on the server, and the number of mints stays near the number of revocations (one per
revoked token, however many calls saw it fail). Under a harsher server that also counts the
retries (so a slow call can meet one dead token after another) every item is still accounted for
and the task never stops as a configuration error. A fresh token rejected before any call
succeeded, twice in a row, still ends the task, but in a way Airflow retries.

The emulator cannot revoke single access tokens yet; these run against this file's server.
"""

from __future__ import annotations

import http.server
import json
import re
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest

from airflow_provider_zohorel.emulator.airflow_connection import connection_json
from tests.reliability.rel_support import execute_operator, memberships

pytestmark = pytest.mark.integration

PUT_PATH = re.compile(r"^/crm/v8/Campaigns/(\d+)/Leads$")
CAMPAIGNS = [str(3652397000090000001 + i) for i in range(30)]
LEADS = [str(3652397000091000001 + i) for i in range(100)]


@dataclass
class RevokingZoho:
    """Zoho Accounts and CRM in one: mints tokens, and revokes the presented token on every
    ``revoke_every``-th CRM call (that call is answered 401, like any later call with the token)."""

    revoke_every: int = 7
    count_retries: bool = False  # the harsh variant: a retried call counts towards revocation too
    reject_fresh: bool = False  # every token is rejected on its first use: a configuration problem
    latency: float = 0.02  # the server's own processing time, so that calls overlap
    code: str = "INVALID_OAUTHTOKEN"
    minted: int = 0
    calls: int = 0
    rejected: int = 0
    live: set[str] = field(default_factory=set)
    relations: dict[tuple[str, str], int] = field(default_factory=dict)
    parents_seen: set[str] = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock)
    url: str = ""


def handler_for(zoho: RevokingZoho) -> type[http.server.BaseHTTPRequestHandler]:
    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _answer(self, status: int, body: object) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            with zoho.lock:
                zoho.minted += 1
                token = f"1000.revoking-{zoho.minted}"
                zoho.live.add(token)
            self._answer(200, {"access_token": token, "api_domain": zoho.url, "expires_in": 3600})

        def do_PUT(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))))
            token = self.headers.get("Authorization", "").removeprefix("Zoho-oauthtoken ")
            match = PUT_PATH.match(self.path)
            assert match is not None, self.path
            time.sleep(zoho.latency)  # the server working: not a synchronisation of the test
            with zoho.lock:
                first_try = match[1] not in zoho.parents_seen
                zoho.parents_seen.add(match[1])
                if first_try or zoho.count_retries:
                    zoho.calls += 1
                    revoke = zoho.calls % zoho.revoke_every == 0
                else:
                    revoke = False
                revoke = revoke or zoho.reject_fresh
                if revoke:
                    zoho.live.discard(token)
                if token not in zoho.live:
                    zoho.rejected += 1
                    ok = False
                else:
                    ok = True
                    for item in body["data"]:
                        key = (match[1], item["id"])
                        zoho.relations[key] = zoho.relations.get(key, 0) + 1
            if not ok:
                self._answer(
                    401,
                    {
                        "code": zoho.code,
                        "details": {},
                        "message": "invalid oauth token",
                        "status": "error",
                    },
                )
                return
            items = [
                {
                    "code": "SUCCESS",
                    "details": {"id": item["id"]},
                    "message": "relation added",
                    "status": "success",
                }
                for item in body["data"]
            ]
            self._answer(200, {"data": items})

        def log_message(self, *args: object) -> None:
            pass

    return Handler


@pytest.fixture
def revoking_zoho(monkeypatch, tmp_path) -> Iterator[RevokingZoho]:
    zoho = RevokingZoho()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler_for(zoho))
    zoho.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    monkeypatch.setenv("AIRFLOW_CONN_ZOHO_CRM_DEFAULT", connection_json(zoho.url))
    monkeypatch.setenv("ZOHOREL_TOKEN_CACHE_DIR", str(tmp_path / "tokens"))
    try:
        yield zoho
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize("code", ["INVALID_OAUTHTOKEN", "INVALID_TOKEN"])
def test_a_token_revoked_every_7th_call_with_10_in_flight_loses_nothing(revoking_zoho, code):
    revoking_zoho.code = code
    records = memberships(CAMPAIGNS, LEADS)  # 3,000 items, 30 calls of 100
    outcome = execute_operator(records=records, max_concurrency=10)
    summary = outcome.summary
    assert outcome.state == "success", (outcome.error, summary.get("stopped_by"))
    assert (summary["total"], summary["succeeded"], summary["failed"]) == (3000, 3000, 0)
    assert set(revoking_zoho.relations) == {(c, lead) for c in CAMPAIGNS for lead in LEADS}
    assert revoking_zoho.rejected >= 1  # revocations really happened during the run
    # One mint per revoked token at most (single flight), plus the first one.
    assert revoking_zoho.minted <= 1 + revoking_zoho.calls // revoking_zoho.revoke_every
    assert summary["client"]["token_refreshes"] >= 1


@pytest.mark.parametrize("code", ["INVALID_OAUTHTOKEN", "INVALID_TOKEN"])
def test_a_harsher_revoker_never_stops_the_task_as_a_configuration_error(revoking_zoho, code):
    """Every 7th call, retries included: with 10 in flight a slow call may keep meeting dead tokens
    until its retry deadline. Its items are then reported with Zoho's code; nothing is lost, the run
    is not stopped, and the task may be retried."""
    revoking_zoho.count_retries = True
    revoking_zoho.code = code
    records = memberships(CAMPAIGNS, LEADS)
    outcome = execute_operator(records=records, max_concurrency=10)
    summary = outcome.summary
    assert outcome.state in ("success", "failed, retryable"), outcome.error
    assert summary.get("stopped_by") is None  # not stopped: every batch was sent
    assert summary["succeeded"] + summary["failed"] == summary["total"] == 3000
    assert set(summary["by_code"]) <= {"SUCCESS", code}
    failed = {(f["record_id"], f["id"]) for f in summary["failed_items"]}
    assert len(failed) == summary["failed"]  # (fewer than the 1,000 listed at most)
    succeeded = {(c, lead) for c in CAMPAIGNS for lead in LEADS} - failed
    assert succeeded <= set(revoking_zoho.relations)  # every item reported related is related


def test_tokens_rejected_on_their_first_use_fail_the_task_retryably(revoking_zoho):
    revoking_zoho.reject_fresh = True  # e.g. a refresh token of another data centre
    records = memberships(CAMPAIGNS[:3], LEADS)
    outcome = execute_operator(records=records, max_concurrency=10)
    assert outcome.state == "failed, retryable"
    summary = outcome.summary
    assert summary["stopped_by"]["code"] == "INVALID_TOKEN"
    assert summary["succeeded"] + summary["failed"] == summary["total"] == 300
    assert revoking_zoho.minted <= 3  # bounded: the verdict is shared, not re-minted per call
