"""The run summary: every input item counted exactly once, as succeeded or failed with its code."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from airflow_provider_zohorel.zoho.results import ADDED, ItemResult

DEFAULT_FAILED_ITEMS_CAP = 1000


@dataclass
class RunSummary:
    """Accumulates batch results; ``to_dict`` is the XCom ``return_value`` (DESIGN.md contract)."""

    failed_items_cap: int = DEFAULT_FAILED_ITEMS_CAP
    total: int = 0
    succeeded: int = 0
    added: int = 0
    updated: int = 0
    failed: int = 0
    resumed: int = 0
    batches: int = 0
    by_code: Counter[str] = field(default_factory=Counter)
    failed_items: list[dict[str, Any]] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)

    def record(
        self, parent_id: str, results: Sequence[ItemResult], row_of: Callable[[int], str], *, resumed: int = 0
    ) -> list[dict[str, Any]]:
        """Count one batch; returns its failed items (all of them, uncapped) for a failure table.

        ``row_of(position)`` names the input row of the batch's item at ``position``.
        """
        self.batches += 1
        self.resumed += resumed
        failures = []
        for position, result in enumerate(results):
            self.total += 1
            self.by_code[result.code] += 1
            if result.succeeded:
                self.succeeded += 1
                if result.action == ADDED:
                    self.added += 1
                else:
                    self.updated += 1
                continue
            self.failed += 1
            item = {
                "record_id": parent_id,
                "id": result.related_id,
                "code": result.code,
                "message": result.message,
                "row": row_of(position),
            }
            failures.append(item)
            if len(self.failed_items) < self.failed_items_cap:
                self.failed_items.append(item)
        return failures

    def to_dict(self, *, api_calls: int, outcome: str) -> dict[str, Any]:
        return {
            "total": self.total,
            "succeeded": self.succeeded,
            "added": self.added,
            "updated": self.updated,
            "failed": self.failed,
            "by_code": dict(sorted(self.by_code.items())),
            "failed_items": list(self.failed_items),
            "failed_items_truncated": self.failed - len(self.failed_items),
            "api_calls": api_calls,
            "outcome": outcome,
            "batches": self.batches,
            "resumed_items": self.resumed,
            **self.extra,
        }
