"""Client CPU per 1,000 items: the operator's whole path against the naive client, with L = 0.

The emulator runs in its own process, so ``time.process_time()`` of this process (all threads,
user + system) is the client's CPU alone. The operator's figure includes everything execute()
does: planning (validation, grouping, de-duplication, spilling to SQLite past 50k items), JSON,
HTTP, per-item result parsing and the summary. Planning is also measured on its own (build_plan
plus iterating the batches) to show how the total splits. CPU time inflates when other processes
share the cores, so each figure is the median of three alternating rounds.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from bench.common import (
    MODULE,
    RELATED_LIST,
    Row,
    execute,
    fmt_n,
    fmt_x,
    make_operator,
    member_rows,
    seed,
    use_emulator,
    verdict,
)
from bench.naive import NaiveClient

RATIO_TARGET = 1.0


@dataclass(frozen=True)
class Config:
    items: int = 100_000
    parents: int = 1_000
    max_concurrency: int = 10
    profile: Path | None = None  # write a py-spy profile of the first operator run here
    repeats: int = 3


def _planning_cpu(rows: list[dict[str, str]]) -> float:
    from airflow_provider_zohorel.zoho.planning import build_plan
    from airflow_provider_zohorel.zoho.relation_catalog import resolve_relation

    spec = resolve_relation(MODULE, RELATED_LIST, "v8")
    cpu0 = time.process_time()
    plan = build_plan(rows, spec=spec)
    try:
        for _ in plan.batches():
            pass
    finally:
        plan.close()
    return time.process_time() - cpu0


def _naive_cpu(config: Config, per_parent: int) -> float:
    from airflow_provider_zohorel.emulator import ZohoEmulator

    with ZohoEmulator(concurrency=config.max_concurrency) as emu:
        seeded = seed(emu, config.parents, per_parent)
        data = member_rows({p: seeded.related for p in seeded.parents})
        creds = seeded.creds
        client = NaiveClient(emu.base_url, creds.client_id, creds.client_secret, creds.refresh_token)
        return client.run(data, MODULE, RELATED_LIST).cpu


def _operator_cpu(config: Config, per_parent: int, profile: Path | None, say: Callable[[str], None]) -> float:
    from airflow_provider_zohorel.emulator import ZohoEmulator

    with ZohoEmulator(concurrency=config.max_concurrency) as emu:
        seeded = seed(emu, config.parents, per_parent)
        data = member_rows({p: seeded.related for p in seeded.parents})
        use_emulator(emu, seeded.creds, "overhead")
        operator = make_operator(config.max_concurrency, records=data)
        if profile is None:
            return execute(operator).cpu
        from bench.profile import profiled

        with profiled(profile, say):
            return execute(operator).cpu


def run(config: Config, say: Callable[[str], None]) -> list[Row]:
    per_parent = config.items // config.parents
    items = per_parent * config.parents
    section = f"3. Client CPU per 1,000 items (L=0, {fmt_n(items)} items, emulator in its own process)"
    naive_runs: list[float] = []
    operator_runs: list[float] = []
    planning_runs: list[float] = []
    leads = [str(10**18 + n) for n in range(per_parent)]  # planning needs ids, not an emulator
    data = member_rows({str(2 * 10**18 + n): leads for n in range(config.parents)})
    for rep in range(config.repeats):
        say(
            f"    round {rep + 1} of {config.repeats}: naive client, operator (max_concurrency="
            f"{config.max_concurrency}), planning alone"
        )
        naive_runs.append(_naive_cpu(config, per_parent))
        operator_runs.append(_operator_cpu(config, per_parent, config.profile if rep == 0 else None, say))
        planning_runs.append(_planning_cpu(data))
    per_k = 1_000_000.0 / items  # seconds per run -> ms per 1,000 items
    naive_ms, op_ms, plan_ms = (
        statistics.median(r) * per_k for r in (naive_runs, operator_runs, planning_runs)
    )
    ratio = op_ms / naive_ms if naive_ms else float("inf")
    spread = ", ".join(
        f"{a * per_k:.1f}/{b * per_k:.1f}" for a, b in zip(operator_runs, naive_runs, strict=True)
    )
    return [
        Row(
            section,
            f"naive client: CPU ms per 1,000 items (median of {config.repeats})",
            f"{naive_ms:.1f} ms",
        ),
        Row(
            section,
            f"operator execute(): CPU ms per 1,000 items (median of {config.repeats})",
            f"{op_ms:.1f} ms",
        ),
        Row(section, "  of which planning (build_plan + batches, measured alone)", f"{plan_ms:.1f} ms"),
        Row(section, "  of which sending (the rest: JSON, HTTP, results)", f"{op_ms - plan_ms:.1f} ms"),
        Row(
            section,
            f"operator / naive CPU (each round, operator/naive ms: {spread})",
            fmt_x(ratio),
            f"<= {RATIO_TARGET:.2f}x (near 1)",
            verdict(ratio <= 1.1),
        ),
    ]
