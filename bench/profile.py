"""Where the client's CPU goes: a py-spy profile of this process, summarised by phase.

py-spy (``pip install py-spy``; a development tool, not a dependency) samples every thread, which
cProfile cannot: the operator's HTTP work runs in worker threads. With ``--gil`` only the thread
holding the GIL is sampled, so the shares are shares of Python CPU time.
"""

from __future__ import annotations

import collections
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

#: (phase, a frame that marks it); the first match in this order wins.
PHASES: tuple[tuple[str, str], ...] = (
    ("planning: build_plan (validate, group, spill)", "build_plan ("),
    ("planning: Plan.batches (read back, batch keys)", "Plan.batches"),
    ("results: parse_items (per-item classification)", "parse_items"),
    ("summary: RunSummary.record", "RunSummary.record"),
    ("http: JSON encode (requests)", "JSONEncoder"),
    ("http: JSON decode (response.json)", "JSONDecoder"),
    ("http: ~/.netrc lookup (requests trust_env)", "get_netrc_auth"),
    ("http: proxy/CA environment (requests trust_env)", "merge_environment_settings"),
    ("http: prepare request (requests)", "Session.prepare_request"),
    ("http: send and read (requests, urllib3)", "Session.send"),
    ("http: other (requests)", "Session.request"),
    ("client: token provider", "TokenProvider"),
    ("client: request loop, limiter", "ZohoClient"),
    ("runner: scheduling, futures", "BatchRunner"),
    ("thread pool (futures, queue)", "_worker"),
    ("operator: other", "execute ("),
)


def summarise(raw: Path, top: int = 15) -> str:
    """A phase table and the top self-time frames of a py-spy ``--format raw`` file."""
    phases: collections.Counter[str] = collections.Counter()
    selfs: collections.Counter[str] = collections.Counter()
    total = 0
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not count.isdigit():
            continue
        n = int(count)
        total += n
        frames = [f for f in stack.split(";") if f.strip() and not f.startswith(("process ", "thread "))]
        if not frames:  # py-spy saw the GIL taken but no Python frame on the thread holding it
            phases["no Python frame (GIL held in C code, or not attributable)"] += n
            continue
        selfs[frames[-1]] += n
        phase = next((name for name, marker in PHASES if marker in stack), "other (outside execute)")
        phases[phase] += n
    if not total:
        return "no samples"
    lines = [f"{total} samples (GIL holder only)", "", "share  phase"]
    lines += [f"{100 * n / total:5.1f}% {name}" for name, n in phases.most_common()]
    lines += ["", "share  top frames by self time"]
    lines += [f"{100 * n / total:5.1f}% {name}" for name, n in selfs.most_common(top)]
    return "\n".join(lines)


@contextmanager
def profiled(out: Path, say: Callable[[str], None], rate: int = 500) -> Iterator[None]:
    """Sample this process with py-spy while the block runs; writes ``out`` (raw) and ``out``.txt."""
    spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    if not Path(spy).exists():
        say("    py-spy not installed (pip install py-spy): running without a profile")
        yield
        return
    out.parent.mkdir(parents=True, exist_ok=True)
    cmd = [spy, "record", "--gil", "--nonblocking", "-r", str(rate), "-f", "raw", "-o", str(out)]
    proc = subprocess.Popen(
        [*cmd, "--pid", str(os.getpid())], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    time.sleep(1.0)  # py-spy attaches asynchronously; samples before the block would be noise anyway
    try:
        yield
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(60)
        if out.exists():
            report = summarise(out)
            out.with_suffix(".txt").write_text(report + "\n")
            say(f"    profile: {out.with_suffix('.txt')}")
        else:
            say(f"    py-spy wrote nothing: {proc.stderr.read().decode()[-500:] if proc.stderr else ''}")
