"""The parallel runner against an in-process fake API: the concurrency bound holds exactly, every
item is reported exactly once, and the run stops (without spinning) when it must."""

from __future__ import annotations

import threading
from collections import Counter

import pytest

from airflow_provider_zohorel.zoho.errors import ZohoConfigurationError
from airflow_provider_zohorel.zoho.locked_items import LockedRetryPolicy
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


class LockingApi:
    """Answers RECORD_LOCKED for ``locked`` ids during their first ``times`` sends, then SUCCESS;
    ``raise_on_resend`` makes the first re-send raise instead."""

    def __init__(self, locked: set[str], times: int = 1, raise_on_resend: Exception | None = None):
        self.locked = dict.fromkeys(locked, times)
        self.calls: list[list[str]] = []
        self.lock = threading.Lock()
        self.raise_on_resend = raise_on_resend

    def send(self, spec, parent, payload):
        ids = [item["id"] for item in payload]
        with self.lock:
            self.calls.append(ids)
            if self.raise_on_resend is not None and len(self.calls) > 1:
                raise self.raise_on_resend
            results = []
            for rid in ids:
                if self.locked.get(rid, 0) > 0:
                    self.locked[rid] -= 1
                    results.append(ItemResult.failure(rid, "RECORD_LOCKED", "Cannot update record", 207))
                else:
                    results.append(ItemResult(rid, "SUCCESS", "success", "relation added", {}, 200, "added"))
            return results


FAST_LOCKS = LockedRetryPolicy(max_attempts=3, base_delay=0.001, max_delay=0.002, max_total_wait=1.0)


def test_locked_items_alone_are_sent_again_until_zoho_lets_them_through():
    plan = plan_for(1, 5, batch_size=5)
    ids = [item["id"] for batch in plan.batches() for item in batch.items]
    api = LockingApi({ids[1], ids[3]}, times=2)
    seen, on_batch = collect()
    report = BatchRunner(api, max_concurrency=2, locked_retry=FAST_LOCKS).run(plan, on_batch)
    assert api.calls == [ids, [ids[1], ids[3]], [ids[1], ids[3]]]
    assert [code for _, _, code in seen] == ["SUCCESS"] * 5
    assert [rid for _, rid, _ in seen] == ids  # in the batch's order
    assert (report.locked_resends, report.stopped_by) == (2, None)


@pytest.mark.parametrize(
    ("policy", "resends"),
    [
        (LockedRetryPolicy(max_attempts=2, base_delay=0.001, max_delay=0.001), 2),  # attempts bound
        (LockedRetryPolicy(max_attempts=5, base_delay=0.01, max_delay=0.01, max_total_wait=0.025), 2),  # wait
        (LockedRetryPolicy(max_attempts=0), 0),  # off
    ],
    ids=["attempts", "total wait", "off"],
)
def test_items_still_locked_after_the_bounds_are_reported_with_their_code(policy, resends):
    plan = plan_for(1, 3, batch_size=3)
    ids = [item["id"] for batch in plan.batches() for item in batch.items]
    api = LockingApi({ids[0]}, times=100)
    seen, on_batch = collect()
    report = BatchRunner(api, max_concurrency=1, locked_retry=policy).run(plan, on_batch)
    assert len(api.calls) == 1 + resends
    assert [code for _, _, code in seen] == ["RECORD_LOCKED", "SUCCESS", "SUCCESS"]
    assert report.locked_resends == resends


def test_the_total_wait_is_shared_by_every_batch_of_the_run():
    plan = plan_for(4, 1, batch_size=1)  # four batches, each with a locked item
    api = LockingApi({item["id"] for batch in plan.batches() for item in batch.items}, times=100)
    policy = LockedRetryPolicy(max_attempts=10, base_delay=0.01, max_delay=0.01, max_total_wait=0.035)
    report = BatchRunner(api, max_concurrency=2, locked_retry=policy).run(plan, collect()[1])
    assert report.locked_resends == 3  # 3 waits of 0.01 s fit in 0.035 s, whichever batches took them
    assert report.locked_wait == pytest.approx(0.03)


def test_a_stopping_error_on_a_resend_keeps_the_batch_s_first_answers():
    plan = plan_for(1, 3, batch_size=3)
    ids = [item["id"] for batch in plan.batches() for item in batch.items]
    error = ZohoConfigurationError("NO_PERMISSION", "denied", http_status=403)
    api = LockingApi({ids[2]}, raise_on_resend=error)
    seen, on_batch = collect()
    report = BatchRunner(api, max_concurrency=1, locked_retry=FAST_LOCKS).run(plan, on_batch)
    assert [code for _, _, code in seen] == ["SUCCESS", "SUCCESS", "NO_PERMISSION"]
    assert report.stopped_by is not None
    assert (report.stopped_by.kind, report.stopped_by.code) == (StopKind.CONFIGURATION, "NO_PERMISSION")


def test_lock_retry_bounds_are_validated():
    with pytest.raises(ValueError, match="max_attempts must be a non-negative integer"):
        LockedRetryPolicy(max_attempts=-1)
    with pytest.raises(ValueError, match="max_total_wait must be a non-negative number"):
        LockedRetryPolicy(max_total_wait="1m")
    assert [LockedRetryPolicy().delay(n) for n in range(4)] == [2.0, 4.0, 8.0, 15.0]


def test_progress_of_a_try_that_resent_nothing_says_so():
    from airflow_provider_zohorel.zoho.runner import Progress

    line = Progress(1, 1, 59, 59, 0, 0.07, items_resumed=59, calls_sent=0).line()
    assert "items 59/59 (59 already related by an earlier try, not sent; 0 call(s) sent)" in line
    assert "0 items/s sent" in line
    assert "time left 0 s" in line


def test_progress_rate_and_time_left_count_only_this_try_s_calls():
    from airflow_provider_zohorel.zoho.runner import Progress

    mid = Progress(2, 10, 200, 1000, 3, 4.0)
    assert (mid.items_resumed, mid.calls_sent) == (0, 0)
    assert mid.rate == 50.0  # 200 items in 4 s
    assert mid.eta == 16.0  # 800 left at 50/s
    assert mid.line() == "batches 2/10 (20%), items 200/1000, 50 items/s sent, failed 3, time left 16 s"
    resumed = Progress(3, 10, 300, 1000, 0, 2.0, items_resumed=200, calls_sent=1)
    assert resumed.rate == 50.0  # the 200 resumed items took no call and no time
    assert resumed.eta == 14.0
    assert resumed.line() == (
        "batches 3/10 (30%), items 300/1000 (200 already related by an earlier try, not sent; "
        "1 call(s) sent), 50 items/s sent, failed 0, time left 14 s"
    )
    for elapsed in (0.0, 0.5):  # nothing timed yet, or less than a second: a rate still
        assert Progress(1, 10, 0, 1000, 0, elapsed).rate == 0.0
        assert Progress(1, 10, 0, 1000, 0, elapsed).eta is None
    assert Progress(1, 10, 1, 1000, 0, 0.5).rate == 2.0
    assert Progress(1, 10, 0, 1000, 0, 1.0).line().endswith("0 items/s sent, failed 0, time left unknown")
    assert Progress(0, 0, 0, 0, 0, 0.0).line().startswith("batches 0/0 (100%), items 0/0")
    assert Progress(10, 10, 1000, 1000, 0, 0.0).line().endswith("time left 0 s")
    assert Progress(1, 10, 1, 1000, 0, 2.0).eta == 1998.0  # under 1 item/s: still a time left
    import dataclasses

    with pytest.raises(dataclasses.FrozenInstanceError):
        mid.failed = 0  # type: ignore[misc]


def test_a_fresh_report_counts_nothing_and_progress_comes_every_5_seconds_by_default():
    import dataclasses
    import inspect

    from airflow_provider_zohorel.zoho.runner import BatchRunner, RunReport

    report = RunReport()
    assert dataclasses.asdict(report) == {
        "batches_sent": 0,
        "batches_resumed": 0,
        "batches_not_sent": 0,
        "stopped_by": None,
        "elapsed": 0.0,
        "locked_resends": 0,
        "locked_wait": 0.0,
    }
    assert RunReport() == report  # a value, compared by fields
    assert inspect.signature(BatchRunner).parameters["progress_interval"].default == 5.0  # README


def test_a_delink_batch_is_one_delete_of_its_ids_where_an_absent_relation_is_done():
    """A mirror run's delinks: the items' ids, and ``absent_ok`` (a relation already gone counts
    as delinked, as a retried DELETE whose first answer was lost finds it)."""
    from airflow_provider_zohorel.zoho.planning import DELINK

    calls = []

    class DelinkApi:
        def delink(self, spec, parent, ids, absent_ok=False):
            calls.append((parent, ids, absent_ok))
            return [ItemResult(i, "SUCCESS", "success", "relation removed", {}, 200, "removed") for i in ids]

    spec = resolve_relation("Campaigns", "Leads")
    runner = BatchRunner(DelinkApi(), max_concurrency=1)  # type: ignore[arg-type]
    results = runner._call(DELINK, spec, "p1", [{"id": "11"}, {"id": "12", "Member_Status": "x"}])
    assert calls == [("p1", ["11", "12"], True)]
    assert [r.related_id for r in results] == ["11", "12"]
    with pytest.raises(ValueError, match=r"^max_concurrency must be at least 1$"):
        BatchRunner(DelinkApi(), max_concurrency=0)  # type: ignore[arg-type]
