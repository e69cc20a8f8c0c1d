"""Sync: what an incremental run costs after 1% of 100,000 relations changed, and what a mirror run
with read-back costs, against the physical minimum, all measured in one emulator run.

1. A first run with a state table on Postgres relates 1,000 campaigns x 100 leads (the table is
   filled). 2. 1% of the rows change status (at random over the parents, and again clustered in
   10 parents); the second run is given all 100,000 rows and sends only the changes. Calls are
   counted by the emulator and compared with the minimum for the changed relations (sum over the
   parents with changes of ceil(changes / 100)); its wall time is compared with a run given only
   the changed rows (no state table). 3. Mirror with read-back (no state table) on the same data
   with 10 leads dropped from each of 50 campaigns: GET calls against sum over parents of
   ceil(held / 200), next to the PUT and DELETE calls.
"""

from __future__ import annotations

import os
import random
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bench.common import (
    Row,
    fmt_n,
    fmt_s,
    fmt_x,
    make_operator,
    member_rows,
    minimum_calls,
    seed,
    use_emulator,
    verdict,
)

PG_URI = "postgresql://postgres@127.0.0.1:5432/test"
CONN_ID = "sync_bench_pg"


@dataclass(frozen=True)
class Config:
    parents: int = 1_000
    per_parent: int = 100
    changed_share: float = 0.01
    latency_ms: float = 100.0
    max_concurrency: int = 10
    mirror_parents: int = 50  # campaigns that lose leads in the mirror run
    mirror_dropped: int = 10  # leads each of them loses


class _TI:
    dag_id, task_id, run_id, try_number, map_index = "bench_sync", "sync", "bench", 1, -1

    def __init__(self) -> None:
        self.xcom: dict[str, Any] = {}

    def xcom_push(self, key: str, value: Any) -> None:
        self.xcom[key] = value


def _execute(operator: Any) -> tuple[dict[str, Any], float]:
    started = time.perf_counter()
    summary = operator.execute({"ti": _TI()})
    return summary, time.perf_counter() - started


def _change(rows: list[dict[str, str]], picked: list[int]) -> list[dict[str, str]]:
    """Rows ``picked`` get a status none of them had; returns the changed rows."""
    for i in picked:
        rows[i] = {
            **rows[i],
            "Member_Status": "Responded" if rows[i]["Member_Status"] != "Responded" else "Sent",
        }
    return [rows[i] for i in picked]


def _groups(rows: list[dict[str, str]]) -> dict[str, list[str]]:
    groups: dict[str, list[str]] = {}
    for row in rows:
        groups.setdefault(row["record_id"], []).append(row["id"])
    return groups


def run(config: Config, say: Callable[[str], None]) -> list[Row]:
    import psycopg

    from airflow_provider_zohorel.emulator import ZohoEmulator

    section = (
        f"11. Sync: {fmt_n(config.parents * config.per_parent)} relations over {fmt_n(config.parents)} "
        f"parents (L={config.latency_ms:g} ms, C={config.max_concurrency})"
    )
    table = f"sync_bench_state_{uuid.uuid4().hex[:10]}"
    os.environ[f"AIRFLOW_CONN_{CONN_ID.upper()}"] = PG_URI
    rng = random.Random(11)
    rows_out: list[Row] = []
    with ZohoEmulator(latency_ms=config.latency_ms, concurrency=config.max_concurrency) as emu:
        seeded = seed(emu, config.parents, config.per_parent)
        admin = emu.admin
        use_emulator(emu, seeded.creds, "sync")
        rows = member_rows({p: seeded.related for p in seeded.parents})
        total = len(rows)

        def incremental(records: list[dict[str, str]], **kwargs: Any) -> Any:
            return make_operator(
                config.max_concurrency, records=records, sql_conn_id=CONN_ID, state_table=table, **kwargs
            )

        try:
            say(f"    first run: {fmt_n(total)} relations, state table {table}")
            first, first_wall = _execute(incremental(list(rows)))
            assert first["succeeded"] == total, first["by_code"]
            n_changed = int(total * config.changed_share)
            per_parent = config.per_parent
            scenarios = {
                f"{config.changed_share:.0%} changed at random": rng.sample(range(total), n_changed),
                f"{config.changed_share:.0%} changed in {n_changed // per_parent} parents": [
                    p * per_parent + i
                    for p in rng.sample(range(config.parents), max(1, n_changed // per_parent))
                    for i in range(per_parent)
                ][:n_changed],
            }
            for name, picked in scenarios.items():
                changed = _change(rows, picked)
                minimum = minimum_calls(_groups(changed))
                admin.reset_counters()
                say(f"    second run, {name}: all {fmt_n(total)} rows given")
                second, second_wall = _execute(incremental(list(rows)))
                calls = int(admin.counters()["crm_requests"])
                assert second["unchanged"] == total - len(changed), second
                # the reference: a run given only the changed rows (what a perfect diff upstream sends)
                admin.reset_counters()
                _, only_wall = _execute(make_operator(config.max_concurrency, records=list(changed)))
                rows_out += [
                    Row(
                        section,
                        f"second run, {name} ({fmt_n(len(changed))} rows): calls made / minimum for "
                        f"the changed relations = {fmt_n(calls)} / {fmt_n(minimum)} (a full re-send: "
                        f"{fmt_n(minimum_calls(_groups(rows)))})",
                        f"{calls / minimum:.2f}",
                        "<= 1.05",
                        verdict(calls <= 1.05 * minimum),
                    ),
                    Row(
                        section,
                        f"second run, {name}: wall time / a run given only the changed rows = "
                        f"{fmt_s(second_wall)} / {fmt_s(only_wall)} (planning "
                        f"{fmt_s(second['planning_seconds'])}, sending {fmt_s(second['seconds'])})",
                        fmt_x(second_wall / only_wall),
                        "<= 2x",
                        verdict(second_wall <= 2 * only_wall),
                    ),
                ]
            rows_out.insert(
                0,
                Row(
                    section,
                    f"first run (fills the state table): {fmt_n(total)} relations in "
                    f"{fmt_n(first['api_calls'])} calls, {fmt_s(first_wall)}, "
                    f"{fmt_n(first['state_table']['rows_written'])} state rows written",
                    fmt_s(first_wall),
                ),
            )

            # 3. mirror with read-back: what Zoho holds is read, then updates and delinks
            held = {p: len(seeded.related) for p in seeded.parents}
            dropped = set(rng.sample(seeded.parents, config.mirror_parents))
            mirror_rows = [
                r
                for r in rows
                if not (r["record_id"] in dropped and r["id"] in seeded.related[: config.mirror_dropped])
            ]
            reads_min = sum(-(-n // 200) for n in held.values())
            puts_min = minimum_calls(_groups(mirror_rows))
            deletes_min = sum(-(-config.mirror_dropped // 100) for _ in dropped)
            admin.reset_counters()
            say(f"    mirror with read-back: {fmt_n(len(mirror_rows))} rows, {len(dropped)} lose leads")
            mirror, mirror_wall = _execute(
                make_operator(config.max_concurrency, records=mirror_rows, mode="mirror")
            )
            counters = admin.counters()
            gets = int(counters["related_reads"])
            writes = int(counters["crm_requests"]) - gets
            removed = int(counters["relations_removed"])
            assert mirror["delinked"] == removed == config.mirror_parents * config.mirror_dropped, mirror
            rows_out += [
                Row(
                    section,
                    f"mirror with read-back: GET calls / sum over parents of ceil(held / 200) = "
                    f"{fmt_n(gets)} / {fmt_n(reads_min)}",
                    f"{gets / reads_min:.2f}",
                    "1.00",
                    verdict(gets == reads_min),
                ),
                Row(
                    section,
                    f"mirror with read-back: PUT + DELETE calls / minimum = {fmt_n(writes)} / "
                    f"{fmt_n(puts_min)} PUT + {fmt_n(deletes_min)} DELETE ({fmt_n(removed)} delinked), "
                    f"{fmt_s(mirror_wall)} in all",
                    f"{writes / (puts_min + deletes_min):.2f}",
                    "1.00",
                    verdict(writes == puts_min + deletes_min),
                ),
            ]
        finally:
            with psycopg.connect(PG_URI, autocommit=True) as conn:
                conn.execute(f"DROP TABLE IF EXISTS {table}")
    return rows_out
