"""Per-item classification whatever the HTTP status, under v2 (200/202) and v3+ (200/207/400)."""

from __future__ import annotations

import pytest

from airflow_provider_zohorel.zoho.client import ApiResponse
from airflow_provider_zohorel.zoho.related_records_api import RelatedRecordsApi

IDS = ["111111111111111111", "222222222222222222"]


def ok(rid, message="relation added"):
    return {"code": "SUCCESS", "details": {"id": rid}, "message": message, "status": "success"}


def bad(rid, code="INVALID_DATA", message="the related id given seems to be invalid"):
    return {"code": code, "details": {"id": rid}, "message": message, "status": "error"}


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (202, {"data": [ok(IDS[0]), bad(IDS[1])]}),  # v2 partial
        (207, {"data": [ok(IDS[0]), bad(IDS[1])]}),  # v8 partial
    ],
)
def test_mixed_results_are_classified_per_item(status, body):
    results = RelatedRecordsApi.interpret(IDS, ApiResponse(status, body, {}))
    assert [(r.related_id, r.code, r.succeeded, r.action) for r in results] == [
        (IDS[0], "SUCCESS", True, "added"),
        (IDS[1], "INVALID_DATA", False, None),
    ]
    assert results[1].http_status == status


def test_all_failed_v8_400_still_has_items():
    body = {"data": [bad(IDS[0], "MANDATORY_NOT_FOUND", "required field not found"), bad(IDS[1])]}
    results = RelatedRecordsApi.interpret(IDS, ApiResponse(400, body, {}))
    assert [r.code for r in results] == ["MANDATORY_NOT_FOUND", "INVALID_DATA"]


def test_added_and_updated_come_from_the_message():
    body = {"data": [ok(IDS[0], "relation updated"), ok(IDS[1], "relation added")]}
    assert [r.action for r in RelatedRecordsApi.interpret(IDS, ApiResponse(200, body, {}))] == [
        "updated",
        "added",
    ]


def test_length_mismatch_matches_by_id_and_never_guesses():
    body = {"data": [ok(IDS[1])]}
    results = RelatedRecordsApi.interpret(IDS, ApiResponse(200, body, {}))
    assert [(r.related_id, r.code) for r in results] == [(IDS[0], "UNEXPECTED_RESPONSE"), (IDS[1], "SUCCESS")]


def test_zoho_messages_are_one_line_and_bounded():
    body = {"data": [bad(IDS[0], message="evil\nFAKE LOG LINE " + "x" * 1000), ok(IDS[1])]}
    message = RelatedRecordsApi.interpret(IDS, ApiResponse(207, body, {}))[0].message
    assert "\n" not in message
    assert len(message) <= 300


def test_an_item_result_is_an_immutable_slotted_value_with_empty_defaults():
    """Millions of these live until the run ends: no per-instance ``__dict__`` (slots), no shared
    mutable default, and nothing can change a result once it is accounted for (frozen)."""
    import dataclasses

    from airflow_provider_zohorel.zoho.results import ItemResult

    a = ItemResult("1", "SUCCESS", "success", "relation added")
    b = ItemResult("2", "SUCCESS", "success", "relation added")
    assert (a.details, a.http_status, a.action) == ({}, None, None)
    assert a.details is not b.details
    assert not hasattr(a, "__dict__")
    with pytest.raises(dataclasses.FrozenInstanceError):
        a.code = "INVALID_DATA"  # type: ignore[misc]


def test_the_action_names_are_the_ones_summaries_and_resume_marks_use():
    from airflow_provider_zohorel.zoho import results

    assert (results.ADDED, results.UPDATED, results.REMOVED, results.SUCCESS) == (
        "added",
        "updated",
        "removed",
        "SUCCESS",
    )


def test_a_failure_has_status_error_and_a_body_without_a_data_list_is_not_per_item():
    from airflow_provider_zohorel.zoho.results import ItemResult, parse_items

    assert ItemResult.failure("1", "TIMEOUT", "no answer").status == "error"
    for body in (["a list"], "an HTML page", None, {"data": "not a list"}, {"code": "INVALID_DATA"}):
        assert parse_items(IDS, body, 200) is None, body


def test_parse_items_keeps_details_and_quotes_what_it_does_not_trust():
    from airflow_provider_zohorel.zoho.errors import MAX_CODE, MAX_QUOTE, quote_body
    from airflow_provider_zohorel.zoho.results import parse_items

    long_message = "relation added " + "x" * MAX_QUOTE
    entries = [
        ok(IDS[0]),  # details kept, message kept as sent
        {"code": "SUCCESS", "details": "not a dict", "message": "relation\tadded", "status": "success"},
    ]
    first, second = parse_items(IDS, {"data": entries}, 200)
    assert (first.details, first.message, first.http_status) == ({"id": IDS[0]}, "relation added", 200)
    assert first.status == "success"
    assert (second.details, second.message) == ({}, quote_body("relation\tadded"))
    [long] = parse_items(IDS[:1], {"data": [ok(IDS[0], long_message)]}, 200)
    assert long.message == quote_body(long_message)
    assert len(long_message) > MAX_QUOTE
    [exact] = parse_items(IDS[:1], {"data": [ok(IDS[0], "a" * MAX_QUOTE)]}, 200)
    assert exact.message == "a" * MAX_QUOTE  # printable and within the bound: not re-quoted
    [silent] = parse_items(IDS[:1], {"data": [{"code": "SUCCESS"}]}, 200)
    assert (silent.message, silent.details, silent.action) == (quote_body(""), {}, "updated")
    [numeric] = parse_items(IDS[:1], {"data": [{"code": "SUCCESS", "message": 5}]}, 200)
    assert numeric.message == quote_body(5)
    [bare] = parse_items(IDS[:1], {"data": [{"code": None}]}, 400)
    assert (bare.code, bare.status, bare.message, bare.http_status) == (
        "UNKNOWN",
        "error",
        quote_body(""),
        400,
    )
    odd_code = "C" * (MAX_CODE + 50)
    [odd] = parse_items(IDS[:1], {"data": [{"code": odd_code, "status": "warning", "message": "m"}]}, 207)
    assert (odd.code, odd.status, odd.message) == (quote_body(odd_code, MAX_CODE), "warning", "m")


def test_an_entry_that_is_not_an_object_or_a_missing_id_fails_unexpected_response():
    from airflow_provider_zohorel.zoho.errors import quote_body
    from airflow_provider_zohorel.zoho.results import parse_items

    [odd] = parse_items(IDS[:1], {"data": ["SUCCESS"]}, 200)
    assert (odd.code, odd.message, odd.http_status) == (
        "UNEXPECTED_RESPONSE",
        f"item result {quote_body('SUCCESS')}",
        200,
    )
    # Three entries for two ids: matched by details.id; details that are not an object, or have no
    # id, match nothing.
    entries = [{"code": "SUCCESS", "details": "x"}, {"code": "SUCCESS", "details": {}}, ok(IDS[1])]
    first, second = parse_items(IDS, {"data": entries}, 200)
    assert (first.code, first.message) == (
        "UNEXPECTED_RESPONSE",
        "Zoho returned 3 results for 2 items and none for this id",
    )
    assert second.code == "SUCCESS"
