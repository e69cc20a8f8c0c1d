"""Resume bookkeeping in real DAG runs (dag.test(): the real task runner, its execution API and the
metadata database's ``task_state_store``): a state store that fails costs re-sends, never items.

The store is made to fail where Airflow keeps it (the configured state backend behind the
execution API), so the failure reaches the operator the way a broken api-server or database would.
"""

from __future__ import annotations

from typing import Any

import pytest

from airflow_provider_zohorel._compat import AIRFLOW_V_3_3_PLUS
from tests.e2e.test_operator_dags import CAMPAIGNS, LEADS, conf, held, memberships

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(not AIRFLOW_V_3_3_PLUS, reason="task_state_store is new in Airflow 3.3"),
]


@pytest.fixture
def broken_store(monkeypatch: pytest.MonkeyPatch) -> dict[str, bool]:
    """The metadata-database state backend, with ``get`` or ``set`` failing when switched on."""
    import airflow.state
    from airflow.state.metastore import MetastoreBackend

    failing = {"get": False, "set": False}

    class FlakyBackend(MetastoreBackend):
        def get(self, *args: Any, **kwargs: Any) -> Any:
            if failing["get"]:
                raise RuntimeError("state store database unavailable")
            return super().get(*args, **kwargs)

        def set(self, *args: Any, **kwargs: Any) -> None:
            if failing["set"]:
                raise RuntimeError("state store database unavailable")
            super().set(*args, **kwargs)

    monkeypatch.setattr(airflow.state, "_backend_instance", FlakyBackend())
    return failing


@pytest.mark.parametrize("broken", ["set", "get"])
def test_a_failing_state_store_costs_resends_never_items(zoho, run_dag, broken_store, broken):
    broken_store[broken] = True  # writes lost on the first try, or reads failing on the retry
    records = memberships({c: LEADS for c in CAMPAIGNS})
    zoho.admin.set_faults(error_500_next=2)  # the first try fails two of its three batches
    result = run_dag("e2e_retry", conf=conf(records))

    assert (result.task_state(), result.tries()) == ("success", 2)
    summary = result.summary()
    assert (summary["total"], summary["succeeded"], summary["failed"]) == (147, 147, 0)
    # Nothing could be resumed: the retry sent all three batches again, and Zoho updated the one
    # the first try had related instead of adding it twice.
    assert (summary["resumed_items"], summary["api_calls"]) == (0, 3)
    counters = zoho.admin.counters()
    assert counters["crm_requests"] == 3 + 3
    assert (counters["relations_added"], counters["relations_updated"]) == (147, 49)
    for campaign in CAMPAIGNS:
        assert set(held(zoho, campaign)) == set(LEADS)


def test_a_retry_reads_the_store_once_and_writes_only_what_it_sent(zoho, run_dag):
    records = memberships({c: LEADS for c in CAMPAIGNS})
    zoho.admin.set_faults(error_500_next=2)
    result = run_dag("e2e_retry", conf=conf(records))
    assert (result.task_state(), result.tries()) == ("success", 2)
    bookkeeping = result.summary()["resume_bookkeeping"]
    # The retry found the first try's one finished batch in one chunk (a read for it, one that
    # finds the end), and wrote only the two batches it sent itself.
    assert (bookkeeping["reads"], bookkeeping["batches_found"]) == (2, 1)
    assert (bookkeeping["batches_written"], bookkeeping["batches_not_written"]) == (2, 0)
    assert bookkeeping["writes"] >= 1
