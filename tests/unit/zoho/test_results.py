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
