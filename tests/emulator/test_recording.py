"""Exchange recording (``ZOHO_EMULATOR_RECORD``): one JSON line per CRM request and its answer,
nothing for the admin API or OAuth, and no recorder at all when the variable is unset."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import requests

from airflow_provider_zohorel.emulator import DEMO_CREDENTIALS, ZohoEmulator
from airflow_provider_zohorel.emulator.app import EmulatorApp
from airflow_provider_zohorel.emulator.recording import RECORD_ENV, ExchangeRecorder

CAMPAIGN = "3652397000000327001"
LEAD = "3652397000001829002"


def _lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_no_variable_no_recorder(monkeypatch):
    monkeypatch.delenv(RECORD_ENV, raising=False)
    assert EmulatorApp().recorder is None
    assert ExchangeRecorder.from_env({RECORD_ENV: ""}) is None


def test_each_crm_exchange_is_one_line(tmp_path, monkeypatch):
    path = tmp_path / "exchanges.jsonl"
    monkeypatch.setenv(RECORD_ENV, str(path))
    with ZohoEmulator(seed="demo", in_thread=True) as emu:
        token = emu.admin.access_token(DEMO_CREDENTIALS)
        headers = {
            "Authorization": f"Zoho-oauthtoken {token}",
            "X-EXTERNAL": "Leads.None",
            "User-Agent": "t/1",
        }
        url = f"{emu.base_url}/crm/v8/Campaigns/{CAMPAIGN}/Leads"
        requests.put(url, json={"data": [{"id": LEAD}]}, headers=headers, timeout=10)
        auth = {"Authorization": headers["Authorization"]}
        requests.put(url, json={"data": [{"id": LEAD}]}, headers=auth, timeout=10)
        requests.put(url, data="not json", headers=auth, timeout=10)
        requests.get(f"{url}?fields=id", headers=auth, timeout=10)
        requests.get(f"{emu.base_url}/crm/v9/nothing", timeout=10)
        emu.admin.set_faults(drop_before_next=1)
        with pytest.raises(requests.ConnectionError):
            requests.put(url, json={"data": [{"id": LEAD}]}, headers=auth, timeout=10)
        emu.admin.summary()  # admin calls are not recorded
    put, related, garbled, get, bad_url, dropped = _lines(path)
    assert put["method"] == "PUT"
    assert put["path"] == f"/crm/v8/Campaigns/{CAMPAIGN}/Leads"
    assert put["template"] == "/crm/{version}/{module}/{record}/{related_list}"
    assert (put["version"], put["status"], put["user_agent"], put["external"]) == (
        "v8",
        400,
        "t/1",
        "Leads.None",
    )
    assert put["request"] == {"data": [{"id": LEAD}]}
    assert put["response"]["code"] == "INVALID_DATA"  # no such external field: the answer as sent
    assert (related["status"], related["external"], related["injected"]) == (200, None, None)
    assert related["response"]["data"][0]["message"] == "relation added"
    assert (garbled["request"], garbled["request_text"]) == (None, "not json")
    assert (get["status"], get["query"], get["response"]["info"]["count"]) == (200, "fields=id", 1)
    assert (bad_url["template"], bad_url["version"], bad_url["status"]) == (None, None, 404)
    assert (dropped["status"], dropped["response"]) == (0, None)
