"""How fast is the Zoho emulator, and does it stay out of a benchmark's way?

Two measurements against a real emulator subprocess (``ZohoEmulator``):

1. Throughput, no latency: bulk ``PUT /crm/v8/Campaigns/{id}/Leads`` with 100 items each, driven
   by ``wrk`` (a C load generator, one thread, in its own process) for a fixed duration. The
   emulator's own counters must agree with wrk's request count, and the emulator process's CPU
   use is reported: near 100% of one core means the emulator, not wrk, set the pace. Without
   wrk, a multi-process Python generator is used instead (and reported as such).
2. Latency 200 ms, 100 concurrent requests: one burst of 100 PUTs released together by a
   barrier (wall time should be ~200 ms, not 100 x 200 ms), then wrk at 100 connections
   for a few seconds, without and with 20 ms jitter; the emulator's event-loop lag probe
   reports the worst drift of each phase.

Run: ``.venv/bin/python -m bench.bench_emulator`` (from the repository root).
"""

from __future__ import annotations

import http.client
import json
import multiprocessing
import os
import re
import resource
import shutil
import subprocess
import tempfile
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import psutil
import requests

from airflow_provider_zohorel.emulator import ZohoEmulator

ITEMS = 100
CAMPAIGNS = 20
THROUGHPUT_SECONDS = 10.0
LATENCY_MS = 200.0
CONCURRENT = 100


def _prepare(emu: ZohoEmulator) -> tuple[str, list[str], bytes]:
    """Seed campaigns and leads; returns (access token, request paths, body)."""
    admin = emu.admin
    creds = admin.create_credentials()
    campaigns = admin.add_records("Campaigns", count=CAMPAIGNS)
    leads = admin.add_records("Leads", count=ITEMS)
    token = admin.access_token(creds)
    body = json.dumps({"data": [{"id": lead, "Member_Status": "Sent"} for lead in leads]}).encode()
    paths = [f"/crm/v8/Campaigns/{c}/Leads" for c in campaigns]
    return token, paths, body


def _wrk_script(directory: Path, token: str, paths: list[str], body: bytes) -> Path:
    body_file = directory / "body.json"
    body_file.write_bytes(body)
    script = directory / "put.lua"
    lua_paths = ", ".join(f'"{p}"' for p in paths)
    script.write_text(
        f"""
local paths = {{{lua_paths}}}
local i = 0
wrk.method = "PUT"
wrk.body = io.open("{body_file}"):read("*a")
wrk.headers["Authorization"] = "Zoho-oauthtoken {token}"
wrk.headers["Content-Type"] = "application/json"
request = function()
  i = i % #paths + 1
  return wrk.format(nil, paths[i])
end
"""
    )
    return script


def _parse_wrk(output: str) -> dict[str, float]:
    result: dict[str, float] = {}
    match = re.search(r"(\d+) requests in ([\d.]+)s", output)
    if match:
        result["requests"] = float(match.group(1))
        result["seconds"] = float(match.group(2))
    match = re.search(r"Requests/sec:\s+([\d.]+)", output)
    if match:
        result["rps"] = float(match.group(1))
    match = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    result["non_2xx"] = float(match.group(1)) if match else 0.0
    for label, key in (("50%", "p50_ms"), ("99%", "p99_ms")):
        match = re.search(rf"{re.escape(label)}\s+([\d.]+)(us|ms|s)\b", output)
        if match:
            value, unit = float(match.group(1)), match.group(2)
            result[key] = value / 1000 if unit == "us" else value * 1000 if unit == "s" else value
    return result


def _run_wrk(script: Path, url: str, connections: int, seconds: float) -> tuple[dict[str, float], float]:
    """Run wrk; returns its parsed figures and the CPU seconds wrk itself used."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    output = subprocess.run(
        [
            "wrk",
            "-t1",
            f"-c{connections}",
            f"-d{max(1, round(seconds))}s",
            "--latency",
            "-s",
            str(script),
            url,
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return _parse_wrk(output), cpu


def _python_worker(args: tuple[str, str, list[str], bytes, float, int]) -> int:
    """One generator process: keep-alive connections in threads, PUT until the deadline."""
    host, token, paths, body, deadline, threads = args
    counts = [0] * threads

    def loop(slot: int) -> None:
        connection = http.client.HTTPConnection(host)
        headers = {"Authorization": f"Zoho-oauthtoken {token}", "Content-Type": "application/json"}
        i = slot
        while time.time() < deadline:
            connection.request("PUT", paths[i % len(paths)], body, headers)
            response = connection.getresponse()
            response.read()
            if response.status == 200:
                counts[slot] += 1
            i += 1
        connection.close()

    workers = [threading.Thread(target=loop, args=(n,)) for n in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    return sum(counts)


def _run_python_generator(base_url: str, token: str, paths: list[str], body: bytes, seconds: float) -> float:
    host = urlsplit(base_url).netloc
    processes = max(2, (os.cpu_count() or 2))
    deadline = time.time() + seconds
    with multiprocessing.get_context("spawn").Pool(processes) as pool:
        started = time.perf_counter()
        done = pool.map(_python_worker, [(host, token, paths, body, deadline, 8)] * processes)
        elapsed = time.perf_counter() - started
    return sum(done) / elapsed


def measure_throughput(seconds: float = THROUGHPUT_SECONDS) -> dict[str, Any]:
    """Bulk PUTs of 100 items per second with no injected latency."""
    with ZohoEmulator() as emu, tempfile.TemporaryDirectory() as tmp:
        token, paths, body = _prepare(emu)
        server = psutil.Process(emu.pid)
        if shutil.which("wrk"):
            script = _wrk_script(Path(tmp), token, paths, body)
            _run_wrk(script, emu.base_url, 32, 1.0)  # warm-up
            emu.admin.reset_counters()
            cpu_before = server.cpu_times()
            figures, wrk_cpu = _run_wrk(script, emu.base_url, 32, seconds)
            cpu_after = server.cpu_times()
            server_cpu = (cpu_after.user - cpu_before.user) + (cpu_after.system - cpu_before.system)
            counters = emu.admin.counters()
            served = counters["requests"].get("crm.related_records.bulk", {}).get("200", 0)
            return {
                "generator": "wrk (1 thread, 32 connections)",
                "put_per_s": figures.get("rps", 0.0),
                "items_per_s": figures.get("rps", 0.0) * ITEMS,
                "p50_ms": figures.get("p50_ms"),
                "p99_ms": figures.get("p99_ms"),
                "wrk_requests": int(figures.get("requests", 0)),
                "server_counted_200": served,
                "non_2xx": int(figures.get("non_2xx", 0)),
                "server_cpu_pct": round(100 * server_cpu / figures.get("seconds", seconds), 1),
                "generator_cpu_pct": round(100 * wrk_cpu / figures.get("seconds", seconds), 1),
            }
        rps = _run_python_generator(emu.base_url, token, paths, body, seconds)
        return {
            "generator": "python multi-process (wrk not found)",
            "put_per_s": rps,
            "items_per_s": rps * ITEMS,
        }


def _drain(emu: ZohoEmulator, limit_s: float = 10.0) -> None:
    """Wait until requests orphaned by a finished wrk run have left the emulator."""
    deadline = time.monotonic() + limit_s
    while emu.admin.counters()["in_flight"] and time.monotonic() < deadline:
        time.sleep(0.05)


def measure_latency_concurrency() -> dict[str, Any]:
    """100 concurrent requests with 200 ms injected latency: burst wall time and loop lag."""
    with ZohoEmulator(latency_ms=LATENCY_MS) as emu, tempfile.TemporaryDirectory() as tmp:
        token, paths, body = _prepare(emu)
        url = emu.base_url
        emu.admin.reset_counters()
        barrier = threading.Barrier(CONCURRENT + 1)
        statuses: list[int] = []
        lock = threading.Lock()

        def one(n: int) -> None:
            with requests.Session() as session:
                session.get(f"{url}/__emulator__/health", timeout=10)  # connect before the burst
                barrier.wait()
                response = session.put(
                    f"{url}{paths[n % len(paths)]}",
                    data=body,
                    headers={"Authorization": f"Zoho-oauthtoken {token}"},
                    timeout=30,
                )
                with lock:
                    statuses.append(response.status_code)

        threads = [threading.Thread(target=one, args=(n,)) for n in range(CONCURRENT)]
        for t in threads:
            t.start()
        barrier.wait()
        started = time.perf_counter()
        for t in threads:
            t.join()
        burst_ms = (time.perf_counter() - started) * 1000
        burst = emu.admin.counters()
        result: dict[str, Any] = {
            "latency_ms": LATENCY_MS,
            "concurrent": CONCURRENT,
            "burst_wall_ms": round(burst_ms, 1),
            "burst_ok": statuses.count(200),
            "burst_peak_in_flight": burst["peak_in_flight"],
            "burst_loop_lag_max_ms": burst["loop_lag_max_ms"],
        }
        if shutil.which("wrk"):
            script = _wrk_script(Path(tmp), token, paths, body)
            # wrk keeps its 100 connections in lockstep: with a fixed latency, all 100 requests
            # wake in the same loop tick and are processed back to back (CPU, not blocking), which
            # is what the lag probe then sees. A little jitter spreads the cohort, as real traffic is.
            for jitter in (0.0, 20.0):
                _drain(emu)
                emu.admin.patch_config(jitter_ms=jitter)
                emu.admin.reset_counters()
                figures, _ = _run_wrk(script, url, CONCURRENT, 5.0)
                sustained = emu.admin.counters()
                tag = f"sustained_jitter{int(jitter)}"
                result.update(
                    {
                        f"{tag}_put_per_s": figures.get("rps", 0.0),
                        f"{tag}_p50_ms": figures.get("p50_ms"),
                        f"{tag}_p99_ms": figures.get("p99_ms"),
                        f"{tag}_peak_in_flight": sustained["peak_in_flight"],
                        f"{tag}_loop_lag_max_ms": sustained["loop_lag_max_ms"],
                    }
                )
        return result


def run() -> dict[str, Any]:
    """Both measurements, as one dict (for the bench runner)."""
    return {"throughput": measure_throughput(), "latency": measure_latency_concurrency()}


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:,.1f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def main() -> None:
    """Print the figures as a small table."""
    results = run()
    rows = [
        (f"{section}.{key}", _fmt(value))
        for section, figures in results.items()
        for key, value in figures.items()
    ]
    width = max(len(name) for name, _ in rows)
    print(f"{'figure'.ljust(width)}  value")
    print(f"{'-' * width}  -----")
    for name, value in rows:
        print(f"{name.ljust(width)}  {value}")


if __name__ == "__main__":
    main()
