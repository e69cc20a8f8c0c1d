"""The run summary: every item counted once, each field written by one method, and the same keys at
every stage of a run (so a reporting task can read any exit), as the README documents them."""

from __future__ import annotations

import json
import re
from pathlib import Path

from airflow_provider_zohorel.zoho.client import ClientStats
from airflow_provider_zohorel.zoho.planning import Batch, build_plan
from airflow_provider_zohorel.zoho.policy import OutcomePolicy
from airflow_provider_zohorel.zoho.relation_catalog import resolve_relation
from airflow_provider_zohorel.zoho.results import ItemResult
from airflow_provider_zohorel.zoho.runner import RunReport
from airflow_provider_zohorel.zoho.stops import Stop
from airflow_provider_zohorel.zoho.summary import RunSummary

README = Path(__file__).resolve().parents[3] / "README.md"
KEYS = set(RunSummary().to_dict())


def ok(rid: str, action: str = "added") -> ItemResult:
    return ItemResult(rid, "SUCCESS", "success", f"relation {action}", {}, 200, action)


def batch(n: int, first_row: int = 0) -> Batch:
    return Batch("100", [{"id": str(i)} for i in range(n)], list(range(first_row, first_row + n)), "key")


def test_every_item_is_counted_once_with_its_code_and_action():
    summary = RunSummary()
    results = [ok("0"), ok("1", "updated"), ItemResult.failure("2", "INVALID_DATA", "no such lead")]
    failures = summary.record(batch(3), results, resumed=1)
    assert (summary.total, summary.succeeded, summary.added, summary.updated, summary.failed) == (
        3,
        2,
        1,
        1,
        1,
    )
    assert (summary.batches, summary.resumed) == (1, 1)
    assert summary.by_code == {"SUCCESS": 2, "INVALID_DATA": 1}
    assert (
        failures
        == summary.failed_items
        == [
            {"record_id": "100", "id": "2", "code": "INVALID_DATA", "message": "no such lead", "row": "row 2"}
        ]
    )


def test_failed_items_are_named_by_the_input_s_row_name():
    summary = RunSummary(row_name="sql row {}".format)
    summary.record(batch(2, first_row=40), [ok("0"), ItemResult.failure("1", "INVALID_DATA", "x")])
    assert summary.failed_items[0]["row"] == "sql row 41"


def test_failed_items_beyond_the_cap_are_counted_not_listed_but_all_returned():
    summary = RunSummary(failed_items_cap=3)
    failures = summary.record(batch(5), [ItemResult.failure(str(i), "INVALID_DATA", "x") for i in range(5)])
    assert len(failures) == 5  # for the failed-items table
    assert len(summary.failed_items) == 3
    result = summary.to_dict()
    assert (result["failed"], result["failed_items_truncated"]) == (5, 2)


def test_refused_input_counts_every_row_as_failed_and_keeps_the_errors():
    summary = RunSummary()
    summary.refuse_input(total_rows=5, invalid_rows=2, errors=["records[1]: bad", "records[3]: bad"])
    result = summary.to_dict()
    assert (result["total"], result["failed"], result["succeeded"], result["failed_items_truncated"]) == (
        5,
        5,
        0,
        0,
    )
    assert result["by_code"] == {"INVALID_INPUT": 2, "NOT_SENT": 3}
    assert result["input_errors"] == ["records[1]: bad", "records[3]: bad"]


def test_a_dry_run_reports_the_plan():
    rows = [{"record_id": "1", "id": "2"}, {"record_id": "1", "id": "2"}, {"record_id": "3", "id": "2"}]
    plan = build_plan(rows, spec=resolve_relation("Campaigns", "Leads"))
    summary = RunSummary()
    summary.planned(plan, dry_run=True)
    result = summary.to_dict()
    assert (result["dry_run"], result["total"], result["duplicates_dropped"], result["parents"]) == (
        True,
        2,
        1,
        2,
    )
    assert result["plan"] == plan.describe()
    real = RunSummary()
    real.planned(plan, dry_run=False)
    assert (real.to_dict()["dry_run"], real.to_dict()["plan"], real.total) == (False, None, 0)


def test_a_run_and_a_verdict_fill_their_fields():
    summary = RunSummary()
    report = RunReport(batches_sent=3, batches_resumed=1, batches_not_sent=2, elapsed=1.23456)
    stats = ClientStats(calls=4, retries=1)
    summary.ran(report, stats, {"table": "failed", "rows_written": 7})
    stop = Stop.throttled("Zoho kept answering 429")
    verdict = OutcomePolicy().decide(summary, stop)
    summary.conclude(verdict.outcome, verdict.stopped_by)
    result = summary.to_dict()
    assert (result["resumed_batches"], result["batches_not_sent"], result["seconds"]) == (1, 2, 1.235)
    assert (result["api_calls"], result["client"]) == (4, {**stats.as_dict(), "locked_resends": 0})
    assert result["failed_items_table"] == {"table": "failed", "rows_written": 7}
    assert result["stopped_by"] == {"code": "TOO_MANY_REQUESTS", "message": "Zoho kept answering 429"}
    assert result["outcome"] == "success"  # nothing failed: the item policy decides a 429 stop


def test_the_keys_are_the_same_at_every_stage_and_include_sync_counts():
    fresh = RunSummary()
    assert (fresh.to_dict()["delinked"], fresh.to_dict()["unchanged"]) == (0, 0)
    refused = RunSummary()
    refused.refuse_input(1, 1, ["x"])
    refused.conclude("fail", Stop.of(ValueError("bug")))
    ran = RunSummary()
    ran.record(batch(1), [ok("0")])
    ran.ran(RunReport(), ClientStats(), None)
    for summary in (fresh, refused, ran):
        assert set(summary.to_dict()) == KEYS
        json.dumps(summary.to_dict())  # an XCom: JSON-serialisable


def test_the_readme_documents_every_key():
    text = README.read_text()
    section = text[text.index("### Outcome: summary, policy and task state") :]
    example = json.loads(section[section.index("```json") + len("```json") : section.index("```\n", 10)])
    assert set(example) == KEYS
    table = section[section.index("| Key | Meaning |") :]
    table = table[: table.index("\n\n")]
    documented = set(re.findall(r"`([a-z_]+)`", "\n".join(line.split("|")[1] for line in table.splitlines())))
    assert documented == KEYS
