"""Failures that are the data's or the configuration's, not the network's.

Per-item failures in every batch are reported item by item and do not disturb their neighbours; a
request-level INVALID_DATA for an unknown parent fails that parent's items only; a configuration
error half-way (a permission revoked after ~50 batches) stops the run at once, and what was already
done is reported as done.
"""

from __future__ import annotations

import random

import pytest

from airflow_provider_zohorel.emulator import DEMO_USER_ID
from tests.reliability.accounting import assert_accounted
from tests.reliability.rel_support import (
    CAMPAIGN_BASE,
    execute_operator,
    memberships,
    reliability_seeds,
    seed_world,
)

pytestmark = pytest.mark.integration

BULK = "crm.related_records.bulk"


@pytest.mark.parametrize("seed", reliability_seeds())
def test_per_item_failures_in_every_batch_are_reported_one_by_one(zoho, seed):
    rng = random.Random(seed)
    world = seed_world(zoho.admin, campaigns=rng.randint(2, 5), leads=rng.randint(100, 300))
    records = memberships(world.campaigns, world.leads)
    failing = rng.sample(world.leads, max(1, len(world.leads) // 15))
    zoho.admin.set_faults(failing_ids=failing)
    outcome = execute_operator(records=records, max_concurrency=4, batch_size=rng.choice([20, 100]))
    scenario = f"per-item failures seed={seed}"
    assert_accounted(records, outcome.summary, zoho.admin, scenario=scenario)
    assert outcome.summary["by_code"]["INVALID_DATA"] == len(failing) * len(world.campaigns), scenario
    assert {f["id"] for f in outcome.summary["failed_items"]} == set(failing), scenario
    assert outcome.state == "failed, retryable", scenario  # default policy: INVALID_DATA fails the task


def test_an_unknown_parent_fails_its_own_items_only(zoho):
    """Zoho answers the whole request INVALID_DATA (resource_path_index 1) for a parent that does not
    exist: its items are failed with that code; other parents are related; the run goes on."""
    world = seed_world(zoho.admin, campaigns=4, leads=150)
    unknown = str(CAMPAIGN_BASE + 999)
    records = memberships([*world.campaigns[:2], unknown, *world.campaigns[2:]], world.leads)
    outcome = execute_operator(records=records, max_concurrency=2)
    assert_accounted(records, outcome.summary, zoho.admin, scenario="unknown parent")
    assert outcome.summary["by_code"] == {"SUCCESS": 4 * 150, "INVALID_DATA": 150}
    assert {f["record_id"] for f in outcome.summary["failed_items"]} == {unknown}
    assert outcome.summary["stopped_by"] is None
    assert zoho.admin.counters()["crm_requests"] == 5 * 2  # every batch was sent, the unknown one too


def test_a_configuration_error_half_way_stops_at_once(zoho, watch):
    """80 batches, one at a time; while the 50th call is in flight the user loses the permission to
    update related records. That call (or, if the revocation comes a moment late, the next) answers
    NO_PERMISSION: nothing more is sent, the batches done are reported succeeded, everything else
    failed with NO_PERMISSION, and the task is not retried."""
    world = seed_world(zoho.admin, campaigns=80, leads=20)
    records = memberships(world.campaigns, world.leads)
    zoho.admin.patch_config(latency_ms=15)
    watcher = watch(
        lambda counters: counters["crm_requests"] >= 50,
        lambda admin: admin.set_permissions(DEMO_USER_ID, update_related=False),
        hold_after=49,
    )
    outcome = execute_operator(records=records, max_concurrency=1)
    watcher.stop()
    assert watcher.fired_at is not None
    summary = outcome.summary
    assert_accounted(records, summary, zoho.admin, scenario="permission revoked at the 50th batch")
    assert outcome.state == "failed, no retry"
    assert summary["stopped_by"]["code"] == "NO_PERMISSION"
    assert set(summary["by_code"]) == {"SUCCESS", "NO_PERMISSION"}
    done = summary["succeeded"] // 20
    assert done >= 49
    counters = zoho.admin.counters()
    assert counters["requests"][BULK] == {"200": done, "403": 1}  # stopped at the first refusal
    assert summary["batches_not_sent"] == 80 - done - 1


def test_more_failures_than_the_xcom_cap_are_all_in_the_failed_items_table(zoho, tmp_path, monkeypatch):
    """1,500 items fail: XCom keeps the first 1,000, the failed-items table keeps every one, and the
    accounting is checked against the table."""
    import json
    import sqlite3

    warehouse = tmp_path / "wh.db"
    monkeypatch.setenv("AIRFLOW_CONN_WAREHOUSE", json.dumps({"conn_type": "sqlite", "host": str(warehouse)}))
    world = seed_world(zoho.admin, campaigns=5, leads=400)
    records = memberships(world.campaigns, world.leads)
    zoho.admin.set_faults(failing_ids=world.leads[:300])
    outcome = execute_operator(
        records=records, sql_conn_id="warehouse", failed_items_table="zoho_failed", max_concurrency=4
    )
    summary = outcome.summary
    assert (summary["failed"], len(summary["failed_items"]), summary["failed_items_truncated"]) == (
        1500,
        1000,
        500,
    )
    with sqlite3.connect(warehouse) as db:
        rows = db.execute("SELECT record_id, related_id, code, message FROM zoho_failed").fetchall()
    table = [{"record_id": r, "id": i, "code": c, "message": m} for r, i, c, m in rows]
    assert summary["failed_items_table"]["rows_written"] == len(table) == 1500
    assert_accounted(records, summary, zoho.admin, failed_items=table, scenario="1,500 failures, table")
