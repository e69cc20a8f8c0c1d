"""Writing every failed item to a table, so a downstream task (or a person) can retry them.

XCom keeps only the first 1,000 failed items; the table keeps all of them, written in chunks as
the run goes, with enough context (run, parent, related id, code, message, time) to act on.
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
    code VARCHAR(64), message VARCHAR(1000), source_row VARCHAR(64), failed_at VARCHAR(40)
)"""


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
        now = pendulum.now("UTC").isoformat()
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
