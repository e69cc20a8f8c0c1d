"""The contract check itself: it catches a planted emulator bug and a planted client bug, names the
exchange and the test, holds only the provider's own client to the request schemas, and every
schema is a valid JSON Schema that names the spec operation it reads.

These tests record into a file of their own (an in-thread emulator started with
``ZOHO_EMULATOR_RECORD`` pointing there), so their planted bugs never reach the session's check.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from jsonschema import Draft202012Validator

from airflow_provider_zohorel.emulator import DEMO_CREDENTIALS, ZohoEmulator
from airflow_provider_zohorel.emulator.model import crm_backend
from airflow_provider_zohorel.emulator.recording import RECORD_ENV
from airflow_provider_zohorel.zoho.client import ZohoClient
from airflow_provider_zohorel.zoho.credentials import ZohoCredentials
from airflow_provider_zohorel.zoho.related_records_api import RelatedRecordsApi
from airflow_provider_zohorel.zoho.token_cache import MemoryTokenCache
from tests.contract.zoho_contract import SCHEMAS, ContractChecker, Exchange, read_exchanges, shape

CAMPAIGN = "3652397000000327001"
LEADS = ["3652397000001829002", "3652397000001829003"]
UNKNOWN = "3652397000009999999"


@pytest.fixture
def recorded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[ZohoEmulator, Path]]:
    """An in-thread demo emulator recording into this test's own file."""
    path = tmp_path / "exchanges.jsonl"
    monkeypatch.setenv(RECORD_ENV, str(path))
    with ZohoEmulator(seed="demo", in_thread=True) as emulator:
        yield emulator, path


def _headers(emu: ZohoEmulator) -> dict[str, str]:
    return {"Authorization": f"Zoho-oauthtoken {emu.admin.access_token(DEMO_CREDENTIALS)}"}


def _put(emu: ZohoEmulator, ids: list[Any], version: str = "v8") -> requests.Response:
    return requests.put(
        f"{emu.base_url}/crm/{version}/Campaigns/{CAMPAIGN}/Leads",
        json={"data": [{"id": rid} for rid in ids]},
        headers=_headers(emu),
        timeout=10,
    )


def _check(path: Path) -> list[str]:
    return [str(problem) for problem in ContractChecker().check(read_exchanges(path))]


def test_an_emulator_answer_without_json_path_breaks_the_contract(recorded, monkeypatch):
    emu, path = recorded
    assert _put(emu, [LEADS[0], UNKNOWN]).status_code == 207
    assert _check(path) == []  # the emulator as it is keeps the contract
    real = crm_backend._invalid_related

    def without_json_path(target: Any, index: int, rid: str, api_name: str = "id") -> dict[str, Any]:
        envelope = real(target, index, rid, api_name)
        envelope["details"].pop("json_path", None)  # the planted bug
        return envelope

    monkeypatch.setattr(crm_backend, "_invalid_related", without_json_path)
    assert _put(emu, [LEADS[0], UNKNOWN]).status_code == 207
    [problem] = _check(path)
    # No test markers in this file: the session's marker lines go to the session's recording.
    assert problem.startswith("(before any test): PUT /crm/v8/Campaigns/3652397000000327001/Leads -> 207")
    assert "[updateRelatedRecords response 207]" in problem
    assert "$.data[1].details" in problem
    assert "'json_path' is a dependency of 'api_name'" in problem


def test_a_client_sending_ids_as_numbers_breaks_the_request_contract(recorded):
    emu, path = recorded
    credentials = ZohoCredentials(
        client_id=DEMO_CREDENTIALS.client_id,
        client_secret=DEMO_CREDENTIALS.client_secret,
        refresh_token=DEMO_CREDENTIALS.refresh_token,
        accounts_url=emu.base_url,
        api_version="v8",
    )
    client = ZohoClient(credentials, token_cache=MemoryTokenCache())
    try:
        api = RelatedRecordsApi(client)
        spec = api.relation("Campaigns", "Leads")
        assert [r.code for r in api.send(spec, CAMPAIGN, [{"id": LEADS[0]}])] == ["SUCCESS"]
        assert _check(path) == []
        # The planted bug: the hot path handed ids as numbers (Zoho's schema: strings of digits).
        assert [r.code for r in api.send(spec, CAMPAIGN, [{"id": int(LEADS[1])}])] == ["SUCCESS"]
    finally:
        client.close()
    [problem] = _check(path)
    assert "PUT /crm/v8/Campaigns/3652397000000327001/Leads -> 200 [updateRelatedRecords request]" in problem
    assert "$.data[0].id: 3652397000001829003 is not of type 'string'" in problem


def test_raw_test_requests_are_not_held_to_the_request_contract_but_their_answers_are(recorded):
    emu, path = recorded
    # A test provoking errors on purpose sends what it likes (python-requests' User-Agent).
    assert _put(emu, [int(LEADS[0])]).status_code == 200
    garbled = requests.put(
        f"{emu.base_url}/crm/v8/Campaigns/{CAMPAIGN}/Leads", data="{", headers=_headers(emu), timeout=10
    )
    assert garbled.status_code == 400
    assert _check(path) == []
    [number_id, _] = list(read_exchanges(path))
    assert not number_id.from_client


def test_problems_name_the_test_that_made_the_exchange(tmp_path):
    def line(**record: Any) -> str:
        return json.dumps(record)

    exchange = {
        "method": "PUT",
        "path": "/crm/v2/Leads/1/Campaigns",
        "query": "",
        "template": "/crm/{version}/{module}/{record}/{related_list}",
        "version": "v2",
        "status": 207,
        "request": None,
        "request_text": None,
        "response": {
            "data": [
                {"code": "SUCCESS", "details": {"id": "2"}, "message": "relation added", "status": "success"}
            ]
        },
        "user_agent": "python-requests/2",
        "external": None,
        "injected": None,
    }
    path = tmp_path / "exchanges.jsonl"
    path.write_text(
        "\n".join([line(test="tests/a.py::test_one"), line(test="tests/b.py::test_two"), line(**exchange)])
    )
    [problem] = _check(path)
    # 207 is v3+ (v2/v2.1 answer 202, research 2.4), and the test that ran is named.
    assert problem.startswith("tests/b.py::test_two: PUT /crm/v2/Leads/1/Campaigns -> 207")
    assert "HTTP 207 is documented for API versions v3, v4, v5, v6, v7, v8 only" in problem


def test_an_injected_auth_error_is_held_to_the_envelope_only(recorded):
    emu, path = recorded
    emu.admin.fail_auth(1, "SOME_FUTURE_CODE", "a code Zoho may add later")
    assert _put(emu, [LEADS[0]]).json()["code"] == "SOME_FUTURE_CODE"
    [exchange] = list(read_exchanges(path))
    assert exchange.record["injected"] == "auth_error"
    assert _check(path) == []


def test_recording_holds_no_secret(recorded):
    emu, path = recorded
    headers = _headers(emu)
    _put(emu, [LEADS[0]])
    text = path.read_text()
    assert headers["Authorization"].split()[1] not in text
    assert DEMO_CREDENTIALS.refresh_token not in text
    assert DEMO_CREDENTIALS.client_secret not in text


@pytest.mark.parametrize("schema", sorted(SCHEMAS.glob("*.json")), ids=lambda p: p.stem)
def test_every_schema_is_valid_and_names_its_spec_operation(schema: Path):
    doc = json.loads(schema.read_text())
    Draft202012Validator.check_schema(doc)
    if schema.stem == "common":
        return
    assert doc["x-zoho-spec"].startswith("zoho/crm-oas v8.0/")
    operation = doc["x-zoho-operation"]
    if operation != "(none)":
        assert doc["title"].startswith(f"{operation}: ")
        assert (
            f"operationId {operation}" in doc["description"]
            or f"operationId '{operation}'" in doc["description"]
        )
    assert any(name.startswith("response-") for name in doc["$defs"])


def test_every_recorded_route_maps_to_a_schema():
    checker = ContractChecker()
    for template in (
        "/crm/{version}/{module}/{record}/{related_list}",
        "/crm/{version}/{module}/{record}/{related_list}/{related_record}",
        "/crm/{version}/settings/related_lists",
        "/crm/{version}/settings/fields",
        "/crm/{version}/Contacts/roles",
        "/crm/{version}/users",
        "/crm/{version}/org",
        None,
    ):
        for method in ("GET", "PUT", "DELETE", "POST"):
            record = {"method": method, "path": "/crm/v8/Deals/1/Contact_Roles", "template": template}
            assert Exchange(1, "", record).operation in checker.documents


def _body_keywords(node: Any, found: list[tuple[str, Any]]) -> None:
    """Every pattern, enum and const of a schema, outside the query definitions."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("pattern", "enum", "const"):
                found.append((key, value))
            elif key == "$defs":
                for name, definition in value.items():
                    if not name.startswith("query") and name != "listQuery":
                        _body_keywords(definition, found)
            else:
                _body_keywords(value, found)
    elif isinstance(node, list):
        for item in node:
            _body_keywords(item, found)


def test_body_patterns_cannot_tell_digit_strings_of_one_length_apart():
    """What makes validating one body per shape sound (``zoho_contract.shape``)."""
    found: list[tuple[str, Any]] = []
    for schema in SCHEMAS.glob("*.json"):
        _body_keywords(json.loads(schema.read_text()), found)
    for keyword, value in found:
        if keyword == "pattern":
            for n in range(1, 26):
                verdicts = {bool(re.search(value, digits * n)) for digits in "0159"}
                verdicts.add(bool(re.search(value, "9" + "0" * (n - 1))))
                assert len(verdicts) == 1, (value, n)
        else:
            values = value if keyword == "enum" else [value]
            assert not [v for v in values if isinstance(v, str) and v.isdigit()], value
    assert shape({"data": [{"id": "3652397000000327001", "n": 7, "x": "a1"}]}) == {
        "data": [{"id": "0000000000000000000", "n": 7, "x": "a1"}]
    }
