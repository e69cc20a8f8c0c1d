"""From rows to batches: validate every row, group by parent, drop duplicates, split to <= 100.

The whole input is read and validated before the first call, so bad input never leaves half the
work done. Grouping needs every item of a parent before its last batch is known, so items are
held in memory up to ``spill_threshold`` and then in a temporary SQLite file: memory stays flat
whatever the number of rows. The number of batches is the minimum for the grouping,
``sum(ceil(n_parent / batch_size))``, and batches are deterministic for the same input, which is
what lets a retry recognise the batches an earlier try finished.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import tempfile
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from airflow_provider_zohorel.zoho.relations import RelationSpec
from airflow_provider_zohorel.zoho.values import InvalidValue, normalize_id

MAX_BATCH = 100
DEFAULT_SPILL_THRESHOLD = 50_000
MAX_REPORTED_ERRORS = 20


@dataclass(frozen=True)
class Batch:
    """One PUT: a parent and at most 100 related items (``{"id": ..., **fields}``) in send order."""

    parent_id: str
    items: list[dict[str, Any]]
    rows: list[str]
    key: str

    @property
    def related_ids(self) -> list[str]:
        return [item["id"] for item in self.items]


def batch_key(spec: RelationSpec, parent_id: str, items: list[dict[str, Any]]) -> str:
    """A content hash: equal only for the same parent, ids and field values in the same order."""
    digest = hashlib.sha256(f"{spec.parent}/{parent_id}/{spec.related}".encode())
    for item in items:
        digest.update(b"\0" + json.dumps(item, sort_keys=True, separators=(",", ":")).encode())
    return digest.hexdigest()[:32]


class InvalidInput(ValueError):
    """Some rows cannot be sent; nothing was sent. Names each row, field and value (first 20)."""

    def __init__(self, errors: list[str], invalid_rows: int, total_rows: int) -> None:
        self.errors = errors
        self.invalid_rows = invalid_rows
        self.total_rows = total_rows
        shown = "\n".join(f"  - {e}" for e in errors)
        more = f"\n  ... and {invalid_rows - len(errors)} more" if invalid_rows > len(errors) else ""
        super().__init__(
            f"{invalid_rows} of {total_rows} input rows are invalid; nothing was sent to Zoho.\n{shown}{more}"
        )


@dataclass
class _MemoryGroups:
    groups: dict[str, dict[str, tuple[str, dict[str, Any]]]] = field(default_factory=dict)
    items: int = 0

    def add(self, parent: str, related: str, row: str, fields: dict[str, Any]) -> None:
        group = self.groups.setdefault(parent, {})
        if group.pop(related, None) is None:  # re-insert: the last occurrence wins, at its position
            self.items += 1
        group[related] = (row, fields)

    def size(self) -> int:
        return self.items

    def counts(self) -> Iterator[int]:
        return (len(g) for g in self.groups.values())

    def grouped(self) -> Iterator[tuple[str, str, str, dict[str, Any]]]:
        for parent in sorted(self.groups):
            for related, (row, fields) in self.groups[parent].items():
                yield parent, related, row, fields


class _SpillGroups:
    """The same grouping in a throw-away SQLite file (stdlib, no server, memory does not grow)."""

    def __init__(self, directory: str | None) -> None:
        self._dir = tempfile.TemporaryDirectory(prefix="zohorel-plan-", dir=directory)
        self.db = sqlite3.connect(os.path.join(self._dir.name, "plan.sqlite"), check_same_thread=False)
        self.db.executescript(
            """
            PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF; PRAGMA cache_size=-8192; PRAGMA temp_store=FILE;
            CREATE TABLE items (parent TEXT NOT NULL, related TEXT NOT NULL, seq INTEGER NOT NULL,
                                row TEXT NOT NULL, fields TEXT NOT NULL, PRIMARY KEY (parent, related))
                   WITHOUT ROWID;
            """
        )
        self.seq = 0
        self._pending: list[tuple[str, str, int, str, str]] = []

    def add_many(self, rows: Iterable[tuple[str, str, str, dict[str, Any]]]) -> None:
        for parent, related, row, fields in rows:
            self.seq += 1
            self._pending.append((parent, related, self.seq, row, json.dumps(fields, separators=(",", ":"))))
            if len(self._pending) >= 5000:
                self.flush()

    def flush(self) -> None:
        if self._pending:
            self.db.executemany(
                "INSERT INTO items VALUES (?, ?, ?, ?, ?) ON CONFLICT (parent, related) DO UPDATE SET "
                "seq = excluded.seq, row = excluded.row, fields = excluded.fields",
                self._pending,
            )
            self._pending.clear()

    def size(self) -> int:
        self.flush()
        return int(self.db.execute("SELECT count(*) FROM items").fetchone()[0])

    def counts(self) -> Iterator[int]:
        self.flush()
        for (n,) in self.db.execute("SELECT count(*) FROM items GROUP BY parent"):
            yield int(n)

    def grouped(self) -> Iterator[tuple[str, str, str, dict[str, Any]]]:
        self.flush()
        cursor = self.db.execute("SELECT parent, related, row, fields FROM items ORDER BY parent, seq")
        for parent, related, row, fields in cursor:
            yield parent, related, row, json.loads(fields)

    def close(self) -> None:
        self.db.close()
        self._dir.cleanup()


@dataclass
class Plan:
    """The batches to send and the figures a dry run reports."""

    spec: RelationSpec
    batch_size: int
    rows: int
    items: int
    duplicates: int
    parents: int
    calls: int
    _store: _MemoryGroups | _SpillGroups = field(repr=False)

    def batches(self) -> Iterator[Batch]:
        parent: str | None = None
        items: list[dict[str, Any]] = []
        rows: list[str] = []
        for group_parent, related, row, fields in self._store.grouped():
            if parent is not None and (group_parent != parent or len(items) == self.batch_size):
                yield Batch(parent, items, rows, batch_key(self.spec, parent, items))
                items, rows = [], []
            parent = group_parent
            items.append({"id": related, **fields})
            rows.append(row)
        if parent is not None and items:
            yield Batch(parent, items, rows, batch_key(self.spec, parent, items))

    def describe(self) -> dict[str, Any]:
        return {
            "relation": self.spec.label,
            "rows": self.rows,
            "items": self.items,
            "duplicates_dropped": self.duplicates,
            "parents": self.parents,
            "calls": self.calls,
            "batch_size": self.batch_size,
            # Update Related Records is not in Zoho's credit table: "all other APIs" cost 1 per call.
            "credits": self.calls,
        }

    def close(self) -> None:
        if isinstance(self._store, _SpillGroups):
            self._store.close()


def build_plan(
    rows: Iterable[Mapping[str, Any]],
    *,
    spec: RelationSpec,
    parent_id_key: str = "record_id",
    related_id_key: str = "id",
    record_id: Any = None,
    batch_size: int = MAX_BATCH,
    label: Callable[[int], str] = lambda i: f"row {i}",
    spill_threshold: int = DEFAULT_SPILL_THRESHOLD,
    spill_dir: str | None = None,
) -> Plan:
    """Read and validate every row, then group; raises :class:`InvalidInput` before anything is sent."""
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or not 1 <= batch_size <= MAX_BATCH:
        raise InvalidValue(f"batch_size must be an integer from 1 to {MAX_BATCH}, got {batch_size!r}")
    fixed_parent = normalize_id(record_id, "record_id") if record_id is not None else None
    ids = {related_id_key} if fixed_parent is not None else {parent_id_key, related_id_key}
    errors: list[str] = []
    invalid = total = 0
    memory = _MemoryGroups()
    spill: _SpillGroups | None = None
    try:
        for index, row in enumerate(rows):
            total += 1
            where = label(index)
            try:
                parent, related, fields = _read_row(
                    row, where, spec, parent_id_key, related_id_key, fixed_parent, ids
                )
            except InvalidValue as exc:
                invalid += 1
                if len(errors) < MAX_REPORTED_ERRORS:
                    errors.append(str(exc))
                continue
            if invalid:
                continue  # keep validating and counting, stop collecting
            if spill is None:
                memory.add(parent, related, where, fields)
                if memory.items > spill_threshold:
                    spill = _SpillGroups(spill_dir)
                    spill.add_many(memory.grouped())
                    memory = _MemoryGroups()
            else:
                spill.add_many([(parent, related, where, fields)])
        if invalid:
            raise InvalidInput(errors, invalid, total)
        store: _MemoryGroups | _SpillGroups = spill if spill is not None else memory
        items = store.size()
        calls = parents = 0
        for n in store.counts():
            parents += 1
            calls += -(-n // batch_size)
        return Plan(spec, batch_size, total, items, total - items, parents, calls, store)
    except BaseException:
        if spill is not None:
            spill.close()
        raise


def _read_row(
    row: Mapping[str, Any],
    where: str,
    spec: RelationSpec,
    parent_id_key: str,
    related_id_key: str,
    fixed_parent: str | None,
    ids: set[str],
) -> tuple[str, str, dict[str, Any]]:
    if not isinstance(row, Mapping):
        raise InvalidValue(f"{where}: expected a dict of column -> value, got {type(row).__name__}")
    if fixed_parent is None:
        if parent_id_key not in row:
            raise InvalidValue(
                f"{where}: no {parent_id_key!r} (the parent record id); set parent_id_key to the right "
                f"column or pass record_id= for all rows (columns: {', '.join(map(str, row))})"
            )
        parent = normalize_id(row[parent_id_key], f"{where}: {parent_id_key!r}")
    else:
        parent = fixed_parent
        if parent_id_key in row and parent_id_key != related_id_key:
            other = normalize_id(row[parent_id_key], f"{where}: {parent_id_key!r}")
            if other != fixed_parent:
                raise InvalidValue(
                    f"{where}: {parent_id_key!r} is {other} but record_id={fixed_parent} "
                    "was given for all rows"
                )
            ids = ids | {parent_id_key}
    if related_id_key not in row:
        raise InvalidValue(
            f"{where}: no {related_id_key!r} (the related record id); set related_id_key to the right "
            f"column (columns: {', '.join(map(str, row))})"
        )
    related = normalize_id(row[related_id_key], f"{where}: {related_id_key!r}")
    fields = spec.check_fields({k: v for k, v in row.items() if k not in ids}, where)
    return parent, related, fields
