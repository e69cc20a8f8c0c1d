"""The parallel runner against an in-process fake API: the concurrency bound holds exactly, every
item is reported exactly once, and the run stops (without spinning) when it must."""

from __future__ import annotations

import threading
from collections import Counter

import pytest

from airflow_provider_zohorel.zoho.errors import ZohoConfigurationError
from airflow_provider_zohorel.zoho.planning import build_plan
from airflow_provider_zohorel.zoho.relation_catalog import resolve_relation
from airflow_provider_zohorel.zoho.results import ItemResult
from airflow_provider_zohorel.zoho.runner import BatchRunner
from airflow_provider_zohorel.zoho.stops import StopKind

SPEC = resolve_relation("Leads", "Campaigns")


def plan_for(parents: int, per_parent: int, batch_size: int = 10):
    rows = [
        {"record_id": str(10**17 + p), "id": str(2 * 10**17 + i)}
        for p in range(parents)
        for i in range(per_parent)
    ]
    return build_plan(rows, spec=SPEC, batch_size=batch_size)


class FakeApi:
    def __init__(
        self, barrier_parties: int | None = None, fail_on_call: int | None = None, code: str = "SUCCESS"
    ):
        self.lock = threading.Lock()
        self.in_flight = self.peak = self.calls = 0
        self.sent: Counter[tuple[str, str]] = Counter()
        self.barrier = threading.Barrier(barrier_parties) if barrier_parties else None
        self.fail_on_call = fail_on_call
        self.code = code

    def send(self, spec, parent, payload):
        with self.lock:
            self.calls += 1
            call = self.calls
            self.in_flight += 1
            self.peak = max(self.peak, self.in_flight)
        try:
            if self.barrier is not None:
                self.barrier.wait(timeout=10)  # proceeds only when `parties` calls are in flight at once
            if call == self.fail_on_call:
                raise ZohoConfigurationError("OAUTH_SCOPE_MISMATCH", "invalid oauth scope", http_status=401)
            with self.lock:
                for item in payload:
                    self.sent[(parent, item["id"])] += 1
            if self.code == "SUCCESS":
                return [
                    ItemResult(i["id"], "SUCCESS", "success", "relation added", {}, 200, "added")
                    for i in payload
                ]
            return [ItemResult.failure(i["id"], self.code, "nope", 429) for i in payload]
        finally:
            with self.lock:
                self.in_flight -= 1


def collect():
    seen: list[tuple[str, str, str]] = []

    def on_batch(batch, results, resumed):
        assert len(results) == len(batch.items)
        seen.extend((batch.parent_id, r.related_id, r.code) for r in results)

    return seen, on_batch


@pytest.mark.parametrize("concurrency", [1, 4, 10])
def test_calls_run_in_parallel_up_to_exactly_the_limit(concurrency):
    api = FakeApi(barrier_parties=concurrency)
    plan = plan_for(concurrency * 3, 20, batch_size=10)  # 6 batches per concurrency slot
    seen, on_batch = collect()
    report = BatchRunner(api, max_concurrency=concurrency).run(plan, on_batch)
    assert api.peak == concurrency
    assert report.batches_sent == plan.calls == api.calls
    assert len(seen) == len(set(seen)) == plan.items
    assert all(n == 1 for n in api.sent.values())


def test_configuration_error_stops_and_reports_unsent_items_with_its_code():
    api = FakeApi(fail_on_call=5)
    plan = plan_for(50, 10, batch_size=10)  # 50 batches
    seen, on_batch = collect()
    report = BatchRunner(api, max_concurrency=1).run(plan, on_batch)
    assert isinstance(report.stopped_by.error, ZohoConfigurationError)
    assert report.stopped_by.kind is StopKind.CONFIGURATION
    assert api.calls == 5  # nothing sent after the error
    codes = Counter(code for _, _, code in seen)
    assert codes == {"SUCCESS": 40, "OAUTH_SCOPE_MISMATCH": 460}
    assert report.batches_not_sent == 45
    assert len({(p, r) for p, r, _ in seen}) == plan.items


def test_persistent_429_stops_calling_instead_of_spinning():
    api = FakeApi(code="TOO_MANY_REQUESTS")
    plan = plan_for(30, 10)
    seen, on_batch = collect()
    report = BatchRunner(api, max_concurrency=2).run(plan, on_batch)
    assert report.stopped_by is not None
    assert (report.stopped_by.code, report.stopped_by.kind) == ("TOO_MANY_REQUESTS", StopKind.ITEMS)
    assert api.calls <= 2  # only calls already in flight: queued batches are never sent
    assert Counter(code for _, _, code in seen) == {"TOO_MANY_REQUESTS": plan.items}


def test_resumed_items_are_not_sent_again_and_still_reported():
    api = FakeApi()
    plan = plan_for(3, 10, batch_size=10)
    batches = list(plan.batches())
    done = {
        batches[0].key: {i["id"]: "added" for i in batches[0].items},  # whole batch done earlier
        batches[1].key: {batches[1].items[0]["id"]: "updated"},
    }
    seen, on_batch = collect()
    report = BatchRunner(api, max_concurrency=2).run(plan, on_batch, resume=lambda b: done.get(b.key))
    assert report.batches_resumed == 1
    assert api.calls == 2
    assert sum(api.sent.values()) == 30 - 10 - 1
    assert len(seen) == 30


def test_progress_is_reported_with_totals():
    lines = []
    plan = plan_for(5, 10)
    BatchRunner(FakeApi(), max_concurrency=2, progress=lines.append, progress_interval=0).run(
        plan, collect()[1]
    )
    last = lines[-1]
    assert (last.batches_done, last.batches_total, last.items_done, last.items_total) == (5, 5, 50, 50)
    assert "batches 5/5 (100%)" in last.line()


def test_an_unexpected_exception_is_accounted_then_reported():
    class Broken(FakeApi):
        def send(self, spec, parent, payload):
            raise RuntimeError("bug")

    seen, on_batch = collect()
    plan = plan_for(4, 10)
    report = BatchRunner(Broken(), max_concurrency=1).run(plan, on_batch)
    assert isinstance(report.stopped_by.error, RuntimeError)
    assert report.stopped_by.kind is StopKind.UNEXPECTED
    assert len(seen) == 40
    assert {code for _, _, code in seen} == {"CLIENT_ERROR"}
