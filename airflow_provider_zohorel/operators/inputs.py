"""Where the operator's rows come from: one class per kind of input, each a ``RowSource`` (its rows,
and how to name one in an error or a failed item).

``records=`` is a list of dicts (an upstream task's output), a JSON string, or a table object such
as a pandas DataFrame, read row by row through ``to_dict("records")`` without importing pandas.
``sql=`` is streamed with ``fetchmany`` (a server-side cursor on PostgreSQL, whose default
client-side cursor would otherwise buffer the whole result), so memory does not grow with the
number of rows, and no row ever goes to XCom.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from airflow_provider_zohorel._compat import BaseHook
from airflow_provider_zohorel.zoho.values import InvalidValue

DEFAULT_FETCH_SIZE = 10_000
#: Rows converted at once from a table object, so a large DataFrame is not copied whole.
FRAME_CHUNK = 10_000

RENDERED_TO_NONE = (
    "records rendered to None: the upstream task whose output it is returned nothing, or has not "
    "run (`airflow tasks test` runs no upstream task, so its XCom is missing). If 'nothing to "
    "relate' is a normal outcome, return an empty list from the upstream task."
)


class RecordsInput:
    """``records=``: validated when built (nothing is sent if it is not a list of rows)."""

    def __init__(self, records: Any) -> None:
        self._rows = _records_rows(records)

    def __iter__(self) -> Iterator[Any]:
        return iter(self._rows)

    def row_name(self, index: int) -> str:
        return f"records[{index}]"


class SqlInput:
    """``sql=`` on ``sql_conn_id``: streamed when iterated, through any DbApiHook connection."""

    def __init__(self, conn_id: str, sql: str, parameters: Any = None, fetch_size: int = DEFAULT_FETCH_SIZE):
        self.conn_id = conn_id
        self.sql = sql
        self.parameters = parameters
        self.fetch_size = fetch_size

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return sql_rows(self.conn_id, self.sql, self.parameters, self.fetch_size)

    def row_name(self, index: int) -> str:
        return f"sql row {index}"


def _records_rows(records: Any) -> Iterable[Any]:
    """Rows from the ``records`` argument: a list (or lazy XCom sequence) of dicts, a JSON string,
    or a table object with ``to_dict("records")``."""
    if records is None or (isinstance(records, str) and records.strip() == "None"):
        raise InvalidValue(RENDERED_TO_NONE)  # "None": a Jinja template rendered without native types
    if isinstance(records, (bytes, bytearray)):
        records = records.decode()
    if isinstance(records, str):
        text = records.strip()
        try:
            records = json.loads(text) if text else []
        except json.JSONDecodeError as exc:
            raise InvalidValue(
                f"records is a string but not JSON ({exc.msg} at character {exc.pos}); pass a list of dicts, "
                "an upstream task's output (XComArg), or a JSON array"
            ) from None
        if records is None:  # "null": the upstream's output rendered through tojson
            raise InvalidValue(RENDERED_TO_NONE)
    if isinstance(records, Mapping):
        raise InvalidValue(
            "records is a single dict; pass a list of dicts (one per related record), e.g. [records]"
        )
    if callable(getattr(records, "to_dict", None)):
        return _frame_rows(records)
    if not isinstance(records, Iterable) or isinstance(records, str):
        raise InvalidValue(f"records must be a list of dicts, got {type(records).__name__}")
    return records


def _frame_rows(frame: Any) -> Iterator[Any]:
    """A table object's rows as dicts, in order: chunk by chunk where it slices by position
    (``frame.iloc[a:b]``, as a pandas DataFrame does), else all at once."""
    iloc = getattr(frame, "iloc", None)
    if iloc is not None and hasattr(frame, "__len__"):
        chunks: Iterable[Any] = (
            iloc[start : start + FRAME_CHUNK] for start in range(0, len(frame), FRAME_CHUNK)
        )
    else:
        chunks = (frame,)
    for chunk in chunks:
        rows = chunk.to_dict("records")
        if not isinstance(rows, list):
            raise InvalidValue(
                f"records is a {type(frame).__name__} whose to_dict('records') gave a "
                f"{type(rows).__name__}, not a list of rows; pass a list of dicts"
            )
        yield from rows


def _server_side_cursor(conn: Any) -> Any | None:
    """A named (server-side) cursor for psycopg 2/3; ``None`` for drivers that stream anyway."""
    module = type(conn).__module__
    if module.startswith(("psycopg2", "psycopg")):
        return conn.cursor(name="zohorel_stream")
    return None


def sql_rows(
    conn_id: str, sql: str, parameters: Any = None, fetch_size: int = DEFAULT_FETCH_SIZE
) -> Iterator[dict[str, Any]]:
    """Stream the query's rows as ``{column: value}`` dicts through any DbApiHook connection."""
    from airflow.providers.common.sql.hooks.sql import DbApiHook

    hook = BaseHook.get_connection(conn_id).get_hook()  # type: ignore[no-untyped-call,unused-ignore]
    if not isinstance(hook, DbApiHook):
        raise InvalidValue(
            f"sql_conn_id {conn_id!r} is a {type(hook).__name__}, not a SQL (DbApiHook) connection"
        )
    conn = hook.get_conn()
    with contextlib.closing(conn):
        cursor = _server_side_cursor(conn) or conn.cursor()
        with contextlib.closing(cursor):
            if hasattr(cursor, "itersize"):
                cursor.itersize = fetch_size
            if parameters is None:
                cursor.execute(sql)
            else:
                cursor.execute(sql, parameters)
            chunk = cursor.fetchmany(fetch_size)  # named cursors describe columns after a fetch
            if cursor.description is None:
                raise InvalidValue("the sql statement returned no result set (is it a SELECT?)")
            columns = [str(d[0]) for d in cursor.description]
            if len(set(columns)) != len(columns):
                raise InvalidValue(f"the query returns duplicate column names: {columns}")
            while chunk:
                for row in chunk:
                    yield dict(zip(columns, row, strict=True))
                chunk = cursor.fetchmany(fetch_size)
