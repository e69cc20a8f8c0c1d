"""N task processes started at once on one machine, for the token benchmark.

Imports first, then forks N processes that wait on one barrier and go together, as tasks of a
busy worker do. ``operator`` mode: each runs the real operator on one item (token from the
shared file cache, minted by whoever gets there first). ``naive`` mode: each mints its own
token with plain requests, as per-task code does. Prints one JSON line: how each process ended.

Usage (from bench.tokens): ``python -m bench.tokens_child '{"mode": ..., "jobs": [...], ...}'``.
"""

from __future__ import annotations

import json
import multiprocessing
import sys
from multiprocessing.synchronize import Barrier
from typing import Any

JOIN_TIMEOUT = 180.0


def _operator_job(job: dict[str, Any], barrier: Barrier, out: Any) -> None:
    from bench.common import execute, make_operator

    operator = make_operator(1, records=[job])
    barrier.wait()
    try:
        summary = execute(operator).summary
        out.put({"ok": summary["succeeded"] == 1, "refreshes": summary["client"]["token_refreshes"]})
    except Exception as exc:
        out.put({"ok": False, "error": f"{type(exc).__name__}: {exc}"[:300]})


def _naive_job(job: dict[str, Any], barrier: Barrier, out: Any) -> None:
    import requests

    from bench.naive import mint_token

    with requests.Session() as session:
        barrier.wait()
        body = mint_token(
            session, job["accounts_url"], job["client_id"], job["client_secret"], job["refresh_token"]
        )
    out.put({"ok": "access_token" in body, "error": body.get("error")})


def main(argv: list[str]) -> int:
    args = json.loads(argv[0])
    mode, jobs = args["mode"], args["jobs"]
    if mode == "operator":
        import airflow_provider_zohorel.operators.related_records  # noqa: F401  (import before forking)

        target: Any = _operator_job
    else:
        import requests  # noqa: F401

        target = _naive_job
    ctx = multiprocessing.get_context("fork")
    barrier = ctx.Barrier(len(jobs))
    out = ctx.Queue()
    procs = [ctx.Process(target=target, args=(job, barrier, out)) for job in jobs]
    for proc in procs:
        proc.start()
    results = []
    for _ in procs:
        try:
            results.append(out.get(timeout=JOIN_TIMEOUT))
        except Exception:
            results.append({"ok": False, "error": f"no answer within {JOIN_TIMEOUT:.0f} s"})
            break
    for proc in procs:
        proc.join(5)
        if proc.is_alive():
            proc.kill()
            proc.join()
    print(json.dumps({"results": results}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
