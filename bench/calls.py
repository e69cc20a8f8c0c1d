"""API calls made against the minimum for the grouping, counted by the emulator (not by the client).

The minimum is sum over parents of ceil(n / 100). Three shapes: uniform (every parent a little
over one call's worth), skewed (one parent with half the items, the rest spread thinly) and one
item per parent (the worst case for batching). No latency: only the count matters here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from bench.common import Row, execute, fmt_n, make_operator, member_rows, minimum_calls, use_emulator, verdict


@dataclass(frozen=True)
class Config:
    uniform_parents: int = 800
    uniform_per_parent: int = 125
    skewed_big: int = 50_000
    skewed_rest: int = 50_000
    singles: int = 10_000
    max_concurrency: int = 10


def _shapes(config: Config, parents: list[str], leads: list[str]) -> dict[str, dict[str, list[str]]]:
    uniform = {p: leads[: config.uniform_per_parent] for p in parents[: config.uniform_parents]}
    skewed: dict[str, list[str]] = {parents[0]: leads[: config.skewed_big]}
    left, i = config.skewed_rest, 1
    while left > 0:
        n = min(left, i % 100 + 1)  # 2, 3, ... 100, 1, 2, ...: ragged groups
        skewed[parents[i]] = leads[:n]
        left -= n
        i += 1
    singles = {p: [leads[i % len(leads)]] for i, p in enumerate(parents[: config.singles])}
    return {
        f"uniform ({fmt_n(config.uniform_parents)} parents x {config.uniform_per_parent})": uniform,
        f"skewed (1 parent x {fmt_n(config.skewed_big)} + {fmt_n(len(skewed) - 1)} with 1-100)": skewed,
        f"one item per parent ({fmt_n(config.singles)} parents)": singles,
    }


def run(config: Config, say: Callable[[str], None]) -> list[Row]:
    from airflow_provider_zohorel.emulator import ZohoEmulator

    section = "2. API calls against the minimum (L=0)"
    needed_parents = max(config.uniform_parents, config.singles, config.skewed_rest // 50 + 2)
    needed_leads = max(config.skewed_big, config.uniform_per_parent, 100)
    rows: list[Row] = []
    with ZohoEmulator(concurrency=config.max_concurrency) as emu:
        admin = emu.admin
        creds = admin.create_credentials()
        parents = admin.add_records("Campaigns", count=needed_parents)
        leads = admin.add_records("Leads", count=needed_leads)
        for name, groups in _shapes(config, parents, leads).items():
            admin.reset_counters()
            use_emulator(emu, creds, "calls")
            operator = make_operator(config.max_concurrency, records=member_rows(groups))
            say(f"    {name}")
            result = execute(operator)
            counters = admin.counters()
            made = int(counters["crm_requests"])
            minimum = minimum_calls(groups)
            items = sum(len(v) for v in groups.values())
            ratio = made / minimum
            complete = result.summary["succeeded"] == items
            rows.append(
                Row(
                    section,
                    f"{name}: {fmt_n(items)} items, calls made / minimum = {fmt_n(made)} / {fmt_n(minimum)}"
                    + ("" if complete else f" ({fmt_n(result.summary['succeeded'])} related)"),
                    f"{ratio:.2f}",
                    "1.00",
                    verdict(made == minimum and complete),
                )
            )
    return rows
