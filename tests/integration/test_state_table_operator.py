"""The sync state table on a real Postgres, with the operator against the real emulator: a second
run sends only what changed, a mirror run delinks what left the input without reading Zoho, rows
are written only for what Zoho acknowledged, two tasks cannot corrupt each other's rows, and
``full_refresh`` rebuilds the table from Zoho."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from airflow_provider_zohorel._compat import AirflowFailException
from airflow_provider_zohorel.emulator import ZohoEmulator
from tests.integration.operator_runs import execute, held, members
from tests.integration.zoho_integration import CAMPAIGNS, LEADS, crm_requests

pytestmark = pytest.mark.integration

PG_URI: list[str] = []


@pytest.fixture
def state(postgres_uri: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A fresh state table name on the ``sync_pg`` connection (the session's own database)."""
    import psycopg

    table = f"sync_state_{uuid.uuid4().hex[:10]}"
    monkeypatch.setenv("AIRFLOW_CONN_SYNC_PG", postgres_uri)
    PG_URI[:] = [postgres_uri]
    try:
        yield table
    finally:
        with psycopg.connect(postgres_uri, autocommit=True) as conn:
            conn.execute(f"DROP TABLE IF EXISTS {table}")


def rows(table: str) -> dict[tuple[str, str, str], str]:
    """(owner, parent, related) -> fields_hash."""
    import psycopg

    with psycopg.connect(PG_URI[0]) as conn:
        found = conn.execute(f"SELECT owner, parent_id, related_id, fields_hash FROM {table}").fetchall()
    return {(o, p, r): h for o, p, r, h in found}


def bulk(zoho: ZohoEmulator) -> int:
    return sum(crm_requests(zoho).get("crm.related_records.bulk", {}).values())


def sync(table: str, records: list[dict[str, Any]], **kwargs: Any):
    return execute(records=records, sql_conn_id="sync_pg", state_table=table, **kwargs)


def test_a_second_run_sends_only_what_changed(zoho, state):
    records = members(CAMPAIGNS[0], LEADS[:40]) + members(CAMPAIGNS[1], LEADS[:10])
    first, error = sync(state, records)
    assert error is None
    assert (first["succeeded"], first["unchanged"], first["state_table"]["rows_written"]) == (50, 0, 50)
    assert len(rows(state)) == 50
    zoho.admin.reset_counters()
    records[3]["Member_Status"] = "Sent"  # one changed relation
    records.append({"record_id": CAMPAIGNS[1], "id": LEADS[10], "Member_Status": "Active"})  # one new
    second, error = sync(state, records)
    assert error is None
    assert (second["total"], second["succeeded"], second["unchanged"]) == (51, 51, 49)
    assert (second["added"], second["updated"], second["api_calls"]) == (1, 1, 2)
    assert bulk(zoho) == 2  # one PUT per parent with a change, no GET
    assert held(zoho, CAMPAIGNS[0])[LEADS[3]] == "Sent"
    third, _ = sync(state, records)
    assert (third["unchanged"], third["api_calls"]) == (51, 0)


def test_mirror_with_a_state_table_delinks_what_left_the_input_without_reading(zoho, state):
    sync(state, members(CAMPAIGNS[0], LEADS[:10]), mode="mirror")
    zoho.admin.reset_counters()
    summary, error = sync(state, members(CAMPAIGNS[0], LEADS[:8]), mode="mirror")
    assert error is None
    assert (summary["delinked"], summary["unchanged"], summary["api_calls"]) == (2, 8, 1)
    assert crm_requests(zoho)["crm.related_records.bulk"] == {"200": 1}  # the DELETE alone
    assert set(held(zoho, CAMPAIGNS[0])) == set(LEADS[:8])
    assert {r for (_, _, r) in rows(state)} == set(LEADS[:8])
    assert summary["state_table"]["rows_removed"] == 2


def test_rows_are_written_only_for_acknowledged_items(zoho, state):
    zoho.admin.set_faults(failing_ids=[LEADS[1]])
    summary, error = sync(state, members(CAMPAIGNS[0], LEADS[:3]))
    assert isinstance(error, Exception)
    assert summary["failed"] == 1
    assert {r for (_, _, r) in rows(state)} == {LEADS[0], LEADS[2]}
    zoho.admin.clear_faults()
    zoho.admin.reset_counters()
    summary, error = sync(state, members(CAMPAIGNS[0], LEADS[:3]))
    assert error is None
    assert (summary["unchanged"], summary["added"]) == (2, 1)  # exactly what was not acknowledged


def test_another_task_s_rows_on_the_same_parents_are_refused_clearly(zoho, state):
    sync(state, members(CAMPAIGNS[0], LEADS[:3]), dag_id="campaigns_a")
    zoho.admin.reset_counters()
    summary, error = sync(state, members(CAMPAIGNS[0], LEADS[:5]), dag_id="campaigns_b", mode="mirror")
    assert isinstance(error, AirflowFailException)
    assert summary["stopped_by"]["code"] == "STATE_TABLE_CONFLICT"
    assert "campaigns_a.t (1 parent(s))" in str(error)
    assert zoho.admin.counters()["crm_requests"] == 0
    # other parents are fine: the rows of both tasks live side by side, keyed by owner
    _, error = sync(state, members(CAMPAIGNS[1], LEADS[:5]), dag_id="campaigns_b")
    assert error is None
    owners = {o for (o, _, _) in rows(state)}
    assert owners == {"campaigns_a.t", "campaigns_b.t"}


def test_full_refresh_reads_zoho_back_and_rebuilds_the_table(zoho, state):
    sync(state, members(CAMPAIGNS[0], LEADS[:5]), mode="mirror")
    zoho.admin.add_relation(
        "Campaigns", CAMPAIGNS[0], "Leads", LEADS[30], {"Member_Status": "Sent"}
    )  # by hand
    stale, _ = sync(state, members(CAMPAIGNS[0], LEADS[:5]), mode="mirror")
    assert (stale["delinked"], stale["api_calls"]) == (0, 0)  # the table cannot know
    fresh, error = sync(state, members(CAMPAIGNS[0], LEADS[:5]), mode="mirror", full_refresh=True)
    assert error is None
    assert (fresh["delinked"], fresh["unchanged"], fresh["updated"]) == (1, 0, 5)
    assert set(held(zoho, CAMPAIGNS[0])) == set(LEADS[:5])
    assert {r for (_, _, r) in rows(state)} == set(LEADS[:5])


def test_an_empty_input_touches_neither_zoho_nor_the_table(zoho, state):
    sync(state, members(CAMPAIGNS[0], LEADS[:5]), mode="mirror")
    before = rows(state)
    zoho.admin.reset_counters()
    summary, error = sync(state, [], mode="mirror")
    assert error is None
    assert (summary["delinked"], summary["api_calls"]) == (0, 0)
    assert rows(state) == before
    assert len(held(zoho, CAMPAIGNS[0])) == 5


@pytest.mark.parametrize(("null_fields", "zoho_keeps"), [("send", None), ("omit", "Active")])
def test_null_fields_and_the_hash_agree_with_what_was_sent(zoho, state, null_fields, zoho_keeps):
    sync(state, members(CAMPAIGNS[0], LEADS[:2]), null_fields=null_fields)
    zoho.admin.reset_counters()
    nulls = members(CAMPAIGNS[0], LEADS[:2], status=None)
    summary, error = sync(state, nulls, null_fields=null_fields)
    assert error is None
    assert (summary["updated"], summary["unchanged"]) == (2, 0)  # the hash changed either way
    assert set(held(zoho, CAMPAIGNS[0]).values()) == {zoho_keeps}
    again, _ = sync(state, nulls, null_fields=null_fields)
    assert (again["unchanged"], again["api_calls"]) == (2, 0)
