"""Hostile CRM answers (issue 15, point 4): a gzip bomb, a body over the cap, a server that drips
its headers or its body, and deeply nested JSON. Each ends the call with a bounded, per-item error
(RESPONSE_UNREADABLE, TIMEOUT) instead of gigabytes of memory, an endless call or a RecursionError.

One local server plays Zoho Accounts (loopback, so its api_domain may be loopback too) and the CRM.
"""

from __future__ import annotations

import gzip
import json
import threading

import pytest

from airflow_provider_zohorel.zoho.client import ClientSettings, ZohoClient
from airflow_provider_zohorel.zoho.credentials import ZohoCredentials
from airflow_provider_zohorel.zoho.related_records_api import RelatedRecordsApi
from airflow_provider_zohorel.zoho.retry import RetryPolicy
from airflow_provider_zohorel.zoho.token_cache import MemoryTokenCache
from tests.security.hostile_server import Request, json_response, response

pytestmark = pytest.mark.integration

CAMPAIGN, LEAD = "3652397000000327001", "3652397000001829002"
ONE_TRY = RetryPolicy(max_attempts=1, base_delay=0.001, max_delay=0.01, deadline=4.0)


def zoho(hostile, crm_answer):
    """A server that mints a token naming itself as api_domain, then answers PUTs with ``crm_answer``."""

    def script(request: Request):
        if request.path.endswith("/oauth/v2/token"):
            body = {"access_token": "1000.crm-test", "api_domain": server.url, "expires_in": 3600}
            return [json_response(body)]
        return crm_answer(request)

    server = hostile(script)
    return server


def relate(url: str, read_timeout: float = 10.0):
    creds = ZohoCredentials("1000.CRMTEST", "crm-test-secret", "1000.crm-test-refresh", accounts_url=url)
    client = ZohoClient(
        creds,
        settings=ClientSettings(read_timeout=read_timeout, retry=ONE_TRY),
        token_cache=MemoryTokenCache(),
        sleep=lambda _: None,
    )
    return RelatedRecordsApi(client).update_related_records("Campaigns", CAMPAIGN, "Leads", [{"id": LEAD}])


def success() -> bytes:
    item = {"code": "SUCCESS", "details": {"id": LEAD}, "message": "relation added", "status": "success"}
    return json.dumps({"data": [item]}).encode()


def test_a_gzip_bomb_is_cut_off(hostile):
    bomb = gzip.compress(success()[:-2] + b" " * (64 * 1024 * 1024) + b"]}", compresslevel=9)
    server = zoho(
        hostile, lambda req: [response(200, bomb, Content_Type="application/json", Content_Encoding="gzip")]
    )
    [result] = relate(server.url)
    assert result.code == "RESPONSE_UNREADABLE"
    assert "inflates to more than" in result.message


def test_an_answer_over_the_cap_is_refused_before_it_is_read(hostile):
    big = success()[:-2] + b" " * (9 * 1024 * 1024) + b"]}"  # valid JSON, 9 MiB: over the 8 MiB cap
    server = zoho(hostile, lambda req: [response(200, big, Content_Type="application/json")])
    [result] = relate(server.url)
    assert result.code == "RESPONSE_UNREADABLE"


def test_the_control_a_gzipped_normal_answer_is_read(hostile):
    packed = gzip.compress(success())
    server = zoho(
        hostile, lambda req: [response(200, packed, Content_Type="application/json", Content_Encoding="gzip")]
    )
    [result] = relate(server.url)
    assert result.code == "SUCCESS"


def test_deeply_nested_json_is_an_unexpected_answer_not_a_crash(hostile):
    nested = b"[" * 200_000 + b"]" * 200_000
    server = zoho(hostile, lambda req: [response(200, nested, Content_Type="application/json")])
    [result] = relate(server.url)
    assert result.code == "UNEXPECTED_RESPONSE"


def drip(data: bytes) -> list[bytes | float]:
    steps: list[bytes | float] = []
    for byte in data:
        steps += [bytes([byte]), 0.2]
    return steps


def bounded(call):
    """A hang guard, not a timing assertion: the dripping servers below never finish by themselves."""
    out: list = []
    thread = threading.Thread(target=lambda: out.append(call()), daemon=True)
    thread.start()
    thread.join(timeout=120)
    assert out, "the call was still held by the dripping server"
    return out[0]


def test_dripping_headers_cannot_hold_a_call(hostile):
    server = zoho(hostile, lambda req: drip(b"HTTP/1.1 200 OK\r\nX-Padding: " + b"a" * 10_000))
    [result] = bounded(lambda: relate(server.url, read_timeout=1.0))
    assert result.code == "TIMEOUT"
    assert "Zoho may hold the change already" in result.message  # the PUT was sent


def test_a_dripping_body_cannot_hold_a_call(hostile):
    head = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n"
    server = zoho(hostile, lambda req: [head, *drip(b" " * 10_000)])
    [result] = bounded(lambda: relate(server.url, read_timeout=1.0))
    assert result.code == "TIMEOUT"
