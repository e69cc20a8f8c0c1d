"""The run summary: every input item counted exactly once, as succeeded or failed with its code.

``to_dict`` is the operator's XCom ``return_value`` (DESIGN.md contract). It has the same keys at
every exit, a configuration error before the first call included, so a reporting task downstream
(``trigger_rule="all_done"``) can always read it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from airflow_provider_zohorel.zoho.client import ClientStats
from airflow_provider_zohorel.zoho.planning import DELINK, Batch, Plan
from airflow_provider_zohorel.zoho.results import ADDED, SUCCESS, ItemResult

if TYPE_CHECKING:
    from airflow_provider_zohorel.zoho.runner import RunReport
    from airflow_provider_zohorel.zoho.stops import Stop

DEFAULT_FAILED_ITEMS_CAP = 1000
#: The ``row`` of a failed delink: no input row names a relation the input no longer lists.
DELINK_ROW = "not in the input (mirror delink)"


def _row_name(index: int) -> str:
    return f"row {index}"


def _client_counts(stats: ClientStats, locked_resends: int = 0) -> dict[str, int]:
    """What the client did, and how many calls re-sent items Zoho answered RECORD_LOCKED."""
    return {**stats.as_dict(), "locked_resends": locked_resends}


@dataclass
class RunSummary:
    """What a run did, in typed fields, each written by one method below."""

    #: how a failed item's input row is named in the report (``records[17]``, ``sql row 17``)
    row_name: Callable[[int], str] = field(default=_row_name, repr=False)
    failed_items_cap: int = DEFAULT_FAILED_ITEMS_CAP
    # per item (record)
    total: int = 0
    succeeded: int = 0
    added: int = 0
    updated: int = 0
    failed: int = 0
    resumed: int = 0
    batches: int = 0
    by_code: Counter[str] = field(default_factory=Counter)
    failed_items: list[dict[str, Any]] = field(default_factory=list)
    failed_items_truncated: int = 0  # failed items beyond the cap, not listed
    # sync: relations delinked (mirror mode) and failed to delink, items skipped because the state
    # table says Zoho holds them as they are (counted as succeeded, with code SUCCESS)
    delinked: int = 0
    delink_failed: int = 0
    unchanged: int = 0
    # the input and the plan (refuse_input, planned)
    input_errors: list[str] = field(default_factory=list)
    duplicates_dropped: int = 0
    parents: int = 0
    dry_run: bool = False
    plan: dict[str, Any] | None = None
    planning_seconds: float = 0.0  # reading the input, validating and grouping it, before sending
    # the run (ran)
    resumed_batches: int = 0
    batches_not_sent: int = 0
    seconds: float = 0.0
    client: dict[str, int] = field(default_factory=lambda: _client_counts(ClientStats()))
    failed_items_table: dict[str, Any] | None = None
    #: the sync state table: its name, owner, rows written and removed by this run
    state_table: dict[str, Any] | None = None
    #: what remembering finished batches for a retry cost (task_state_store reads, writes, seconds)
    resume_bookkeeping: dict[str, Any] | None = None
    # the verdict (conclude)
    outcome: str = "success"
    stopped_by: dict[str, Any] | None = None

    def record(
        self, batch: Batch, results: Sequence[ItemResult], *, resumed: int = 0
    ) -> list[dict[str, Any]]:
        """Count one batch (results aligned with its items); returns its failed items, uncapped,
        for a failure table."""
        self.batches += 1
        self.resumed += resumed
        delink = batch.action == DELINK
        failures = []
        for position, result in enumerate(results):
            self.total += 1
            self.by_code[result.code] += 1
            if result.succeeded:
                self.succeeded += 1
                if delink:
                    self.delinked += 1
                elif result.action == ADDED:
                    self.added += 1
                else:
                    self.updated += 1
                continue
            self.failed += 1
            if delink:
                self.delink_failed += 1
            item = {
                "record_id": batch.parent_id,
                "id": result.related_id,
                "code": result.code,
                "message": result.message,
                "row": self.row_name(row) if (row := batch.row_indexes[position]) >= 0 else DELINK_ROW,
            }
            failures.append(item)
            if len(self.failed_items) < self.failed_items_cap:
                self.failed_items.append(item)
            else:
                self.failed_items_truncated += 1
        return failures

    def refuse_input(self, total_rows: int, invalid_rows: int, errors: list[str]) -> None:
        """Nothing was sent because ``invalid_rows`` of ``total_rows`` rows are invalid."""
        self.total = self.failed = total_rows
        self.by_code = Counter({"INVALID_INPUT": invalid_rows, "NOT_SENT": total_rows - invalid_rows})
        self.input_errors = list(errors)

    def planned(self, plan: Plan, *, dry_run: bool, seconds: float = 0.0) -> None:
        self.duplicates_dropped = plan.duplicates
        self.parents = plan.parents
        self.planning_seconds = round(seconds, 3)
        if dry_run:
            self.dry_run = True
            self.total = plan.all_items + plan.unchanged
            self.plan = plan.describe()
        elif plan.unchanged:  # Zoho acknowledged them as they are in an earlier run
            self.unchanged = plan.unchanged
            self.total += plan.unchanged
            self.succeeded += plan.unchanged
            self.by_code[SUCCESS] += plan.unchanged

    def ran(
        self,
        report: RunReport,
        client: ClientStats,
        failed_items_table: dict[str, Any] | None,
        resume_bookkeeping: dict[str, Any] | None = None,
    ) -> None:
        self.resumed_batches = report.batches_resumed
        self.batches_not_sent = report.batches_not_sent
        self.seconds = round(report.elapsed, 3)  # time spent relating, after planning
        self.client = _client_counts(client, report.locked_resends)
        self.failed_items_table = failed_items_table
        self.resume_bookkeeping = resume_bookkeeping

    def conclude(self, outcome: str, stopped_by: Stop | None) -> None:
        """The verdict's outcome, and why the run ended early if it did."""
        self.outcome = outcome
        self.stopped_by = stopped_by.describe() if stopped_by is not None else None

    def to_dict(self) -> dict[str, Any]:
        return {
            "total": self.total,
            "succeeded": self.succeeded,
            "added": self.added,
            "updated": self.updated,
            "failed": self.failed,
            "by_code": dict(sorted(self.by_code.items())),
            "failed_items": list(self.failed_items),
            "failed_items_truncated": self.failed_items_truncated,
            "api_calls": self.client["calls"],
            "outcome": self.outcome,
            "delinked": self.delinked,
            "delink_failed": self.delink_failed,
            "unchanged": self.unchanged,
            "batches": self.batches,
            "resumed_items": self.resumed,
            "duplicates_dropped": self.duplicates_dropped,
            "parents": self.parents,
            "planning_seconds": self.planning_seconds,
            "resumed_batches": self.resumed_batches,
            "batches_not_sent": self.batches_not_sent,
            "seconds": self.seconds,
            "client": dict(self.client),
            "stopped_by": self.stopped_by,
            "failed_items_table": self.failed_items_table,
            "state_table": self.state_table,
            "resume_bookkeeping": self.resume_bookkeeping,
            "input_errors": list(self.input_errors),
            "dry_run": self.dry_run,
            "plan": self.plan,
        }
