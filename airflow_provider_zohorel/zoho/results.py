"""Per-item results: Zoho classifies each item of a call on its own, and so do we."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from airflow_provider_zohorel.zoho.errors import MAX_CODE, MAX_QUOTE, quote_body

SUCCESS = "SUCCESS"
ADDED, UPDATED = "added", "updated"
#: A delinked relation ("relation removed").
REMOVED = "removed"


@dataclass(frozen=True, slots=True)
class ItemResult:
    """The outcome of relating one record: Zoho's code, message and details, and what changed."""

    related_id: str
    code: str
    status: str
    message: str
    details: Mapping[str, Any] = field(default_factory=dict)
    http_status: int | None = None
    action: str | None = None  # "added" | "updated" | "removed" (a delink) for successes

    @property
    def succeeded(self) -> bool:
        return self.code == SUCCESS

    @classmethod
    def failure(
        cls, related_id: str, code: str, message: str, http_status: int | None = None, details: Any = None
    ) -> ItemResult:
        return cls(
            related_id=related_id,
            code=code,
            status="error",
            message=quote_body(message),
            details=details if isinstance(details, dict) else {},
            http_status=http_status,
        )


def _action(message: str) -> str:
    # "relation added" for a new link, "relation updated"/"record updated" for an existing one.
    return ADDED if "added" in message.lower() else UPDATED


def parse_items(related_ids: Sequence[str], body: Any, http_status: int) -> list[ItemResult] | None:
    """Map a ``{"data": [...]}`` body onto the items sent, in input order; ``None`` if no such body.

    Zoho answers in request order. If the lengths disagree (never seen, but a proxy or a future
    version might), items are matched by ``details.id`` and unmatched ones fail with
    ``UNEXPECTED_RESPONSE`` rather than being guessed.
    """
    if not isinstance(body, dict) or not isinstance(body.get("data"), list):
        return None
    entries = body["data"]
    if len(entries) == len(related_ids):
        return [_one(rid, entry, http_status) for rid, entry in zip(related_ids, entries, strict=True)]
    by_id: dict[str, Any] = {}
    for entry in entries:
        details = entry.get("details") if isinstance(entry, dict) else None
        if isinstance(details, dict) and details.get("id") is not None:
            by_id.setdefault(str(details["id"]), entry)
    results = []
    for rid in related_ids:
        entry = by_id.get(rid)
        if entry is None:
            results.append(
                ItemResult.failure(
                    rid,
                    "UNEXPECTED_RESPONSE",
                    f"Zoho returned {len(entries)} results for {len(related_ids)} items and none for this id",
                    http_status,
                )
            )
        else:
            results.append(_one(rid, entry, http_status))
    return results


def _one(related_id: str, entry: Any, http_status: int) -> ItemResult:
    if not isinstance(entry, dict):
        return ItemResult.failure(
            related_id, "UNEXPECTED_RESPONSE", f"item result {quote_body(entry)}", http_status
        )
    raw_details = entry.get("details")
    details: dict[str, Any] = raw_details if isinstance(raw_details, dict) else {}
    message = entry.get("message")
    if entry.get("code") == SUCCESS:
        # The common case, once per item: the code is our own constant, and a short printable message
        # is what quote_body would return anyway (its control characters are all non-printable).
        if not (type(message) is str and len(message) <= MAX_QUOTE and message.isprintable()):
            message = quote_body(message or "")
        return ItemResult(related_id, SUCCESS, "success", message, details, http_status, _action(message))
    code = quote_body(str(entry.get("code") or "UNKNOWN"), MAX_CODE)
    message = quote_body(message or "")
    return ItemResult(related_id, code, str(entry.get("status") or "error"), message, details, http_status)
