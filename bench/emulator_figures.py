"""The emulator's own figures (from ``bench.bench_emulator``), to show it is not the bottleneck."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bench.common import Row, fmt_n


@dataclass(frozen=True)
class Config:
    quick: bool = False


def run(config: Config, say: Callable[[str], None]) -> list[Row]:
    from bench import bench_emulator

    section = "7. The emulator itself (bench/bench_emulator.py)"
    results: dict[str, Any]
    if config.quick:
        results = {"throughput": bench_emulator.measure_throughput(3.0), "latency": {}}
    else:
        results = bench_emulator.run()
    tp, lat = results["throughput"], results["latency"]
    rows = [
        Row(
            section,
            f"bulk PUTs with 100 items per second, no latency ({tp['generator']})",
            f"{fmt_n(tp['put_per_s'])} PUT/s = {fmt_n(tp['items_per_s'])} items/s",
        )
    ]
    if "server_cpu_pct" in tp:
        rows.append(
            Row(section, "  emulator process CPU during that run", f"{tp['server_cpu_pct']:.0f}% of a core")
        )
    if lat:
        rows.append(
            Row(
                section,
                f"{lat['concurrent']} concurrent PUTs at {lat['latency_ms']:g} ms latency: burst wall time",
                f"{lat['burst_wall_ms']:.0f} ms",
            )
        )
        rows.append(
            Row(
                section,
                "  event-loop lag, worst, during that burst",
                f"{lat['burst_loop_lag_max_ms']:.1f} ms",
            )
        )
        for jitter in (0, 20):
            key = f"sustained_jitter{jitter}"
            if f"{key}_put_per_s" in lat:
                rows.append(
                    Row(
                        section,
                        f"  sustained, 100 connections, jitter {jitter} ms: PUT/s, worst loop lag",
                        f"{fmt_n(lat[f'{key}_put_per_s'])} PUT/s, {lat[f'{key}_loop_lag_max_ms']:.1f} ms",
                    )
                )
    return rows
