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
from typing import Any, Protocol, runtime_checkable

from airflow_provider_zohorel.zoho.errors import quote_body
from airflow_provider_zohorel.zoho.external_ids import external_value
from airflow_provider_zohorel.zoho.limits import MAX_BATCH, check_batch_size
from airflow_provider_zohorel.zoho.relation_catalog import RelationSpec
from airflow_provider_zohorel.zoho.values import InvalidValue, normalize_id

DEFAULT_SPILL_THRESHOLD = 50_000
MAX_REPORTED_ERRORS = 20


@runtime_checkable
class RowSource(Protocol):
    """Rows to plan, and how to name one in a message (``records[17]``, ``sql row 17``).

    Each kind of input (a list from XCom, a SQL query, ...) is one class with these two methods;
    a plain iterable is planned too, its rows named ``row 17``.
    """

    def __iter__(self) -> Iterator[Any]: ...

    def row_name(self, index: int) -> str: ...


def _row_name(index: int) -> str:
    return f"row {index}"


#: What a batch does: relate its items (PUT) or delink them (DELETE, mirror mode).
RELATE, DELINK = "relate", "delink"


@dataclass(frozen=True)
class Batch:
    """One call: a parent and at most 100 related items (``{"id": ..., **fields}``) in send order;
    ``row_indexes[i]`` is the input row item ``i`` came from (-1 for a delink, which no row names).
    ``action`` is :data:`RELATE` (a PUT) or :data:`DELINK` (a DELETE of the items' ids)."""

    parent_id: str
    items: list[dict[str, Any]]
    row_indexes: list[int]
    key: str
    action: str = RELATE

    @property
    def related_ids(self) -> list[str]:
        return [item["id"] for item in self.items]


def batch_key(spec: RelationSpec, parent_id: str, encoded_items: list[tuple[str, str]]) -> str:
    """A content hash: equal only for the same parent, ids and field values in the same order (and
    the same external fields, whose values name other records than the same ids would)."""
    digest = hashlib.sha256(f"{spec.parent}/{parent_id}/{spec.related}".encode())
    if spec.external is not None:
        digest.update(f"\0X-EXTERNAL\0{spec.external.header}".encode())
    for related, fields_json in encoded_items:
        digest.update(f"\0{related}\0{fields_json}".encode())
    return digest.hexdigest()[:32]


def canonical_json(fields: Mapping[str, Any]) -> str:
    """An item's fields as one canonical text: what batch keys and the sync state table hash."""
    return json.dumps(fields, sort_keys=True, separators=(",", ":"))


#: How NULL field values are read: sent as explicit nulls (which may clear the field in Zoho), or
#: left out of the item (Zoho keeps what it holds).
NULL_FIELDS = ("send", "omit")


class _FieldsCodec:
    """Canonical JSON for an item's fields, memoised: most rows repeat a few field values
    ({"Member_Status": "Active"}), and encoding each row anew dominated planning time. The memo
    is bounded so rows with unique values (list prices) cannot grow it without limit."""

    LIMIT = 4096

    def __init__(self) -> None:
        self._encoded: dict[tuple[tuple[str, Any], ...], str] = {}
        self._decoded: dict[str, dict[str, Any]] = {}

    def encode(self, fields: dict[str, Any]) -> str:
        key = tuple(fields.items())
        try:
            cached = self._encoded.get(key)
        except TypeError:  # unhashable values (a lookup object such as a note's Parent_Id)
            return canonical_json(fields)
        if cached is None:
            cached = canonical_json(fields)
            if len(self._encoded) < self.LIMIT:
                self._encoded[key] = cached
        return cached

    def decode(self, text: str) -> dict[str, Any]:
        cached = self._decoded.get(text)
        if cached is None:
            cached = json.loads(text)
            if len(self._decoded) < self.LIMIT:
                self._decoded[text] = cached
        return cached


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


#: One grouped item: (parent id, related id, input row index, canonical fields JSON).
_Item = tuple[str, str, int, str]


@dataclass
class _MemoryGroups:
    groups: dict[str, dict[str, tuple[int, str]]] = field(default_factory=dict)
    items: int = 0

    def add(self, parent: str, related: str, row: int, fields_json: str) -> None:
        group = self.groups.setdefault(parent, {})
        if group.pop(related, None) is None:  # re-insert: the last occurrence wins, at its position
            self.items += 1
        group[related] = (row, fields_json)

    def size(self) -> int:
        return self.items

    def counts(self) -> Iterator[int]:
        return (len(g) for g in self.groups.values())

    def grouped(self) -> Iterator[_Item]:
        for parent in sorted(self.groups):
            for related, (row, fields_json) in self.groups[parent].items():
                yield parent, related, row, fields_json


class _SpillGroups:
    """The same grouping in a throw-away SQLite file (stdlib, no server, memory does not grow).

    The primary key (parent, seq) stores items in send order, so reading them back needs no sort;
    the unique (parent, related) index makes a later duplicate replace the earlier one.
    """

    def __init__(self, directory: str | None) -> None:
        self.directory = directory
        self._dir = tempfile.TemporaryDirectory(prefix="zohorel-plan-", dir=directory)
        self.db = sqlite3.connect(os.path.join(self._dir.name, "plan.sqlite"), check_same_thread=False)
        self.db.executescript(
            """
            PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF; PRAGMA cache_size=-8192; PRAGMA temp_store=FILE;
            CREATE TABLE items (parent TEXT NOT NULL, seq INTEGER NOT NULL, related TEXT NOT NULL,
                                row INTEGER NOT NULL, fields TEXT NOT NULL, PRIMARY KEY (parent, seq))
                   WITHOUT ROWID;
            CREATE UNIQUE INDEX items_pair ON items (parent, related);
            """
        )
        self.seq = 0
        self._pending: list[tuple[str, int, str, int, str]] = []

    def add(self, parent: str, related: str, row: int, fields_json: str) -> None:
        self.seq += 1
        self._pending.append((parent, self.seq, related, row, fields_json))
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

    def grouped(self) -> Iterator[_Item]:
        self.flush()
        yield from self.db.execute("SELECT parent, related, row, fields FROM items ORDER BY parent, seq")

    def close(self) -> None:
        self.db.close()
        self._dir.cleanup()


class FollowUp(Protocol):
    """Batches sent after a plan's own, such as a mirror run's delinks (:mod:`.sync`)."""

    @property
    def calls(self) -> int: ...

    @property
    def items(self) -> int: ...

    def batches(self) -> Iterator[Batch]: ...

    def describe(self) -> dict[str, Any]: ...


@dataclass
class Plan:
    """The batches to send and the figures a dry run reports.

    ``items``/``calls`` are the relate side; a sync step may drop items Zoho already holds
    (``unchanged``) and add delinks (``follow_up``), which :attr:`all_items`/:attr:`all_calls`
    and :meth:`batches` include.
    """

    spec: RelationSpec
    batch_size: int
    rows: int
    items: int
    duplicates: int
    parents: int
    calls: int
    _store: _MemoryGroups | _SpillGroups = field(repr=False)
    _codec: _FieldsCodec = field(repr=False)
    unchanged: int = 0
    follow_up: FollowUp | None = None

    @property
    def all_items(self) -> int:
        return self.items + (self.follow_up.items if self.follow_up is not None else 0)

    @property
    def all_calls(self) -> int:
        return self.calls + (self.follow_up.calls if self.follow_up is not None else 0)

    def parent_groups(self) -> Iterator[tuple[str, list[str]]]:
        """Each parent with the related ids the input lists for it, in parent order."""
        parent: str | None = None
        related: list[str] = []
        for group_parent, rid, _row, _fields in self._store.grouped():
            if group_parent != parent:
                if parent is not None:
                    yield parent, related
                parent, related = group_parent, []
            related.append(rid)
        if parent is not None:
            yield parent, related

    def items_with_rows(self) -> Iterator[tuple[str, str, int]]:
        """(parent, related id, input row index) of every item, in send order."""
        for parent, rid, row, _fields in self._store.grouped():
            yield parent, rid, row

    def items_with_fields(self) -> Iterator[tuple[str, str, str]]:
        """(parent, related id, canonical fields JSON) of every item, in send order."""
        for parent, rid, _row, fields_json in self._store.grouped():
            yield parent, rid, fields_json

    def keep_only(self, send: Callable[[str, str, str], bool]) -> None:
        """Drop the items ``send(parent, related, fields_json)`` refuses (Zoho holds them as they are):
        they count as :attr:`unchanged`, and the calls are recounted for what is left."""
        old = self._store
        if isinstance(old, _MemoryGroups):  # in place: no second copy of the items
            dropped = 0
            for parent in list(old.groups):
                group = old.groups[parent]
                gone = [rid for rid, (_row, fields) in group.items() if not send(parent, rid, fields)]
                for rid in gone:
                    del group[rid]
                if not group:
                    del old.groups[parent]
                dropped += len(gone)
            old.items -= dropped
            self.unchanged += dropped
            self.items = old.items
            self.calls = sum(-(-n // self.batch_size) for n in old.counts())
            return
        kept: _MemoryGroups | _SpillGroups = (
            _MemoryGroups() if isinstance(old, _MemoryGroups) else _SpillGroups(old.directory)
        )
        dropped = 0
        for item in old.grouped():
            if send(item[0], item[1], item[3]):
                kept.add(*item)
            else:
                dropped += 1
        self.close()
        self._store = kept
        self.unchanged += dropped
        self.items = self._store.size()
        self.calls = sum(-(-n // self.batch_size) for n in self._store.counts())

    def batches(self) -> Iterator[Batch]:
        yield from self._relate_batches()
        if self.follow_up is not None:
            yield from self.follow_up.batches()

    def _relate_batches(self) -> Iterator[Batch]:
        parent: str | None = None
        encoded: list[tuple[str, str]] = []
        rows: list[int] = []

        def batch() -> Batch:
            assert parent is not None
            items = [{"id": related, **self._codec.decode(fields)} for related, fields in encoded]
            return Batch(parent, items, rows, batch_key(self.spec, parent, encoded))

        for group_parent, related, row, fields_json in self._store.grouped():
            if parent is not None and (group_parent != parent or len(encoded) == self.batch_size):
                yield batch()
                encoded, rows = [], []
            parent = group_parent
            encoded.append((related, fields_json))
            rows.append(row)
        if parent is not None and encoded:
            yield batch()

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
            "credits": self.all_calls,
            "unchanged": self.unchanged,
            "delinks": self.follow_up.describe() if self.follow_up is not None else None,
        }

    def close(self) -> None:
        if isinstance(self._store, _SpillGroups):
            self._store.close()


def build_plan(
    rows: RowSource | Iterable[Any],
    *,
    spec: RelationSpec,
    parent_id_key: str = "record_id",
    related_id_key: str = "id",
    record_id: Any = None,
    batch_size: int = MAX_BATCH,
    spill_threshold: int = DEFAULT_SPILL_THRESHOLD,
    spill_dir: str | None = None,
    null_fields: str = "send",
) -> Plan:
    """Read and validate every row, then group; raises :class:`InvalidInput` before anything is sent.

    ``null_fields="omit"`` leaves fields whose value is NULL out of the item (before validation, so
    a mandatory field that is NULL is reported missing); ``"send"`` sends them as ``null``.
    """
    check_batch_size(batch_size)
    if null_fields not in NULL_FIELDS:
        raise InvalidValue(f"null_fields must be one of {', '.join(NULL_FIELDS)}, got {null_fields!r}")
    omit_nulls = null_fields == "omit"
    row_name = rows.row_name if isinstance(rows, RowSource) else _row_name
    ids = _IdReaders(spec)
    fixed_parent = ids.parent(record_id, "record_id") if record_id is not None else None
    id_keys = {related_id_key} if fixed_parent is not None else {parent_id_key, related_id_key}
    renames = _KeyRenames(spec, (parent_id_key, related_id_key))
    errors: list[str] = []
    invalid = total = 0
    memory = _MemoryGroups()
    spill: _SpillGroups | None = None
    codec = _FieldsCodec()
    try:
        for index, row in enumerate(rows):
            total += 1
            where = row_name(index)
            try:
                row = renames.apply(row, where)
                parent, related, fields = _read_row(
                    row, where, spec, ids, parent_id_key, related_id_key, fixed_parent, id_keys, omit_nulls
                )
            except InvalidValue as exc:
                invalid += 1
                if len(errors) < MAX_REPORTED_ERRORS:
                    errors.append(str(exc))
                continue
            if invalid:
                continue  # keep validating and counting, stop collecting
            fields_json = codec.encode(fields)
            if spill is not None:
                spill.add(parent, related, index, fields_json)
                continue
            memory.add(parent, related, index, fields_json)
            if memory.items > spill_threshold:
                spill = _SpillGroups(spill_dir)
                for item in memory.grouped():
                    spill.add(*item)
                memory = _MemoryGroups()
        if invalid:
            raise InvalidInput(errors, invalid, total)
        store: _MemoryGroups | _SpillGroups = spill if spill is not None else memory
        items = store.size()
        calls = parents = 0
        for n in store.counts():
            parents += 1
            calls += -(-n // batch_size)
        return Plan(spec, batch_size, total, items, total - items, parents, calls, store, codec)
    except BaseException:
        if spill is not None:
            spill.close()
        raise


def _columns(row: Mapping[Any, Any]) -> str:
    """The row's keys for an error message: quoted, so a column name cannot forge a log line."""
    return quote_body(", ".join(repr(k) for k in row), 300)


class _KeyRenames:
    """Match keys to the id keys and Zoho field names case-insensitively (SQL engines fold unquoted
    column names: Postgres to lower case, Snowflake and Oracle to upper case). Computed once per
    distinct set of keys, so streaming rows with the same columns pays for it once."""

    def __init__(self, spec: RelationSpec, id_keys: tuple[str, ...]) -> None:
        self.spec = spec
        self.id_keys = id_keys
        self._cache: dict[tuple[Any, ...], dict[Any, str]] = {}

    def _plan(self, keys: tuple[Any, ...], where: str) -> dict[Any, str]:
        renames: dict[Any, str] = {}
        for key in keys:
            if not isinstance(key, str) or key in self.id_keys:
                continue
            target = next((k for k in self.id_keys if k.lower() == key.lower()), None)
            target = target or self.spec.canonical_field(key)
            if target != key:
                renames[key] = target
        targets = [renames.get(k, k) for k in keys]
        clash = sorted({str(t) for t in targets if targets.count(t) > 1})
        if clash:
            raise InvalidValue(f"{where}: keys differ only in case and clash: {', '.join(clash)}")
        return renames

    def apply(self, row: Any, where: str) -> Any:
        if type(row) is not dict and not isinstance(row, Mapping):
            return row
        keys = tuple(row)
        renames = self._cache.get(keys)
        if renames is None:
            renames = self._cache[keys] = self._plan(keys, where)
        if not renames:
            return row
        return {renames.get(k, k): v for k, v in row.items()}


class _IdReaders:
    """How a row's ids are read: record ids (digits), or external values for the sides that
    ``X-EXTERNAL`` names (taken as given, see :mod:`.external_ids`)."""

    __slots__ = ("parent", "related")

    def __init__(self, spec: RelationSpec) -> None:
        external = spec.external
        parent_external = external is not None and external.parent_field is not None
        related_external = external is not None and external.related_field is not None
        self.parent: Callable[[Any, str], str] = external_value if parent_external else normalize_id
        self.related: Callable[[Any, str], str] = external_value if related_external else normalize_id


def _read_row(
    row: Mapping[str, Any],
    where: str,
    spec: RelationSpec,
    id_readers: _IdReaders,
    parent_id_key: str,
    related_id_key: str,
    fixed_parent: str | None,
    ids: set[str],
    omit_nulls: bool = False,
) -> tuple[str, str, dict[str, Any]]:
    if type(row) is not dict and not isinstance(row, Mapping):
        raise InvalidValue(f"{where}: expected a dict of column -> value, got {type(row).__name__}")
    if fixed_parent is None:
        if parent_id_key not in row:
            raise InvalidValue(
                f"{where}: no {parent_id_key!r} (the parent record id); set parent_id_key to the right "
                f"column or pass record_id= for all rows (columns: {_columns(row)})"
            )
        parent = id_readers.parent(row[parent_id_key], f"{where}: {parent_id_key!r}")
    else:
        parent = fixed_parent
        if parent_id_key in row and parent_id_key != related_id_key:
            other = id_readers.parent(row[parent_id_key], f"{where}: {parent_id_key!r}")
            if other != fixed_parent:
                raise InvalidValue(
                    f"{where}: {parent_id_key!r} is {other} but record_id={fixed_parent} "
                    "was given for all rows"
                )
            ids = ids | {parent_id_key}
    if related_id_key not in row:
        raise InvalidValue(
            f"{where}: no {related_id_key!r} (the related record id); set related_id_key to the right "
            f"column (columns: {_columns(row)})"
        )
    related = id_readers.related(row[related_id_key], f"{where}: {related_id_key!r}")
    if omit_nulls:
        fields = spec.check_fields({k: v for k, v in row.items() if k not in ids and v is not None}, where)
    else:
        fields = spec.check_fields({k: v for k, v in row.items() if k not in ids}, where)
    return parent, related, fields
