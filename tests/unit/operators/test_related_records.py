"""The operator's one way out: every exit, configuration errors before the first call included,
pushes the same summary shape, then returns it or raises exactly the exception its outcome calls
for. (Whole runs against the emulator are proven in tests/e2e and tests/reliability.)"""

from __future__ import annotations

import json

import pytest

from airflow_provider_zohorel._compat import AirflowException, AirflowFailException, AirflowSkipException
from airflow_provider_zohorel.operators.related_records import UpdateRelatedRecordsOperator
from airflow_provider_zohorel.zoho.errors import (
    ZohoAuthError,
    ZohoAuthUnavailable,
    ZohoConfigurationError,
    ZohoTokenRejected,
)
from airflow_provider_zohorel.zoho.planning import Batch
from airflow_provider_zohorel.zoho.policy import OutcomePolicy
from airflow_provider_zohorel.zoho.results import ItemResult
from airflow_provider_zohorel.zoho.stops import Stop
from airflow_provider_zohorel.zoho.summary import RunSummary

#: Every key of the summary, at every exit (DESIGN.md contract and the README's list).
SUMMARY_KEYS = {
    "total",
    "succeeded",
    "added",
    "updated",
    "failed",
    "by_code",
    "failed_items",
    "failed_items_truncated",
    "api_calls",
    "outcome",
    "delinked",
    "delink_failed",
    "unchanged",
    "batches",
    "resumed_items",
    "duplicates_dropped",
    "parents",
    "planning_seconds",
    "resumed_batches",
    "batches_not_sent",
    "seconds",
    "client",
    "stopped_by",
    "failed_items_table",
    "state_table",
    "resume_bookkeeping",
    "input_errors",
    "dry_run",
    "plan",
}
C, L = "3652397000000327001", "3652397000001829002"
ROWS = [{"record_id": C, "id": L, "Member_Status": "Active"}]
#: Nothing listens there; every test below ends before a token would be asked for.
NOWHERE = "http://127.0.0.1:9"


class FakeTI:
    dag_id, task_id, run_id, try_number = "d", "t", "r", 1

    def __init__(self) -> None:
        self.pushed: dict[str, object] = {}

    def xcom_push(self, key: str, value: object) -> None:
        self.pushed[key] = value


@pytest.fixture(autouse=True)
def connection(monkeypatch):
    """``connection(**extra)`` redefines ``zoho_crm_default``; by default a valid one (never called)."""

    def define(**extra):
        fields = {"refresh_token": "1000.unit.refresh", "accounts_url": NOWHERE, "api_version": "v8", **extra}
        doc = {"conn_type": "zoho_crm", "login": "1000.CLIENT", "password": "unit-secret", "extra": fields}
        monkeypatch.setenv("AIRFLOW_CONN_ZOHO_CRM_DEFAULT", json.dumps(doc))

    define()
    return define


def run(**kwargs):
    """``execute`` as a worker runs it: (returned summary or None, pushed summary or None, error)."""
    kwargs.setdefault("module", "Campaigns")
    kwargs.setdefault("related_list", "Leads")
    op = UpdateRelatedRecordsOperator(task_id="t", **kwargs)
    ti = FakeTI()
    try:
        return op.execute({"ti": ti}), ti.pushed.get("return_value"), None  # type: ignore[arg-type]
    except BaseException as exc:
        return None, ti.pushed.get("return_value"), exc


# -- refusals before the first call -----------------------------------------------------------

REFUSALS = [
    ("both inputs", {"records": ROWS, "sql": "SELECT 1", "sql_conn_id": "db"}, {}, "exactly one input"),
    ("no input", {}, {}, "exactly one input"),
    ("batch size 0", {"records": ROWS, "batch_size": 0}, {}, "batch_size must be an integer from 1 to 100"),
    ("bad policy", {"records": ROWS, "item_code_policy": {"X": "explode"}}, {}, "item_code_policy['X']"),
    (
        "bad table name",
        {"records": ROWS, "sql_conn_id": "db", "failed_items_table": "a;b"},
        {},
        "plain table",
    ),
    ("region mars", {"records": ROWS}, {"accounts_url": None, "region": "mars"}, "'region' is 'mars'"),
    ("no refresh token", {"records": ROWS}, {"refresh_token": None}, "extra 'refresh_token'"),
    ("http to a remote host", {"records": ROWS}, {"accounts_url": "http://example.com"}, "uses http://"),
    ("api version v9", {"records": ROWS}, {"api_version": "v9"}, "'api_version' is 'v9'"),
    (
        "bad cache backend",
        {"records": ROWS},
        {"cache_backend": "disk"},
        "'cache_backend' (Access Token Cache) must be",
    ),
    (
        "bad token_cache (the earlier name)",
        {"records": ROWS},
        {"token_cache": "disk"},
        "'cache_backend' (Access Token Cache) must be",
    ),
    ("not an API name", {"records": ROWS, "related_list": "Lead List"}, {}, "is not a Zoho API name"),
    ("bad external", {"records": ROWS, "external": "Accounts.Ext"}, {}, "names neither side"),
    ("empty external", {"records": ROWS, "external": " "}, {}, "external must be an X-EXTERNAL value"),
    ("records not a list", {"records": 42}, {}, "records must be a list of dicts, got int"),
    ("invalid row", {"records": [{"record_id": C, "id": 1.5}]}, {}, "records[0]: 'id': 1.5 is a float"),
    ("unknown mode", {"records": ROWS, "mode": "sync"}, {}, "mode must be one of upsert, mirror"),
    ("ratio above 1", {"records": ROWS, "max_delink_ratio": 2}, {}, "max_delink_ratio must be a number"),
    ("state table, no db", {"records": ROWS, "state_table": "s"}, {}, "state_table needs sql_conn_id"),
    (
        "full refresh alone",
        {"records": ROWS, "full_refresh": True},
        {},
        "full_refresh=True needs a state_table",
    ),
    ("null fields", {"records": ROWS, "null_fields": "drop"}, {}, "null_fields must be one of send, omit"),
    ("sql, no db", {"sql": "SELECT 1"}, {}, "sql needs sql_conn_id (the connection to run it on)"),
    (
        "failed items table, no db",
        {"records": ROWS, "failed_items_table": "f"},
        {},
        "failed_items_table needs sql_conn_id (the connection to write it on)",
    ),
    (
        "concurrency 0",
        {"records": ROWS, "max_concurrency": 0},
        {},
        "max_concurrency must be a positive integer, got 0",
    ),
    (
        "concurrency True",
        {"records": ROWS, "max_concurrency": True},
        {},
        "max_concurrency must be a positive integer, got True",
    ),
    (
        "timeout 0",
        {"records": ROWS, "request_timeout": 0},
        {},
        "request_timeout must be a positive number of seconds, got 0",
    ),
    ("fetch size 0", {"records": ROWS, "fetch_size": 0}, {}, "fetch_size must be a positive integer, got 0"),
    (
        "same id keys",
        {"records": ROWS, "parent_id_key": "id"},
        {},
        "parent_id_key and related_id_key must differ",
    ),
    (
        "locked retry not a policy",
        {"records": ROWS, "locked_retry": 3},
        {},
        "locked_retry must be a LockedRetryPolicy, got int",
    ),
    (
        "bad state table name",
        {"records": ROWS, "sql_conn_id": "db", "state_table": "a;b"},
        {},
        "state_table 'a;b' is not a plain table name ([schema.]table, letters, digits, _)",
    ),
    (
        "negative failed items",
        {"records": ROWS, "max_failed_items": -1},
        {},
        "max_failed_items must be a non-negative integer, got -1",
    ),
    (
        "ratio as text",
        {"records": ROWS, "max_failed_ratio": "10%"},
        {},
        "max_failed_ratio must be between 0 and 1, got '10%'",
    ),
    (
        "batch size 101",
        {"records": ROWS, "batch_size": 101},
        {},
        "batch_size must be an integer from 1 to 100",
    ),
]


@pytest.mark.parametrize(("case", "kwargs", "extra", "fragment"), REFUSALS, ids=[r[0] for r in REFUSALS])
def test_a_refusal_pushes_the_whole_summary_and_fails_without_retry(
    connection, case, kwargs, extra, fragment
):
    connection(**extra)
    returned, pushed, error = run(**kwargs)
    assert type(error) is AirflowFailException, f"{case}: {error!r}"
    assert fragment in str(error), case
    assert returned is None
    assert set(pushed) == SUMMARY_KEYS, case
    assert (pushed["outcome"], pushed["api_calls"], pushed["succeeded"]) == ("fail", 0, 0), case
    assert pushed["stopped_by"]["code"].startswith(("INVALID_", "UNSUPPORTED_")), case
    assert "unit-secret" not in json.dumps(pushed) + str(error)
    assert "1000.unit.refresh" not in json.dumps(pushed) + str(error)


@pytest.mark.parametrize("rendered", [None, "None", "null"])
def test_records_that_rendered_to_none_say_so_and_fail_with_the_summary(rendered):
    """An upstream that returned nothing (or has not run, under ``airflow tasks test``)."""
    op = UpdateRelatedRecordsOperator(
        task_id="t", module="Campaigns", related_list="Leads", records="{{ x }}"
    )
    op.records = rendered  # what template rendering leaves
    ti = FakeTI()
    with pytest.raises(AirflowFailException, match="records rendered to None: the upstream task") as err:
        op.execute({"ti": ti})  # type: ignore[arg-type]
    assert type(err.value) is AirflowFailException
    assert "exactly one input" not in str(err.value)
    assert set(ti.pushed["return_value"]) == SUMMARY_KEYS
    assert ti.pushed["return_value"]["stopped_by"]["code"] == "INVALID_INPUT"


def test_invalid_rows_are_counted_in_the_pushed_summary():
    _, pushed, error = run(records=[*ROWS, {"record_id": C, "id": 1.5}, {"record_id": C}])
    assert type(error) is AirflowFailException
    assert (pushed["total"], pushed["failed"]) == (3, 3)
    assert pushed["by_code"] == {"INVALID_INPUT": 2, "NOT_SENT": 1}
    assert pushed["failed_items_truncated"] == 0
    assert any("records[1]" in e and "float" in e for e in pushed["input_errors"])
    assert pushed["stopped_by"]["code"] == "INVALID_INPUT"


def test_an_unexpected_error_pushes_the_summary_and_is_raised_as_is(monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr("airflow_provider_zohorel.operators.related_records.build_plan", broken)
    _, pushed, error = run(records=ROWS)
    assert type(error) is RuntimeError
    assert set(pushed) == SUMMARY_KEYS
    assert (pushed["outcome"], pushed["stopped_by"]) == (
        "fail",
        {"code": "CLIENT_ERROR", "message": "RuntimeError"},
    )


# -- successful exits without a call ----------------------------------------------------------


@pytest.mark.parametrize("records", [[], "[]", ""])
def test_empty_input_returns_the_whole_summary(records):
    returned, pushed, error = run(records=records)
    assert error is None
    assert pushed is None  # Airflow pushes the return value itself
    assert set(returned) == SUMMARY_KEYS
    assert (returned["outcome"], returned["total"], returned["stopped_by"]) == ("success", 0, None)


def test_a_dry_run_returns_the_plan_in_the_whole_summary():
    returned, _, error = run(records=ROWS * 2, dry_run=True)
    assert error is None
    assert set(returned) == SUMMARY_KEYS
    assert (returned["dry_run"], returned["total"], returned["duplicates_dropped"]) == (True, 1, 1)
    assert returned["plan"]["calls"] == 1


# -- after a run: the verdict's exception -----------------------------------------------------


def finish(codes: list[str], stopped: BaseException | None = None, **policy):
    """``_finish`` on a summary of ``codes`` and the policy's verdict, as execute() calls it."""
    op = UpdateRelatedRecordsOperator(task_id="t", module="Campaigns", related_list="Leads", records=[])
    summary = RunSummary(row_name="records[{}]".format)
    results = [
        ItemResult(str(i), "SUCCESS", "success", "relation added", {}, 200, "added")
        if code == "SUCCESS"
        else ItemResult.failure(str(i), code, "nope")
        for i, code in enumerate(codes)
    ]
    summary.record(Batch("1", [{"id": r.related_id} for r in results], list(range(len(codes))), "k"), results)
    stop = Stop.of(stopped) if stopped is not None else None
    ti = FakeTI()
    try:
        return op._finish({"ti": ti}, summary, OutcomePolicy(**policy).decide(summary, stop)), ti
    except BaseException as exc:
        exc.pushed = ti.pushed  # type: ignore[attr-defined]
        raise


def test_success_returns_the_summary_without_pushing_it_twice():
    result, ti = finish(["SUCCESS", "SUCCESS"])
    assert result["outcome"] == "success"
    assert set(result) == SUMMARY_KEYS
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
        finish(codes, **policy)
    assert type(err.value) is raised  # a per-item failure stays retryable: not AirflowFailException
    assert err.value.pushed["return_value"]["outcome"] == outcome
    assert err.value.pushed["return_value"]["failed_items"][0]["row"] == "records[1]"


@pytest.mark.parametrize(
    "stop",
    [
        ZohoConfigurationError("NO_PERMISSION", "Permission denied to update records", http_status=403),
        ZohoAuthError("invalid_code", "revoked"),
    ],
)
def test_configuration_and_credential_errors_fail_without_retry(stop):
    with pytest.raises(AirflowFailException, match="not retried") as err:
        finish(["NO_PERMISSION"], stopped=stop)
    assert type(err.value) is AirflowFailException
    assert err.value.pushed["return_value"]["stopped_by"]["code"] == stop.code


@pytest.mark.parametrize(
    "stop",
    [
        ZohoAuthUnavailable("TOKEN_THROTTLED", "try later"),
        ZohoAuthUnavailable("ACCOUNTS_UNREACHABLE", "try later"),
        ZohoAuthUnavailable("TOKEN_CACHE_BUSY", "try later"),
        ZohoTokenRejected("INVALID_TOKEN", "two fresh tokens rejected on first use"),
    ],
    ids=lambda stop: stop.code,
)
def test_an_unavailable_accounts_server_fails_the_task_so_that_a_retry_can_work(stop):
    code = stop.code
    with pytest.raises(AirflowException, match="later retry") as err:
        finish([code], stopped=stop)
    assert type(err.value) is AirflowException
    assert err.value.pushed["return_value"]["outcome"] == "fail"


def test_tolerated_failures_succeed():
    result, ti = finish(["SUCCESS", "INVALID_DATA"], max_failed_items=1)
    assert (result["outcome"], result["failed"], ti.pushed) == ("success", 1, {})


# -- what the task log says --------------------------------------------------------------------


@pytest.fixture
def op_log():
    return UpdateRelatedRecordsOperator(task_id="t", module="Campaigns", related_list="Leads", records=[])


@pytest.fixture
def logged(capsys):
    """What the operator logged (Airflow's task logger writes through structlog to stdout)."""
    return lambda: capsys.readouterr().out


@pytest.mark.parametrize(
    ("policy", "raised", "line"),
    [
        ({"soft_fail": True}, AirflowSkipException, "Verdict: the task is skipped (soft fail): "),
        ({}, AirflowException, "Verdict: the task fails (a retry can help): "),
    ],
)
def test_a_failed_or_skipped_verdict_is_a_plain_log_line(op_log, logged, policy, raised, line):
    """Airflow 3.3 shows the exception's message only in the collapsed "Post Execute" group."""
    summary = RunSummary()
    failure = ItemResult.failure("1", "INVALID_DATA", "nope")
    summary.record(Batch("1", [{"id": "1"}], [0], "k"), [failure])
    verdict = OutcomePolicy(**policy).decide(summary, None)
    with pytest.raises(raised) as err:
        op_log._finish({"ti": FakeTI()}, summary, verdict)
    assert line + str(err.value) in logged()


def test_a_success_logs_no_verdict_line(op_log, logged):
    summary = RunSummary()
    summary.record(
        Batch("1", [{"id": "1"}], [0], "k"), [ItemResult("1", "SUCCESS", "", "", {}, 200, "added")]
    )
    op_log._finish({"ti": FakeTI()}, summary, OutcomePolicy().decide(summary, None))
    assert "Verdict:" not in logged()


def test_a_cleared_task_that_resent_nothing_says_so(op_log, logged):
    """Not "succeeded 3 (added 3 ...)" alone, which reads as if this try related them."""
    summary = RunSummary()
    done = [ItemResult(str(i), "SUCCESS", "", "", {}, 200, "added") for i in range(3)]
    summary.record(Batch("1", [{"id": r.related_id} for r in done], [0, 1, 2], "k"), done, resumed=3)
    summary.resumed_batches = 1
    op_log._log_table(summary)
    text = logged()
    assert (
        "0 call(s) sent by this try; 3 of 3 items were already related by an earlier try and not sent "
        "again (all of them: nothing to do)" in text
    )
    assert "succeeded 3 (related by this try 0, already related by an earlier try 3;" in text


def test_the_task_state_store_rows_are_explained_in_the_log():
    from airflow_provider_zohorel.operators import related_records, resume

    assert f"{resume.CHUNK_PREFIX}0" in related_records.STATE_STORE_NOTE
    assert "a = added, u = updated, - = not related" in related_records.STATE_STORE_NOTE
