"""What a stop means, decided in one place: each way a run can end early maps to a kind, a code for
the summary and the unsent items, and a task-level meaning the outcome policy applies."""

from __future__ import annotations

from collections import Counter

import pytest

from airflow_provider_zohorel.zoho.errors import (
    ConnectionConfigError,
    ZohoAuthError,
    ZohoAuthUnavailable,
    ZohoConfigurationError,
    ZohoError,
    ZohoTransientError,
)
from airflow_provider_zohorel.zoho.external_ids import InvalidExternalIds
from airflow_provider_zohorel.zoho.planning import InvalidInput
from airflow_provider_zohorel.zoho.policy import OutcomePolicy
from airflow_provider_zohorel.zoho.relation_catalog import UnsupportedRelation
from airflow_provider_zohorel.zoho.stops import InvalidArguments, Stop, StopKind
from airflow_provider_zohorel.zoho.summary import RunSummary
from airflow_provider_zohorel.zoho.values import InvalidValue

CONFIGURATION, UNAVAILABLE, ITEMS, UNEXPECTED = (
    StopKind.CONFIGURATION,
    StopKind.UNAVAILABLE,
    StopKind.ITEMS,
    StopKind.UNEXPECTED,
)

#: (error, kind, code, fragment of the task's error message)
CASES = [
    (ZohoConfigurationError("NO_PERMISSION", "denied"), CONFIGURATION, "NO_PERMISSION", "not retried: fix"),
    (ZohoAuthError("invalid_code", "revoked"), CONFIGURATION, "invalid_code", "not retried: fix"),
    (ZohoAuthUnavailable("TOKEN_THROTTLED", "wait"), UNAVAILABLE, "TOKEN_THROTTLED", "a later retry"),
    # before the first batch (validate_related_list's metadata read); items never raise it
    (ZohoTransientError("INTERNAL_ERROR", "oops"), UNAVAILABLE, "INTERNAL_ERROR", "a later retry"),
    (ZohoError("SOMETHING", "odd"), ITEMS, "SOMETHING", "Stopped: Zoho SOMETHING"),
    (InvalidInput(["records[0]: bad"], 1, 3), CONFIGURATION, "INVALID_INPUT", "1 of 3 input rows"),
    (InvalidValue("a single dict"), CONFIGURATION, "INVALID_INPUT", "Invalid input, nothing was sent"),
    (InvalidArguments("Operator: batch_size"), CONFIGURATION, "INVALID_ARGUMENTS", "Operator: batch_size"),
    (InvalidExternalIds("external 'Leads'"), CONFIGURATION, "INVALID_ARGUMENTS", "external 'Leads'"),
    (ConnectionConfigError("'region' is 'mars'"), CONFIGURATION, "INVALID_CONNECTION", "'mars'"),
    (UnsupportedRelation("Campaigns -> Products"), CONFIGURATION, "UNSUPPORTED_RELATION", "Campaigns ->"),
    (KeyError("bug"), UNEXPECTED, "CLIENT_ERROR", "KeyError"),
]


@pytest.mark.parametrize(
    ("error", "kind", "code", "fragment"), CASES, ids=[type(c[0]).__name__ for c in CASES]
)
def test_every_way_a_run_ends_early_has_one_meaning(error, kind, code, fragment):
    stop = Stop.of(error)
    assert (stop.kind, stop.code, stop.error) == (kind, code, error)
    assert fragment in stop.reason
    assert stop.describe() == {"code": code, "message": stop.message}
    assert "\n" not in stop.message
    assert stop.retry_can_help == (kind in (UNAVAILABLE, UNEXPECTED))
    assert stop.decided_by_items == (kind is ITEMS)


def test_a_stop_s_message_is_one_bounded_line():
    stop = Stop.of(InvalidInput([f"records[{i}]: " + "x" * 100 for i in range(20)], 20, 20))
    assert "\n" not in stop.message
    assert len(stop.message) <= 300
    assert "\n" in stop.reason  # the task's error keeps the list of rows


def test_a_429_stop_names_its_code_and_leaves_the_verdict_to_the_items():
    stop = Stop.throttled("Zoho kept answering 429 after every retry")
    assert (stop.kind, stop.code, stop.decided_by_items) == (ITEMS, "TOO_MANY_REQUESTS", True)
    assert stop.message == "Zoho kept answering 429 after every retry"


def summary_of(**by_code: int) -> RunSummary:
    return RunSummary(total=sum(by_code.values()), by_code=Counter(by_code))


@pytest.mark.parametrize("soft_fail", [False, True])
def test_a_configuration_stop_fails_without_retry_whatever_the_items_and_soft_fail(soft_fail):
    stop = Stop.of(ZohoConfigurationError("NO_PERMISSION", "denied"))
    verdict = OutcomePolicy(soft_fail=soft_fail).decide(summary_of(SUCCESS=10), stop)
    assert (verdict.outcome, verdict.retry_can_help, verdict.stopped_by) == ("fail", False, stop)
    assert verdict.reason == stop.reason
    assert verdict.unexpected is None


def test_an_unavailable_accounts_server_fails_so_that_a_retry_can_work():
    verdict = OutcomePolicy().decide(
        summary_of(SUCCESS=1), Stop.of(ZohoAuthUnavailable("TOKEN_THROTTLED", "x"))
    )
    assert (verdict.outcome, verdict.retry_can_help) == ("fail", True)


def test_an_unexpected_error_is_handed_back_to_be_raised_as_is():
    bug = RuntimeError("bug")
    verdict = OutcomePolicy().decide(summary_of(SUCCESS=1), Stop.of(bug))
    assert (verdict.outcome, verdict.unexpected) == ("fail", bug)


def test_after_a_429_stop_the_item_policy_decides():
    stop = Stop.throttled("429")
    summary = summary_of(SUCCESS=5, TOO_MANY_REQUESTS=5)
    assert OutcomePolicy().decide(summary, stop).outcome == "fail"
    tolerant = OutcomePolicy(item_code_policy={"TOO_MANY_REQUESTS": "soft_fail"}).decide(summary, stop)
    assert (tolerant.outcome, tolerant.stopped_by) == ("soft_fail", stop)


def test_item_failures_that_fail_the_task_leave_a_retry_possible_but_a_soft_fail_does_not():
    policy = OutcomePolicy()
    failed = policy.decide(summary_of(SUCCESS=1, INVALID_DATA=1))
    assert (failed.outcome, failed.retry_can_help, failed.reason) == (
        "fail",
        True,
        "Failed: 1 of 2 item(s) failed (INVALID_DATA: 1)",
    )
    skipped = OutcomePolicy(soft_fail=True).decide(summary_of(SUCCESS=1, INVALID_DATA=1))
    assert (skipped.outcome, skipped.retry_can_help) == ("soft_fail", False)
    assert skipped.reason.startswith("Soft fail: 1 of 2")
