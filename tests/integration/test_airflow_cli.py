"""The Airflow CLI sees the provider: ``airflow connections test`` against the emulator, and the
provider, its connection type and its connection form in ``airflow providers ...``.

``airflow connections test`` runs as real ``airflow`` subprocesses with this test's environment
(AIRFLOW_HOME, the env-var connection, the token cache directory), concurrently. The four
read-only ``airflow providers`` listings run through the same CLI parser in this process: the
same code path, without paying an interpreter and Airflow start-up four more times.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_zohorel.emulator import DEMO_CLIENT_SECRET, DEMO_REFRESH_TOKEN
from airflow_provider_zohorel.emulator.airflow_connection import connections_add_argv
from tests.integration.zoho_integration import conn_json, token_requests

pytestmark = pytest.mark.integration

AIRFLOW = str(Path(sys.executable).with_name("airflow"))
WRONG_SECRET = "wrong-secret-8d1e4b7a"


def _run_all(commands: dict[str, tuple[list[str], dict[str, str]]]) -> dict[str, subprocess.CompletedProcess]:
    procs = {
        name: subprocess.Popen(
            [AIRFLOW, *argv], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        for name, (argv, env) in commands.items()
    }
    done = {}
    for name, proc in procs.items():
        out, err = proc.communicate(timeout=180)
        done[name] = subprocess.CompletedProcess(proc.args, proc.returncode, out, err)
    return done


def test_airflow_connections_test_succeeds_and_fails_clearly_without_secrets(
    zoho_emulator_demo, token_cache_dir
):
    zoho = zoho_emulator_demo
    base_env = dict(os.environ)  # AIRFLOW_HOME, DB and ZOHOREL_TOKEN_CACHE_DIR of this test
    base_env["AIRFLOW__CORE__TEST_CONNECTION"] = "Enabled"
    good = {**base_env, "AIRFLOW_CONN_ZOHO_CRM_DEFAULT": conn_json(zoho.base_url)}
    bad = {**base_env, "AIRFLOW_CONN_ZOHO_CRM_DEFAULT": conn_json(zoho.base_url, password=WRONG_SECRET)}
    runs = _run_all(
        {
            "test-ok": (["connections", "test", "zoho_crm_default"], good),
            "test-wrong-secret": (["connections", "test", "zoho_crm_default"], bad),
        }
    )

    ok = runs["test-ok"]
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "Connection success!" in ok.stdout
    failed = runs["test-wrong-secret"]
    assert failed.returncode == 1
    assert "Connection failed!" in failed.stdout
    assert "invalid_client_secret" in failed.stdout
    assert "The client secret is wrong for this client id." in failed.stdout
    counters = zoho.admin.counters()
    assert counters["tokens_minted"] == 1  # the good test minted; the wrong secret was refused
    assert token_requests(zoho) == 2
    assert counters["requests"]["crm.users"] == {"200": 1}  # test_connection's GET /users

    [cached] = [json.loads(p.read_text())["value"] for p in token_cache_dir.glob("*.json")]
    for run in (ok, failed):
        output = run.stdout + run.stderr
        for secret in (DEMO_CLIENT_SECRET, WRONG_SECRET, DEMO_REFRESH_TOKEN, cached):
            assert secret not in output


def _cli_json(capsys: pytest.CaptureFixture[str], *argv: str) -> list[dict[str, Any]]:
    from airflow.cli import cli_parser

    args = cli_parser.get_parser().parse_args([*argv, "--output", "json"])
    capsys.readouterr()
    args.func(args)
    result: list[dict[str, Any]] = json.loads(capsys.readouterr().out)
    return result


def test_airflow_cli_lists_the_provider_its_connection_type_and_form(capsys):
    providers = {p["package_name"]: p for p in _cli_json(capsys, "providers", "list")}
    assert providers["airflow-provider-zohorel"]["version"]
    hooks = {h["connection_type"]: h for h in _cli_json(capsys, "providers", "hooks")}
    assert hooks["zoho_crm"] == {
        "connection_type": "zoho_crm",
        "class": "airflow_provider_zohorel.hooks.zoho_crm.ZohoCRMHook",
        "conn_id_attribute_name": "zoho_conn_id",
        "package_name": "airflow-provider-zohorel",
        "hook_name": "Zoho CRM",
    }
    widgets = {
        w["connection_parameter_name"]: w
        for w in _cli_json(capsys, "providers", "widgets")
        if w["package_name"] == "airflow-provider-zohorel"
    }
    names = {
        f"extra__zoho_crm__{n}"
        for n in (
            "refresh_token",
            "region",
            "accounts_url",
            "mint_url",
            "api_domain",
            "api_version",
            "cache_backend",
            "concurrency_budget",
            "concurrency_cap",
        )
    }
    assert set(widgets) == names
    # Required, but nullable: a non-null field turns the 3.3 form's collapsed section red unexplained.
    assert widgets["extra__zoho_crm__refresh_token"]["field_type"] == ["string", "null"]
    assert {"field_behaviours": "zoho_crm"} in _cli_json(capsys, "providers", "behaviours")


def test_a_connection_added_with_the_cli_is_used_from_the_metadata_database(zoho_emulator_demo, tmp_path):
    """`airflow connections add` stores the connection in the metadata DB (not an env var); the
    hook then reads it from there: extras by short name, secrets in the encrypted password/extra."""
    zoho = zoho_emulator_demo
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW_CONN_")}
    env.update(
        AIRFLOW_HOME=str(tmp_path / "home"),
        AIRFLOW__DATABASE__SQL_ALCHEMY_CONN=f"sqlite:///{tmp_path / 'home' / 'airflow.db'}",
        AIRFLOW__CORE__TEST_CONNECTION="Enabled",
        ZOHOREL_TOKEN_CACHE_DIR=str(tmp_path / "tokens"),
    )
    (tmp_path / "home").mkdir()
    # The same command the emulator prints when it starts.
    steps = [
        ["db", "migrate"],
        connections_add_argv(zoho.base_url, "zoho_from_cli"),
        ["connections", "test", "zoho_from_cli"],
    ]
    outputs = []
    for argv in steps:
        run = subprocess.run(
            [AIRFLOW, *argv], env=env, capture_output=True, text=True, timeout=180, check=False
        )
        assert run.returncode == 0, run.stdout + run.stderr
        outputs.append(run.stdout + run.stderr)
    assert "Connection success!" in outputs[-1]
    assert zoho.admin.counters()["requests"]["crm.users"] == {"200": 1}
    for output in outputs[1:]:
        assert DEMO_REFRESH_TOKEN not in output
        assert DEMO_CLIENT_SECRET not in output
