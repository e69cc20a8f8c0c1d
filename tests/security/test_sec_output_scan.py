"""The full output of this session's DAG runs holds no secret.

Scans, for every secret this session handed out (the demo connection's client secret and refresh
token, each test's fresh ones, every access token minted in this process): the captured
stdout/stderr of every DAG run of the reliability and security suites (kept under
``dag-run-output/`` next to AIRFLOW_HOME), every task log file under AIRFLOW_HOME/logs, and every
XCom and rendered-template row in the metadata database. Runs two DAG runs of its own first
(success, and a failure on a revoked refresh token), so it has something to scan when run alone;
run after the other suites (``pytest tests/reliability tests/security``) it scans their runs too.
"""

from __future__ import annotations

import json

import pytest

from tests.dag_runs import RUN_OUTPUT
from tests.security.sec_support import AIRFLOW_HOME, SECRETS

pytestmark = [pytest.mark.integration, pytest.mark.e2e]

C = "3652397000000327001"
LEADS = [f"36523970000018290{n:02d}" for n in range(3, 13)]


def test_no_secret_anywhere_in_the_output_of_the_suites_dag_runs(world, run_dag):
    records = [{"record_id": C, "id": lead, "Member_Status": "Active"} for lead in LEADS]
    conf = {"module": "Campaigns", "related_list": "Leads", "records": records}
    assert run_dag("sec_run", conf).tasks["relate"]["state"] == "success"
    world.admin.revoke_refresh_token(world.credentials.refresh_token)
    world.admin.expire_tokens()
    assert run_dag("sec_run", conf).tasks["relate"]["state"] == "failed"

    from airflow.models.renderedtifields import RenderedTaskInstanceFields
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session

    texts: dict[str, str] = {}
    for path in sorted(RUN_OUTPUT.glob("*.log")):
        texts[f"output {path.name}"] = path.read_text(errors="replace")
    logs = AIRFLOW_HOME / "logs"
    for path in sorted(p for p in logs.rglob("*") if p.is_file()) if logs.exists() else []:
        texts[f"log file {path.relative_to(AIRFLOW_HOME)}"] = path.read_text(errors="replace")
    with create_session() as session:
        for x in session.query(XComModel):
            texts[f"xcom {x.dag_id}/{x.run_id}/{x.task_id}/{x.key}"] = json.dumps(x.value, default=str)
        for r in session.query(RenderedTaskInstanceFields):
            texts[f"rendered fields {r.dag_id}/{r.run_id}/{r.task_id}"] = json.dumps(
                r.rendered_fields, default=str
            )

    assert any(name.startswith("output security-sec_run") for name in texts)
    assert len(SECRETS.values) >= 5  # demo secret and refresh token, this test's, and a minted token
    found = [hit for name, text in texts.items() for hit in SECRETS.scan(name, text)]
    assert found == [], f"secrets found in: {found}"


def test_the_scan_finds_a_planted_secret():
    """The scanner can fail: a secret planted in a text is found, and reported without its value."""
    from tests.security.sec_support import SecretRegistry

    registry = SecretRegistry(values={"planted-secret-value-123"})
    hits = registry.scan("a log line", "2026-01-01 INFO token=planted-secret-value-123 sent")
    assert len(hits) == 1
    assert "planted-secret-value-123" not in hits[0]
    assert registry.scan("a clean line", "2026-01-01 INFO token=*** sent") == []
