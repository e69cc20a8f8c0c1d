"""One task for the memory benchmark, in a fresh interpreter: run the operator on ``sql``, then
print a JSON line with this process's peak RSS (``VmHWM``) and its RSS before execute().

Usage (from bench.memory): ``python -m bench.memory_child '{"sql": ..., "sql_conn_id": ...,
"max_concurrency": N}'``; the environment carries AIRFLOW_HOME, the connections and the token cache.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path


def status_kb(field: str) -> int:
    """A ``/proc/self/status`` figure in kB (``VmHWM`` = peak resident set, ``VmRSS`` = now)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1])
    raise KeyError(field)


def main(argv: list[str]) -> int:
    args = json.loads(argv[0])
    from bench.common import execute, make_operator

    operator = make_operator(args["max_concurrency"], sql=args["sql"], sql_conn_id=args["sql_conn_id"])
    baseline = status_kb("VmRSS")
    started = time.perf_counter()
    result = execute(operator)
    summary = result.summary
    report = {
        "peak_rss_kb": status_kb("VmHWM"),
        "baseline_rss_kb": baseline,
        "wall": time.perf_counter() - started,
        "sending": result.sending,
        "succeeded": summary["succeeded"],
        "failed": summary["failed"],
        "api_calls": summary["api_calls"],
    }
    print(json.dumps(report), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
