"""The state table's SQL on SQLite (ON CONFLICT) and on a database without it (delete, then
insert): rows only for acknowledged answers, delinks forgotten at once, rows keyed by owner.
(Postgres, with the operator: tests/integration/test_state_table_operator.py.)"""

from __future__ import annotations

import sqlite3

import pytest

from airflow_provider_zohorel.operators.state_table import StateTable, fields_hash
from airflow_provider_zohorel.zoho.planning import DELINK, Batch, canonical_json
from airflow_provider_zohorel.zoho.relation_catalog import resolve_relation
from airflow_provider_zohorel.zoho.results import ItemResult
from airflow_provider_zohorel.zoho.sync import StateTableConflict

SPEC = resolve_relation("Campaigns", "Leads")
P = "100000000000000001"


class SqliteHook:
    placeholder = "?"

    def __init__(self, path: str, conn_type: str) -> None:
        self.path, self.conn_type = path, conn_type

    def get_conn(self) -> sqlite3.Connection:
        return sqlite3.connect(self.path)


def ok(rid: str, action: str = "added") -> ItemResult:
    return ItemResult(rid, "SUCCESS", "success", f"relation {action}", {}, 200, action)


@pytest.fixture(params=["sqlite", "other"])
def hook(request, tmp_path):
    return SqliteHook(str(tmp_path / "state.db"), request.param)


def test_only_acknowledged_items_get_rows_with_the_hash_of_what_was_sent(hook):
    table = StateTable(hook, "sync_state", "dag.task", SPEC)
    items = [{"id": "1", "Member_Status": "Active"}, {"id": "2", "Member_Status": "Sent"}]
    table.record(Batch(P, items, [0, 1], "k"), [ok("1"), ItemResult.failure("2", "INVALID_DATA", "no")])
    table.flush()
    assert table.load() == {(P, "1"): fields_hash(canonical_json({"Member_Status": "Active"}))}
    items[0]["Member_Status"] = "Sent"
    table.record(Batch(P, items[:1], [0], "k2"), [ok("1", "updated")])  # an upsert of the same row
    table.close()
    again = StateTable(hook, "sync_state", "dag.task", SPEC)
    assert again.load() == {(P, "1"): fields_hash(canonical_json({"Member_Status": "Sent"}))}


def test_a_delink_forgets_the_row_at_once_and_a_failed_one_keeps_it(hook):
    table = StateTable(hook, "sync_state", "dag.task", SPEC)
    table.record(
        Batch(P, [{"id": "1"}, {"id": "2"}, {"id": "3"}], [0, 1, 2], "k"), [ok("1"), ok("2"), ok("3")]
    )
    table.flush()
    gone = [ok("1", "removed"), ok("2", "removed"), ItemResult.failure("3", "INTERNAL_ERROR", "try later")]
    table.record(Batch(P, [{"id": "1"}, {"id": "2"}, {"id": "3"}], [-1, -1, -1], "d", DELINK), gone)
    # no flush: a delink is written when it is recorded
    assert set(StateTable(hook, "sync_state", "dag.task", SPEC).load()) == {(P, "3")}


def test_rows_are_keyed_by_owner_and_another_owner_s_parents_are_refused(hook):
    mine = StateTable(hook, "sync_state", "dag_a.t", SPEC)
    mine.record(Batch(P, [{"id": "1"}], [0], "k"), [ok("1")])
    mine.close()
    theirs = StateTable(hook, "sync_state", "dag_b.t", SPEC)
    assert theirs.load() == {}
    theirs.check_owners(["100000000000000009"])  # other parents: fine
    with pytest.raises(StateTableConflict, match=r"dag_a\.t \(1 parent\(s\)\)"):
        theirs.check_owners([P])
