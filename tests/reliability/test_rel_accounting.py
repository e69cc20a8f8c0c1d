"""The checker itself: it must fail on each way a run can mis-account (a checker that cannot fail
proves nothing). Uses a stand-in for the emulator's admin API, no server."""

from __future__ import annotations

import pytest

from airflow_provider_zohorel.emulator import RelationRow
from tests.reliability.accounting import LEDGER, assert_accounted, expected_items

C1, C2 = "100000000000000001", "100000000000000002"
L1, L2, L3 = "200000000000000001", "200000000000000002", "200000000000000003"


class FakeAdmin:
    def __init__(self, held):
        self.rows = [
            RelationRow("Campaigns-Leads", "Campaigns", p, "Leads", r, f) for (p, r), f in held.items()
        ]

    def export_relations(self, relation=None):
        return list(self.rows)


RECORDS = [
    {"record_id": C1, "id": L1, "Member_Status": "Sent"},
    {"record_id": C1, "id": L2, "Member_Status": "Sent"},
    {"record_id": C2, "id": L1, "Member_Status": "Sent"},
    {"record_id": C1, "id": L1, "Member_Status": "Active"},  # a repeat: the last row wins
]


def summary(succeeded=3, failed_items=(), **overrides):
    failed = list(failed_items)
    by_code = {"SUCCESS": succeeded}
    for f in failed:
        by_code[f["code"]] = by_code.get(f["code"], 0) + 1
    base = {
        "total": succeeded + len(failed),
        "succeeded": succeeded,
        "failed": len(failed),
        "added": succeeded,
        "updated": 0,
        "by_code": by_code,
        "failed_items": failed,
        "failed_items_truncated": 0,
    }
    return {**base, **overrides}


HELD = {
    (C1, L1): {"Member_Status": "Active"},
    (C1, L2): {"Member_Status": "Sent"},
    (C2, L1): {"Member_Status": "Sent"},
}
FAIL_L2 = {
    "record_id": C1,
    "id": L2,
    "code": "INVALID_DATA",
    "message": "the related id given seems to be invalid",
}


@pytest.fixture(autouse=True)
def keep_ledger():
    """These runs are the checker's own test, not scenarios: leave the session's figures alone."""
    saved = (
        LEDGER.scenarios,
        LEDGER.items_checked,
        LEDGER.items_lost,
        LEDGER.items_double_counted,
        list(LEDGER.names),
    )
    yield
    LEDGER.scenarios, LEDGER.items_checked, LEDGER.items_lost, LEDGER.items_double_counted, LEDGER.names = (
        saved
    )


def test_last_row_wins_per_parent_and_related():
    assert expected_items(RECORDS) == {
        (C1, L1): {"Member_Status": "Active"},
        (C1, L2): {"Member_Status": "Sent"},
        (C2, L1): {"Member_Status": "Sent"},
    }


def test_a_correct_run_passes():
    assert assert_accounted(RECORDS, summary(), FakeAdmin(HELD)).total == 3
    held = {k: v for k, v in HELD.items() if k != (C1, L2)}
    assert_accounted(RECORDS, summary(2, [FAIL_L2]), FakeAdmin(held))


BROKEN = {
    "an item reported succeeded is not in Zoho": (
        summary(),
        {k: v for k, v in HELD.items() if k != (C2, L1)},
        "not in Zoho",
    ),
    "the wrong field value is held": (
        summary(),
        {**HELD, (C1, L1): {"Member_Status": "Sent"}},
        "other field values",
    ),
    "an item is counted twice": (summary(4), HELD, "after de-duplication"),
    "an item is not counted": (summary(2), HELD, "after de-duplication"),
    "a failed item is held": (summary(2, [FAIL_L2]), HELD, "failed with INVALID_DATA but Zoho holds it"),
    "a failure without a listed item": (
        summary(2, [], failed=1, total=3, by_code={"SUCCESS": 2, "INVALID_DATA": 1}),
        HELD,
        "failed items listed",
    ),
    "by_code disagrees": (summary(by_code={"SUCCESS": 2, "X": 1}), HELD, "by_code"),
    "added and updated disagree": (summary(added=1), HELD, "added 1 . updated 0 != succeeded 3"),
    "Zoho holds more than was sent": (summary(), {**HELD, (C2, L2): {}}, "nobody sent"),
    "a capped failure list": (summary(failed_items_truncated=5), HELD, "capped"),
}


@pytest.mark.parametrize("case", BROKEN)
def test_each_kind_of_mis_accounting_is_caught(case):
    bad_summary, held, message = BROKEN[case]
    with pytest.raises(AssertionError, match=message):
        assert_accounted(RECORDS, bad_summary, FakeAdmin(held), scenario=case)


def test_a_lost_item_is_counted_in_the_closing_figures():
    lost_before = LEDGER.items_lost
    with pytest.raises(AssertionError):
        assert_accounted(RECORDS, summary(), FakeAdmin({}))
    assert LEDGER.items_lost == lost_before + 3


def test_uncertain_codes_allow_only_a_lost_answer_to_be_held():
    lost_answer = {**FAIL_L2, "code": "CONNECTION_ERROR", "message": "connection failed"}
    assert_accounted(
        RECORDS, summary(2, [lost_answer]), FakeAdmin(HELD), uncertain_codes=["CONNECTION_ERROR"]
    )
    with pytest.raises(AssertionError, match="only a lost answer"):
        assert_accounted(
            RECORDS, summary(2, [FAIL_L2]), FakeAdmin(HELD), uncertain_codes=["CONNECTION_ERROR"]
        )
