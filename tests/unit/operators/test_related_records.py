"""How a finished run maps to a task state: which Airflow exception each outcome raises, and that
the summary is pushed before raising. (Whole runs are proven in tests/e2e; this pins the mapping.)"""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from airflow_provider_zohorel._compat import AirflowException, AirflowFailException, AirflowSkipException
from airflow_provider_zohorel.operators.related_records import UpdateRelatedRecordsOperator
from airflow_provider_zohorel.zoho.client import ClientStats
from airflow_provider_zohorel.zoho.errors import ZohoAuthError, ZohoAuthUnavailable, ZohoConfigurationError
from airflow_provider_zohorel.zoho.policy import OutcomePolicy
from airflow_provider_zohorel.zoho.results import ItemResult
from airflow_provider_zohorel.zoho.runner import RunReport
from airflow_provider_zohorel.zoho.summary import RunSummary


class FakeTI:
    def __init__(self) -> None:
        self.pushed: dict[str, object] = {}

    def xcom_push(self, key: str, value: object) -> None:
        self.pushed[key] = value


def verdict(codes: list[str], stopped=None, **policy):
    op = UpdateRelatedRecordsOperator(task_id="t", module="Campaigns", related_list="Leads", records=[])
    summary = RunSummary()
    results = [
        ItemResult(str(i), "SUCCESS", "success", "relation added", {}, 200, "added")
        if code == "SUCCESS"
        else ItemResult.failure(str(i), code, "nope")
        for i, code in enumerate(codes)
    ]
    summary.record("1", results, lambda i: f"records[{i}]")
    ti = FakeTI()
    hook = SimpleNamespace(client=SimpleNamespace(stats=ClientStats(calls=1)))
    report = RunReport(stopped_by=stopped)
    try:
        return op._verdict({"ti": ti}, hook, summary, report, OutcomePolicy(**policy)), ti
    except BaseException as exc:
        exc.pushed = ti.pushed  # type: ignore[attr-defined]
        raise


def test_success_returns_the_summary_without_pushing_it_twice():
    result, ti = verdict(["SUCCESS", "SUCCESS"])
    assert result["outcome"] == "success"
    assert ti.pushed == {}  # Airflow pushes the return value itself


@pytest.mark.parametrize(
    ("codes", "policy", "raised", "outcome"),
    [
        (["SUCCESS", "INVALID_DATA"], {}, AirflowException, "fail"),
        (["SUCCESS", "INVALID_DATA"], {"soft_fail": True}, AirflowSkipException, "soft_fail"),
        (
            ["SUCCESS", "INVALID_DATA"],
            {"item_code_policy": {"INVALID_DATA": "soft_fail"}},
            AirflowSkipException,
            "soft_fail",
        ),
    ],
)
def test_failures_raise_the_policy_s_exception_after_pushing_the_summary(codes, policy, raised, outcome):
    with pytest.raises(raised) as err:
        verdict(codes, **policy)
    assert not isinstance(err.value, AirflowFailException)  # a per-item failure stays retryable
    assert err.value.pushed["return_value"]["outcome"] == outcome


@pytest.mark.parametrize(
    "stop",
    [
        ZohoConfigurationError("NO_PERMISSION", "Permission denied to update records", http_status=403),
        ZohoAuthError("invalid_code", "revoked"),
    ],
)
def test_configuration_and_credential_errors_fail_without_retry(stop):
    with pytest.raises(AirflowFailException, match="not retried") as err:
        verdict(["NO_PERMISSION"], stopped=stop)
    assert err.value.pushed["return_value"]["stopped_by"]["code"] == stop.code


@pytest.mark.parametrize("code", ["TOKEN_THROTTLED", "ACCOUNTS_UNREACHABLE"])
def test_an_unavailable_accounts_server_fails_the_task_so_that_a_retry_can_work(code):
    with pytest.raises(AirflowException, match="later retry") as err:
        verdict([code], stopped=ZohoAuthUnavailable(code, "try later"))
    assert not isinstance(err.value, AirflowFailException)
    assert err.value.pushed["return_value"]["outcome"] == "fail"
