"""Malformed input, table-driven: each case ends with a clear error naming the row and the field
(or a documented normalisation), and Zoho is never called for invalid input (not even for a
token). The whole input is validated before the first call, so bad rows never leave half the
work done.
"""

from __future__ import annotations

import json
import math
import sqlite3
from decimal import Decimal

import pytest

from airflow_provider_zohorel.hooks.zoho_crm import ZohoCRMHook
from airflow_provider_zohorel.zoho.values import InvalidValue
from tests.reliability.accounting import assert_accounted
from tests.reliability.rel_support import execute_operator, memberships, seed_world

pytestmark = pytest.mark.integration

C = "3652397000000327001"  # demo campaign
L = "3652397000001829002"  # demo lead
L2 = "3652397000001829003"


def row(**fields):
    return {"record_id": C, "id": L, "Member_Status": "Active", **fields}


#: (case, operator arguments, fragments the error must contain)
INVALID = [
    ("parent id missing", {"records": [{"id": L}]}, ["records[0]", "no 'record_id'", "columns: 'id'"]),
    ("parent id empty", {"records": [row(record_id="")]}, ["records[0]", "'record_id'", "empty"]),
    ("related id missing", {"records": [{"record_id": C}]}, ["records[0]", "no 'id'"]),
    ("related id blank", {"records": [row(id="   ")]}, ["records[0]", "'id'", "empty"]),
    ("id as float", {"records": [row(id=3652397000001829002.0)]}, ["records[0]", "'id'", "float"]),
    ("id NaN", {"records": [row(id=math.nan)]}, ["records[0]", "'id'", "nan"]),
    ("id None", {"records": [row(id=None)]}, ["records[0]", "'id'", "None"]),
    ("id nested object", {"records": [row(id={"id": L})]}, ["records[0]", "'id'", "dict"]),
    ("id boolean", {"records": [row(id=True)]}, ["records[0]", "'id'", "True"]),
    ("id not digits", {"records": [row(id="36523970000018290O2")]}, ["records[0]", "'id'", "digits only"]),
    ("id negative", {"records": [row(id=-5)]}, ["records[0]", "'id'", "not a Zoho record id"]),
    ("id fractional Decimal", {"records": [row(id=Decimal("1.5"))]}, ["records[0]", "'id'", "whole-number"]),
    (
        "field name that cannot be a Zoho field",
        {"records": [row(**{"Foo Bar": 1})]},
        ["records[0]", "'Foo Bar'", "not a valid Zoho field API name"],
    ),
    (
        "field of the wrong type",
        {"records": [row(Member_Status=7)]},
        ["records[0]", "'Member_Status'", "text"],
    ),
    ("field nested object", {"records": [row(Member_Status={"a": 1})]}, ["records[0]", "'Member_Status'"]),
    (
        "very long field value",
        {"records": [row(Member_Status="x" * 32_001)]},
        ["records[0]", "32001", "32000"],
    ),
    (
        "bad list_price",
        {
            "module": "Products",
            "related_list": "Price_Books",
            "records": [{"record_id": "1", "id": "2", "list_price": "cheap"}],
        },
        ["records[0]", "'list_price'", "number"],
    ),
    (
        "list_price NaN",
        {
            "module": "Products",
            "related_list": "Price_Books",
            "records": [{"record_id": "1", "id": "2", "list_price": math.nan}],
        },
        ["records[0]", "'list_price'", "finite"],
    ),
    (
        "list_price missing where mandatory",
        {"module": "Products", "related_list": "Price_Books", "records": [{"record_id": "1", "id": "2"}]},
        ["records[0]", "list_price"],
    ),
    ("row not a dict", {"records": [row(), "3652397000001829003"]}, ["records[1]", "str"]),
    ("records a single dict", {"records": row()}, ["single dict"]),
    ("records a JSON string that is not JSON", {"records": '[{"record_id": "1", "id": '}, ["not JSON"]),
    ("records a number", {"records": 42}, ["records must be a list", "int"]),
    (
        "list name that cannot be an API name",
        {"related_list": "Lead List", "records": [row()]},
        ["'Lead List' is not a Zoho API name"],
    ),
    (
        "one bad row among many",
        {"records": [*memberships([C], [L] * 300), row(id="x1"), *memberships([C], [L2] * 200)]},
        ["1 of 501 input rows are invalid", "records[300]", "'id'"],
    ),
    (
        "many bad rows",
        {"records": [row(id=f"bad{i}") for i in range(50)]},
        ["50 of 50 input rows are invalid", "records[0]", "records[19]", "and 30 more"],
    ),
]


#: Names that can be API names are sent (related lists are open: custom lists, Contact_Roles...);
#: when Zoho refuses one, the first call stops the run, with what the catalog knows about it.
REFUSED_BY_ZOHO = [
    (
        "a list the module does not have",
        {"module": "Campaigns", "related_list": "Products"},
        ["INVALID_DATA", "settings/related_lists?module=Campaigns", "validate_related_list=True"],
    ),
    ("unknown module", {"module": "Widgets"}, ["INVALID_MODULE", "Specify a valid module API name"]),
    (
        "Deals to Contacts",
        {"module": "Deals", "related_list": "Contacts"},
        ["INVALID_DATA", "Hint: a deal's contacts are its Contact_Roles list"],
    ),
    ("Appointments by its pre-v3 name", {"module": "Appointments"}, ["INVALID_MODULE", "'Appointments__s'"]),
]


@pytest.mark.parametrize(
    ("case", "kwargs", "fragments"), REFUSED_BY_ZOHO, ids=[c[0] for c in REFUSED_BY_ZOHO]
)
def test_a_name_zoho_refuses_stops_the_run_at_its_first_call_with_a_hint(zoho, case, kwargs, fragments):
    module = kwargs["module"]
    parent = (
        C
        if module in ("Campaigns", "Widgets", "Appointments")
        else zoho.admin.add_records(module, count=1)[0]
    )
    records = [{"record_id": parent, "id": related} for related in (L, L2)]
    outcome = execute_operator(records=records, **kwargs)
    assert outcome.state == "failed, no retry", f"{case}: {outcome.error!r}"
    message = str(outcome.error)
    for fragment in fragments:
        assert fragment in message, f"{case}: {fragment!r} not in {message[:500]!r}"
    assert zoho.admin.counters()["crm_requests"] == 1, case
    assert (outcome.summary["total"], outcome.summary["failed"], outcome.summary["succeeded"]) == (2, 2, 0)


@pytest.mark.parametrize(("case", "kwargs", "fragments"), INVALID, ids=[c[0] for c in INVALID])
def test_invalid_input_fails_clearly_without_calling_zoho(zoho, case, kwargs, fragments):
    outcome = execute_operator(**kwargs)
    assert outcome.state == "failed, no retry", f"{case}: {outcome.error!r}"
    message = str(outcome.error)
    for fragment in fragments:
        assert fragment in message, f"{case}: {fragment!r} not in {message[:500]!r}"
    assert len(message) < 5000, case
    counters = zoho.admin.counters()
    assert (counters["crm_requests"], counters["tokens_minted"]) == (0, 0), case
    assert outcome.summary is not None  # pushed at every exit, refusals included
    assert outcome.summary["outcome"] == "fail"
    assert outcome.summary["succeeded"] == 0


#: Inputs that are normalised, exactly and as documented, rather than refused.
NORMALISED = [
    ("id above 2**53 as int", {"record_id": int(C), "id": int(L), "Member_Status": "Active"}, L, "Active"),
    ("id as string with spaces", {"record_id": f" {C} ", "id": f"{L}\t", "Member_Status": "A"}, L, "A"),
    ("id as integral Decimal", {"record_id": C, "id": Decimal(L), "Member_Status": "A"}, L, "A"),
    ("unicode field value", row(Member_Status="Répondu ✓ 日本語 🎉"), L, "Répondu ✓ 日本語 🎉"),
    ("long field value (32,000 chars)", row(Member_Status="é" * 32_000), L, "é" * 32_000),
    ("null field value", row(Member_Status=None), L, None),
]


@pytest.mark.parametrize(("case", "record", "lead", "status"), NORMALISED, ids=[c[0] for c in NORMALISED])
def test_documented_normalisations_relate_exactly(zoho, case, record, lead, status):
    outcome = execute_operator(records=[record])
    assert outcome.state == "success", f"{case}: {outcome.error!r}"
    held = {r["id"]: r["fields"] for r in zoho.admin.relations_of(C, "Leads")}
    assert lead in held, case
    assert held[lead].get("Member_Status") == status, case
    assert_accounted(
        [{"record_id": C, "id": lead, "Member_Status": status}], outcome.summary, zoho.admin, scenario=case
    )


def test_empty_input_is_a_successful_no_op(zoho):
    for records in ([], "[]", ""):
        outcome = execute_operator(records=records)
        assert outcome.state == "success"
        assert outcome.summary["total"] == 0
    assert zoho.admin.counters()["requests"] == {}  # not even a token


@pytest.fixture
def warehouse(tmp_path, monkeypatch):
    """A SQLite ``warehouse`` connection with a small members table."""
    path = tmp_path / "wh.db"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE members (campaign TEXT, lead TEXT, status TEXT)")
        db.executemany("INSERT INTO members VALUES (?, ?, ?)", [(C, L, "Active"), (C, L2, "Sent")])
    monkeypatch.setenv("AIRFLOW_CONN_WAREHOUSE", json.dumps({"conn_type": "sqlite", "host": str(path)}))
    return "warehouse"


def test_a_query_returning_no_rows_is_a_successful_no_op(zoho, warehouse):
    outcome = execute_operator(
        sql="SELECT campaign AS record_id, lead AS id FROM members WHERE 1 = 0", sql_conn_id=warehouse
    )
    assert outcome.state == "success"
    assert outcome.summary["total"] == 0
    assert zoho.admin.counters()["requests"] == {}


def test_wrong_column_names_name_the_row_and_the_columns(zoho, warehouse):
    outcome = execute_operator(sql="SELECT campaign, lead, status FROM members", sql_conn_id=warehouse)
    assert outcome.state == "failed, no retry"
    assert "sql row 0: no 'record_id'" in str(outcome.error)
    assert "columns: 'campaign', 'lead', 'status'" in str(outcome.error)
    assert zoho.admin.counters()["requests"] == {}


def test_the_right_columns_relate(zoho, warehouse):
    sql = "SELECT campaign AS record_id, lead AS id, status AS Member_Status FROM members"
    outcome = execute_operator(sql=sql, sql_conn_id=warehouse)
    records = [row(), {"record_id": C, "id": L2, "Member_Status": "Sent"}]
    assert_accounted(records, outcome.summary, zoho.admin, scenario="sql input")


@pytest.mark.parametrize(
    ("records", "fragment"),
    [
        ([{"id": str(3652397000001829003 + i)} for i in range(101)], "at most 100"),
        ([{"id": 3652397000001829003.0}], "float"),
        ([{"id": L, "Bo gus": 1}], "'Bo gus'"),
        ([], "empty"),
    ],
    ids=["101 items", "float id", "unknown field", "no items"],
)
def test_the_hook_refuses_what_zoho_would_refuse(zoho, records, fragment):
    hook = ZohoCRMHook()
    with pytest.raises(InvalidValue, match=fragment):
        hook.update_related_records("Campaigns", C, "Leads", records)
    assert zoho.admin.counters()["requests"] == {}


def test_the_hook_refuses_a_name_that_cannot_be_an_api_name(zoho):
    from airflow_provider_zohorel.zoho.relation_catalog import UnsupportedRelation

    with pytest.raises(UnsupportedRelation, match="'Pro ducts' is not a Zoho API name"):
        ZohoCRMHook().update_related_records("Campaigns", C, "Pro ducts", [{"id": L}])
    assert zoho.admin.counters()["requests"] == {}


@pytest.mark.e2e
def test_bad_input_in_a_dag_run_fails_the_task_without_retries(zoho, run_dag):
    """In a real DAG run (retries=2): the task fails once, the summary says why, Zoho saw nothing."""
    result = run_dag(
        "rel_input", conf={"module": "Campaigns", "related_list": "Leads", "records": [row(), row(id=1.5)]}
    )
    assert result.task_state() == "failed"
    assert result.tasks["relate"]["try_number"] == 1
    summary = result.summary()
    assert summary["outcome"] == "fail"
    assert summary["by_code"] == {"INVALID_INPUT": 1, "NOT_SENT": 1}
    assert any("records[1]" in e and "float" in e for e in summary["input_errors"])
    assert zoho.admin.counters()["requests"] == {}


def _generated(n: int, campaigns: list[str]):
    return [
        {
            "record_id": campaigns[i % len(campaigns)],
            "id": str(3652397000091000001 + i),
            "Member_Status": "Sent",
        }
        for i in range(n)
    ]


def test_a_large_input_is_planned_without_calling_zoho(zoho):
    """120,000 items (past the 50,000 at which planning spills to disk), dry run."""
    outcome = execute_operator(
        records=_generated(120_000, [str(3652397000090000001 + c) for c in range(7)]), dry_run=True
    )
    assert outcome.state == "success"
    assert outcome.summary["plan"]["items"] == 120_000
    assert outcome.summary["plan"]["calls"] == sum(-(-len(range(c, 120_000, 7)) // 100) for c in range(7))
    assert zoho.admin.counters()["requests"] == {}


@pytest.mark.slow
def test_a_million_items_complete(zoho):
    """1,000,000 items, dry run: it completes (planning streams through a temporary SQLite file)."""
    campaigns = [str(3652397000090000001 + c) for c in range(100)]
    outcome = execute_operator(records=_generated(1_000_000, campaigns), dry_run=True)
    assert outcome.state == "success"
    assert outcome.summary["plan"] == {
        "relation": "Campaigns -> Leads",
        "rows": 1_000_000,
        "items": 1_000_000,
        "duplicates_dropped": 0,
        "parents": 100,
        "calls": 10_000,
        "batch_size": 100,
        "credits": 10_000,
        "unchanged": 0,  # no state table
        "delinks": None,  # upsert mode
    }
    assert zoho.admin.counters()["requests"] == {}


def test_a_large_input_is_related_in_full(zoho):
    """20,000 real relations over 20 campaigns: every one held, counted once."""
    world = seed_world(zoho.admin, campaigns=20, leads=1000)
    records = memberships(world.campaigns, world.leads)
    outcome = execute_operator(records=records, max_concurrency=10)
    assert_accounted(records, outcome.summary, zoho.admin, scenario="20,000 items")
    assert outcome.summary["api_calls"] == 200
