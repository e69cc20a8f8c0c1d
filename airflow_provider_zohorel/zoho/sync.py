"""From update to sync: the delinks of a mirror run and the deletion guard that bounds them.

In ``mirror`` mode every parent the input names ends the run holding exactly the related records
the input lists for it: what Zoho holds beyond that is delinked. Parents absent from the input are
never read nor touched, so an empty input delinks nothing. What Zoho holds is read back with Get
Related Records (``GET``, 200 per page), or, with a state table, taken from what Zoho acknowledged
in earlier runs (no ``GET`` at all, :mod:`airflow_provider_zohorel.operators.state_table`).

The delinks are a :class:`DelinkPlan`, sent after the plan's own batches by the same runner, so
they are accounted for, resumed and judged by the outcome policy like updates. The guard runs
before anything is sent: a run that would delink more than ``max_delink_ratio`` of what the touched
parents hold fails without a single write, saying how many it would have removed.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Any

from airflow_provider_zohorel.zoho.errors import ZohoConfigurationError, ZohoError, ZohoTransientError
from airflow_provider_zohorel.zoho.planning import DELINK, Batch, Plan
from airflow_provider_zohorel.zoho.related_records_api import RelatedRecordsApi
from airflow_provider_zohorel.zoho.relation_catalog import RelationSpec

log = logging.getLogger(__name__)

UPSERT, MIRROR = "upsert", "mirror"
MODES = (UPSERT, MIRROR)
DEFAULT_MAX_DELINK_RATIO = 0.5
#: Delinks a dry run or a guard error lists (the count is always whole).
LISTED_DELINKS = 1000


class DelinkGuardTripped(Exception):
    """A mirror run would delink more than ``max_delink_ratio`` of what its parents hold."""


class StateTableConflict(Exception):
    """Another task's rows in the state table cover parents this run would sync."""


@dataclass
class DelinkPlan:
    """Relations to delink, per parent, in sorted id order; sent in calls of at most ``batch_size``.

    ``held`` is how many relations the touched parents hold (read back, or per the state table),
    the guard's denominator; ``reads`` the GET calls that read them (0 with a state table).
    """

    spec: RelationSpec
    batch_size: int
    by_parent: dict[str, list[str]] = field(default_factory=dict)
    held: int = 0
    reads: int = 0
    source: str = "read-back"  # or "state table", or "input" (DelinkRelatedRecordsOperator)
    #: the input row of each delink, when the input names it (else the row is "not in the input")
    rows: dict[tuple[str, str], int] = field(default_factory=dict)

    @property
    def items(self) -> int:
        return sum(len(ids) for ids in self.by_parent.values())

    @property
    def calls(self) -> int:
        return sum(-(-len(ids) // self.batch_size) for ids in self.by_parent.values())

    @property
    def ratio(self) -> float:
        return self.items / self.held if self.held else 0.0

    def add(self, parent: str, held: Iterable[str], wanted: set[str]) -> None:
        """Count what ``parent`` holds and keep what the input no longer lists for it."""
        held_ids = set(held)
        self.held += len(held_ids)
        gone = sorted(held_ids - wanted)
        if gone:
            self.by_parent[parent] = gone

    def batches(self) -> Iterator[Batch]:
        for parent in sorted(self.by_parent):
            ids = self.by_parent[parent]
            for start in range(0, len(ids), self.batch_size):
                chunk = ids[start : start + self.batch_size]
                yield Batch(
                    parent,
                    [{"id": rid} for rid in chunk],
                    [self.rows.get((parent, rid), -1) for rid in chunk],
                    delink_key(self.spec, parent, chunk),
                    DELINK,
                )

    def listed(self, limit: int = LISTED_DELINKS) -> list[dict[str, str]]:
        out: list[dict[str, str]] = []
        for parent in sorted(self.by_parent):
            for rid in self.by_parent[parent]:
                if len(out) >= limit:
                    return out
                out.append({"record_id": parent, "id": rid})
        return out

    def describe(self) -> dict[str, Any]:
        return {
            "delinks": self.items,
            "held": self.held,
            "ratio": round(self.ratio, 4),
            "calls": self.calls,
            "reads": self.reads,
            "source": self.source,
            "items": self.listed(),
        }


def delink_key(spec: RelationSpec, parent: str, ids: list[str]) -> str:
    """A content hash for a delink batch, never equal to a relate batch's (resume keys)."""
    digest = hashlib.sha256(f"delink\0{spec.parent}/{parent}/{spec.related}".encode())
    if spec.external is not None:
        digest.update(f"\0X-EXTERNAL\0{spec.external.header}".encode())
    for rid in ids:
        digest.update(f"\0{rid}".encode())
    return digest.hexdigest()[:32]


def check_guard(delinks: DelinkPlan, max_ratio: float) -> None:
    """Refuse the run before any write when it would delink more than ``max_ratio`` of what the
    touched parents hold."""
    if delinks.items and delinks.ratio > max_ratio:
        shown = ", ".join(f"{d['record_id']} -> {d['id']}" for d in delinks.listed(5))
        raise DelinkGuardTripped(
            f"mirror mode would delink {delinks.items} of the {delinks.held} relations that the "
            f"{len(delinks.by_parent)} parent(s) concerned hold ({delinks.ratio:.1%}), more than "
            f"max_delink_ratio={max_ratio:g}; nothing was sent to Zoho. First ones: {shown}. "
            "Check the input (a partial load?), list them all with dry_run=True, or raise "
            "max_delink_ratio (1 disables the guard)."
        )


def related_key(spec: RelationSpec) -> Callable[[Mapping[str, Any]], Any]:
    """How a record read back is named in the input: its id, or its related external value."""
    field_name = spec.external.related_field if spec.external is not None else None
    if field_name is None:
        return lambda record: record.get("id")
    return lambda record: record.get(field_name)


def read_delinks(api: RelatedRecordsApi, plan: Plan, *, max_concurrency: int, batch_size: int) -> DelinkPlan:
    """Read back every parent the input names (in parallel, within ``max_concurrency``) and plan
    the delinks of what it holds beyond the input.

    A parent Zoho does not know (a per-record error such as INVALID_DATA) holds nothing to delink;
    its items fail on their own when sent. Configuration errors, and reads that outlived their
    retries, raise: nothing has been written yet, and a later retry of the task can read again.
    """
    spec = plan.spec
    delinks = DelinkPlan(spec, batch_size)
    name_of = related_key(spec)
    fields = [spec.external.related_field] if spec.external and spec.external.related_field else None
    calls_before = api.client.stats.calls

    def read(parent: str) -> list[str]:
        try:
            held = api.get_related_records(spec.parent, parent, spec.related, fields, _external(spec))
            return [str(name) for name in map(name_of, held) if name is not None]
        except (ZohoConfigurationError, ZohoTransientError):
            raise
        except ZohoError as exc:
            log.warning(
                "Reading %s %s's %s: %s; nothing of it is delinked", spec.parent, parent, spec.related, exc
            )
            return []

    groups = plan.parent_groups()
    pending: dict[Future[list[str]], tuple[str, set[str]]] = {}
    with ThreadPoolExecutor(max_concurrency, thread_name_prefix="zohorel-read") as pool:
        try:
            while True:
                while len(pending) < max_concurrency * 2:
                    group = next(groups, None)
                    if group is None:
                        break
                    parent, wanted = group
                    pending[pool.submit(read, parent)] = (parent, set(wanted))
                if not pending:
                    break
                done, _ = wait(pending, return_when=FIRST_COMPLETED)
                for future in done:
                    parent, listed = pending.pop(future)
                    delinks.add(parent, future.result(), listed)
        except BaseException:
            for future in pending:
                future.cancel()
            raise
    delinks.reads = api.client.stats.calls - calls_before  # GET pages, retries included
    return delinks


def _external(spec: RelationSpec) -> Any:
    return spec.external.header if spec.external is not None else None


def state_delinks(plan: Plan, known: Mapping[tuple[str, str], str], *, batch_size: int) -> DelinkPlan:
    """Plan the delinks from a state table: what it says each parent of the input holds beyond the
    input. No call to Zoho; relations Zoho holds that no run of this task acknowledged (added by
    hand) are not known here, which ``full_refresh=True`` (a read-back run) catches up with."""
    by_parent: dict[str, list[str]] = {}
    for parent, related in known:
        by_parent.setdefault(parent, []).append(related)
    delinks = DelinkPlan(plan.spec, batch_size, source="state table")
    for parent, listed in plan.parent_groups():
        delinks.add(parent, by_parent.get(parent, ()), set(listed))
    return delinks
