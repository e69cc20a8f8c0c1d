"""Outcome policy: every combination of codes, thresholds and soft_fail decides as documented."""

from __future__ import annotations

import inspect
import itertools
from collections import Counter

import pytest

from airflow_provider_zohorel.zoho import policy as policy_module
from airflow_provider_zohorel.zoho.policy import DEFAULT_ITEM_CODE_POLICY, OutcomePolicy
from airflow_provider_zohorel.zoho.summary import RunSummary


def summary_of(total: int, by_code: dict[str, int]) -> RunSummary:
    return RunSummary(total=total, by_code=Counter(by_code))


def test_all_success_is_success():
    verdict = OutcomePolicy().decide(summary_of(10, {"SUCCESS": 10}))
    assert (verdict.outcome, verdict.counted_failures) == ("success", 0)


@pytest.mark.parametrize(
    "code", ["INVALID_DATA", "DUPLICATE_DATA", "RECORD_LOCKED", "MANDATORY_NOT_FOUND", "SOMETHING_NEW"]
)
def test_by_default_every_failed_code_fails_the_task(code):
    """DUPLICATE_DATA included: it has no documented meaning for related records (issue 10)."""
    assert OutcomePolicy().decide(summary_of(10, {"SUCCESS": 9, code: 1})).outcome == "fail"


@pytest.mark.parametrize(
    ("policies", "soft_fail", "expected"),
    [
        ({"INVALID_DATA": "fail", "MANDATORY_NOT_FOUND": "soft_fail"}, False, "fail"),
        ({"INVALID_DATA": "soft_fail", "MANDATORY_NOT_FOUND": "soft_fail"}, False, "soft_fail"),
        ({"INVALID_DATA": "soft_fail", "MANDATORY_NOT_FOUND": "ignore"}, False, "soft_fail"),
        ({"INVALID_DATA": "ignore", "MANDATORY_NOT_FOUND": "ignore"}, False, "success"),
        ({"INVALID_DATA": "fail", "MANDATORY_NOT_FOUND": "ignore"}, True, "soft_fail"),
        ({"INVALID_DATA": "ignore", "MANDATORY_NOT_FOUND": "ignore"}, True, "success"),
    ],
)
def test_most_severe_policy_decides_and_soft_fail_downgrades(policies, soft_fail, expected):
    policy = OutcomePolicy(item_code_policy=policies, soft_fail=soft_fail)
    assert (
        policy.decide(summary_of(10, {"SUCCESS": 8, "INVALID_DATA": 1, "MANDATORY_NOT_FOUND": 1})).outcome
        == expected
    )


@pytest.mark.parametrize(
    ("max_items", "max_ratio", "failures", "expected"),
    [
        (None, None, 1, "fail"),
        (0, None, 1, "fail"),
        (1, None, 1, "success"),
        (2, None, 3, "fail"),
        (None, 0.1, 10, "success"),
        (None, 0.1, 11, "fail"),
        (5, 0.5, 6, "fail"),  # both set: both must hold
        (50, 0.05, 6, "fail"),
        (50, 0.5, 6, "success"),
    ],
)
def test_thresholds_tolerate_failures_within_every_limit_set(max_items, max_ratio, failures, expected):
    policy = OutcomePolicy(max_failed_items=max_items, max_failed_ratio=max_ratio)
    verdict = policy.decide(summary_of(100, {"SUCCESS": 100 - failures, "INVALID_DATA": failures}))
    assert verdict.outcome == expected
    assert verdict.tolerated == (expected == "success")


def test_ignored_codes_do_not_count_toward_thresholds():
    policy = OutcomePolicy(item_code_policy={"INVALID_DATA": "ignore"}, max_failed_items=1)
    assert (
        policy.decide(summary_of(100, {"SUCCESS": 50, "INVALID_DATA": 49, "MANDATORY_NOT_FOUND": 1})).outcome
        == "success"
    )


def test_star_sets_the_default_for_unlisted_codes():
    policy = OutcomePolicy(item_code_policy={"*": "soft_fail"})
    assert policy.decide(summary_of(2, {"SUCCESS": 1, "BRAND_NEW_CODE": 1})).outcome == "soft_fail"
    assert (
        policy.decide(summary_of(2, {"SUCCESS": 1, "INVALID_DATA": 1})).outcome == "fail"
    )  # listed default stays


def test_every_code_policy_combination_is_consistent():
    codes = ["INVALID_DATA", "MANDATORY_NOT_FOUND", "TOO_MANY_REQUESTS"]
    rank = {"ignore": 0, "soft_fail": 1, "fail": 2}
    for combo in itertools.product(rank, repeat=len(codes)):
        for soft in (False, True):
            policy = OutcomePolicy(item_code_policy=dict(zip(codes, combo, strict=True)), soft_fail=soft)
            worst = max(combo, key=rank.__getitem__)
            expected = {
                "ignore": "success",
                "soft_fail": "soft_fail",
                "fail": "soft_fail" if soft else "fail",
            }
            assert policy.decide(summary_of(3, dict.fromkeys(codes, 1))).outcome == expected[worst]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (
            {"item_code_policy": {"INVALID_DATA": "explode"}},
            "item_code_policy['INVALID_DATA'] is 'explode'; expected one of fail, soft_fail, ignore",
        ),
        ({"max_failed_items": -1}, "max_failed_items must be a non-negative integer, got -1"),
        ({"max_failed_items": 1.5}, "max_failed_items must be a non-negative integer, got 1.5"),
        ({"max_failed_ratio": 1.5}, "max_failed_ratio must be between 0 and 1, got 1.5"),
        ({"max_failed_ratio": "10%"}, "max_failed_ratio must be between 0 and 1, got '10%'"),
    ],
)
def test_bad_policy_settings_are_refused(kwargs, message):
    with pytest.raises(ValueError) as err:  # noqa: PT011 - the whole message is compared below
        OutcomePolicy(**kwargs)
    assert str(err.value) == message


def test_defaults_table_lists_the_documented_codes():
    """Every code of the README's defaults table, and nothing else, fails by default."""
    codes = [
        "INVALID_DATA",
        "MANDATORY_NOT_FOUND",
        "DUPLICATE_DATA",
        "RECORD_LOCKED",
        "TOO_MANY_REQUESTS",
        "INTERNAL_ERROR",
        "TIMEOUT",
        "CONNECTION_ERROR",
        "*",
    ]
    assert dict.fromkeys(codes, "fail") == DEFAULT_ITEM_CODE_POLICY


def test_every_default_has_a_source_and_none_hides_a_failure():
    """Each default code sits under a comment (its source: the spec, Zoho's docs, or "no Zoho
    source"), and without a source saying a failure is harmless none is ignore or soft_fail."""
    lines = inspect.getsource(policy_module).splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("DEFAULT_ITEM_CODE_POLICY"))
    end = next(i for i in range(start, len(lines)) if lines[i] == "}")
    body = [line.strip() for line in lines[start + 1 : end]]
    for code in DEFAULT_ITEM_CODE_POLICY:
        row = next(i for i, line in enumerate(body) if line.startswith(f'"{code}":'))
        above = row - 1
        while above >= 0 and body[above].startswith('"'):  # codes grouped under one comment
            above -= 1
        assert above >= 0, f"{code} has no source comment"
        assert body[above].startswith("#"), f"{code} has no source comment"
    assert set(DEFAULT_ITEM_CODE_POLICY.values()) == {"fail"}


@pytest.mark.parametrize("key", ["", 7, None])
def test_item_code_policy_keys_must_be_codes(key):
    with pytest.raises(ValueError) as err:  # noqa: PT011 - the whole message is compared below
        OutcomePolicy(item_code_policy={key: "fail"})
    assert str(err.value) == f"item_code_policy keys must be Zoho codes, got {key!r}"


def test_codes_are_matched_in_upper_case_and_the_wildcard_is_kept():
    policy = OutcomePolicy(item_code_policy={"invalid_data": "ignore", "*": "soft_fail"})
    assert policy.item_code_policy["INVALID_DATA"] == "ignore"
    assert "invalid_data" not in policy.item_code_policy
    assert policy.item_code_policy["*"] == "soft_fail"
    assert policy.policy_for("SOME_NEW_CODE") == "soft_fail"


def test_defaults_of_a_policy_and_a_verdict():
    import dataclasses

    from airflow_provider_zohorel.zoho.policy import Verdict

    policy = OutcomePolicy()
    assert policy.item_code_policy == DEFAULT_ITEM_CODE_POLICY
    assert policy.item_code_policy is not DEFAULT_ITEM_CODE_POLICY  # a user's merge never edits the table
    assert (policy.max_failed_items, policy.max_failed_ratio, policy.soft_fail) == (None, None, False)
    verdict = Verdict("fail", True, "why")
    assert (verdict.counted_failures, verdict.tolerated, verdict.stopped_by, verdict.unexpected) == (
        0,
        False,
        None,
        None,
    )
    with pytest.raises(dataclasses.FrozenInstanceError):
        policy.soft_fail = True  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        verdict.outcome = "success"  # type: ignore[misc]


def test_only_an_unforeseen_stop_is_raised_as_is():
    from airflow_provider_zohorel.zoho.errors import ZohoConfigurationError
    from airflow_provider_zohorel.zoho.stops import Stop

    bug = RuntimeError("a bug")
    unforeseen = OutcomePolicy().decide(summary_of(1, {"SUCCESS": 1}), Stop.of(bug))
    assert unforeseen.unexpected is bug
    refused = Stop.of(ZohoConfigurationError("NO_PERMISSION", "Permission denied", http_status=403))
    assert OutcomePolicy().decide(summary_of(1, {"NO_PERMISSION": 1}), refused).unexpected is None
    assert OutcomePolicy().decide(summary_of(1, {"INVALID_DATA": 1})).unexpected is None


def test_a_ratio_of_exactly_0_or_1_is_a_valid_setting():
    assert OutcomePolicy(max_failed_ratio=0).max_failed_ratio == 0
    assert OutcomePolicy(max_failed_ratio=1).max_failed_ratio == 1


def test_a_stop_decides_unless_the_items_do():
    """A configuration stop fails the task even if every item sent succeeded; a throttling stop
    (decided by items) leaves the verdict to the item policy (here: its 429s are tolerated)."""
    from airflow_provider_zohorel.zoho.errors import ZohoConfigurationError
    from airflow_provider_zohorel.zoho.stops import Stop

    refused = Stop.of(ZohoConfigurationError("NO_PERMISSION", "Permission denied", http_status=403))
    verdict = OutcomePolicy().decide(summary_of(2, {"SUCCESS": 2}), refused)
    assert (verdict.outcome, verdict.retry_can_help, verdict.reason) == ("fail", False, refused.reason)
    throttled = Stop.throttled("concurrency limit exceeded")
    tolerant = OutcomePolicy(item_code_policy={"TOO_MANY_REQUESTS": "ignore"})
    assert (
        tolerant.decide(summary_of(2, {"SUCCESS": 1, "TOO_MANY_REQUESTS": 1}), throttled).outcome == "success"
    )


def test_each_verdict_s_outcome_retry_and_reason_in_full():
    ok = OutcomePolicy().decide(summary_of(2, {"SUCCESS": 1, "X": 1}), None)
    assert ok.outcome == "fail"  # "X" is not ignored by default
    all_ok = OutcomePolicy(item_code_policy={"X": "ignore"}).decide(summary_of(2, {"SUCCESS": 1, "X": 1}))
    assert (all_ok.outcome, all_ok.retry_can_help, all_ok.reason, all_ok.counted_failures) == (
        "success",
        False,
        "every item succeeded or was ignored by policy",
        0,
    )
    by_code = {"SUCCESS": 7, "INVALID_DATA": 2, "DUPLICATE_DATA": 1}
    tolerated = OutcomePolicy(max_failed_items=3, max_failed_ratio=0.5).decide(summary_of(10, by_code))
    assert (tolerated.outcome, tolerated.retry_can_help, tolerated.tolerated, tolerated.counted_failures) == (
        "success",
        False,
        True,
        3,
    )
    assert tolerated.reason == (
        "Tolerated: 3 failed item(s) within max_failed_items=3, max_failed_ratio=0.5 "
        "(DUPLICATE_DATA: 1, INVALID_DATA: 2)"
    )
    soft = OutcomePolicy(soft_fail=True).decide(summary_of(10, by_code))
    assert (soft.outcome, soft.retry_can_help, soft.counted_failures) == ("soft_fail", False, 3)
    assert soft.reason == "Soft fail: 3 of 10 item(s) failed (DUPLICATE_DATA: 1, INVALID_DATA: 2)"
    failed = OutcomePolicy().decide(summary_of(10, by_code))
    assert (failed.outcome, failed.retry_can_help, failed.counted_failures) == ("fail", True, 3)
    assert failed.reason == "Failed: 3 of 10 item(s) failed (DUPLICATE_DATA: 1, INVALID_DATA: 2)"


def test_a_ratio_of_1_tolerates_a_single_item_that_failed():
    verdict = OutcomePolicy(max_failed_ratio=1).decide(summary_of(1, {"INVALID_DATA": 1}))
    assert (verdict.outcome, verdict.tolerated) == ("success", True)
