"""Writing every failed item to a table, so a downstream task (or a person) can retry them.

XCom keeps only the first 1,000 failed items; the table keeps all of them, written in chunks as
the run goes, with enough context (run, parent, related id, code, message, time) to act on.

Every try appends its own rows. With resume, a retry re-sends only what had not succeeded, so the
items still failing after a run are the rows of its latest try: :func:`latest_try_sql` selects
them, and :func:`read_latest_failed_items` reads them for one task of one run.
"""

from __future__ import annotations

import re
from typing import Any

import pendulum

COLUMNS = (
    "dag_id",
    "task_id",
    "run_id",
    "try_number",
    "module",
    "related_list",
    "record_id",
    "related_id",
    "code",
    "message",
    "source_row",
    "failed_at",
)
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_$]*(\.[A-Za-z_][A-Za-z0-9_$]*){0,2}$")

CREATE_SQL = """CREATE TABLE IF NOT EXISTS {table} (
    dag_id VARCHAR(250), task_id VARCHAR(250), run_id VARCHAR(250), try_number INTEGER,
    module VARCHAR(64), related_list VARCHAR(64), record_id VARCHAR(32), related_id VARCHAR(32),
    code VARCHAR(64), message VARCHAR(1000), source_row VARCHAR(64), failed_at TIMESTAMP
)"""
#: ``failed_at`` as written: UTC, without an offset, in the literal form every SQL database reads
#: into a TIMESTAMP column (a table created before it was one keeps its VARCHAR and reads the same).
FAILED_AT_FORMAT = "%Y-%m-%d %H:%M:%S.%f"

LATEST_TRY_SQL = """SELECT {columns} FROM {table} f
WHERE f.try_number = (
    SELECT MAX(g.try_number) FROM {table} g
    WHERE g.dag_id = f.dag_id AND g.task_id = f.task_id AND g.run_id = f.run_id
)"""


def latest_try_sql(table: str) -> str:
    """A query for the rows of each task run's latest try only (what is still failing), in any SQL
    database; add ``AND f.run_id = ...`` or use it as a view's body."""
    return LATEST_TRY_SQL.format(columns=", ".join(f"f.{c}" for c in COLUMNS), table=check_table_name(table))


def read_latest_failed_items(
    hook: Any, table: str, *, dag_id: str, task_id: str, run_id: str
) -> list[dict[str, Any]]:
    """The failed items of the latest try of ``task_id`` in ``run_id``, as dicts keyed by column,
    through any DbApiHook (its own parameter placeholder)."""
    mark = getattr(hook, "placeholder", "%s")
    sql = f"{latest_try_sql(table)} AND f.dag_id = {mark} AND f.task_id = {mark} AND f.run_id = {mark}"
    sql += " ORDER BY f.record_id, f.related_id"
    return [
        dict(zip(COLUMNS, row, strict=True))
        for row in hook.get_records(sql, parameters=(dag_id, task_id, run_id))
    ]


def check_table_name(name: str) -> str:
    if not isinstance(name, str) or not _IDENTIFIER.match(name):
        raise ValueError(
            f"failed_items_table {name!r} is not a plain table name ([schema.]table, letters, digits, _)"
        )
    return name


class FailedItemsTable:
    """Buffers failed items and inserts them through a DbApiHook every ``chunk`` rows."""

    def __init__(self, hook: Any, table: str, context: dict[str, Any], chunk: int = 1000) -> None:
        self.hook = hook
        self.table = check_table_name(table)
        self.context = context
        self.chunk = chunk
        self.buffer: list[tuple[Any, ...]] = []
        self.written = 0
        self.hook.run(CREATE_SQL.format(table=self.table))

    def add(self, items: list[dict[str, Any]]) -> None:
        now = pendulum.now("UTC").strftime(FAILED_AT_FORMAT)
        c = self.context
        for item in items:
            self.buffer.append(
                (
                    c["dag_id"],
                    c["task_id"],
                    c["run_id"],
                    c["try_number"],
                    c["module"],
                    c["related_list"],
                    item["record_id"],
                    item["id"],
                    item["code"],
                    str(item["message"])[:1000],
                    item.get("row"),
                    now,
                )
            )
        if len(self.buffer) >= self.chunk:
            self.flush()

    def flush(self) -> None:
        if self.buffer:
            self.hook.insert_rows(
                self.table, self.buffer, target_fields=list(COLUMNS), commit_every=self.chunk
            )
            self.written += len(self.buffer)
            self.buffer = []
