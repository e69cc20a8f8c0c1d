"""Throughput against the physical limit, and against the naive client.

Zoho runs at most C calls at once per user and client, each carries at most 100 items, and each
takes L seconds, so no client can relate more than C x 100 / L items per second. The emulator
is started with ``--latency-ms L --concurrency C`` (it answers 429 past C), the real operator
runs in this process with ``max_concurrency=C`` (a bare process: no Airflow task around it, no
``task_state_store``), and efficiency = limit time / the emulator's sending window (first PUT to
last answer, bench/window.py; planning is reported apart). The naive client sends the same rows one
PUT at a time to an emulator of the same configuration.
"""

from __future__ import annotations

import functools
import json
import os
import shutil
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from bench import bench_emulator
from bench.common import (
    MODULE,
    RELATED_LIST,
    Emulator,
    Row,
    Seeded,
    execute,
    fmt_n,
    fmt_s,
    fmt_x,
    load,
    make_operator,
    member_rows,
    minimum_calls,
    seed,
    use_emulator,
    verdict,
)
from bench.cpu import OTHER, CpuSampler
from bench.naive import NaiveClient, NaiveResult
from bench.window import windowed_emulator

EFFICIENCY_TARGET = 0.93


@dataclass(frozen=True)
class Config:
    items: int = 100_000
    parents: int = 1_000
    latency_ms: float = 100.0
    caps: Sequence[int] = (10, 25)
    naive: bool = True
    reference_seconds: float = 5.0


def _groups(parents: list[str], leads: list[str]) -> dict[str, list[str]]:
    return {p: list(leads) for p in parents}


@functools.cache
def run_naive(config: Config, cap: int) -> NaiveResult:
    """The naive client on the same input (cached: the Airflow benchmark compares against it too)."""
    from airflow_provider_zohorel.emulator import ZohoEmulator

    per_parent = config.items // config.parents
    with ZohoEmulator(latency_ms=config.latency_ms, concurrency=cap) as emu:
        seeded = seed(emu, config.parents, per_parent)
        rows = member_rows(_groups(seeded.parents, seeded.related))
        creds = seeded.creds
        client = NaiveClient(emu.base_url, creds.client_id, creds.client_secret, creds.refresh_token)
        return client.run(rows, MODULE, RELATED_LIST)


def reference_rate(emu: Emulator, seeded: Seeded, cap: int, seconds: float) -> float | None:
    """PUTs per second that wrk (a C load generator) gets with ``cap`` connections from the same
    emulator: what this machine and emulator allow when the client costs nothing."""
    if not shutil.which("wrk"):
        return None
    token = emu.admin.access_token(seeded.creds)
    body = json.dumps({"data": [{"id": lead, "Member_Status": "Active"} for lead in seeded.related]}).encode()
    paths = [f"/crm/v8/{MODULE}/{parent}/{RELATED_LIST}" for parent in seeded.parents]
    with tempfile.TemporaryDirectory() as tmp:
        script = bench_emulator._wrk_script(Path(tmp), token, paths, body)
        figures, _ = bench_emulator._run_wrk(script, emu.base_url, cap, seconds)
    return figures.get("rps")


def run(config: Config, say: Callable[[str], None]) -> list[Row]:
    per_parent = config.items // config.parents
    items = per_parent * config.parents
    section = (
        f"1. Throughput, {fmt_n(items)} relations / {fmt_n(config.parents)} parents, "
        f"L={config.latency_ms:g} ms"
    )
    naive: NaiveResult | None = None
    if config.naive:
        say(f"    naive client, one PUT at a time (~{config.parents * config.latency_ms / 1000:.0f} s)")
        naive = run_naive(config, config.caps[0])
    rows: list[Row] = []
    for cap in config.caps:
        args = ["--latency-ms", f"{config.latency_ms:g}", "--concurrency", str(cap)]
        with windowed_emulator(*args) as emu:
            seeded = seed(emu, config.parents, per_parent)
            emu.reset_window()
            groups = _groups(seeded.parents, seeded.related)
            data = member_rows(groups)
            use_emulator(emu, seeded.creds, f"throughput-c{cap}")
            operator = make_operator(cap, records=data)
            say(f"    operator, max_concurrency={cap}")
            before = load()
            pids = {"benchmark process (the operator)": [os.getpid()], "emulator": [emu.pid]}
            with CpuSampler.of(pids) as sampler:
                result = execute(operator)
            window = emu.window()
            cpu = sampler.between(window.first_request, window.last_answer)
            counters = emu.admin.counters()
            say(f"    reference: wrk with {cap} connections")
            wrk_rate = reference_rate(emu, seeded, cap, config.reference_seconds)
        calls = minimum_calls(groups)
        limit = calls * config.latency_ms / 1000.0 / cap
        efficiency = limit / window.seconds
        throttled = int(counters["too_many_requests"])
        ok = result.summary["succeeded"] == items
        tag = f"C={cap}"
        rows += [
            Row(
                section,
                f"{tag}: limit time (calls x L / C = {calls} x {config.latency_ms:g} ms / {cap})",
                fmt_s(limit),
            ),
            Row(section, f"{tag}: operator time, execute() wall", fmt_s(result.wall)),
            Row(section, f"{tag}: operator time, sending (summary seconds)", fmt_s(result.sending)),
            Row(
                section,
                f"{tag}: operator time, before sending (planning, hook)",
                fmt_s(result.before_sending),
            ),
            Row(
                section,
                f"{tag}: efficiency = limit / emulator's window (first PUT to last answer: "
                f"{fmt_s(window.seconds)}; load {before[0]:.2f})",
                f"{efficiency:.3f}",
                f">= {EFFICIENCY_TARGET:.2f}",
                verdict(efficiency >= EFFICIENCY_TARGET),
            ),
            Row(
                section,
                f"{tag}: CPU seconds during the window",
                f"operator (this process) {cpu.get('benchmark process (the operator)', 0.0):.2f}; emulator "
                f"{cpu.get('emulator', 0.0):.2f}; {OTHER} {cpu.get(OTHER, 0.0):.2f}",
            ),
            Row(
                section,
                f"{tag}: HTTP 429 answers (emulator), peak in flight",
                f"{throttled}, {counters['peak_in_flight']}",
                "0",
                verdict(throttled == 0),
            ),
            Row(
                section,
                f"{tag}: items related (operator summary)",
                f"{fmt_n(result.summary['succeeded'])} / {fmt_n(items)}",
                "all",
                verdict(ok),
            ),
        ]
        if wrk_rate is not None:
            rows.append(
                Row(
                    section,
                    f"{tag}: reference, wrk (C load generator, {cap} connections, same emulator): "
                    f"{wrk_rate:,.0f} PUT/s; its efficiency",
                    f"{wrk_rate / (cap * 1000.0 / config.latency_ms):.3f}",
                )
            )
        if naive is not None:
            rows.append(
                Row(
                    section,
                    f"{tag}: speed-up over naive = naive time / execute() wall",
                    fmt_x(naive.wall / result.wall),
                )
            )
    if naive is not None:
        rows.insert(
            0,
            Row(
                section,
                f"naive client time (one PUT at a time, {naive.calls} calls, "
                f"{fmt_n(naive.succeeded)} related)",
                fmt_s(naive.wall),
            ),
        )
    return rows
