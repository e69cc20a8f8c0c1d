"""The sync step without Zoho: which relations a mirror run delinks, the guard that refuses too
many before anything is sent, delink batches through the runner, and how they are counted."""

from __future__ import annotations

import pytest

from airflow_provider_zohorel.zoho.planning import DELINK, RELATE, build_plan
from airflow_provider_zohorel.zoho.policy import OutcomePolicy
from airflow_provider_zohorel.zoho.relation_catalog import resolve_relation
from airflow_provider_zohorel.zoho.results import ItemResult
from airflow_provider_zohorel.zoho.runner import BatchRunner
from airflow_provider_zohorel.zoho.summary import DELINK_ROW, RunSummary
from airflow_provider_zohorel.zoho.sync import DelinkGuardTripped, DelinkPlan, check_guard, delink_key

SPEC = resolve_relation("Campaigns", "Leads")
P1, P2 = "100000000000000001", "100000000000000002"


def ids(*ns: int) -> list[str]:
    return [str(200000000000000000 + n) for n in ns]


def test_a_parent_keeps_what_the_input_lists_and_loses_the_rest():
    delinks = DelinkPlan(SPEC, 100)
    delinks.add(P1, ids(1, 2, 3, 4), set(ids(1, 2, 9)))
    delinks.add(P2, ids(5), set(ids(5)))
    assert delinks.by_parent == {P1: ids(3, 4)}
    assert (delinks.items, delinks.held, delinks.calls) == (2, 5, 1)
    assert delinks.listed() == [{"record_id": P1, "id": i} for i in ids(3, 4)]


def test_delinks_go_in_calls_of_at_most_the_batch_size_with_their_own_keys():
    delinks = DelinkPlan(SPEC, 2)
    delinks.add(P1, ids(1, 2, 3, 4, 5), set())
    batches = list(delinks.batches())
    assert [len(b.items) for b in batches] == [2, 2, 1]
    assert {b.action for b in batches} == {DELINK}
    assert batches[0].key == delink_key(SPEC, P1, ids(1, 2))
    plan = build_plan([{"record_id": P1, "id": i} for i in ids(1, 2)], spec=SPEC, batch_size=2)
    assert next(plan.batches()).key != batches[0].key  # never mistaken for a relate batch on resume


GUARD_CASES = [(10, 5, 0.5, False), (10, 6, 0.5, True), (10, 10, 1.0, False), (4, 1, 0.0, True)]


@pytest.mark.parametrize(("held", "gone", "ratio", "trips"), GUARD_CASES)
def test_the_guard_trips_above_the_ratio_only(held, gone, ratio, trips):
    delinks = DelinkPlan(SPEC, 100)
    delinks.add(P1, ids(*range(held)), set(ids(*range(gone, held))))
    if trips:
        with pytest.raises(DelinkGuardTripped, match=f"would delink {gone} of the {held} relations"):
            check_guard(delinks, ratio)
    else:
        check_guard(delinks, ratio)


def test_nothing_to_delink_never_trips():
    check_guard(DelinkPlan(SPEC, 100), 0.0)


class Api:
    """Relates everything; delinks all but ``missing`` (answered INTERNAL_ERROR)."""

    def __init__(self, missing: set[str]) -> None:
        self.missing = missing
        self.calls: list[tuple[str, str, list[str]]] = []

    def send(self, spec, parent, payload):
        self.calls.append(("PUT", parent, [i["id"] for i in payload]))
        return [
            ItemResult(i["id"], "SUCCESS", "success", "relation added", {}, 200, "added") for i in payload
        ]

    def delink(self, spec, parent, refs, absent_ok=False):
        assert absent_ok  # a mirror run's delinks: "relation not found" is not a failure
        self.calls.append(("DELETE", parent, refs))
        return [
            ItemResult.failure(r, "INTERNAL_ERROR", "try later", 500)
            if r in self.missing
            else ItemResult(r, "SUCCESS", "success", "relation removed", {}, 200, "removed")
            for r in refs
        ]


def test_delinks_run_after_the_updates_and_are_counted_and_judged_like_them():
    plan = build_plan([{"record_id": P1, "id": i} for i in ids(1, 2)], spec=SPEC)
    delinks = DelinkPlan(SPEC, 100)
    delinks.add(P1, ids(1, 2, 3, 4), set(ids(1, 2)))
    plan.follow_up = delinks
    assert (plan.all_items, plan.all_calls) == (4, 2)
    api = Api(missing={ids(4)[0]})
    summary = RunSummary()
    BatchRunner(api, max_concurrency=1).run(plan, lambda b, r, n: summary.record(b, r, resumed=n))
    assert api.calls == [("PUT", P1, ids(1, 2)), ("DELETE", P1, ids(3, 4))]
    assert (summary.total, summary.succeeded, summary.failed) == (4, 3, 1)
    assert (summary.added, summary.delinked, summary.delink_failed) == (2, 1, 1)
    assert summary.failed_items == [
        {"record_id": P1, "id": ids(4)[0], "code": "INTERNAL_ERROR", "message": "try later",
         "row": DELINK_ROW}
    ]  # fmt: skip
    assert OutcomePolicy().decide(summary).outcome == "fail"
    assert OutcomePolicy(item_code_policy={"INTERNAL_ERROR": "ignore"}).decide(summary).outcome == "success"


def test_a_plan_without_delinks_sends_relate_batches_only():
    plan = build_plan([{"record_id": P1, "id": i} for i in ids(1, 2)], spec=SPEC)
    assert [b.action for b in plan.batches()] == [RELATE]
