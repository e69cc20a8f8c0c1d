"""Remembering finished batches across tries in Airflow 3.3's ``task_state_store``.

A retry or a Clear of the task re-sends nothing an earlier try of the same task instance already
related. Batches are keyed by a hash of their content (parent, ids, field values), so a batch is
skipped only if exactly the same relation was sent and acknowledged before; changed data in the
source is sent again. Each key holds one character per item: ``a`` added, ``u`` updated, ``-`` not
(yet) related.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from airflow_provider_zohorel.zoho.planning import Batch
from airflow_provider_zohorel.zoho.results import ADDED, UPDATED, ItemResult

PREFIX = "zohorel/"
MARKER = PREFIX + "tried"
_CODE = {ADDED: "a", UPDATED: "u"}
_ACTION = {"a": ADDED, "u": UPDATED}

log = logging.getLogger(__name__)


class BatchStateStore:
    """Reads and writes per-batch progress; any store failure degrades to "re-send", never to loss."""

    def __init__(self, store: Any) -> None:
        self.store = store
        self.enabled = True
        self.previous_try = False
        try:
            self.previous_try = store.get(MARKER) is not None
            if not self.previous_try:
                store.set(MARKER, True)
        except Exception as exc:
            self._disable(exc)

    def _disable(self, exc: Exception) -> None:
        log.warning("task_state_store unavailable (%s); a retry will re-send finished batches", exc)
        self.enabled = False

    def done(self, batch: Batch) -> Mapping[str, str] | None:
        """``{related_id: added|updated}`` for the batch's items an earlier try related."""
        if not (self.enabled and self.previous_try):
            return None  # first try: nothing to look up, and no round trip per batch
        try:
            value = self.store.get(PREFIX + batch.key)
        except Exception as exc:
            self._disable(exc)
            return None
        if not isinstance(value, str) or len(value) != len(batch.items):
            return None
        return {item["id"]: _ACTION[c] for item, c in zip(batch.items, value, strict=True) if c in _ACTION}

    def record(self, batch: Batch, results: list[ItemResult]) -> None:
        if not self.enabled or not any(r.succeeded for r in results):
            return
        marks = "".join(_CODE.get(r.action or "", "-") if r.succeeded else "-" for r in results)
        try:
            self.store.set(PREFIX + batch.key, marks)
        except Exception as exc:
            self._disable(exc)
