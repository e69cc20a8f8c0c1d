"""Sending a plan's batches in parallel, within the concurrency budget, accounting for every item.

Worker threads only make HTTP calls. Everything else (accounting, the resume store, progress) runs
on the caller's thread through ``on_batch``, so callers need no locks and every batch is reported
exactly once, including batches never sent because the run stopped.

The run stops early, without spinning, on a configuration or authentication error, and when a
batch exhausted its retries on 429 (credits used up, or a cap lower than ``max_concurrency``):
the items not sent are then reported as failed with the stop's code (:mod:`.stops` says what a
stop means for the task).
"""

from __future__ import annotations

import gc
import itertools
import logging
import queue
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from airflow_provider_zohorel.zoho.errors import ZohoAuthError, ZohoConfigurationError, ZohoError
from airflow_provider_zohorel.zoho.locked_items import RECORD_LOCKED, LockedRetryPolicy, LockedWaits
from airflow_provider_zohorel.zoho.planning import DELINK, Batch, Plan
from airflow_provider_zohorel.zoho.related_records_api import RelatedRecordsApi
from airflow_provider_zohorel.zoho.relation_catalog import RelationSpec
from airflow_provider_zohorel.zoho.results import SUCCESS, ItemResult
from airflow_provider_zohorel.zoho.stops import Stop

log = logging.getLogger(__name__)

#: ``on_batch(batch, results aligned with batch.items, number of items resumed from a previous try)``
BatchCallback = Callable[[Batch, list[ItemResult], int], None]
#: ``resume(batch)`` -> ``{related_id: "added" | "updated"}`` for items an earlier try already related.
ResumeLookup = Callable[[Batch], Mapping[str, str] | None]


@dataclass(frozen=True)
class Progress:
    batches_done: int
    batches_total: int
    items_done: int
    items_total: int
    failed: int
    elapsed: float
    #: of ``items_done``: already related by an earlier try, not sent again (no call, no time)
    items_resumed: int = 0
    #: calls this try sent and got answered (a resumed batch needs none)
    calls_sent: int = 0

    @property
    def rate(self) -> float:
        """Items related per second by this try's own calls (resumed items took no call)."""
        sent = self.items_done - self.items_resumed
        return sent / self.elapsed if self.elapsed > 0 else 0.0

    @property
    def eta(self) -> float | None:
        rate = self.rate
        return (self.items_total - self.items_done) / rate if rate > 0 else None

    def line(self) -> str:
        left = self.items_total - self.items_done
        eta = "0 s" if left == 0 else (f"{self.eta:.0f} s" if self.eta is not None else "unknown")
        pct = 100.0 * self.batches_done / self.batches_total if self.batches_total else 100.0
        text = (
            f"batches {self.batches_done}/{self.batches_total} ({pct:.0f}%), items {self.items_done}/"
            f"{self.items_total}"
        )
        if self.items_resumed:
            text += (
                f" ({self.items_resumed} already related by an earlier try, not sent; "
                f"{self.calls_sent} call(s) sent)"
            )
        return text + f", {self.rate:.0f} items/s sent, failed {self.failed}, time left {eta}"


@dataclass
class RunReport:
    batches_sent: int = 0
    batches_resumed: int = 0
    batches_not_sent: int = 0
    stopped_by: Stop | None = None
    elapsed: float = 0.0
    #: Calls that re-sent RECORD_LOCKED items, and the seconds spent waiting for them.
    locked_resends: int = 0
    locked_wait: float = 0.0


class BatchRunner:
    def __init__(
        self,
        api: RelatedRecordsApi,
        *,
        max_concurrency: int,
        progress: Callable[[Progress], None] | None = None,
        progress_interval: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
        locked_retry: LockedRetryPolicy | None = None,
    ) -> None:
        if max_concurrency < 1:
            raise ValueError("max_concurrency must be at least 1")
        self.locked_retry = locked_retry or LockedRetryPolicy()
        self.api = api
        self.max_concurrency = max_concurrency
        self.progress = progress
        self.progress_interval = progress_interval
        self.clock = clock

    def _call(
        self, action: str, spec: RelationSpec, parent_id: str, payload: list[dict[str, Any]]
    ) -> list[ItemResult]:
        """One PUT of the items, or (a mirror run's delinks) one DELETE of their ids."""
        if action == DELINK:
            return self.api.delink(spec, parent_id, [item["id"] for item in payload], absent_ok=True)
        return self.api.send(spec, parent_id, payload)

    def _send(
        self,
        stop: threading.Event,
        waits: LockedWaits,
        spec: RelationSpec,
        parent_id: str,
        payload: list[dict[str, Any]],
        action: str,
    ) -> list[ItemResult]:
        """Worker side: skip once the run stopped; stop the run itself on a stopping answer, before
        this worker (or any other) can take the next queued batch."""
        if stop.is_set():
            raise _NotSent
        try:
            results = self._call(action, spec, parent_id, payload)
        except BaseException:
            stop.set()  # configuration/auth errors, or a bug: nothing more goes out
            raise
        if any(r.code == RECORD_LOCKED for r in results):
            results = self._resend_locked(stop, waits, spec, parent_id, payload, results, action)
        if _exhausted_on_429(results):
            stop.set()
        return results

    def _resend_locked(
        self,
        stop: threading.Event,
        waits: LockedWaits,
        spec: RelationSpec,
        parent_id: str,
        payload: list[dict[str, Any]],
        results: list[ItemResult],
        action: str,
    ) -> list[ItemResult]:
        """Send the items Zoho answered RECORD_LOCKED again after a wait, while the bounds allow."""
        results = list(results)
        for attempt in itertools.count():
            locked = [i for i, r in enumerate(results) if r.code == RECORD_LOCKED]
            if not locked:
                break
            delay = waits.take(attempt)
            if delay is None:
                break
            log.info(
                "Zoho answered RECORD_LOCKED for %d item(s) of %s %s (the record is being processed, "
                "Zoho says to wait); sending them again in %.1f s (re-send %d of at most %d)",
                len(locked),
                spec.parent,
                parent_id,
                delay,
                attempt + 1,
                waits.policy.max_attempts,
            )
            if stop.wait(delay):
                break  # the run stopped meanwhile: report them locked
            try:
                again = self._call(action, spec, parent_id, [payload[i] for i in locked])
            except Exception as exc:
                stop.set()
                code = exc.code if isinstance(exc, ZohoError) else "CLIENT_ERROR"
                status = exc.http_status if isinstance(exc, ZohoError) else None
                for i in locked:
                    results[i] = ItemResult.failure(payload[i]["id"], code, str(exc), status)
                raise _StoppedMidBatch(exc, results) from exc
            for i, result in zip(locked, again, strict=True):
                results[i] = result
        return results

    def run(self, plan: Plan, on_batch: BatchCallback, resume: ResumeLookup | None = None) -> RunReport:
        report = RunReport()
        started = self.clock()
        next_progress = started + self.progress_interval
        done_batches = done_items = failed = resumed_items = 0

        def finish(batch: Batch, results: list[ItemResult], resumed: int) -> None:
            nonlocal done_batches, done_items, failed, resumed_items
            on_batch(batch, results, resumed)
            done_batches += 1
            done_items += len(results)
            resumed_items += resumed
            failed += sum(1 for r in results if not r.succeeded)

        def progress() -> None:
            if self.progress is not None:
                now = self.clock()
                self.progress(
                    Progress(
                        done_batches,
                        plan.all_calls,
                        done_items,
                        plan.all_items,
                        failed,
                        now - started,
                        items_resumed=resumed_items,
                        calls_sent=report.batches_sent,
                    )
                )

        # Everything alive now (the input rows, the plan, the process's own state) lives until the
        # run ends; freezing it keeps the cyclic garbage collector from re-traversing it on every
        # collection that the per-item result objects trigger (7-15% of client CPU, measured).
        gc.freeze()
        batches = plan.batches()
        stop = threading.Event()
        waits = LockedWaits(self.locked_retry)
        not_sent: list[tuple[Batch, Mapping[str, str]]] = []  # queued when the run stopped
        pending: dict[Future[list[ItemResult]], tuple[Batch, Mapping[str, str]]] = {}
        # Finished futures arrive here from their done-callbacks: one queue operation per batch,
        # where ``concurrent.futures.wait`` re-arms a waiter on every pending future per answer.
        finished: queue.SimpleQueue[Future[list[ItemResult]]] = queue.SimpleQueue()
        window = self.max_concurrency * 2  # enough queued work that no worker waits on this thread
        pool = ThreadPoolExecutor(self.max_concurrency, thread_name_prefix="zohorel")
        try:
            while True:
                while not stop.is_set() and len(pending) < window:
                    batch = next(batches, None)
                    if batch is None:
                        break
                    previous = (resume(batch) if resume is not None else None) or {}
                    to_send = [item for item in batch.items if item["id"] not in previous]
                    if not to_send:
                        report.batches_resumed += 1
                        finish(batch, _merge(batch, previous, []), len(previous))
                        continue
                    future = pool.submit(
                        self._send, stop, waits, plan.spec, batch.parent_id, to_send, batch.action
                    )
                    pending[future] = (batch, previous)
                    future.add_done_callback(finished.put)
                if not pending:
                    break
                timeout = max(0.0, next_progress - self.clock()) if self.progress else None
                for future in _finished(finished, timeout):
                    batch, previous = pending.pop(future)
                    results = self._collect(future, batch, previous, report)
                    if results is None:
                        not_sent.append((batch, previous))
                        continue
                    report.batches_sent += 1
                    finish(batch, _merge(batch, previous, results), len(previous))
                if self.progress is not None and self.clock() >= next_progress:
                    progress()
                    next_progress = self.clock() + self.progress_interval
            if report.stopped_by is not None:
                code = report.stopped_by.code
                message = f"not sent: the run stopped after {code} ({report.stopped_by.message})"
                rest = ((b, (resume(b) if resume is not None else None) or {}) for b in batches)
                for batch, previous in itertools.chain(not_sent, rest):
                    report.batches_not_sent += 1
                    unsent = [rid for rid in batch.related_ids if rid not in previous]
                    failures = [ItemResult.failure(rid, code, message) for rid in unsent]
                    finish(batch, _merge(batch, previous, failures), len(previous))
        except BaseException:
            stop.set()
            pool.shutdown(wait=True, cancel_futures=True)
            raise
        finally:
            gc.unfreeze()
        pool.shutdown(wait=True)
        report.locked_resends, report.locked_wait = waits.resends, round(waits.waited, 3)
        report.elapsed = self.clock() - started
        progress()
        return report

    @staticmethod
    def _collect(
        future: Future[list[ItemResult]], batch: Batch, previous: Mapping[str, str], report: RunReport
    ) -> list[ItemResult] | None:
        """This try's results for a finished future (``None``: skipped because the run stopped)."""
        sent = [rid for rid in batch.related_ids if rid not in previous]
        try:
            results = future.result()
        except _NotSent:
            return None
        except _StoppedMidBatch as exc:  # the batch's first answers stand; the re-sent items failed
            report.stopped_by = report.stopped_by or Stop.of(exc.error)
            return exc.results
        except (ZohoConfigurationError, ZohoAuthError) as exc:
            report.stopped_by = report.stopped_by or Stop.of(exc)
            return [ItemResult.failure(rid, exc.code, str(exc), exc.http_status) for rid in sent]
        except Exception as exc:  # a bug must not lose the accounting of the batch
            report.stopped_by = report.stopped_by or Stop.of(exc)
            message = f"client error {type(exc).__name__}: {exc}"
            return [ItemResult.failure(rid, "CLIENT_ERROR", message) for rid in sent]
        if report.stopped_by is None and _exhausted_on_429(results):
            report.stopped_by = Stop.throttled(
                "Zoho kept answering 429 after every retry (API credits used up, or a concurrency cap "
                "below max_concurrency); stopped calling"
            )
        return results


def _finished(
    finished: queue.SimpleQueue[Future[list[ItemResult]]], timeout: float | None
) -> list[Future[list[ItemResult]]]:
    """The futures that have finished: at least one unless ``timeout`` passes first."""
    try:
        done = [finished.get(timeout=timeout)]
    except queue.Empty:
        return []
    while True:
        try:
            done.append(finished.get_nowait())
        except queue.Empty:
            return done


class _NotSent(Exception):
    """A queued batch skipped because another batch stopped the run."""


class _StoppedMidBatch(Exception):
    """Re-sending a batch's locked items raised: the run stops, and ``results`` (the batch's
    answers, the re-sent items failed with the error's code) are still accounted for."""

    def __init__(self, error: Exception, results: list[ItemResult]) -> None:
        super().__init__(str(error))
        self.error = error
        self.results = results


def _merge(batch: Batch, previous: Mapping[str, str], results: list[ItemResult]) -> list[ItemResult]:
    """Results aligned with ``batch.items``: earlier tries' successes, then this try's answers."""
    if not previous:
        return results
    sent = iter(results)
    merged = []
    for related_id in batch.related_ids:
        action = previous.get(related_id)
        if action is None:
            merged.append(next(sent))
        else:
            merged.append(
                ItemResult(
                    related_id, SUCCESS, "success", f"relation {action} (previous try)", {}, None, action
                )
            )
    return merged


def _exhausted_on_429(results: list[ItemResult]) -> bool:
    return bool(results) and all(r.code == "TOO_MANY_REQUESTS" for r in results)
