"""``make bench``: every benchmark, one table, written to bench/RESULTS.md.

Every verdict is a ratio of two figures measured in this one run (these machines are shared and
noisy), and the machine and its load average at start and end are recorded with the table.
``--quick`` is a small smoke run (written to bench/out/, never over RESULTS.md).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from bench import common

BENCHMARKS = ("throughput", "airflow", "calls", "overhead", "memory", "tokens", "dag", "emulator", "sync")
RESULTS = common.ROOT / "bench" / "RESULTS.md"


def _ints(text: str) -> list[int]:
    return [int(part.replace("_", "")) for part in text.split(",") if part.strip()]


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench", description=__doc__.splitlines()[0] if __doc__ else ""
    )
    parser.add_argument("--only", action="append", choices=BENCHMARKS, help="run only these (repeatable)")
    parser.add_argument(
        "--skip", action="append", choices=BENCHMARKS, default=[], help="skip these (repeatable)"
    )
    parser.add_argument(
        "--quick", action="store_true", help="small sizes: a smoke run of every path (~3 min)"
    )
    parser.add_argument(
        "--items", type=int, help="throughput/overhead relations (default 100,000; quick 10,000)"
    )
    parser.add_argument("--parents", type=int, help="throughput/overhead parents (default 1,000; quick 100)")
    parser.add_argument(
        "--latency-ms", type=float, default=100.0, help="emulator latency for throughput (100)"
    )
    parser.add_argument(
        "--caps", type=_ints, default=[10, 25], help="concurrency caps, comma-separated (10,25)"
    )
    parser.add_argument(
        "--no-naive", action="store_true", help="skip the naive client in throughput (~100 s)"
    )
    parser.add_argument(
        "--no-deployment",
        action="store_true",
        help="airflow: skip the deployment (api-server, scheduler, dag-processor; ~90 s)",
    )
    parser.add_argument(
        "--no-compare", action="store_true", help="airflow: skip the resume=False runs beside the defaults"
    )
    parser.add_argument(
        "--memory-sizes", type=_ints, help="rows per memory run (100000,1000000; quick 10000,100000)"
    )
    parser.add_argument(
        "--processes", type=int, default=32, help="task processes for the token benchmark (32)"
    )
    parser.add_argument(
        "--profile",
        action="store_true",
        help="py-spy profiles of the overhead run and of a dags test task while sending (bench/out/)",
    )
    parser.add_argument("--output", type=Path, help="where to write the table (default bench/RESULTS.md)")
    parser.add_argument(
        "--load-threshold", type=float, default=1.5, help="wait for 1-min load below this (1.5)"
    )
    parser.add_argument(
        "--max-wait", type=float, default=900.0, help="longest wait for a quiet machine, s (900)"
    )
    parser.add_argument("--no-wait", action="store_true", help="measure at once, whatever the load")
    return parser.parse_args(argv)


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def warm_up() -> None:
    """One tiny operator run first, so lazy imports are not charged to the first measured run."""
    from airflow_provider_zohorel.emulator import ZohoEmulator

    with ZohoEmulator() as emu:
        seeded = common.seed(emu, 1, 1)
        common.use_emulator(emu, seeded.creds, "warm-up")
        rows = common.member_rows({seeded.parents[0]: seeded.related})
        common.execute(common.make_operator(1, records=rows))


def plan(args: argparse.Namespace) -> list[tuple[str, Callable[[], list[common.Row]]]]:
    from bench import airflow_task, calls, dag, emulator_figures, memory, overhead, sync, throughput, tokens

    quick = args.quick
    items = args.items or (10_000 if quick else 100_000)
    parents = args.parents or (100 if quick else 1_000)
    sizes = args.memory_sizes or ([10_000, 100_000] if quick else [100_000, 1_000_000])
    profile = common.OUT / "profile-overhead.raw" if args.profile else None
    calls_cfg = (
        calls.Config(
            uniform_parents=80, uniform_per_parent=125, skewed_big=5_000, skewed_rest=5_000, singles=1_000
        )
        if quick
        else calls.Config()
    )
    caps = tuple(args.caps)
    throughput_config = throughput.Config(items, parents, args.latency_ms, caps, not args.no_naive)

    def naive_seconds() -> float | None:
        """The naive client's time on the throughput input (run once, shared by both benchmarks)."""
        if args.no_naive:
            return None
        return throughput.run_naive(throughput_config, throughput_config.caps[0]).wall

    runs: dict[str, Callable[[], list[common.Row]]] = {
        "throughput": lambda: throughput.run(throughput_config, say),
        "airflow": lambda: airflow_task.run(
            airflow_task.Config(
                parents=parents,
                per_parent=items // parents,
                latency_ms=args.latency_ms,
                caps=tuple(args.caps),
                deployment_cap=args.caps[0],
                deployment=not args.no_deployment,
                compare_no_resume=not args.no_compare,
                naive_seconds=naive_seconds(),
                profile=common.OUT / "profile-airflow.raw" if args.profile else None,
            ),
            say,
        ),
        "calls": lambda: calls.run(calls_cfg, say),
        "overhead": lambda: overhead.run(overhead.Config(items, parents, profile=profile), say),
        "memory": lambda: memory.run(memory.Config(sizes=tuple(sizes)), say),
        "tokens": lambda: tokens.run(tokens.Config(args.processes), say),
        "dag": lambda: dag.run(dag.Config(), say),
        "emulator": lambda: emulator_figures.run(emulator_figures.Config(quick=quick), say),
        "sync": lambda: sync.run(
            sync.Config(
                parents=parents,
                per_parent=items // parents,
                latency_ms=args.latency_ms,
                max_concurrency=args.caps[0],
                mirror_parents=min(50, parents),
            ),
            say,
        ),
    }
    chosen = [b for b in BENCHMARKS if (not args.only or b in args.only) and b not in args.skip]
    return [(name, runs[name]) for name in chosen]


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def table(rows: list[common.Row]) -> str:
    lines = ["| Figure | Value | Target | Verdict |", "|---|---:|---|---|"]
    section = None
    for row in rows:
        if row.section != section:
            section = row.section
            lines.append(f"| **{_cell(section)}** | | | |")
        lines.append(f"| {_cell(row.figure)} | {_cell(row.value)} | {_cell(row.target)} | {row.verdict} |")
    return "\n".join(lines)


METHOD = """\
## How each figure is measured

1. **Throughput in a bare process.** The emulator runs with `--latency-ms L --concurrency C` (it
   answers 429 past C calls in flight per user and client) behind a middleware that clocks the
   sending window on the server: arrival of the first PUT to the end of the last answer
   (bench/window.py). The real `UpdateRelatedRecordsOperator(...).execute(context)` runs in the
   benchmark process with `max_concurrency=C`, a minimal context (no Airflow task around it, no
   `task_state_store`), and the connection as `AIRFLOW_CONN_ZOHO_CRM_DEFAULT`. Limit time = calls x
   L / C, the best any client can do. Efficiency = limit / window; planning and hook set-up are shown
   apart. CPU seconds of each process during the window come from `/proc` (bench/cpu.py). 429s and
   peak in-flight calls are the emulator's counters. The naive client (bench/naive.py: plain
   `requests`, mint a token, batch to 100, one PUT at a time, as the official Zoho Python SDK does)
   runs once on the same input against an emulator of the same configuration; speed-up = naive
   time / operator execute() wall time. The reference row is `wrk` (a C load generator, no client
   CPU to speak of) with C connections against the same emulator: the efficiency this machine and
   emulator allow at all. The emulator answers all C calls of a round at the same instant (no
   jitter), so a Python client then handles C responses one at a time under the GIL: its per-call
   CPU times C is what separates its efficiency from wrk's.
2. **Calls.** L = 0; calls counted by the emulator (`crm_requests`), not by the client; minimum =
   sum over parents of ceil(n / 100).
3. **Client CPU.** L = 0; the emulator in its own process; `time.process_time()` of the benchmark
   process (every thread, user + system) around execute() and around the naive client's run; the
   median of three alternating rounds (CPU time inflates when other processes share the cores).
   Planning is also timed alone. The operator does work the naive client skips: it validates every
   row, groups and de-duplicates (spilling to SQLite past 50,000 items), keys each batch for resumed
   retries and classifies every item of every answer; its HTTP path costs about what the naive one
   does (`--profile` writes a py-spy profile by phase to bench/out/).
4. **Memory.** Rows COPYed into a table in a private PostgreSQL schema (dropped afterwards); the
   operator runs with `sql=` / `sql_conn_id=` in a fresh process per size, which reports its own peak
   RSS (`VmHWM`) and its RSS before execute().
5. **Token mints.** A process imports the provider and forks N task processes that wait on one
   barrier, each running the operator on one item with the default file token cache; mints are the
   emulator's count. Round 2 moves the emulator's clock past the token lifetime, so Zoho rejects the
   cached token (401) for the processes that try it before one of them has refreshed it. The peer:
   N processes each minting their own token with `requests`; the emulator enforces Zoho's
   10-mints-per-10-minutes throttle and counts the denials.
6. **End to end.** `airflow db migrate` then `airflow dags test zoho_campaign_members` in a private
   AIRFLOW_HOME (SQLite) against the emulator's demo seed; Zoho work = the summary's `seconds` from
   the XCom table; Airflow overhead = the rest of the wall time (CLI start, parsing, the upstream task).
7. **Emulator.** `bench/bench_emulator.py`: bulk PUTs of 100 items driven by `wrk` with no latency
   (with the emulator process's CPU), and 100 concurrent PUTs at 200 ms latency (burst wall time and
   the event-loop lag probe's worst drift).
8. **As an Airflow task (`airflow dags test`).** bench/dags/zohorel_bench.py, one DAG per cap,
   with nothing set but `max_concurrency`: `resume=True` (the default) and its `task_state_store`
   bookkeeping are on, the input is `sql=` on a SQLite table of the same 100,000 rows. Each run is
   `airflow dags test` in a private AIRFLOW_HOME on SQLite (migrated once, not counted), against a
   fresh emulator as in 1. Sending efficiency = limit / the emulator's window; task efficiency =
   limit / the task instance's start-to-end (its dates in the metadata DB). Apart: Airflow's
   start-up before the task (CLI start to task start), and in the task, before the first PUT, the
   planning (the summary's `planning_seconds`: SQL read, validation, grouping), the store read and
   the rest (Airflow's task start-up, hook, token), and after the last answer (last store write,
   summary, XCom). The same DAG with `resume=False` runs beside it for comparison. CPU seconds per
   process during the window show what the task process spent and who else used the cores (under
   `dags test` the store's execution API runs inside the task process).
9. **As an Airflow task in a deployment.** `airflow db migrate`, then `airflow api-server`,
   `scheduler` and `dag-processor` (LocalExecutor) on a fresh Postgres metadata database, started by
   the deployment tests' own support code (tests/deployment/deployment_support.py), the benchmark
   DAGs as the DAG bundle. One warm-up run, then each DAG is triggered through the REST API as the
   UI does; the task's dates come from the REST API, the store is an HTTP call to the api-server.
   Airflow start-up = trigger to task start. CPU seconds are split into the task process, its
   supervisor (the LocalExecutor worker), the scheduler, api-server, dag-processor, emulator, this
   benchmark and everything else on the machine.
10. **A retry that resumes everything.** After the default C=10 run of 8, `airflow tasks test`
   runs the task again in the same DAG run (as a retry does: same `task_state_store` scope); after
   9's, the task is cleared through the REST API (the UI's Clear button) and its second try runs.
   Figures: the first try's store writes and seconds, the retry's store reads and seconds, its calls
   to Zoho (0), and resume cost / sending cost = (the retry's store seconds + its relating seconds,
   i.e. walking every resumed batch) / the first try's sending window.
11. **Sync** (bench/sync.py). The emulator as in 1 (L, C = the first cap); the operator in-process
   with `state_table` on a Postgres table (dropped afterwards). A first run relates every row and
   fills the table; then 1% of the rows change status (at random over the parents, then clustered
   in 10 parents) and the operator is given **all** rows again. Calls are the emulator's count;
   the minimum is sum over the parents with changes of ceil(changes / 100). Its wall time (all of
   execute(): planning all rows, loading the table, hashing, sending, writing rows) is compared with
   a run given only the changed rows, no state table. Mirror with read-back: no state table, 10
   leads dropped from each of 50 parents; GET calls are the emulator's count of related-list reads,
   against sum over parents of ceil(held / 200); PUT + DELETE = the emulator's other calls.
"""


def document(rows: list[common.Row], meta: dict[str, Any], argv: Sequence[str]) -> str:
    command = "make bench" if not argv else f"python -m bench {' '.join(argv)}"
    machine = (
        f"- Date: {meta['date']}; total run time {meta['runtime']:.0f} s "
        f"(after waiting {meta['waited']:.0f} s for a quiet machine)\n"
        f"- Machine: {meta['cores']} cores ({meta['cpu']}), {meta['platform']}\n"
        f"- Python {meta['python']}, Apache Airflow {meta['airflow']}, "
        f"airflow-provider-zohorel {meta['provider']}\n"
        f"- Load average (1, 5, 15 min) at start: {meta['load_start']}; at end: {meta['load_end']}\n"
    )
    caveat = (
        "**Smoke run at small sizes (`--quick`)**: the paths work; the verdicts are only claims at "
        "the full sizes of `make bench` (a 10-round run is dominated by its first round).\n\n"
        if "--quick" in argv
        else ""
    )
    return (
        "# Benchmark results\n\n"
        f"{caveat}"
        f"Written by `{command}` (bench/). Every verdict compares two figures measured in this one run; "
        "absolute times move with the machine's load, the ratios much less. Speed claims about this "
        "provider are made here and nowhere else.\n\n"
        f"{machine}\n{table(rows)}\n\n{METHOD}\n"
        "## Reproduce\n\n```bash\n"
        "make bench   # everything: ~9 min, after waiting (up to 15 min) for a 1-min load below 1.5\n"
        ".venv/bin/python -m bench --quick  # a smoke run of every path (~3 min), to bench/out/\n"
        ".venv/bin/python -m bench --only airflow --no-naive  # 8-10 alone (~4 min)\n"
        "# py-spy profiles (pip install py-spy; a development tool, not a dependency), to bench/out/:\n"
        ".venv/bin/python -m bench --only overhead --only airflow --profile\n"
        ".venv/bin/python -m bench --help   # select benchmarks and sizes\n```\n"
    )


def main(argv: Sequence[str]) -> int:
    args = parse_args(argv)
    common.prepare_environment()
    waited = 0.0
    if not args.no_wait and not args.quick:
        waited = common.wait_for_quiet(args.load_threshold, args.max_wait, say)
    meta: dict[str, Any] = common.machine()
    meta["load_start"] = common.load()
    meta["waited"] = waited
    started = time.perf_counter()
    rows: list[common.Row] = []
    with common.timed("warm-up (imports, one tiny run)", say):
        warm_up()
    for name, run in plan(args):
        with common.timed(name, say):
            try:
                rows += run()
            except Exception as exc:  # one broken benchmark must not hide the others' figures
                say(f"    {name} failed: {type(exc).__name__}: {exc}")
                rows.append(
                    common.Row(name, f"failed: {type(exc).__name__}: {str(exc)[:300]}", "-", "", "**ERROR**")
                )
    meta["load_end"] = common.load()
    meta["runtime"] = time.perf_counter() - started
    text = document(rows, meta, argv)
    output = args.output
    if output is None:
        full = not (args.quick or args.only or args.skip or args.items or args.parents or args.memory_sizes)
        output = RESULTS if full else common.OUT / "RESULTS-partial.md"
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(text)
    print(text.split("\n\n## How each", 1)[0])
    say(f"written to {output}")
    return 1 if any(row.verdict == "**ERROR**" for row in rows) else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
