"""The admin API (``/__emulator__/``) against the attacks it must withstand (issue 15 point 7).

Each test is written as the attack: a hostile web page's cross-site POST, a DNS-rebinding
``Host``, a seed name that walks out to a local path, a listing that would hand out secrets, a
request from another machine, a bind on every interface. Each failed on the emulator before the
admin guard (``emulator/wire/admin_guard.py``), the seed directory and the redaction existed.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import requests

from airflow_provider_zohorel.emulator import ZohoEmulator
from airflow_provider_zohorel.emulator.admin_client import EmulatorAdminError, secret_label
from airflow_provider_zohorel.emulator.app import EmulatorApp
from airflow_provider_zohorel.emulator.serving import EmulatorExposureWarning
from airflow_provider_zohorel.emulator.wire.admin_guard import AdminGuard

EVIL = "http://evil.example"
SEED = {"records": [{"module": "Leads", "ids": ["77"]}]}


def _admin(emu: ZohoEmulator, path: str) -> str:
    return f"{emu.base_url}/__emulator__/{path}"


def _records(emu: ZohoEmulator) -> dict[str, int]:
    records: dict[str, int] = emu.admin.summary()["records"]
    return records


# --- a hostile web page ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "content_type",
    ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x"],
)
def test_a_hostile_pages_simple_post_cannot_reset_the_emulator(emu, world, content_type):
    """What ``<form method=post>`` or ``fetch(url, {mode: "no-cors"})`` can send without a CORS
    preflight: a CORS-safelisted content type, with the page's Origin."""
    before = _records(emu)
    for headers in ({"Content-Type": content_type, "Origin": EVIL}, {"Content-Type": content_type}):
        response = requests.post(_admin(emu, "reset"), data='{"seed": null}', headers=headers, timeout=10)
        assert response.status_code == 415, response.text
    assert _records(emu) == before


def test_a_request_from_another_origin_is_refused_even_as_json(emu, world):
    before = _records(emu)
    response = requests.post(_admin(emu, "reset"), json={}, headers={"Origin": EVIL}, timeout=10)
    assert response.status_code == 403
    assert "cross-site" in response.json()["error"]
    leak = requests.get(_admin(emu, "clients"), headers={"Origin": "null"}, timeout=10)
    assert leak.status_code == 403
    assert _records(emu) == before


def test_a_dns_rebinding_host_can_neither_read_nor_change(emu, world):
    """A page on evil.example whose name now resolves to 127.0.0.1 talks to the emulator as a
    same-origin page, but its requests say ``Host: evil.example``."""
    before = _records(emu)
    creds = emu.admin.create_credentials()
    read = requests.get(_admin(emu, "clients"), headers={"Host": "evil.example:8765"}, timeout=10)
    assert read.status_code == 403
    assert creds.client_secret not in read.text
    change = requests.post(_admin(emu, "reset"), json={}, headers={"Host": "evil.example"}, timeout=10)
    assert change.status_code == 403
    assert _records(emu) == before


def test_loopback_names_and_the_listening_address_are_served(emu):
    port = emu.port
    for host in (f"localhost:{port}", f"127.0.0.1:{port}", "localhost", "[::1]"):
        response = requests.get(_admin(emu, "health"), headers={"Host": host}, timeout=10)
        assert response.status_code == 200, host
    same_origin = requests.post(
        _admin(emu, "counters/reset"), json={}, headers={"Origin": f"http://localhost:{port}"}, timeout=10
    )
    assert same_origin.status_code == 200


# --- seeds: no path of the caller's choosing ----------------------------------------------------


def test_a_seed_name_cannot_open_a_local_file(emu, tmp_path):
    outside = tmp_path / "outside.json"
    outside.write_text(json.dumps(SEED))
    for name in (str(outside), "../" * 12 + str(outside).lstrip("/"), "/etc/passwd"):
        response = requests.post(_admin(emu, "seed"), params={"name": name}, json={}, timeout=10)
        assert response.status_code == 400, name
        assert "not a bundled seed" in response.json()["error"]
        reset = requests.post(_admin(emu, "reset"), json={"seed": name}, timeout=10)
        assert reset.status_code == 400, name
    assert _records(emu) == {}


def test_a_seed_directory_serves_its_own_files_and_nothing_else(tmp_path):
    seeds = tmp_path / "seeds"
    (seeds / "team").mkdir(parents=True)
    (seeds / "team" / "leads.json").write_text(json.dumps(SEED))
    (tmp_path / "secret.json").write_text(json.dumps(SEED))
    (seeds / "link.json").symlink_to(tmp_path / "secret.json")
    with ZohoEmulator(in_thread=True, seed_dir=seeds) as emu:
        assert emu.admin.load_seed_by_name("team/leads.json")["records"] == {"Leads": 1}
        for name in ("../secret.json", "team/../../secret.json", "link.json", str(tmp_path / "secret.json")):
            with pytest.raises(EmulatorAdminError) as refused:
                emu.admin.load_seed_by_name(name)
            assert refused.value.status == 400, name
        assert emu.admin.reset(seed="demo")["seed"]["records"]["Leads"] == 49


def test_the_typed_admin_client_still_seeds_from_a_local_file(emu, tmp_path):
    """``load_seed(path)`` and ``reset(seed=path)`` read the file here and send its contents."""
    path = tmp_path / "mine.json"
    path.write_text(json.dumps(SEED))
    assert emu.admin.load_seed(path)["records"] == {"Leads": 1}
    assert emu.admin.reset(seed=str(path))["seed"]["records"] == {"Leads": 1}


# --- secrets in listings ------------------------------------------------------------------------


def test_listings_show_labels_not_secrets(emu):
    creds = emu.admin.create_credentials()
    emu.admin.access_token(creds)
    for path in ("clients", "counters", "summary", "users", "config"):
        text = requests.get(_admin(emu, path), timeout=10).text
        assert creds.client_secret not in text, path
        assert creds.refresh_token not in text, path
    [client] = emu.admin.list_clients()
    assert "client_secret" not in client
    assert client["client_secret_label"] == secret_label(creds.client_secret)
    assert emu.admin.counters()["tokens_minted_by_refresh_token"] == {secret_label(creds.refresh_token): 1}


# --- an admin token -----------------------------------------------------------------------------


def test_an_admin_token_is_required_when_set(monkeypatch):
    monkeypatch.delenv("ZOHO_EMULATOR_ADMIN_TOKEN", raising=False)
    with ZohoEmulator(in_thread=True, admin_token="t0k-admin") as emu:
        for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": "t0k-admin"}):
            response = requests.get(_admin(emu, "summary"), headers=headers, timeout=10)
            assert response.status_code == 401, headers
        ok = requests.get(_admin(emu, "summary"), headers={"Authorization": "Bearer t0k-admin"}, timeout=10)
        assert ok.status_code == 200
        # The typed client of a ZohoEmulator carries the token by itself.
        assert emu.admin.reset(seed="demo")["status"] == "ok"
        assert _records(emu)["Leads"] == 49


def test_a_subprocess_gets_the_token_in_its_environment_never_on_its_command_line():
    with ZohoEmulator(admin_token="t0k-subprocess") as emu:
        assert emu.pid is not None
        command_line = Path(f"/proc/{emu.pid}/cmdline").read_bytes()
        assert b"t0k-subprocess" not in command_line
        assert requests.get(_admin(emu, "summary"), timeout=10).status_code == 401
        assert emu.admin.summary()["records"] == {}


def _asgi(app: EmulatorApp, path: str, headers: dict[str, str], client: str, server: str) -> tuple[int, Any]:
    """One request straight into the ASGI app, from ``client`` to ``server`` (addresses)."""
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "method": "GET",
        "path": path,
        "query_string": b"",
        "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
        "client": (client, 50000),
        "server": (server, 8765),
        "scheme": "http",
    }
    asyncio.run(app(scope, receive, send))
    return sent[0]["status"], json.loads(sent[1]["body"])


def test_another_machine_needs_the_admin_token():
    """Listening on a LAN address, without a token the admin API serves only this machine."""
    here = {"Host": "192.0.2.10:8765"}
    open_app = EmulatorApp()
    status, body = _asgi(open_app, "/__emulator__/summary", here, "203.0.113.7", "192.0.2.10")
    assert status == 403
    assert "ZOHO_EMULATOR_ADMIN_TOKEN" in body["error"]
    assert _asgi(open_app, "/__emulator__/summary", here, "192.0.2.10", "192.0.2.10")[0] == 200
    guarded = EmulatorApp(guard=AdminGuard.build("t0k"))
    with_token = {**here, "Authorization": "Bearer t0k"}
    assert _asgi(guarded, "/__emulator__/summary", with_token, "203.0.113.7", "192.0.2.10")[0] == 200
    assert _asgi(guarded, "/__emulator__/summary", here, "203.0.113.7", "192.0.2.10")[0] == 401


def test_the_crm_and_oauth_endpoints_are_not_guarded():
    """They emulate Zoho (any Host, any peer): the guard is for the admin API only."""
    status, body = _asgi(
        EmulatorApp(), "/crm/v8/users", {"Host": "evil.example"}, "203.0.113.7", "192.0.2.10"
    )
    assert (status, body["code"]) == (401, "AUTHENTICATION_FAILURE")


# --- a bind on every interface ------------------------------------------------------------------


def test_a_non_loopback_bind_warns_loudly():
    process = subprocess.Popen(
        [sys.executable, "-m", "airflow_provider_zohorel.emulator", "--host", "0.0.0.0", "--port", "0"],  # noqa: S104
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        assert process.stdout.readline().startswith("zoho-emulator listening on http://0.0.0.0:")
    finally:
        process.terminate()
        _, err = process.communicate(timeout=10)
    assert "zoho-emulator: WARNING: the Zoho emulator listens on 0.0.0.0, a non-loopback address" in err
    assert "set ZOHO_EMULATOR_ADMIN_TOKEN" in err
    every_interface = "0.0.0.0"  # noqa: S104 (the bind under test)
    with (
        pytest.warns(EmulatorExposureWarning, match="non-loopback"),
        ZohoEmulator(host=every_interface, in_thread=True),
    ):
        pass


def test_a_loopback_bind_does_not_warn(recwarn):
    with ZohoEmulator(in_thread=True):
        pass
    assert not [w for w in recwarn if issubclass(w.category, EmulatorExposureWarning)]
