"""``make bench-celery``: example 4 on a CeleryExecutor cluster, as Zoho counts it.

100,000 relations (1,000 campaigns x 100 leads) in 8 mapped shards on 2 Celery workers, cap C=10
(the connection's shared budget), latency L=100 ms, against the emulator with the bench window
(bench/window.py: arrival of the first PUT to the end of the last answer, on the server's clock).
The cluster is the one the Celery test starts (tests/deployment/celery_support.py): api-server,
scheduler, dag-processor and two workers as separate processes, Redis broker, Postgres metadata.

Run 1: the figures. Aggregate efficiency = (calls x L / C) / the sending window. Peak calls in
flight, 429s and token mints are the emulator's counters.

Run 2: the same with worker-1 SIGKILLed mid-run. The known point is reached with the emulator's
``hold_after_requests`` (calls past a third of the run are held unanswered, then let go a budget at
a time until both workers run shards, the budget is full of held calls and worker-1's shards have
recorded finished batches in their task state store), not with timing; then the held calls go. Figures: the
killed shards' retries (where they ran, what they resumed), the accounting invariant over the
whole input (tests/reliability/accounting.py), and whether the dead worker's leased slots came back.

Run 0, before the cluster starts: what the budget itself costs, without Airflow: 1,000 one-item
calls at C = 10 from one process of 10 threads with no budget, then from 8 processes of 10 threads
sharing the Redis budget, against the same emulator configuration.

Writes bench/RESULTS-celery.md (quoted by the README), or ``--output``.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench import common
from bench.common import Row, fmt_n, fmt_s, verdict

BUDGET_URL = "redis://127.0.0.1:6379/2"  # the Celery test's budget database (celery_support)

RESULTS = common.ROOT / "bench" / "RESULTS-celery.md"
EFFICIENCY_TARGET = 0.85


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.celery_cluster", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--parents", type=int, default=1_000, help="campaigns, 100 leads each (1,000)")
    parser.add_argument("--cap", type=int, default=10, help="the shared budget and Zoho's cap (10)")
    parser.add_argument("--latency-ms", type=float, default=100.0, help="emulator latency (100)")
    parser.add_argument("--no-kill", action="store_true", help="skip run 2 (a worker killed mid-run)")
    parser.add_argument("--no-overhead", action="store_true", help="skip the budget-alone run (~40 s)")
    parser.add_argument("--output", type=Path, help="default bench/RESULTS-celery.md")
    return parser.parse_args(argv)


def figures_of(emu: Any, cap: int, latency_ms: float) -> dict[str, Any]:
    counters = emu.admin.counters()
    window = emu.window()
    calls = int(counters["crm_requests"])
    limit = calls * latency_ms / 1000.0 / cap
    return {
        "calls": calls,
        "peak": int(counters["peak_in_flight"]),
        "429": int(counters["too_many_requests"]),
        "mints": int(counters["tokens_minted"]),
        "window": window.seconds,
        "limit": limit,
        "efficiency": limit / window.seconds,
        "relations": int(counters["relations"]),
    }


def _budget_client(base_url: str, budget: bool, cache_dir: str, barrier: Any, out: Any, calls: int) -> None:
    """One process of the overhead run: 10 threads sending one-item PUTs, with or without the budget."""
    import json
    import os
    from concurrent.futures import ThreadPoolExecutor

    from airflow_provider_zohorel.emulator import connection

    os.environ["ZOHOREL_TOKEN_CACHE_DIR"] = cache_dir
    conn = connection(base_url, api_version="v8")
    if budget:
        conn["extra"].update(concurrency_budget=BUDGET_URL, concurrency_cap="10", cache_backend=BUDGET_URL)
    os.environ["AIRFLOW_CONN_ZOHO_CRM_DEFAULT"] = json.dumps(conn)
    from airflow_provider_zohorel.hooks.zoho_crm import ZohoCRMHook

    hook = ZohoCRMHook(max_concurrency=10)
    hook.get_access_token()
    barrier.wait(timeout=120)
    with ThreadPoolExecutor(10) as pool:
        list(
            pool.map(
                lambda i: hook.update_related_records(
                    "Campaigns",
                    "3652397000000327001",
                    "Leads",
                    [{"id": f"36523970000018290{3 + i % 48:02d}"}],
                ),
                range(calls),
            )
        )
    out.put(1)


def budget_overhead(latency_ms: float, say: Any) -> dict[str, float]:
    """What the Redis budget costs without Airflow: 1,000 one-item calls at C = 10 from one process of
    10 threads with no budget, then from 8 processes of 10 threads sharing the budget (efficiency
    against the emulator's window)."""
    import multiprocessing

    import redis

    from bench.window import windowed_emulator

    result: dict[str, float] = {}
    args = ["--seed", "demo", "--latency-ms", f"{latency_ms:g}", "--concurrency", "10"]
    for label, processes, budget in (("no budget, 1 process", 1, False), ("budget, 8 processes", 8, True)):
        redis.Redis.from_url(BUDGET_URL).flushdb()
        with windowed_emulator(*args) as emu:
            ctx = multiprocessing.get_context("fork")
            barrier, out = ctx.Barrier(processes), ctx.Queue()
            workdir = tempfile.mkdtemp(prefix="budget-overhead-", dir=common.workdir())
            procs = [
                ctx.Process(
                    target=_budget_client,
                    args=(emu.base_url, budget, f"{workdir}/{n}", barrier, out, 1_000 // processes),
                )
                for n in range(processes)
            ]
            for proc in procs:
                proc.start()
            for _ in procs:
                out.get(timeout=300)
            for proc in procs:
                proc.join(timeout=60)
            figures = figures_of(emu, 10, latency_ms)
            result[label] = figures["efficiency"]
            result[label + " peak"] = figures["peak"]
            say(f"    {label}: efficiency {figures['efficiency']:.3f}, peak {figures['peak']}")
    redis.Redis.from_url(BUDGET_URL).flushdb()
    return result


def run_once(cluster: Any, emu: Any, members: Any, args: argparse.Namespace) -> tuple[str, dict[str, Any]]:
    members.seed(emu.admin, args.cap, args.latency_ms)
    cluster.forget_tokens()
    emu.reset_window()
    run_id = cluster.trigger_example_4()
    state = cluster.wait_run(run_id, 900)["state"]
    return state, figures_of(emu, args.cap, args.latency_ms)


def run_killed(cluster: Any, emu: Any, members: Any, args: argparse.Namespace) -> dict[str, Any]:
    from airflow_provider_zohorel.zoho.concurrency_budget import RedisConcurrencyBudget
    from tests.deployment.celery_support import WORKERS, combined
    from tests.reliability.accounting import assert_accounted

    members.seed(emu.admin, args.cap, args.latency_ms)
    cluster.forget_tokens()
    emu.reset_window()
    emu.admin.patch_config(hold_after_requests=members.parents // 3)
    run_id = cluster.trigger_example_4()
    hold_after = cluster.hold_until_ready_to_kill(run_id, emu.admin, args.cap, WORKERS[0], 600)
    held = int(emu.admin.counters()["held_requests"])
    dead = cluster.leases_of(WORKERS[0])
    cluster.kill_worker(WORKERS[0])
    killed_at = time.time()
    emu.admin.patch_config(hold_after_requests=None)
    state = cluster.wait_run(run_id, 900)["state"]
    done_at = time.time()
    figures = figures_of(emu, args.cap, args.latency_ms)
    instances = cluster.shard_instances(run_id)
    retried = [ti for ti in instances if ti["try_number"] > 1]
    summaries = cluster.shard_summaries(run_id)
    total = combined(summaries)
    try:
        assert_accounted(members.rows(), total, emu.admin, scenario="bench-celery: worker killed")
        accounting = "holds"
    except AssertionError as exc:
        accounting = f"BROKEN: {str(exc)[:200]}"
    budget = RedisConcurrencyBudget(cluster.budget_redis, args.cap, cluster.budget_key(), prefix="")
    taken_back = time.monotonic()
    with contextlib.ExitStack() as stack:
        for _ in range(args.cap):
            stack.enter_context(budget.slot(lease=1.0))
        left_dead = len(dead & cluster.holders())
    waited_for_slots = time.monotonic() - taken_back
    return {
        **figures,
        "state": state,
        "hold_after": hold_after,
        "held": held,
        "dead_leases": len(dead),
        "left_dead": left_dead,
        "slots_free_after": args.cap - cluster.budget_slots_held(),
        "waited_for_slots": waited_for_slots,
        "retried": len(retried),
        "retried_on": sorted({ti["hostname"] for ti in retried}),
        "resumed": total["resumed_items"],
        "accounting": accounting,
        "kill_to_done": done_at - killed_at,
        "total": total["total"],
        "succeeded": total["succeeded"],
    }


def rows_of(
    first: dict[str, Any],
    state: str,
    killed: dict[str, Any] | None,
    args: argparse.Namespace,
    overhead: dict[str, float] | None = None,
) -> list[Row]:
    cap = args.cap
    section = (
        f"{fmt_n(args.parents * 100)} relations, 8 shards on 2 Celery workers, C = {cap}, "
        f"L = {args.latency_ms:g} ms"
    )
    rows = [
        Row(section, "DAG run", state, "success", verdict(state == "success")),
        Row(
            section,
            "calls (emulator)",
            fmt_n(first["calls"]),
            f"= {fmt_n(args.parents)} (one per campaign)",
            verdict(first["calls"] == args.parents),
        ),
        Row(
            section,
            "peak calls in flight, whole cluster",
            fmt_n(first["peak"]),
            f"<= {cap}",
            verdict(first["peak"] <= cap),
        ),
        Row(section, "HTTP 429 answers", fmt_n(first["429"]), "0", verdict(first["429"] == 0)),
        Row(
            section,
            "token mints (Redis token cache)",
            fmt_n(first["mints"]),
            "1",
            verdict(first["mints"] == 1),
        ),
        Row(section, "sending window (first PUT to last answer)", fmt_s(first["window"]), ""),
        Row(section, "limit (calls x L / C)", fmt_s(first["limit"]), ""),
        Row(
            section,
            "aggregate efficiency",
            f"{first['efficiency']:.3f}",
            f">= {EFFICIENCY_TARGET}",
            verdict(first["efficiency"] >= EFFICIENCY_TARGET),
        ),
    ]
    if killed is not None:
        k = f"the same, worker-1 SIGKILLed mid-run (calls past the {fmt_n(killed['hold_after'])}th held)"
        rows += [
            Row(k, "DAG run", killed["state"], "success", verdict(killed["state"] == "success")),
            Row(
                k,
                "calls held when killed (= the budget)",
                fmt_n(killed["held"]),
                f"= {cap}",
                verdict(killed["held"] == cap),
            ),
            Row(
                k,
                "slots the dead worker held",
                fmt_n(killed["dead_leases"]),
                "> 0",
                verdict(killed["dead_leases"] > 0),
            ),
            Row(
                k,
                "shards retried, on",
                f"{killed['retried']}, on {', '.join(killed['retried_on']) or '-'}",
                "> 0, on worker-2",
                verdict(killed["retried"] > 0 and killed["retried_on"] == ["worker-2"]),
            ),
            Row(
                k,
                "items resumed by the retries (not re-sent)",
                fmt_n(killed["resumed"]),
                "> 0",
                verdict(killed["resumed"] > 0),
            ),
            Row(
                k,
                "accounting invariant (relations = input, each item once)",
                killed["accounting"],
                "holds",
                verdict(killed["accounting"] == "holds"),
            ),
            Row(
                k,
                "items succeeded / input",
                f"{fmt_n(killed['succeeded'])} / {fmt_n(killed['total'])}",
                "all",
                verdict(killed["succeeded"] == killed["total"] == args.parents * 100),
            ),
            Row(
                k,
                "dead worker's leases left after the budget was taken whole",
                fmt_n(killed["left_dead"]),
                "0",
                verdict(killed["left_dead"] == 0),
            ),
            Row(
                k,
                "budget slots free at the end",
                f"{killed['slots_free_after']} of {cap}",
                f"{cap} of {cap}",
                verdict(killed["slots_free_after"] == cap),
            ),
            Row(
                k,
                "peak calls in flight / 429s",
                f"{killed['peak']} / {killed['429']}",
                f"<= {cap} / 0",
                verdict(killed["peak"] <= cap and killed["429"] == 0),
            ),
            Row(k, "token mints", fmt_n(killed["mints"]), "1", verdict(killed["mints"] == 1)),
            Row(k, "kill to last shard done", fmt_s(killed["kill_to_done"]), ""),
        ]
    if overhead is not None:
        o = "the budget alone, no Airflow: 1,000 one-item calls, C = 10 (the same machine, just before)"
        rows += [
            Row(
                o, "efficiency, 1 process x 10 threads, no budget", f"{overhead['no budget, 1 process']:.3f}"
            ),
            Row(
                o,
                "efficiency, 8 processes x 10 threads sharing the budget",
                f"{overhead['budget, 8 processes']:.3f}",
                f"peak {int(overhead['budget, 8 processes peak'])} <= 10",
                verdict(overhead["budget, 8 processes peak"] <= 10),
            ),
        ]
    return rows


def document(rows: list[Row], meta: dict[str, Any], argv: Sequence[str]) -> str:
    from bench.__main__ import table

    command = "make bench-celery" if not argv else f"python -m bench.celery_cluster {' '.join(argv)}"
    return (
        "# Benchmark results: a CeleryExecutor cluster\n\n"
        f"Written by `{command}` (bench/celery_cluster.py). Emulator counts, one run; "
        "a MISSED verdict is reported, not hidden (the machine's load is recorded).\n\n"
        f"- Date: {meta['date']}; run time {meta['runtime']:.0f} s\n"
        f"- Machine: {meta['cores']} cores ({meta['cpu']}), shared with other work: load average "
        f"(1, 5, 15 min) at start {meta['load_start']}, after run 1 {meta['load_mid']}, "
        f"at end {meta['load_end']}\n"
        f"- Python {meta['python']}, Apache Airflow {meta['airflow']}, "
        f"airflow-provider-zohorel {meta['provider']}\n\n"
        f"{table(rows)}\n\n## How\n\n{__doc__.split(chr(10), 2)[2]}"
    )


def main(argv: Sequence[str]) -> int:
    args = parse_args(argv)
    common.prepare_environment()
    from bench.window import windowed_emulator
    from tests.deployment.celery_support import Members, celery_cluster

    members = Members(parents=args.parents, per_parent=100)
    meta: dict[str, Any] = common.machine()
    meta["load_start"] = common.load()
    started = time.perf_counter()
    emulator_args = ["--seed", "demo", "--latency-ms", f"{args.latency_ms:g}", "--concurrency", str(args.cap)]
    overhead = None
    if not args.no_overhead:
        with common.timed("run 0: the budget alone, no Airflow", say):
            overhead = budget_overhead(args.latency_ms, say)
    root = Path(tempfile.mkdtemp(prefix="celery-cluster-", dir=common.workdir()))
    with (
        windowed_emulator(*emulator_args) as emu,
        celery_cluster(root, emu.base_url, args.cap, members) as cluster,
    ):
        with common.timed("run 1: 8 shards on 2 workers", say):
            state, first = run_once(cluster, emu, members, args)
        meta["load_mid"] = common.load()
        killed = None
        if not args.no_kill:
            with common.timed("run 2: worker-1 killed mid-run", say):
                killed = run_killed(cluster, emu, members, args)
    meta["load_end"] = common.load()
    meta["runtime"] = time.perf_counter() - started
    rows = rows_of(first, state, killed, args, overhead)
    output = args.output or (
        RESULTS if args.parents == 1_000 and args.cap == 10 else common.OUT / "RESULTS-celery.md"
    )
    output.parent.mkdir(parents=True, exist_ok=True)
    text = document(rows, meta, argv)
    output.write_text(text)
    print(text.split("\n\n## How", 1)[0])
    say(f"written to {output}")
    return 0  # verdicts are figures to read, as in make bench; a failure to run raises


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
