"""The Airflow connection that points at an emulator: one definition, every form of it."""

from __future__ import annotations

import json
import shlex

from airflow.models.connection import Connection

from airflow_provider_zohorel.emulator import (
    DEMO_CLIENT_ID,
    DEMO_CLIENT_SECRET,
    DEMO_REFRESH_TOKEN,
    Credentials,
    connection,
    connection_uri,
    connections_add_command,
)

BASE = "http://127.0.0.1:8765"


def test_json_form_carries_the_demo_credentials_and_the_base_url_as_accounts_url():
    assert connection(BASE) == {
        "conn_type": "zoho_crm",
        "login": DEMO_CLIENT_ID,
        "password": DEMO_CLIENT_SECRET,
        "extra": {"refresh_token": DEMO_REFRESH_TOKEN, "accounts_url": BASE, "api_version": "v8"},
    }


def test_extras_are_added_overridden_or_left_out():
    creds = Credentials("1000.OTHER", "other-secret", "1000.r.t", "1", ("ZohoCRM.modules.ALL",))
    doc = connection(BASE, creds, api_version=None, token_cache="memory", region=None)
    assert (doc["login"], doc["password"]) == ("1000.OTHER", "other-secret")
    assert doc["extra"] == {"refresh_token": "1000.r.t", "accounts_url": BASE, "token_cache": "memory"}


def test_uri_form_parses_back_to_the_same_connection_in_airflow():
    conn = Connection(conn_id="zoho", uri=connection_uri(BASE))
    assert (conn.conn_type, conn.login, conn.password) == ("zoho_crm", DEMO_CLIENT_ID, DEMO_CLIENT_SECRET)
    assert conn.extra_dejson == connection(BASE)["extra"]


def test_cli_command_is_valid_shell_with_the_json_extra():
    argv = shlex.split(connections_add_command(BASE, "zoho_demo"))
    assert argv[:4] == ["airflow", "connections", "add", "zoho_demo"]
    options = dict(zip(argv[4::2], argv[5::2], strict=True))
    assert options["--conn-type"] == "zoho_crm"
    assert options["--conn-login"] == DEMO_CLIENT_ID
    assert json.loads(options["--conn-extra"]) == connection(BASE)["extra"]


def test_the_running_emulator_names_its_own_url_and_env_var(emu):
    assert emu.connection()["extra"]["accounts_url"] == emu.base_url
    env = emu.connection_env("zoho_other", api_version="v2")
    assert list(env) == ["AIRFLOW_CONN_ZOHO_OTHER"]
    assert json.loads(env["AIRFLOW_CONN_ZOHO_OTHER"])["extra"]["api_version"] == "v2"
