"""Remembering finished batches across tries in Airflow 3.3's ``task_state_store``, off the send path.

A retry or a Clear of the task re-sends nothing an earlier try of the same task instance already
related. Batches are keyed by a hash of their content (parent, ids, field values), so a batch is
skipped only if exactly the same relation was sent and acknowledged before; changed data in the
source is sent again.

What it costs. The store is a key/value map behind the Execution API: every ``get`` or ``set`` is an
HTTP call to the api-server (under ``airflow dags test``, an in-process API call that runs on the
task's own GIL), and it has no listing and no batch call. So:

- the dispatch thread only appends finished batches to a list; one background thread writes them,
  at most once per ``interval`` (1 s) unless ``flush_batches`` (1,000) are waiting, and at most
  ``flush_batches`` per write;
- each write upserts the current chunk key (``zohorel/done/<n>``) with every batch recorded in it so
  far, so a chunk fills up to ``max_chunk_bytes`` (60,000 bytes, about 1,400 batches: under
  ``[state_store] max_value_storage_bytes``, whose default is 65,535, and less if it is set lower)
  before the next key is started;
- a retry reads ``zohorel/done/0``, ``/1``, ... until a key is missing, once, before sending:
  what an earlier try stored about 100,000 relations takes two reads.

What it risks. Each write is one atomic upsert of a superset of the chunk's previous value. A
SIGKILL loses the batches finished since the last write (at most ``interval`` worth); a retry sends
them again and Zoho answers "relation updated". A store failure stops the bookkeeping for this try
(logged); the batches it could not write are sent again by a retry, never lost.

A chunk's value is a JSON object ``{batch key: marks}``; marks give each item of the batch, in send
order, run-length encoded: ``a`` added, ``u`` updated, ``-`` not (yet) related (``"a100"``,
``"a40-2u58"``).
"""

from __future__ import annotations

import contextlib
import logging
import re
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from airflow_provider_zohorel.zoho.planning import Batch
from airflow_provider_zohorel.zoho.results import ADDED, REMOVED, UPDATED, ItemResult

PREFIX = "zohorel/"
CHUNK_PREFIX = PREFIX + "done/"
#: Seconds between two writes while batches keep finishing (the most a SIGKILL can lose).
WRITE_INTERVAL = 1.0
#: Batches waiting that trigger a write before ``WRITE_INTERVAL`` is up.
FLUSH_BATCHES = 1_000
#: Upper bound of one chunk's JSON, under ``[state_store] max_value_storage_bytes`` (65,535).
MAX_CHUNK_BYTES = 60_000
#: Chunks read at most (each ~1,400 batches): bounds the read loop against a store that never says "none".
MAX_CHUNKS = 10_000
#: Longest wait for the last write when the task ends; past it the batches are re-sent by a retry.
CLOSE_TIMEOUT = 120.0

_CODE = {ADDED: "a", UPDATED: "u", REMOVED: "r"}
_ACTION = {"a": ADDED, "u": UPDATED, "r": REMOVED}
_RUN = re.compile(r"([aur-])([1-9][0-9]{0,3})")

log = logging.getLogger(__name__)


def encode_marks(results: Sequence[ItemResult]) -> str | None:
    """Run-length marks of a batch's results, or ``None`` when none of them is related."""
    runs: list[str] = []
    last, count, related = "", 0, False
    for result in results:
        mark = _CODE.get(result.action or "", "-") if result.succeeded else "-"
        related = related or mark != "-"
        if mark == last:
            count += 1
            continue
        if count:
            runs.append(f"{last}{count}")
        last, count = mark, 1
    if count:
        runs.append(f"{last}{count}")
    return "".join(runs) if related else None


def decode_marks(marks: str, items: int) -> str | None:
    """One mark per item (``"aaau-"``), or ``None`` if ``marks`` is malformed or of another length."""
    expanded = []
    position = 0
    for match in _RUN.finditer(marks):
        if match.start() != position:
            return None
        position = match.end()
        expanded.append(match.group(1) * int(match.group(2)))
    text = "".join(expanded)
    return text if position == len(marks) and len(text) == items else None


@dataclass
class BookkeepingCost:
    """What remembering finished batches cost this try: store calls and the seconds spent in them."""

    reads: int = 0
    writes: int = 0
    read_seconds: float = 0.0  # before sending, on the task's thread
    write_seconds: float = 0.0  # while sending, on the writer thread (and the last write at the end)
    cpu_seconds: float = 0.0  # CPU of the calling threads in store calls and in encoding the marks
    batches_found: int = 0  # finished batches an earlier try stored
    batches_written: int = 0  # batches this try stored
    batches_not_written: int = 0  # lost to a store failure or a hung write: a retry re-sends them

    @property
    def seconds(self) -> float:
        return self.read_seconds + self.write_seconds

    def as_dict(self) -> dict[str, Any]:
        return {
            "reads": self.reads,
            "writes": self.writes,
            "seconds": round(self.seconds, 3),
            "read_seconds": round(self.read_seconds, 3),
            "write_seconds": round(self.write_seconds, 3),
            "cpu_seconds": round(self.cpu_seconds, 3),
            "batches_found": self.batches_found,
            "batches_written": self.batches_written,
            "batches_not_written": self.batches_not_written,
        }

    def line(self) -> str:
        text = (
            f"{self.reads} reads ({self.batches_found} finished batches found), {self.writes} writes "
            f"({self.batches_written} batches recorded), {self.seconds:.3f} s in store calls, "
            f"{self.cpu_seconds:.3f} s CPU"
        )
        if self.batches_not_written:
            text += f"; {self.batches_not_written} batches not recorded (a retry sends them again)"
        return text


class BatchStateStore:
    """Per-batch progress in ``task_state_store``: read once before sending, written in the background.

    ``record`` is all the dispatch thread pays; ``close`` writes what is left and returns the cost.
    Any store failure degrades to "re-send", never to loss.
    """

    def __init__(
        self,
        store: Any,
        *,
        interval: float = WRITE_INTERVAL,
        flush_batches: int = FLUSH_BATCHES,
        max_chunk_bytes: int | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.store = store
        self.interval = interval
        self.flush_batches = flush_batches
        self.max_chunk_bytes = max_chunk_bytes if max_chunk_bytes is not None else configured_chunk_bytes()
        self.clock = clock
        self.cost = BookkeepingCost()
        self.enabled = True
        self._finished: dict[str, str] = {}
        self._chunk_index = 0
        self._chunk: dict[str, str] = {}
        self._chunk_bytes = 2
        self._unsaved = 0  # entries of the current chunk not yet in the store
        self._dropped = 0  # batches recorded after the store failed (counted on the dispatch thread)
        self._pending: list[tuple[str, list[ItemResult]]] = []
        self._cond = threading.Condition()
        self._closing = False
        self._thread: threading.Thread | None = None
        self._last_write = clock()  # the first write comes ``interval`` after the store is opened
        # Held around every store call. Under ``airflow dags test`` the store is reached through an
        # in-process channel that is not thread-safe: other code that uses Airflow's task channel
        # while batches are sending (a failed-items table's connection look-up) holds it too.
        self.exclusive = threading.Lock()
        self._load()

    @property
    def previous_try(self) -> bool:
        """An earlier try of this task instance stored finished batches."""
        return bool(self._finished)

    # -- reading, once, before sending ---------------------------------------------------------

    def _load(self) -> None:
        started, cpu = time.perf_counter(), time.thread_time()
        try:
            for index in range(MAX_CHUNKS):
                self.cost.reads += 1
                with self.exclusive:
                    value = self.store.get(f"{CHUNK_PREFIX}{index}")
                entries = _entries(value)
                if entries is None:
                    break  # the end (or a value this version cannot read: it is overwritten)
                self._finished.update(entries)
                self._chunk_index, self._chunk = index, entries
            if self._chunk:
                self._chunk_bytes = _json_size(self._chunk)
                if self._chunk_bytes >= self.max_chunk_bytes:  # full: this try starts the next key
                    self._chunk_index, self._chunk, self._chunk_bytes = self._chunk_index + 1, {}, 2
        except Exception as exc:
            self._finished.clear()
            self._fail(exc)
        finally:
            self.cost.read_seconds += time.perf_counter() - started
            self.cost.cpu_seconds += time.thread_time() - cpu
        self.cost.batches_found = len(self._finished)

    def done(self, batch: Batch) -> Mapping[str, str] | None:
        """``{related_id: added|updated}`` for the batch's items an earlier try related."""
        marks = self._finished.get(batch.key)
        if marks is None:
            return None
        expanded = decode_marks(marks, len(batch.items))
        if expanded is None:
            return None
        return {item["id"]: _ACTION[c] for item, c in zip(batch.items, expanded, strict=True) if c in _ACTION}

    # -- recording: the dispatch thread appends, the writer thread writes ------------------------

    def record(self, batch: Batch, results: list[ItemResult], resumed: int = 0) -> None:
        """Remember a finished batch (results aligned with ``batch.items``; ``resumed`` of them came
        from an earlier try); never blocks on the store."""
        if resumed and resumed == len(results):
            return  # wholly resumed: the store holds it already
        with self._cond:
            # Checked under the lock the writer holds while it counts what it drops on a failure:
            # a batch is either in that count or in ``_dropped``, never in neither.
            if not self.enabled:
                self._dropped += 1  # the store failed: a retry sends it again
                return
            if self._closing:
                return
            self._pending.append((batch.key, results))
            if self._thread is None:
                self._thread = threading.Thread(target=self._write_loop, name="zohorel-resume", daemon=True)
                self._thread.start()
            waiting = len(self._pending)
            if waiting == 1 or waiting >= self.flush_batches:
                self._cond.notify()

    def close(self, timeout: float = CLOSE_TIMEOUT) -> BookkeepingCost:
        """Write what is still waiting, stop the writer, and return what the bookkeeping cost."""
        with self._cond:
            self._closing = True
            self._cond.notify()
        thread = self._thread
        if thread is not None:
            thread.join(timeout)
            if thread.is_alive():
                log.warning("task_state_store: the last write did not finish in %.0f s", timeout)
                with self._cond:
                    self.cost.batches_not_written += self._unsaved + len(self._pending)
                    self._pending = []
                    self._unsaved = 0
                    self.enabled = False
        self.cost.batches_not_written += self._dropped
        self._dropped = 0
        return self.cost

    def _take(self) -> tuple[list[tuple[str, list[ItemResult]]], bool]:
        """Wait until a write is due; returns the batches to write and whether the run has ended."""
        with self._cond:
            while not self._closing and len(self._pending) < self.flush_batches:
                if not self._pending:
                    self._cond.wait()
                    continue
                wait = self._last_write + self.interval - self.clock()
                if wait <= 0:
                    break
                self._cond.wait(wait)
            taken = self._pending[: self.flush_batches]
            del self._pending[: self.flush_batches]
            return taken, self._closing and not self._pending

    def _write_loop(self) -> None:
        closing = False
        while not closing:
            taken, closing = self._take()
            cpu = time.thread_time()
            try:
                self._write(taken)
            except Exception as exc:  # a bug must cost re-sends, not the task
                self._fail(exc)
            finally:
                self.cost.cpu_seconds += time.thread_time() - cpu
            if not self.enabled:
                with self._cond:
                    self.cost.batches_not_written += len(self._pending)
                    self._pending = []
                return

    def _write(self, taken: list[tuple[str, list[ItemResult]]]) -> None:
        if not self.enabled:
            self.cost.batches_not_written += len(taken)
            return
        for position, (key, results) in enumerate(taken):
            marks = encode_marks(results)
            if marks is None or self._finished.get(key) == marks or self._chunk.get(key) == marks:
                continue  # nothing related, or exactly what the store already holds (a resumed batch)
            size = len(key) + len(marks) + 6  # "key":"marks",
            if self._chunk and self._chunk_bytes + size > self.max_chunk_bytes:
                if self._unsaved and not self._put():
                    self.cost.batches_not_written += len(taken) - position
                    return
                self._chunk_index, self._chunk, self._chunk_bytes = self._chunk_index + 1, {}, 2
            self._chunk[key] = marks
            self._chunk_bytes += size
            self._unsaved += 1
        if self._unsaved:
            self._put()

    def _put(self) -> bool:
        started = time.perf_counter()
        self._last_write = self.clock()
        self.cost.writes += 1
        try:
            with self.exclusive:
                self.store.set(f"{CHUNK_PREFIX}{self._chunk_index}", dict(self._chunk))
        except Exception as exc:
            self._fail(exc)
            return False
        finally:
            self.cost.write_seconds += time.perf_counter() - started
        self.cost.batches_written += self._unsaved
        self._unsaved = 0
        return True

    def _fail(self, exc: Exception) -> None:
        log.warning(
            "task_state_store unavailable (%s: %s); a retry will re-send the batches not recorded",
            type(exc).__name__,
            str(exc)[:300],
        )
        self.enabled = False
        self.cost.batches_not_written += self._unsaved
        self._unsaved = 0


def configured_chunk_bytes() -> int:
    """:data:`MAX_CHUNK_BYTES`, or less when ``[state_store] max_value_storage_bytes`` is set lower
    (Airflow warns on every write of a larger value)."""
    try:
        from airflow.sdk.configuration import conf

        limit = int(conf.getint("state_store", "max_value_storage_bytes", fallback=0))
    except Exception:  # an Airflow without the option, or a value that is not a number
        return MAX_CHUNK_BYTES
    if limit <= 0:
        return MAX_CHUNK_BYTES
    return max(1_000, min(MAX_CHUNK_BYTES, limit - 1_000))


@contextlib.contextmanager
def task_channel(state: BatchStateStore | None) -> Iterator[None]:
    """Hold ``state``'s store lock (if any) around other use of Airflow's task channel."""
    if state is None:
        yield
        return
    with state.exclusive:
        yield


def _entries(value: Any) -> dict[str, str] | None:
    if not isinstance(value, dict):
        return None
    return {k: v for k, v in value.items() if isinstance(k, str) and isinstance(v, str)}


def _json_size(entries: Mapping[str, str]) -> int:
    return 2 + sum(len(k) + len(v) + 6 for k, v in entries.items())
