"""Two runs relating overlapping data at the same time (two operators, two threads, one Zoho).

Nothing is lost or duplicated, each run's summary accounts for its own items, and the relations
both sent are added by exactly one of them and updated by the other: added and updated may split
between the runs, their sums may not. Both runs share one access token.
"""

from __future__ import annotations

import threading

import pytest

from tests.reliability.accounting import assert_accounted, expected_items, held_relations
from tests.reliability.rel_support import execute_operator, memberships, seed_world

pytestmark = pytest.mark.integration


@pytest.mark.parametrize("rounds", range(2))
def test_two_overlapping_runs_at_once(zoho, rounds):
    world = seed_world(zoho.admin, campaigns=6, leads=200)
    run_a = memberships(world.campaigns[:4], world.leads[:150])
    run_b = memberships(world.campaigns[2:], world.leads[50:])
    zoho.admin.patch_config(latency_ms=25, jitter_ms=25)
    start = threading.Barrier(2)
    outcomes = {}

    def run(name, records):
        start.wait(timeout=30)
        outcomes[name] = execute_operator(records=records, max_concurrency=3, batch_size=40)

    threads = [threading.Thread(target=run, args=args) for args in (("a", run_a), ("b", run_b))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    a, b = outcomes["a"], outcomes["b"]
    assert (a.state, b.state) == ("success", "success")

    items_a, items_b = expected_items(run_a), expected_items(run_b)
    # Each run accounts for its own items; what only the other run sent is that run's business.
    assert_accounted(run_a, a.summary, zoho.admin, before=items_b, scenario=f"concurrent run A #{rounds}")
    assert_accounted(run_b, b.summary, zoho.admin, before=items_a, scenario=f"concurrent run B #{rounds}")
    union, overlap = items_a.keys() | items_b.keys(), items_a.keys() & items_b.keys()
    assert set(held_relations(zoho.admin, "Campaigns-Leads", "Campaigns")) == union
    assert len(overlap) == 2 * 100  # two campaigns x one hundred leads in both runs
    assert a.summary["added"] + b.summary["added"] == len(union)
    assert a.summary["updated"] + b.summary["updated"] == len(overlap)
    counters = zoho.admin.counters()
    assert (counters["relations_added"], counters["relations_updated"]) == (len(union), len(overlap))
    assert counters["tokens_minted"] == 1  # the file token cache: one mint for both runs
