"""The operator's inputs: each kind is one RowSource (its rows, and how to name one), refuses what
is not rows with a message that says what it got, and reads tables row by row."""

from __future__ import annotations

import json
import sqlite3

import pytest

from airflow_provider_zohorel.operators import inputs
from airflow_provider_zohorel.operators.inputs import RecordsInput, SqlInput
from airflow_provider_zohorel.zoho.planning import RowSource
from airflow_provider_zohorel.zoho.values import InvalidValue

ROWS = [{"record_id": "1", "id": "2"}, {"record_id": "1", "id": "3", "Member_Status": "Sent"}]


def test_both_inputs_are_row_sources_that_name_their_rows():
    records = RecordsInput(ROWS)
    sql = SqlInput("warehouse", "SELECT 1")
    assert isinstance(records, RowSource)
    assert isinstance(sql, RowSource)
    assert (records.row_name(3), sql.row_name(3)) == ("records[3]", "sql row 3")


@pytest.mark.parametrize(
    "records",
    [ROWS, json.dumps(ROWS), json.dumps(ROWS).encode(), f"  {json.dumps(ROWS)}\n", tuple(ROWS)],
    ids=["list", "json", "bytes", "json with spaces", "tuple"],
)
def test_a_list_or_json_array_of_dicts_is_read_as_is(records):
    assert list(RecordsInput(records)) == ROWS


@pytest.mark.parametrize("records", ["", "  ", "[]", []])
def test_an_empty_input_has_no_rows(records):
    assert list(RecordsInput(records)) == []


@pytest.mark.parametrize("records", [None, "None", " None ", "null"])
def test_records_that_rendered_to_none_say_the_upstream_returned_nothing(records):
    with pytest.raises(InvalidValue, match="records rendered to None: the upstream task") as err:
        RecordsInput(records)
    assert "airflow tasks test" in str(err.value)
    assert "return an empty list" in str(err.value)


@pytest.mark.parametrize(
    ("records", "fragment"),
    [
        ({"record_id": "1", "id": "2"}, "records is a single dict"),
        (42, "records must be a list of dicts, got int"),
        ('[{"record_id": "1", "id": ', "records is a string but not JSON"),
        ('{"record_id": "1"}', "records is a single dict"),
    ],
)
def test_what_is_not_rows_is_refused_with_what_it_is(records, fragment):
    with pytest.raises(InvalidValue, match=fragment.replace("[", r"\[")):
        RecordsInput(records)


class Frame:
    """A table object as pandas shapes one: ``to_dict("records")``, ``iloc`` slices, ``len``; and
    iterating it gives its column names, the way a DataFrame iterates."""

    def __init__(self, rows, *, sliceable=True):
        self.rows = rows
        self.slices: list[tuple[int, int]] = []
        if sliceable:
            self.iloc = _ILoc(self)

    def __len__(self):
        return len(self.rows)

    def __iter__(self):
        return iter(self.rows[0] if self.rows else [])

    def to_dict(self, orient):
        assert orient == "records"
        return [dict(r) for r in self.rows]


class _ILoc:
    def __init__(self, frame):
        self.frame = frame

    def __getitem__(self, index: slice):
        self.frame.slices.append((index.start, index.stop))
        return Frame(self.frame.rows[index], sliceable=False)


def test_a_table_object_is_read_row_by_row_in_chunks(monkeypatch):
    monkeypatch.setattr(inputs, "FRAME_CHUNK", 2)
    rows = [{"record_id": "1", "id": str(i)} for i in range(5)]
    frame = Frame(rows)
    assert list(RecordsInput(frame)) == rows  # not its column names
    assert frame.slices == [(0, 2), (2, 4), (4, 6)]


def test_a_table_object_without_positional_slices_is_read_whole():
    frame = Frame(ROWS, sliceable=False)
    assert list(RecordsInput(frame)) == ROWS


def test_a_table_object_whose_to_dict_gives_no_rows_is_refused():
    class Columns:
        def to_dict(self, orient):
            return {"id": ["2", "3"]}

    with pytest.raises(InvalidValue, match=r"records is a Columns whose to_dict\('records'\) gave a dict"):
        list(RecordsInput(Columns()))


def test_a_pandas_dataframe_is_read_row_by_row():
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame(ROWS)
    rows = list(RecordsInput(frame))
    assert [(r["record_id"], r["id"]) for r in rows] == [("1", "2"), ("1", "3")]


# -- SQL ------------------------------------------------------------------------------------------


@pytest.fixture
def warehouse(tmp_path, monkeypatch):
    """A SQLite ``warehouse`` connection holding 7 members."""
    path = tmp_path / "wh.db"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE members (campaign TEXT, lead TEXT, status TEXT)")
        db.executemany("INSERT INTO members VALUES ('1', ?, 'Sent')", [(str(10 + i),) for i in range(7)])
    monkeypatch.setenv("AIRFLOW_CONN_WAREHOUSE", json.dumps({"conn_type": "sqlite", "host": str(path)}))
    return "warehouse"


def test_a_query_streams_every_row_as_a_dict_across_fetches(warehouse):
    sql = "SELECT campaign AS record_id, lead AS id, status FROM members WHERE lead > ? ORDER BY lead"
    rows = list(SqlInput(warehouse, sql, parameters=("11",), fetch_size=2))
    assert rows == [{"record_id": "1", "id": str(i), "status": "Sent"} for i in range(12, 17)]


def test_a_statement_without_rows_is_refused(warehouse):
    with pytest.raises(InvalidValue, match="returned no result set"):
        list(SqlInput(warehouse, "UPDATE members SET status = 'x' WHERE 1 = 0"))


def test_duplicate_column_names_are_refused(warehouse):
    with pytest.raises(InvalidValue, match="duplicate column names"):
        list(SqlInput(warehouse, "SELECT lead, lead FROM members"))


def test_a_connection_that_is_not_sql_is_refused(monkeypatch):
    monkeypatch.setenv("AIRFLOW_CONN_NOT_SQL", json.dumps({"conn_type": "zoho_crm", "extra": {}}))
    with pytest.raises(InvalidValue, match="'not_sql' is a ZohoCRMHook, not a SQL"):
        list(SqlInput("not_sql", "SELECT 1"))


def test_postgres_drivers_get_a_server_side_cursor():
    class Connection:
        def cursor(self, name=None):
            return name

    Connection.__module__ = "psycopg2.extensions"
    assert inputs._server_side_cursor(Connection()) == "zohorel_stream"
    Connection.__module__ = "sqlite3"
    assert inputs._server_side_cursor(Connection()) is None
