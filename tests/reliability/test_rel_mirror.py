"""Mirror mode under faults: after a run with random 500s and connections dropped before and after
Zoho applied a call; GETs, PUTs and DELETEs alike), every parent the input names holds exactly the
input, the others hold what they held, and every delink is counted once. A DELETE whose answer was
lost is retried and answered "relation not found": it counts as delinked, not as a failure.
"""

from __future__ import annotations

import random

import pytest

from tests.reliability.accounting import assert_mirrored, held_relations
from tests.reliability.rel_support import execute_operator, memberships, reliability_seeds, seed_world

pytestmark = pytest.mark.integration


def seed_relations(admin, rng: random.Random, campaigns: list[str], leads: list[str]) -> None:
    """What Zoho holds before the sync: a random set of leads per campaign."""
    for campaign in campaigns:
        for lead in rng.sample(leads, rng.randint(0, len(leads) // 2)):
            admin.add_relation("Campaigns", campaign, "Leads", lead, {"Member_Status": "Planned"})


@pytest.mark.parametrize("seed", reliability_seeds())
def test_a_mirror_run_under_faults_ends_with_zoho_equal_to_the_input(zoho, seed):
    rng = random.Random(seed)
    world = seed_world(zoho.admin, campaigns=rng.randint(3, 6), leads=rng.randint(150, 260))
    seed_relations(zoho.admin, rng, world.campaigns, world.leads)
    before = held_relations(zoho.admin, "Campaigns-Leads", "Campaigns")
    synced = world.campaigns[:-1]  # the last campaign is absent from the input: never touched
    records = []
    for campaign in synced:
        chosen = rng.sample(world.leads, rng.randint(1, len(world.leads)))
        records += memberships([campaign], chosen, status=rng.choice(["Sent", "Active"]))
    records += [{**row, "Member_Status": "Responded"} for row in rng.sample(records, 10)]  # repeats
    rng.shuffle(records)
    zoho.admin.set_faults(
        random={"probability": 0.25, "seed": seed, "kinds": ["error_500", "drop_before", "drop_after"]}
    )
    outcome = execute_operator(
        records=records, mode="mirror", max_delink_ratio=1.0, max_concurrency=rng.choice([1, 3, 8])
    )
    injected = zoho.admin.counters()["faults_injected"]
    scenario = f"mirror faults seed={seed} injected={injected}"
    assert_mirrored(records, outcome.summary, zoho.admin, before=before, scenario=scenario)
