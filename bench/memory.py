"""Peak memory of a task streaming N rows from PostgreSQL, for two N ten times apart.

Each size runs in a fresh process (``python -m bench.memory_child``) that imports Airflow, runs the
operator with ``sql=`` / ``sql_conn_id=`` against the emulator (L = 0) and reports its own peak
RSS (``VmHWM``) and its RSS before execute() (the imports). Rows are COPYed into a table in a
private schema, dropped afterwards. Flat memory means: the 10x larger run peaks within 1.2x.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from bench.common import ROOT, STATUSES, Row, fmt_n, fmt_s, fresh_token_cache, seed, verdict, zoho_connection

PG_URI = "postgresql://postgres@127.0.0.1:5432/test"
GROWTH_TARGET = 1.2


@dataclass(frozen=True)
class Config:
    sizes: Sequence[int] = (100_000, 1_000_000)
    per_parent: int = 100
    max_concurrency: int = 10
    timeout: float = 900.0


@contextmanager
def private_schema() -> Iterator[str]:
    import psycopg

    schema = f"zohorel_bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG_URI, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    try:
        yield schema
    finally:
        with psycopg.connect(PG_URI, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA {schema} CASCADE")


def load_table(table: str, parents: list[str], leads: list[str]) -> None:
    """COPY one row per (parent, lead) into ``table`` (record_id, id, member_status)."""
    import psycopg

    with psycopg.connect(PG_URI, autocommit=True) as conn:
        conn.execute(f"CREATE TABLE {table} (record_id text NOT NULL, id text NOT NULL, member_status text)")
        with (
            conn.cursor() as cur,
            cur.copy(f"COPY {table} (record_id, id, member_status) FROM STDIN") as copy,
        ):
            n = 0
            for parent in parents:
                block = []
                for lead in leads:
                    block.append(f"{parent}\t{lead}\t{STATUSES[n % 3]}\n")
                    n += 1
                copy.write("".join(block))
        conn.execute(f"ANALYZE {table}")


def run_child(sql: str, env: dict[str, str], max_concurrency: int, timeout: float) -> dict[str, Any]:
    """The operator in a fresh interpreter; its JSON report (peak RSS, summary figures, wall)."""
    args = json.dumps({"sql": sql, "sql_conn_id": "bench_pg", "max_concurrency": max_concurrency})
    done = subprocess.run(
        [sys.executable, "-m", "bench.memory_child", args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode != 0 or not lines:
        raise RuntimeError(f"memory child failed ({done.returncode}): {done.stderr[-2000:]}")
    result: dict[str, Any] = json.loads(lines[-1])
    return result


def run(config: Config, say: Callable[[str], None]) -> list[Row]:
    from airflow_provider_zohorel.emulator import ZohoEmulator

    section = "4. Memory: peak RSS of a task streaming rows from PostgreSQL (fresh process per size, L=0)"
    results: list[tuple[int, dict[str, Any]]] = []
    with private_schema() as schema:
        for size in config.sizes:
            parents = size // config.per_parent
            with ZohoEmulator(concurrency=config.max_concurrency) as emu:
                seeded = seed(emu, parents, config.per_parent)
                table = f"{schema}.members_{size}"
                started = time.perf_counter()
                load_table(table, seeded.parents, seeded.related)
                copied = time.perf_counter() - started
                say(f"    {fmt_n(size)} rows COPYed in {copied:.1f} s; running the task")
                env = dict(os.environ)
                env["AIRFLOW_CONN_ZOHO_CRM_DEFAULT"] = zoho_connection(emu.base_url, seeded.creds)
                env["AIRFLOW_CONN_BENCH_PG"] = PG_URI
                env["ZOHOREL_TOKEN_CACHE_DIR"] = str(fresh_token_cache(f"memory-{size}"))
                sql = f"SELECT record_id, id, member_status FROM {table}"
                report = run_child(sql, env, config.max_concurrency, config.timeout)
                report["related_on_server"] = emu.admin.counters()["relations_added"]
                results.append((size, report))
    rows: list[Row] = []
    for size, report in results:
        peak, base = report["peak_rss_kb"] / 1024, report["baseline_rss_kb"] / 1024
        ok = report["succeeded"] == size
        rows.append(
            Row(
                section,
                f"{fmt_n(size)} rows: peak RSS (RSS after imports {base:.0f} MiB; task took "
                f"{fmt_s(report['wall'])}, {fmt_n(report['api_calls'])} calls, "
                f"{fmt_n(report['succeeded'])} related)",
                f"{peak:.0f} MiB",
                "all related",
                verdict(ok),
            )
        )
    if len(results) >= 2:
        (small, a), (large, b) = results[0], results[-1]
        growth = b["peak_rss_kb"] / a["peak_rss_kb"]
        over_a = (a["peak_rss_kb"] - a["baseline_rss_kb"]) / 1024
        over_b = (b["peak_rss_kb"] - b["baseline_rss_kb"]) / 1024
        rows.append(
            Row(
                section,
                f"peak RSS {fmt_n(large)} / {fmt_n(small)} rows "
                f"(above imports: {over_b:.0f} vs {over_a:.0f} MiB)",
                f"{growth:.2f}x",
                f"<= {GROWTH_TARGET:.1f}x",
                verdict(growth <= GROWTH_TARGET),
            )
        )
    return rows
