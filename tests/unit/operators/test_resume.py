"""Resume bookkeeping in ``task_state_store``: read once before sending, written in coalesced chunks
by a background thread, and every store failure degrades to "send again", never to a lost item.

The store here is a dict behind ``get``/``set`` that counts its calls; the whole path through a real
Airflow (in-process under ``dag.test()``, over HTTP in a deployment, a SIGKILL between two writes)
is proven in tests/e2e, tests/deployment and tests/reliability/test_rel_kill.py.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest

from airflow_provider_zohorel._compat import AIRFLOW_V_3_3_PLUS
from airflow_provider_zohorel.operators.resume import (
    CHUNK_PREFIX,
    BatchStateStore,
    configured_chunk_bytes,
    decode_marks,
    encode_marks,
)
from airflow_provider_zohorel.zoho.planning import Batch
from airflow_provider_zohorel.zoho.results import ItemResult

FROZEN = 1000.0  # a clock that never moves: only the count trigger and close() cause writes


class DictStore:
    """``task_state_store``'s interface over a dict, counting calls; ``fail_*`` raise like a dead API."""

    def __init__(self, data: dict[str, Any] | None = None) -> None:
        self.data: dict[str, Any] = data if data is not None else {}
        self.gets: list[str] = []
        self.sets: list[str] = []
        self.fail_get = False
        self.fail_set_after: int | None = None
        self.set_gate: threading.Event | None = None
        self.threads: set[str] = set()

    def get(self, key: str, default: Any = None) -> Any:
        self.gets.append(key)
        if self.fail_get:
            raise RuntimeError("execution API unreachable")
        return self.data.get(key, default)

    def set(self, key: str, value: Any) -> None:
        self.threads.add(threading.current_thread().name)
        if self.set_gate is not None:
            self.set_gate.wait(30)
        if self.fail_set_after is not None and len(self.sets) >= self.fail_set_after:
            raise RuntimeError("execution API unreachable")
        self.sets.append(key)
        self.data[key] = value

    def batches(self) -> int:
        return sum(len(v) for k, v in self.data.items() if k.startswith(CHUNK_PREFIX))


def batch(n: int, size: int = 100) -> Batch:
    items = [{"id": f"{n}{i:04d}", "Member_Status": "Sent"} for i in range(size)]
    return Batch(f"p{n}", items, list(range(size)), f"{n:032x}")


def added(b: Batch) -> list[ItemResult]:
    return [ItemResult(i["id"], "SUCCESS", "success", "relation added", {}, 200, "added") for i in b.items]


def opened(store: DictStore, **kwargs: Any) -> BatchStateStore:
    kwargs.setdefault("interval", 3600.0)
    kwargs.setdefault("clock", lambda: FROZEN)
    return BatchStateStore(store, **kwargs)


def wait_until(predicate: Any, what: str, timeout: float = 30.0) -> None:
    """Poll observable state (the store) with a deadline; the interval only paces the polling."""
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.005)


# -- marks -----------------------------------------------------------------------------------------


def test_marks_are_run_length_encoded_and_decode_to_one_mark_per_item():
    b = batch(1, 5)
    results = added(b)
    results[2] = ItemResult.failure(b.items[2]["id"], "INVALID_DATA", "no")
    results[4] = ItemResult(b.items[4]["id"], "SUCCESS", "success", "relation updated", {}, 200, "updated")
    assert encode_marks(results) == "a2-1a1u1"
    assert decode_marks("a2-1a1u1", 5) == "aa-au"


def test_a_batch_with_nothing_related_has_no_marks():
    b = batch(1, 3)
    assert encode_marks([ItemResult.failure(item["id"], "INVALID_DATA", "no") for item in b.items]) is None


@pytest.mark.parametrize("marks", ["a99", "a101", "x100", "a50b50", "a0a100", "a100 ", "", "a05a95"])
def test_malformed_marks_or_another_length_decode_to_nothing(marks):
    assert decode_marks(marks, 100) is None


# -- reading -----------------------------------------------------------------------------------------


def test_a_first_try_reads_once_and_starts_no_writer_before_a_batch_finishes():
    store = DictStore()
    state = opened(store)
    assert store.gets == [f"{CHUNK_PREFIX}0"]
    assert not state.previous_try
    assert state.done(batch(1)) is None
    cost = state.close()
    assert (cost.reads, cost.writes, store.sets) == (1, 0, [])


def test_a_retry_reads_every_chunk_once_and_looks_batches_up_without_calling_the_store():
    store = DictStore(
        {
            f"{CHUNK_PREFIX}0": {f"{n:032x}": "a100" for n in range(3)},
            f"{CHUNK_PREFIX}1": {f"{3:032x}": "u60-40"},
        }
    )
    state = opened(store)
    assert store.gets == [f"{CHUNK_PREFIX}0", f"{CHUNK_PREFIX}1", f"{CHUNK_PREFIX}2"]
    assert state.previous_try
    assert state.cost.batches_found == 4
    assert state.done(batch(0)) == {item["id"]: "added" for item in batch(0).items}
    partial = state.done(batch(3))
    assert partial is not None
    assert set(partial.values()) == {"updated"}
    assert sorted(partial) == [item["id"] for item in batch(3).items[:60]]
    assert state.done(batch(7)) is None
    assert len(store.gets) == 3  # look-ups are in memory


def test_a_stored_batch_of_another_size_is_sent_again():
    store = DictStore({f"{CHUNK_PREFIX}0": {f"{1:032x}": "a100"}})
    assert opened(store).done(batch(1, size=99)) is None


def test_an_unreadable_chunk_ends_the_read_and_its_batches_are_sent_again():
    store = DictStore({f"{CHUNK_PREFIX}0": "not a chunk", f"{CHUNK_PREFIX}1": {f"{1:032x}": "a100"}})
    state = opened(store)
    assert store.gets == [f"{CHUNK_PREFIX}0"]
    assert state.done(batch(1)) is None


def test_a_failing_read_means_sending_everything_and_recording_nothing():
    store = DictStore({f"{CHUNK_PREFIX}0": {f"{1:032x}": "a100"}})
    store.fail_get = True
    state = opened(store)
    assert state.done(batch(1)) is None
    state.record(batch(2), added(batch(2)))
    cost = state.close()
    assert (cost.reads, cost.writes, store.sets) == (1, 0, [])


# -- writing -----------------------------------------------------------------------------------------


def test_recording_never_waits_for_the_store():
    store = DictStore()
    store.set_gate = threading.Event()  # every write hangs until released
    state = opened(store, flush_batches=2)
    for n in range(50):  # would hang here (and time out) if record() waited for a write
        state.record(batch(n), added(batch(n)))
    assert store.sets == []
    store.set_gate.set()
    state.close()
    assert store.threads == {"zohorel-resume"}
    assert store.batches() == 50


def test_batches_are_coalesced_into_writes_of_at_most_flush_batches():
    store = DictStore()
    state = opened(store, flush_batches=10)
    for n in range(25):
        state.record(batch(n), added(batch(n)))
    cost = state.close()
    # The clock never moves: two writes on the count trigger, the rest at close. One chunk key,
    # rewritten with everything recorded so far each time.
    assert cost.writes == 3
    assert store.sets == [f"{CHUNK_PREFIX}0"] * 3
    assert (cost.batches_written, store.batches()) == (25, 25)
    retry = opened(DictStore(store.data))
    assert all(retry.done(batch(n)) for n in range(25))


def test_nothing_is_written_before_the_interval_is_up_while_fewer_than_flush_batches_wait():
    store = DictStore()
    state = BatchStateStore(store, interval=3600.0, flush_batches=1000)  # the real clock
    for n in range(50):
        state.record(batch(n), added(batch(n)))
    assert store.sets == []
    assert state.close().writes == 1


def test_a_due_write_happens_while_batches_are_still_sending():
    store = DictStore()
    state = BatchStateStore(store, interval=0.0)
    state.record(batch(1), added(batch(1)))
    wait_until(lambda: store.batches() == 1, "the background write")  # close() not called yet
    state.close()


def test_a_full_chunk_moves_on_to_the_next_key_and_a_retry_reads_both():
    store = DictStore()
    state = opened(store, max_chunk_bytes=200)  # four entries of 32 + 4 + 6 bytes fit
    for n in range(6):
        state.record(batch(n), added(batch(n)))
    state.close()
    assert set(store.data) == {f"{CHUNK_PREFIX}0", f"{CHUNK_PREFIX}1"}
    assert [len(store.data[f"{CHUNK_PREFIX}{i}"]) for i in range(2)] == [4, 2]
    retry = opened(DictStore(store.data), max_chunk_bytes=200)
    assert retry.cost.reads == 3
    assert retry.cost.batches_found == 6


def test_a_retry_fills_the_last_chunk_and_never_rewrites_what_it_resumed():
    store = DictStore({f"{CHUNK_PREFIX}0": {f"{0:032x}": "a100"}})
    state = opened(store)
    message = "relation added (previous try)"
    resumed = [ItemResult(i["id"], "SUCCESS", "success", message, {}, None, "added") for i in batch(0).items]
    state.record(batch(0), resumed, resumed=100)  # what the runner reports for a wholly resumed batch
    state.record(batch(0), resumed)  # and without the count: the same marks are not written again
    cost = state.close()
    assert (cost.writes, store.sets) == (0, [])
    state = opened(store)
    state.record(batch(1), added(batch(1)))
    state.close()
    assert store.sets == [f"{CHUNK_PREFIX}0"]
    assert set(store.data[f"{CHUNK_PREFIX}0"]) == {f"{0:032x}", f"{1:032x}"}


def test_a_batch_finished_by_a_retry_replaces_its_partial_marks():
    store = DictStore({f"{CHUNK_PREFIX}0": {f"{1:032x}": "a98-2"}})
    state = opened(store)
    state.record(batch(1), added(batch(1)))
    state.close()
    assert opened(DictStore(store.data)).done(batch(1)) == {i["id"]: "added" for i in batch(1).items}


def test_a_kill_loses_only_the_batches_not_yet_written_and_a_retry_sends_those_again():
    store = DictStore()
    killed = opened(store, flush_batches=10)
    for n in range(25):
        killed.record(batch(n), added(batch(n)))
    wait_until(lambda: store.batches() == 20, "the two count-triggered writes")
    retry = opened(DictStore(dict(store.data)))  # the task process died here: no close()
    assert [n for n in range(25) if retry.done(batch(n)) is None] == list(range(20, 25))
    killed.close()


def test_a_failing_write_stops_the_bookkeeping_and_counts_what_a_retry_sends_again():
    store = DictStore()
    store.fail_set_after = 1
    state = opened(store, flush_batches=10)
    for n in range(25):
        state.record(batch(n), added(batch(n)))
    cost = state.close()  # no exception: the task goes on
    assert (cost.batches_written, cost.batches_not_written) == (10, 15)
    retry = opened(DictStore(store.data))
    assert [n for n in range(25) if retry.done(batch(n)) is None] == list(range(10, 25))


def test_close_reports_what_the_bookkeeping_cost():
    store = DictStore({f"{CHUNK_PREFIX}0": {f"{0:032x}": "a100"}})
    state = opened(store)
    state.record(batch(1), added(batch(1)))
    cost = state.close()
    assert cost.as_dict() == {
        "reads": 2,
        "writes": 1,
        "seconds": pytest.approx(cost.read_seconds + cost.write_seconds, abs=0.002),
        "read_seconds": pytest.approx(cost.read_seconds, abs=0.001),
        "write_seconds": pytest.approx(cost.write_seconds, abs=0.001),
        "cpu_seconds": pytest.approx(cost.cpu_seconds, abs=0.001),
        "batches_found": 1,
        "batches_written": 1,
        "batches_not_written": 0,
    }
    assert cost.read_seconds >= 0
    assert cost.write_seconds >= 0
    assert cost.line().startswith("2 reads (1 finished batches found), 1 writes (1 batches recorded)")


@pytest.mark.skipif(
    not AIRFLOW_V_3_3_PLUS,
    reason="the task state store and its [state_store] options arrive with Airflow 3.3",
)
@pytest.mark.parametrize(("configured", "chunk"), [("0", 60_000), ("65535", 60_000), ("20000", 19_000)])
def test_chunks_stay_under_the_configured_value_size(monkeypatch, configured, chunk):
    monkeypatch.setenv("AIRFLOW__STATE_STORE__MAX_VALUE_STORAGE_BYTES", configured)
    assert configured_chunk_bytes() == chunk
    assert opened(DictStore()).max_chunk_bytes == chunk


def test_a_partly_failed_batch_is_recorded_and_a_retry_sends_only_its_failed_items():
    """A batch with 60 items related and 40 failed is recorded too (not only fully successful ones):
    the retry finds the 60 (with their actions) and sends the 40 again."""
    b = batch(4)
    results = [
        ItemResult(i["id"], "SUCCESS", "success", "relation updated", {}, 200, "updated")
        for i in b.items[:60]
    ] + [ItemResult.failure(i["id"], "INVALID_DATA", "bad value", 400) for i in b.items[60:]]
    store = DictStore()
    state = opened(store)
    state.record(b, results)
    state.close()
    assert store.batches() == 1
    previous = opened(DictStore(store.data)).done(b)
    assert previous == {i["id"]: "updated" for i in b.items[:60]}
