"""Seeded CRM records (any module, notes included), keyed by their globally unique id.

Zoho record ids are unique across modules, so one dict maps id -> (module, fields); "is this
id a Lead?" is a single lookup on the hot path. Each record keeps its modification time (for
``If-Modified-Since``), and external field values are indexed so an ``X-EXTERNAL`` value finds
its record in one lookup. Generating 100,000+ ids is a tight loop.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

#: Prefix of generated ids (19 digits in all, like Zoho's).
GENERATED_PREFIX = "5725767"


class RecordError(ValueError):
    """A seed that cannot be stored (bad id, id taken by another module)."""


@dataclass(slots=True)
class Record:
    """One record: its canonical module, its fields, and when it was created and last modified."""

    module: str
    fields: dict[str, Any] = field(default_factory=dict)
    created_at: float = 0.0
    modified_at: float = 0.0


def normalise_id(value: object) -> str | None:
    """A record id as a string of digits, from a string or an integer (not bool); else None."""
    if type(value) is str:
        return value if value.isdigit() and len(value) <= 20 and value.isascii() else None
    if type(value) is int and value > 0:
        return str(value)
    return None


class RecordStore:
    """All records, and an index of external field values."""

    def __init__(self) -> None:
        self.records: dict[str, Record] = {}
        #: (module, external field) -> external value -> record id.
        self.external: dict[tuple[str, str], dict[str, str]] = {}
        self._next = 1

    def get(self, record_id: str) -> Record | None:
        """The record, or None."""
        return self.records.get(record_id)

    def by_external(self, module: str, field_name: str, value: str) -> str | None:
        """The id of the ``module`` record whose external field ``field_name`` is ``value``."""
        index = self.external.get((module, field_name))
        return None if index is None else index.get(value)

    def add(
        self, module: str, record_id: object, fields: dict[str, Any] | None = None, now: float = 0.0
    ) -> str:
        """Store a record (or replace its fields); refuses an id held by another module."""
        rid = normalise_id(record_id)
        if rid is None:
            raise RecordError(f"record id must be a string of digits, got {record_id!r}")
        existing = self.records.get(rid)
        if existing is not None and existing.module != module:
            raise RecordError(f"id {rid} already belongs to a {existing.module} record")
        self.records[rid] = Record(module, dict(fields) if fields else {}, now, now)
        return rid

    def add_many(
        self, module: str, ids: Iterable[object], fields: dict[str, Any] | None = None, now: float = 0.0
    ) -> list[str]:
        """Store many records with the same fields."""
        return [self.add(module, rid, fields, now) for rid in ids]

    def generate(
        self, module: str, count: int, fields: dict[str, Any] | None = None, now: float = 0.0
    ) -> list[str]:
        """Create ``count`` records with fresh 19-digit ids; returns the ids."""
        records = self.records
        out: list[str] = []
        n = self._next
        append = out.append
        while len(out) < count:
            rid = f"{GENERATED_PREFIX}{n:012d}"
            n += 1
            if rid in records:
                continue
            records[rid] = Record(module, dict(fields) if fields else {}, now, now)
            append(rid)
        self._next = n
        return out

    def set_external(self, module: str, field_name: str, ids: Sequence[str], values: Sequence[str]) -> None:
        """Give records values of an external field (stored as a field, and indexed)."""
        if len(ids) != len(values):
            raise RecordError(f"{len(values)} external values for {len(ids)} records")
        index = self.external.setdefault((module, field_name), {})
        for rid, value in zip(ids, values, strict=True):
            if not isinstance(value, str) or not value:
                raise RecordError(f"external value of {rid} must be a non-empty string, got {value!r}")
            holder = index.get(value)
            if holder is not None and holder != rid:
                raise RecordError(f"external value {value!r} of {field_name} already belongs to {holder}")
            record = self.records[rid]
            old = record.fields.get(field_name)
            if isinstance(old, str) and index.get(old) == rid:
                del index[old]
            record.fields[field_name] = value
            index[value] = rid

    def of_module(self, module: str) -> Iterator[tuple[str, Record]]:
        """Records of one module (a scan; for the admin API only)."""
        return ((rid, rec) for rid, rec in self.records.items() if rec.module == module)

    def counts(self) -> dict[str, int]:
        """Number of records per module."""
        result: dict[str, int] = {}
        for rec in self.records.values():
            result[rec.module] = result.get(rec.module, 0) + 1
        return result


def id_range(first: object, last: object) -> range:
    """Inclusive numeric range between two ids (for compact seeds); refuses more than 10 million."""
    a, b = normalise_id(first), normalise_id(last)
    if a is None or b is None:
        raise RecordError("range bounds must be record ids")
    lo, hi = int(a), int(b)
    if hi < lo or hi - lo >= 10_000_000:
        raise RecordError("range must be ascending and hold at most 10,000,000 ids")
    return range(lo, hi + 1)
