"""The operator's ``execute`` against the emulator, for what the README promises and the unit layer
cannot show: custom item keys, one ``record_id`` for all, SQL ``parameters``, progress lines, the
concurrency cap as the emulator counts it, and the relations of Price_Books, Notes and
Appointments end to end."""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from typing import Any

import pytest

from airflow_provider_zohorel.operators.related_records import UpdateRelatedRecordsOperator
from tests.integration.zoho_integration import CAMPAIGNS, FAST_RETRY, LEADS, NOTE_PARENT_LEAD, NOTES

pytestmark = pytest.mark.integration


class RecordingTI:
    dag_id, task_id, run_id, try_number = "d", "relate", "r", 1

    def __init__(self) -> None:
        self.pushed: dict[str, Any] = {}

    def xcom_push(self, key: str, value: Any) -> None:
        self.pushed[key] = value


def execute(**kwargs: Any) -> dict[str, Any]:
    kwargs.setdefault("request_retry", FAST_RETRY)
    operator = UpdateRelatedRecordsOperator(task_id="relate", **kwargs)
    return operator.execute({"ti": RecordingTI()})  # type: ignore[arg-type]


def members(zoho, campaign: str) -> dict[str, Any]:
    return {r["id"]: r["fields"] for r in zoho.admin.relations_of(campaign, "Leads")}


def test_custom_parent_and_related_id_keys(zoho):
    rows = [{"campaign": CAMPAIGNS[1], "lead": lead, "Member_Status": "Sent"} for lead in LEADS[:3]]
    summary = execute(
        module="Campaigns",
        related_list="Leads",
        records=rows,
        parent_id_key="campaign",
        related_id_key="lead",
    )
    assert (summary["succeeded"], summary["failed"]) == (3, 0)
    assert {lead: f["Member_Status"] for lead, f in members(zoho, CAMPAIGNS[1]).items()} == dict.fromkeys(
        LEADS[:3], "Sent"
    )


def test_one_record_id_for_every_item(zoho):
    rows = [{"id": lead, "Member_Status": "Active"} for lead in LEADS[3:6]]
    summary = execute(module="Campaigns", related_list="Leads", records=rows, record_id=CAMPAIGNS[2])
    assert (summary["succeeded"], summary["parents"]) == (3, 1)
    assert set(members(zoho, CAMPAIGNS[2])) >= set(LEADS[3:6])


def test_sql_parameters_choose_the_rows(zoho, tmp_path, monkeypatch):
    warehouse = tmp_path / "wh.db"
    with sqlite3.connect(warehouse) as db:
        db.execute("CREATE TABLE m (record_id TEXT, id TEXT, Member_Status TEXT, wave INTEGER)")
        db.executemany(
            "INSERT INTO m VALUES (?, ?, ?, ?)",
            [(CAMPAIGNS[0], lead, "Sent", 1 if n < 4 else 2) for n, lead in enumerate(LEADS[10:18])],
        )
    monkeypatch.setenv("AIRFLOW_CONN_WAREHOUSE", json.dumps({"conn_type": "sqlite", "host": str(warehouse)}))
    summary = execute(
        module="Campaigns",
        related_list="Leads",
        sql="SELECT record_id, id, Member_Status FROM m WHERE wave = ?",
        sql_conn_id="warehouse",
        parameters=[2],
    )
    assert (summary["total"], summary["succeeded"]) == (4, 4)
    assert set(LEADS[14:18]) <= set(members(zoho, CAMPAIGNS[0]))
    assert not set(LEADS[10:14]) & set(members(zoho, CAMPAIGNS[0]))


def test_progress_lines_with_totals_reach_the_task_log(zoho, capfd):
    """``progress_interval=0``: a progress line at every turn of the run, with the run's totals
    (Airflow's task logger writes to the process's output)."""
    rows = [{"record_id": CAMPAIGNS[0], "id": lead} for lead in LEADS[:20]]
    capfd.readouterr()
    summary = execute(
        module="Campaigns", related_list="Leads", records=rows, batch_size=5, progress_interval=0
    )
    assert summary["succeeded"] == 20
    out, err = capfd.readouterr()
    lines = [line for line in (out + err).splitlines() if "Zoho progress:" in line]
    assert lines, "no progress line in the task log"
    assert all("/4 " in line and "/20," in line for line in lines)  # batches and items of the run


def test_the_operator_never_has_more_calls_in_flight_than_max_concurrency(zoho):
    """The emulator holds every call (a test control) while 12 batches are queued with
    ``max_concurrency=3``: it sees exactly 3 calls held, then all complete; its own
    ``peak_in_flight`` says the cap held."""
    zoho.admin.patch_config(hold_after_requests=0)
    rows = [{"record_id": CAMPAIGNS[0], "id": lead} for lead in LEADS[:12]]
    out: dict[str, Any] = {}
    thread = threading.Thread(
        target=lambda: out.update(
            execute(module="Campaigns", related_list="Leads", records=rows, batch_size=1, max_concurrency=3)
        )
    )
    thread.start()
    try:
        deadline = time.monotonic() + 30
        while zoho.admin.counters()["held_requests"] < 3:
            assert time.monotonic() < deadline, zoho.admin.counters()
            time.sleep(0.01)  # polling the emulator's counters, with a deadline
        assert zoho.admin.counters()["in_flight"] == 3
    finally:
        zoho.admin.patch_config(hold_after_requests=None)
        thread.join(timeout=60)
    assert out["succeeded"] == 12
    assert zoho.admin.counters()["peak_in_flight"] == 3


def test_price_books_products_with_list_price(zoho):
    book = "3652397000007000001"
    products = ["3652397000004000001", "3652397000004000002"]
    summary = execute(
        module="Price_Books",
        related_list="Products",
        records=[{"record_id": book, "id": p, "list_price": 50.56} for p in products],
    )
    assert (summary["succeeded"], summary["failed"]) == (2, 0)
    held = {r["id"]: r["fields"] for r in zoho.admin.relations_of(book, "Products")}
    assert set(held) == set(products)
    assert {f["list_price"] for f in held.values()} == {50.56}


def test_notes_of_a_lead(zoho):
    summary = execute(
        module="Leads",
        related_list="Notes",
        records=[{"record_id": NOTE_PARENT_LEAD, "id": NOTES[2], "Note_Title": "From the operator"}],
    )
    assert (summary["succeeded"], summary["failed"]) == (1, 0)
    titles = {n["id"]: n["Note_Title"] for n in zoho.admin.list_notes(NOTE_PARENT_LEAD)}
    assert titles[NOTES[2]] == "From the operator"


def test_appointments_and_services(zoho):
    appointment = zoho.admin.add_records("Appointments__s", count=1)[0]
    services = zoho.admin.add_records("Services__s", count=2)
    summary = execute(
        module="Appointments__s",
        related_list="Services__s",
        records=[{"record_id": appointment, "id": s} for s in services],
    )
    assert (summary["succeeded"], summary["failed"]) == (2, 0)
    assert {r["id"] for r in zoho.admin.relations_of(appointment, "Services__s")} == set(services)
