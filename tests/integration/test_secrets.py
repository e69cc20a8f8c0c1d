"""Secrets never reach a task log, an XCom or the metadata DB; minted tokens are masked.

A real DAG run (dag.test(), in this process) uses the hook with a real client secret and refresh
token, refreshes its access token mid-task and tries a connection with a wrong secret. Every
access token the emulator minted is recorded by a spy on the minter, cross-checked against the
emulator's count, and then searched for, with the secrets, in everything the run left behind.
dag.test() may print a value in clear if something logs it directly, so this proves the provider
never logs a credential, not merely that a masker hid it.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_zohorel.emulator import DEMO_CLIENT_SECRET, DEMO_REFRESH_TOKEN
from airflow_provider_zohorel.zoho.oauth import AccessToken, TokenMinter
from tests.dag_runs import dag_bag
from tests.integration.zoho_integration import CAMPAIGNS, LEADS

pytestmark = pytest.mark.integration

DAG_FILE = Path(__file__).resolve().parents[1] / "dags" / "integration_secrets.py"
WRONG_SECRET = "wrong-secret-5f2c9e81d0a4"
MARKER = "zohorel-secrets-check"


@pytest.fixture
def minted(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every access token value the minter receives from the emulator during the test."""
    values: list[str] = []
    real_mint = TokenMinter.mint

    def spy(self: TokenMinter) -> AccessToken:
        token = real_mint(self)
        values.append(token.value)
        return token

    monkeypatch.setattr(TokenMinter, "mint", spy)
    return values


def _run(conf: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """Run the DAG; return its state and every XCom of the run, by (task_id, key)."""
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session

    dag = dag_bag(DAG_FILE).get_dag("integration_secrets")
    assert dag is not None
    run = dag.test(run_conf=conf)
    with create_session() as session:
        rows = session.query(XComModel).filter_by(dag_id=dag.dag_id, run_id=run.run_id).all()
        xcoms = {f"{row.task_id}/{row.key}": row.value for row in rows}
        states = {ti.task_id: str(ti.state) for ti in run.get_task_instances(session=session)}
    assert states == {"relate_with_hook": "success", "wrong_secret": "success"}, states
    return str(run.state), xcoms


def _files_text(root: Path) -> str:
    parts = []
    for path in sorted(root.rglob("*")):
        if path.is_file():
            parts.append(path.read_bytes().decode("utf-8", "replace"))
    return "\n".join(parts)


def test_a_dag_run_leaks_no_secret_and_masks_minted_tokens(
    zoho, set_conn, airflow_db, minted, capfd, caplog, token_cache_dir
):
    set_conn("zoho_wrong_secret", zoho.base_url, password=WRONG_SECRET)
    campaign, leads = CAMPAIGNS[0], LEADS[:4]
    conf = {
        "campaign": campaign,
        "leads": leads,
        "expire_tokens_url": f"{zoho.base_url}/__emulator__/tokens/expire",
    }
    caplog.set_level("DEBUG")
    state, xcoms = _run(conf)
    out, err = capfd.readouterr()

    assert state == "success"
    result = xcoms["relate_with_hook/return_value"]
    assert result["codes"] == ["SUCCESS"] * 4
    assert result["test_connection"][0] is True
    assert xcoms["relate_with_hook/client_stats"]["token_refreshes"] == 1  # the mid-task refresh ran
    refused = xcoms["wrong_secret/return_value"]
    assert refused["code"] == "invalid_client_secret"
    assert refused["test_connection"][0] is False

    # Every token the emulator minted is known: first token plus the mid-task replacement.
    assert len(minted) == zoho.admin.counters()["tokens_minted"] == 2
    assert sorted(r["id"] for r in zoho.admin.relations_of(campaign, "Leads")) == sorted(leads)

    airflow_home = Path(os.environ["AIRFLOW_HOME"])
    database = "\n".join(
        path.read_bytes().decode("utf-8", "replace") for path in airflow_home.glob("airflow.db*")
    )
    places = {
        "stdout/stderr": out + err,
        "log records": "\n".join(f"{r.getMessage()} {r.exc_text or ''} {r.args!r}" for r in caplog.records),
        "task log files": _files_text(airflow_home / "logs") if (airflow_home / "logs").exists() else "",
        "XComs": json.dumps(xcoms, default=str),
        "metadata DB file": database,
    }
    # The captures did capture the run: the task's own lines are there (so absence means something).
    # (dag.test() hands task log records to the logging handlers; caplog sees them unmasked.)
    assert f"{MARKER}: relating 4 leads to campaign {campaign}" in places["log records"]
    assert f"{MARKER}: refused as expected: Zoho invalid_client_secret" in places["log records"]
    assert (
        f"{MARKER}: test_connection -> True Connected to Zoho CRM at {zoho.base_url}" in places["log records"]
    )

    secrets = {
        "client secret": DEMO_CLIENT_SECRET,
        "wrong client secret": WRONG_SECRET,
        "refresh token": DEMO_REFRESH_TOKEN,
        **{f"access token #{n}": value for n, value in enumerate(minted, 1)},
    }
    leaks = [
        (what, where) for what, value in secrets.items() for where, text in places.items() if value in text
    ]
    assert leaks == []

    # The hook registered every minted token (and the credentials) with Airflow's secrets masker.
    from airflow.sdk.log import redact

    for what, value in secrets.items():
        assert redact(f"value: {value}") == "value: ***", what
