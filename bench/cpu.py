"""Who used the CPU during a window: the task process, the Airflow components, the emulator, the rest.

A thread reads ``/proc/<pid>/stat`` (user + system ticks) of every process in a few named groups
every ``interval`` seconds, and ``/proc/stat`` for the whole machine, with wall-clock timestamps.
CPU seconds of a group between two instants are interpolated between the samples around them, so a
window measured elsewhere (the emulator's first request to last answer) can be cut out afterwards.
Per process, only increases are summed: a process that exits takes no CPU back with it.

CPU seconds are the load-independent figure: wall-clock efficiency drops when other processes
share the cores, the CPU a task spends per item much less.
"""

from __future__ import annotations

import bisect
import os
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

TICKS = os.sysconf("SC_CLK_TCK")
OTHER = "everything else on the machine"


def process_cpu(pid: int) -> float | None:
    """User + system CPU seconds of ``pid`` so far (``None`` once it is gone)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            data = handle.read()
    except OSError:
        return None
    fields = data[data.rindex(b")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime, stime (fields 14, 15 of stat)


def machine_busy() -> float:
    """CPU seconds the whole machine spent not idle (all cores)."""
    with open("/proc/stat", "rb") as handle:
        values = [int(v) for v in handle.readline().split()[1:]]
    idle = values[3] + (values[4] if len(values) > 4 else 0)  # idle + iowait
    return (sum(values[:8]) - idle) / TICKS


def children_map() -> dict[int, list[int]]:
    """{pid: its children} for every process on the machine (one pass over ``/proc``)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as handle:
                data = handle.read()
        except OSError:
            continue
        ppid = int(data[data.rindex(b")") + 2 :].split()[1])
        children.setdefault(ppid, []).append(int(entry))
    return children


def descendants(pid: int, children: Mapping[int, list[int]] | None = None) -> list[int]:
    """``pid`` and every process below it."""
    children = children if children is not None else children_map()
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        todo.extend(children.get(current, ()))
    return found


def parent(pid: int) -> int | None:
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            data = handle.read()
    except OSError:
        return None
    return int(data[data.rindex(b")") + 2 :].split()[1])


def cmdline(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as handle:
            return handle.read().replace(b"\0", b" ").decode(errors="replace").strip()
    except OSError:
        return ""


#: ``groups()`` -> {group name: pids}; called again every ``refresh`` seconds (processes come and go).
Groups = Callable[[], Mapping[str, list[int]]]


@dataclass
class CpuSampler:
    groups: Groups
    interval: float = 0.05
    refresh: float = 1.0
    times: list[float] = field(default_factory=list)
    totals: dict[str, list[float]] = field(default_factory=dict)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    @classmethod
    def of(cls, groups: Mapping[str, list[int]]) -> CpuSampler:
        """A sampler of fixed groups of processes."""
        return cls(lambda: groups)

    def __enter__(self) -> CpuSampler:
        self._thread = threading.Thread(target=self._run, name="cpu-sampler", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()

    def _run(self) -> None:
        last: dict[int, float] = {}
        owner: dict[int, str] = {}
        sums: dict[str, float] = {}
        next_refresh = 0.0
        while not self._stop.is_set():
            now = time.time()
            if now >= next_refresh:
                owner = {pid: name for name, pids in self.groups().items() for pid in pids}
                for name in set(owner.values()) | set(self.totals):
                    sums.setdefault(name, 0.0)
                next_refresh = now + self.refresh
            for pid, name in owner.items():
                cpu = process_cpu(pid)
                if cpu is None:
                    continue
                previous = last.get(pid)
                last[pid] = cpu
                if previous is not None and cpu > previous:
                    sums[name] += cpu - previous
            sums["machine"] = machine_busy()
            self.times.append(now)
            for name, value in sums.items():
                series = self.totals.setdefault(name, [])
                series.extend([0.0] * (len(self.times) - 1 - len(series)))  # a group seen late
                series.append(value)
            self._stop.wait(self.interval)

    def _at(self, series: list[float], t: float) -> float:
        i = bisect.bisect_left(self.times, t)
        if i <= 0:
            return series[0]
        if i >= len(self.times):
            return series[-1]
        t0, t1 = self.times[i - 1], self.times[i]
        v0, v1 = series[i - 1], series[i]
        return v0 + (v1 - v0) * ((t - t0) / (t1 - t0) if t1 > t0 else 0.0)

    def between(self, start: float, end: float) -> dict[str, float]:
        """CPU seconds per group from ``start`` to ``end`` (wall clock), the rest of the machine as
        :data:`OTHER`, and ``machine`` (all of it)."""
        if not self.times:
            return {}
        result = {name: self._at(s, end) - self._at(s, start) for name, s in self.totals.items()}
        machine = result.get("machine", 0.0)
        result[OTHER] = max(0.0, machine - sum(v for k, v in result.items() if k != "machine"))
        return result
