"""The sync state table: per relation, a hash of the fields Zoho last acknowledged.

With it a run sends only relations that are new or whose fields changed, and a mirror run delinks
the relations that left the input without reading Zoho back. Rows change only for answers Zoho
acknowledged in this run (a related item's row is written, a delinked one's removed), so a killed
or failed run leaves a table that under-states what Zoho holds, never over-states it: the next
run sends what was not acknowledged. (A write that Zoho applied but whose row was not yet flushed
when the task was killed is sent again: re-relating is idempotent, "relation updated".)

Rows are keyed by their **owner** (``dag_id.task_id``), the relation (module, related list,
``X-EXTERNAL`` header), the parent and the related id. Two tasks never write each other's rows,
and a task refuses to run while another owner's rows cover one of its parents: two owners
mirroring the same parent would each delink what the other relates.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import time
from collections.abc import Iterable
from typing import Any

import pendulum

from airflow_provider_zohorel.operators.failed_items import check_table_name
from airflow_provider_zohorel.zoho.planning import DELINK, Batch, canonical_json
from airflow_provider_zohorel.zoho.relation_catalog import RelationSpec
from airflow_provider_zohorel.zoho.results import ItemResult
from airflow_provider_zohorel.zoho.sync import StateTableConflict

log = logging.getLogger(__name__)

CREATE_SQL = """CREATE TABLE IF NOT EXISTS {table} (
    owner VARCHAR(500) NOT NULL, module VARCHAR(100) NOT NULL, related_list VARCHAR(100) NOT NULL,
    x_external VARCHAR(250) NOT NULL, parent_id VARCHAR(255) NOT NULL, related_id VARCHAR(255) NOT NULL,
    fields_hash VARCHAR(32) NOT NULL, acknowledged_at VARCHAR(40) NOT NULL,
    PRIMARY KEY (owner, module, related_list, x_external, parent_id, related_id)
)"""
COLUMNS = (
    "owner",
    "module",
    "related_list",
    "x_external",
    "parent_id",
    "related_id",
    "fields_hash",
    "acknowledged_at",
)
#: Acknowledged rows are written at least this often (and at the end); delinks at once.
FLUSH_SECONDS = 0.5
FLUSH_ROWS = 5000


@functools.lru_cache(maxsize=4096)
def fields_hash(fields_json: str) -> str:
    """The hash of an item's fields as sent (canonical JSON, the plan's encoding); memoised, as
    most rows repeat a few field values."""
    return hashlib.sha256(fields_json.encode()).hexdigest()[:32]


class StateTable:
    """One run's view of the table: loaded once, written as Zoho acknowledges.

    :param hook: a DbApiHook on ``sql_conn_id``; Postgres and SQLite upsert with ``ON CONFLICT``,
        other databases delete then insert.
    """

    def __init__(self, hook: Any, table: str, owner: str, spec: RelationSpec) -> None:
        self.table = check_table_name(table)
        self.owner = owner
        self.scope = (
            spec.parent,
            spec.related,
            spec.external.header if spec.external is not None else "",
        )
        self.conn = hook.get_conn()
        self.dialect = _dialect(hook)
        self.mark = getattr(hook, "placeholder", None) or ("?" if self.dialect == "sqlite" else "%s")
        # Statements built once; the table name passed check_table_name, the rest is placeholders.
        t, m = self.table, self.mark
        scope = f"owner = {m} AND module = {m} AND related_list = {m} AND x_external = {m}"
        pair = f"{scope} AND parent_id = {m} AND related_id = {m}"
        self._sql_load = f"SELECT parent_id, related_id, fields_hash FROM {t} WHERE {scope}"  # noqa: S608
        others = scope.replace("owner =", "owner <>", 1)
        self._sql_others = f"SELECT DISTINCT owner, parent_id FROM {t} WHERE {others}"  # noqa: S608
        self._sql_clear = f"DELETE FROM {t} WHERE {scope}"  # noqa: S608
        self._sql_forget = f"DELETE FROM {t} WHERE {pair}"  # noqa: S608
        self._sql_insert = f"INSERT INTO {t} ({', '.join(COLUMNS)}) VALUES "  # noqa: S608
        self._acked: list[tuple[str, str, str]] = []
        self._forgotten: list[tuple[str, str]] = []
        self._flushed_at = time.monotonic()
        self.written = self.removed = 0
        self._execute(CREATE_SQL.format(table=self.table))
        self.conn.commit()

    # -- reading ---------------------------------------------------------------------------------

    def load(self) -> dict[tuple[str, str], str]:
        """(parent, related) -> hash of what Zoho acknowledged, for this owner and relation."""
        rows = self._query(self._sql_load, (self.owner, *self.scope))
        return {(str(p), str(r)): str(h) for p, r, h in rows}

    def check_owners(self, parents: Iterable[str]) -> None:
        """Refuse when another owner's rows cover one of ``parents`` for the same relation."""
        rows = self._query(self._sql_others, (self.owner, *self.scope))
        if not rows:
            return
        wanted = set(parents)
        shared: dict[str, int] = {}
        for owner, parent in rows:
            if str(parent) in wanted:
                shared[str(owner)] = shared.get(str(owner), 0) + 1
        if shared:
            others = ", ".join(f"{o} ({n} parent(s))" for o, n in sorted(shared.items()))
            raise StateTableConflict(
                f"state_table {self.table} holds rows of other tasks for {self.scope[0]}/"
                f"{self.scope[1]} parents this run syncs: {others}. Two tasks syncing the same "
                "parent would undo each other's work; give each its own parents or its own "
                "state_table (rows of this task are keyed by its owner, "
                f"{self.owner!r})."
            )

    # -- writing ---------------------------------------------------------------------------------

    def clear(self) -> None:
        """Forget every row of this owner and relation (``full_refresh``), before the run."""
        self._execute(self._sql_clear, (self.owner, *self.scope))
        self.conn.commit()

    def record(self, batch: Batch, results: list[ItemResult]) -> None:
        """Remember what Zoho acknowledged in a finished batch (results aligned with its items)."""
        if batch.action == DELINK:
            for result in results:
                if result.succeeded:  # "relation removed", or not found: not related either way
                    self._forgotten.append((batch.parent_id, result.related_id))
            self.flush()  # at once: a delink Zoho made is never sent again after a kill
            return
        for item, result in zip(batch.items, results, strict=True):
            if result.succeeded:
                fields = {k: v for k, v in item.items() if k != "id"}
                self._acked.append((batch.parent_id, item["id"], fields_hash(canonical_json(fields))))
        if len(self._acked) >= FLUSH_ROWS or time.monotonic() - self._flushed_at >= FLUSH_SECONDS:
            self.flush()

    def flush(self) -> None:
        self._flushed_at = time.monotonic()
        if not (self._acked or self._forgotten):
            return
        now = pendulum.now("UTC").isoformat()
        owner, module, related_list, external = self.owner, *self.scope
        cursor = self.conn.cursor()
        try:
            if self._forgotten:
                forgotten = [(owner, module, related_list, external, p, r) for p, r in self._forgotten]
                cursor.executemany(self._sql_forget, forgotten)
            if self._acked:
                rows: list[tuple[str, ...]] = [
                    (owner, module, related_list, external, p, r, h, now) for p, r, h in self._acked
                ]
                self._upsert(cursor, rows)
            self.conn.commit()
        finally:
            cursor.close()
        self.written += len(self._acked)
        self.removed += len(self._forgotten)
        self._acked, self._forgotten = [], []

    def close(self) -> None:
        try:
            self.flush()
        finally:
            self.conn.close()

    def describe(self) -> dict[str, Any]:
        return {
            "table": self.table,
            "owner": self.owner,
            "rows_written": self.written,
            "rows_removed": self.removed,
        }

    # -- SQL -------------------------------------------------------------------------------------

    def _upsert(self, cursor: Any, rows: list[tuple[str, ...]]) -> None:
        m = self.mark
        values = "(" + ", ".join([m] * len(COLUMNS)) + ")"
        if self.dialect in ("postgres", "sqlite"):
            conflict = (
                " ON CONFLICT (owner, module, related_list, x_external, parent_id, related_id) DO UPDATE "
                "SET fields_hash = excluded.fields_hash, acknowledged_at = excluded.acknowledged_at"
            )
            if _is_psycopg2(cursor):
                from psycopg2.extras import execute_values  # type: ignore[import-untyped,unused-ignore]

                execute_values(cursor, self._sql_insert + "%s" + conflict, rows, page_size=1000)
                return
            cursor.executemany(self._sql_insert + values + conflict, rows)
            return
        cursor.executemany(self._sql_forget, [row[:6] for row in rows])
        cursor.executemany(self._sql_insert + values, rows)

    def _execute(self, sql: str, params: tuple[Any, ...] | None = None) -> None:
        cursor = self.conn.cursor()
        try:
            cursor.execute(sql, params) if params is not None else cursor.execute(sql)
        finally:
            cursor.close()

    def _query(self, sql: str, params: tuple[Any, ...]) -> list[tuple[Any, ...]]:
        cursor = self.conn.cursor()
        try:
            cursor.execute(sql, params)
            return [tuple(row) for row in cursor.fetchall()]
        finally:
            cursor.close()


def _is_psycopg2(cursor: Any) -> bool:
    return type(cursor).__module__.startswith("psycopg2")


def _dialect(hook: Any) -> str:
    name = f"{getattr(hook, 'conn_type', '')} {type(hook).__name__}".lower()
    if "postgres" in name:
        return "postgres"
    if "sqlite" in name:
        return "sqlite"
    return "other"
