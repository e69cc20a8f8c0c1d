"""Planning: group by parent, last duplicate wins, split to <= batch_size, minimum calls, and the
same batches whether the items were held in memory or spilled to disk."""

from __future__ import annotations

import math
import random

import pytest

from airflow_provider_zohorel.zoho.planning import InvalidInput, build_plan
from airflow_provider_zohorel.zoho.relation_catalog import resolve_relation
from airflow_provider_zohorel.zoho.values import InvalidValue

CAMPAIGN_LEADS = resolve_relation("Leads", "Campaigns")
PRICE_BOOK = resolve_relation("Price_Books", "Products")


def rows(n_parents: int, per_parent: int) -> list[dict]:
    return [
        {"record_id": str(10**17 + p), "id": str(2 * 10**17 + i), "Member_Status": "Active"}
        for p in range(n_parents)
        for i in range(per_parent)
    ]


class NamedRows:
    """A RowSource: rows, and how to name one in a message."""

    def __init__(self, rows: list, pattern: str) -> None:
        self.rows, self.pattern = rows, pattern

    def __iter__(self):
        return iter(self.rows)

    def row_name(self, index: int) -> str:
        return self.pattern.format(index)


def test_a_plain_list_s_rows_are_named_by_position():
    with pytest.raises(InvalidInput, match=r"row 1: no 'record_id'"):
        build_plan([{"record_id": "1", "id": "2"}, {"id": "3"}], spec=CAMPAIGN_LEADS)


def minimum_calls(counts: list[int], batch_size: int) -> int:
    return sum(math.ceil(n / batch_size) for n in counts)


@pytest.mark.parametrize(
    ("counts", "batch_size"),
    [([1], 100), ([100], 100), ([101], 100), ([250, 1, 99, 100], 100), ([7] * 30, 3), ([50_000], 100)],
)
def test_batches_are_the_minimum_for_the_grouping(counts, batch_size):
    data = [
        {"record_id": str(10**17 + p), "id": str(2 * 10**17 + i)}
        for p, n in enumerate(counts)
        for i in range(n)
    ]
    random.Random(7).shuffle(data)
    plan = build_plan(data, spec=resolve_relation("Leads", "Campaigns"), batch_size=batch_size)
    batches = list(plan.batches())
    assert plan.calls == len(batches) == minimum_calls(counts, batch_size)
    assert all(1 <= len(b.items) <= batch_size for b in batches)
    assert sum(len(b.items) for b in batches) == plan.items == sum(counts)
    assert plan.parents == len(counts)
    for parent_batches in _by_parent(batches).values():  # one parent's batches are all full but its last
        assert all(len(b.items) == batch_size for b in parent_batches[:-1])


def _by_parent(batches):
    out: dict[str, list] = {}
    for b in batches:
        out.setdefault(b.parent_id, []).append(b)
    return out


def test_duplicates_are_dropped_last_one_wins_and_counted():
    data = [
        {"record_id": "100000000000000001", "id": "200000000000000001", "Member_Status": "Planning"},
        {"record_id": "100000000000000001", "id": "200000000000000002", "Member_Status": "Active"},
        {"record_id": "100000000000000001", "id": 200000000000000001, "Member_Status": "Active"},
        {"record_id": "100000000000000002", "id": "200000000000000001", "Member_Status": "Sent"},
    ]
    plan = build_plan(data, spec=CAMPAIGN_LEADS)
    batches = list(plan.batches())
    assert (plan.rows, plan.items, plan.duplicates, plan.parents, plan.calls) == (4, 3, 1, 2, 2)
    first = batches[0]
    assert first.items == [
        {"id": "200000000000000002", "Member_Status": "Active"},
        {"id": "200000000000000001", "Member_Status": "Active"},
    ]
    assert first.row_indexes == [1, 2]  # where each item came from: the last occurrence


def test_spilled_plan_equals_in_memory_plan():
    data = rows(40, 37)
    for i in range(0, len(data), 9):  # duplicates with a changed field, late in the input
        data.append({**data[i], "Member_Status": "Opened"})
    random.Random(3).shuffle(data)
    memory = build_plan(data, spec=CAMPAIGN_LEADS, batch_size=10)
    spilled = build_plan(data, spec=CAMPAIGN_LEADS, batch_size=10, spill_threshold=100)
    try:
        assert memory.describe() == spilled.describe()
        assert [(b.parent_id, b.items, b.key) for b in memory.batches()] == [
            (b.parent_id, b.items, b.key) for b in spilled.batches()
        ]
    finally:
        spilled.close()


def test_batch_keys_depend_on_content_only():
    a = list(build_plan(rows(3, 5), spec=CAMPAIGN_LEADS).batches())
    # The same content in new objects, each row's keys in another order: the same keys.
    b = list(build_plan([dict(reversed(r.items())) for r in rows(3, 5)], spec=CAMPAIGN_LEADS).batches())
    changed = rows(3, 5)
    changed[0]["Member_Status"] = "Sent"
    c = list(build_plan(changed, spec=CAMPAIGN_LEADS).batches())
    assert [x.key for x in a] == [x.key for x in b]
    assert a[0].key != c[0].key
    assert a[1].key == c[1].key


def test_record_id_applies_to_every_row_and_conflicts_are_refused():
    plan = build_plan([{"id": "1"}, {"id": "2", "record_id": "9"}], spec=CAMPAIGN_LEADS, record_id=9)
    assert [b.parent_id for b in plan.batches()] == ["9"]
    with pytest.raises(InvalidInput, match="'record_id' is 8 but record_id=9"):
        build_plan([{"id": "1", "record_id": "8"}], spec=CAMPAIGN_LEADS, record_id="9")


def test_invalid_rows_are_all_reported_before_anything_is_planned():
    data = rows(1, 30)
    data[3]["id"] = 3.652397000001829e18
    data[7].pop("record_id")
    data[11]["Member_Status"] = {"nested": True}
    data[12]["Unknown Field"] = 1  # an unknown field is sent, but this cannot be a Zoho field
    with pytest.raises(InvalidInput) as err:
        build_plan(NamedRows(data, "records[{}]"), spec=CAMPAIGN_LEADS)
    text = str(err.value)
    assert err.value.invalid_rows == 4
    assert err.value.total_rows == 30
    assert "4 of 30 input rows are invalid; nothing was sent" in text
    assert "records[3]: 'id': 3.652397000001829e+18 is a float" in text
    assert "records[7]: no 'record_id'" in text
    assert "records[11]: field 'Member_Status' must be text" in text
    assert "records[12]: 'Unknown Field' is not a valid Zoho field API name" in text


def test_error_list_is_capped_but_counts_every_invalid_row():
    with pytest.raises(InvalidInput) as err:
        build_plan([{"record_id": "1"}] * 500, spec=CAMPAIGN_LEADS)
    assert err.value.invalid_rows == 500
    assert len(err.value.errors) == 20
    assert "... and 480 more" in str(err.value)


@pytest.mark.parametrize("batch_size", [0, 101, -1, 1.5, True, "100"])
def test_batch_size_outside_1_to_100_is_refused(batch_size):
    with pytest.raises(InvalidValue, match="batch_size must be an integer from 1 to 100"):
        build_plan([], spec=CAMPAIGN_LEADS, batch_size=batch_size)


def test_empty_input_plans_nothing():
    plan = build_plan([], spec=CAMPAIGN_LEADS)
    assert (plan.items, plan.calls, list(plan.batches())) == (0, 0, [])


def test_non_dict_rows_are_named():
    with pytest.raises(InvalidInput, match="row 1: expected a dict"):
        build_plan([{"record_id": "1", "id": "2"}, ["1", "2"]], spec=CAMPAIGN_LEADS)


def test_mandatory_list_price_for_price_books():
    with pytest.raises(InvalidInput, match="requires list_price"):
        build_plan([{"record_id": "1", "id": "2"}], spec=PRICE_BOOK)
    plan = build_plan([{"record_id": "1", "id": "2", "list_price": 50.56}], spec=PRICE_BOOK)
    assert next(plan.batches()).items == [{"id": "2", "list_price": 50.56}]


def test_keys_match_case_insensitively_like_sql_engines_fold_them():
    postgres = [{"record_id": "1", "id": "2", "member_status": "Active"}]
    snowflake = [{"RECORD_ID": "1", "ID": "3", "MEMBER_STATUS": "Sent"}]
    assert next(build_plan(postgres, spec=CAMPAIGN_LEADS).batches()).items == [
        {"id": "2", "Member_Status": "Active"}
    ]
    assert next(build_plan(snowflake, spec=CAMPAIGN_LEADS).batches()).items == [
        {"id": "3", "Member_Status": "Sent"}
    ]


def test_keys_that_clash_after_case_folding_are_refused():
    with pytest.raises(InvalidInput, match="differ only in case and clash: Member_Status"):
        build_plan(
            [{"record_id": "1", "id": "2", "member_status": "a", "MEMBER_STATUS": "b"}], spec=CAMPAIGN_LEADS
        )


def test_column_names_in_messages_cannot_forge_log_lines():
    with pytest.raises(InvalidInput) as err:
        build_plan([{"id": "2", "evil\nINFO - all good": 1}], spec=CAMPAIGN_LEADS)
    assert "evil\\nINFO" in str(err.value)
    assert "\nINFO" not in str(err.value)


def test_null_fields_omit_leaves_nulls_out_and_send_keeps_them():
    rows = [{"record_id": "100000000000000001", "id": "100000000000000002", "Member_Status": None}]
    spec = resolve_relation("Campaigns", "Leads")
    assert next(build_plan(rows, spec=spec).batches()).items == [
        {"id": "100000000000000002", "Member_Status": None}
    ]
    omitted = build_plan(rows, spec=spec, null_fields="omit")
    assert next(omitted.batches()).items == [{"id": "100000000000000002"}]


@pytest.mark.parametrize("spill_threshold", [10**6, 10], ids=["memory", "spilled"])
def test_keep_only_drops_what_zoho_holds_and_recounts_the_calls(spill_threshold):
    spec = resolve_relation("Campaigns", "Leads")
    rows = [
        {"record_id": str(10**17 + p), "id": str(2 * 10**17 + i), "Member_Status": "Sent"}
        for p in range(3)
        for i in range(150)
    ]
    plan = build_plan(rows, spec=spec, spill_threshold=spill_threshold)
    assert (plan.items, plan.calls) == (450, 6)
    plan.keep_only(lambda parent, related, fields: parent != str(10**17) and int(related[-3:]) < 120)
    assert (plan.items, plan.calls, plan.unchanged) == (240, 4, 210)
    assert sum(len(b.items) for b in plan.batches()) == 240
    assert {b.parent_id for b in plan.batches()} == {str(10**17 + 1), str(10**17 + 2)}
    plan.close()
