"""The failed-items table: plain table names only, created if missing, written in chunks as the run
goes, every failed item with the context to act on it (here on a real SQLite DbApiHook)."""

from __future__ import annotations

import json

import pytest

from airflow_provider_zohorel.operators.failed_items import (
    COLUMNS,
    FailedItemsTable,
    check_table_name,
    latest_try_sql,
    read_latest_failed_items,
)

CONTEXT = {
    "dag_id": "d",
    "task_id": "t",
    "run_id": "r",
    "try_number": 2,
    "module": "Campaigns",
    "related_list": "Leads",
}


@pytest.mark.parametrize("name", ["failed", "zoho.failed_items", "db.zoho.failed", "_t$1"])
def test_plain_table_names_are_accepted(name):
    assert check_table_name(name) == name


@pytest.mark.parametrize("name", ["", "a;b", "a b", "1table", "a.b.c.d", "t--", 'a"b', None, 7])
def test_anything_else_is_refused_before_it_reaches_sql(name):
    with pytest.raises(ValueError, match="is not a plain table name"):
        check_table_name(name)


@pytest.fixture
def db(tmp_path, monkeypatch):
    from airflow.providers.sqlite.hooks.sqlite import SqliteHook

    path = tmp_path / "failed.db"
    monkeypatch.setenv("AIRFLOW_CONN_FAILED_DB", json.dumps({"conn_type": "sqlite", "host": str(path)}))
    return SqliteHook(sqlite_conn_id="failed_db")


def failure(i: int, message: str = "no such lead") -> dict:
    return {
        "record_id": "100",
        "id": str(i),
        "code": "INVALID_DATA",
        "message": message,
        "row": f"records[{i}]",
    }


def test_failed_items_are_written_in_chunks_with_their_context(db):
    table = FailedItemsTable(db, "zoho_failed", CONTEXT, chunk=3)
    table.add([failure(0), failure(1)])
    assert (table.written, db.get_records("SELECT count(*) FROM zoho_failed")) == (0, [(0,)])
    table.add([failure(2), failure(3, "x" * 5000)])  # 4 buffered >= 3: written
    assert table.written == 4
    table.add([failure(4)])
    table.flush()
    assert table.written == 5
    rows = db.get_records(f"SELECT {', '.join(COLUMNS)} FROM zoho_failed ORDER BY related_id")
    assert [r[:10] for r in rows[:1]] == [
        ("d", "t", "r", 2, "Campaigns", "Leads", "100", "0", "INVALID_DATA", "no such lead")
    ]
    assert [r[10] for r in rows] == [f"records[{i}]" for i in range(5)]
    assert len(rows[3][9]) == 1000  # messages are cut to the column's size
    assert all(r[11] for r in rows)  # failed_at


def test_the_table_is_created_once_and_kept_across_tries(db):
    for try_number, item in ((1, failure(1)), (2, failure(2))):
        table = FailedItemsTable(db, "zoho_failed", {**CONTEXT, "try_number": try_number})
        table.add([item])
        table.flush()
    assert db.get_records("SELECT related_id, try_number FROM zoho_failed ORDER BY related_id") == [
        ("1", 1),
        ("2", 2),
    ]


def test_a_bad_table_name_is_refused_before_any_sql(db):
    class NoSql:
        def run(self, sql):
            raise AssertionError(f"ran {sql!r}")

    with pytest.raises(ValueError, match="plain table name"):
        FailedItemsTable(NoSql(), "x; DROP TABLE y", CONTEXT)


def test_failed_at_is_a_timestamp_column_holding_utc(db):
    import datetime as dt

    table = FailedItemsTable(db, "zoho_failed", CONTEXT)
    table.add([failure(1)])
    table.flush()
    types = {row[1]: row[2] for row in db.get_records("PRAGMA table_info(zoho_failed)")}
    assert types["failed_at"] == "TIMESTAMP"
    [(failed_at,)] = db.get_records("SELECT failed_at FROM zoho_failed")
    written = dt.datetime.fromisoformat(failed_at)
    assert written.tzinfo is None  # UTC, as a TIMESTAMP column stores it everywhere
    assert abs(dt.datetime.now(dt.timezone.utc).replace(tzinfo=None) - written) < dt.timedelta(minutes=5)
    # SQLite's own date functions read it (it sorts and compares as a time)
    assert db.get_records("SELECT julianday(failed_at) IS NOT NULL FROM zoho_failed") == [(1,)]


def test_only_the_latest_try_of_each_task_run_is_read(db):
    """With resume, the latest try re-sent only what was still failing: its rows are what is left."""
    for context, items in (
        ({"try_number": 1}, [failure(1), failure(2), failure(3)]),
        ({"try_number": 2}, [failure(2)]),
        ({"try_number": 1, "run_id": "other"}, [failure(9)]),
    ):
        table = FailedItemsTable(db, "zoho_failed", {**CONTEXT, **context})
        table.add(items)
        table.flush()
    rows = read_latest_failed_items(db, "zoho_failed", dag_id="d", task_id="t", run_id="r")
    assert [(r["related_id"], r["try_number"]) for r in rows] == [("2", 2)]
    assert set(rows[0]) == set(COLUMNS)
    every_run = db.get_records(f"SELECT f.run_id, f.related_id FROM ({latest_try_sql('zoho_failed')}) f")
    assert sorted(every_run) == [("other", "9"), ("r", "2")]


def test_the_latest_try_query_takes_only_a_plain_table_name():
    with pytest.raises(ValueError, match="is not a plain table name"):
        latest_try_sql("t; DROP TABLE x")
