"""The provider in a real Airflow deployment (api-server, scheduler, dag-processor, LocalExecutor,
Postgres), driven only through the REST API the UI uses: trigger the example DAGs, Clear the Zoho
task, read the connection form, press the connection Test button. What Zoho ends up holding is
checked through the emulator's admin API, not only through the operator's own summary.

Connection testing in 3.3.2 has two paths, both covered: ``POST /api/v2/connections/test`` runs
the hook in the api-server (the UI's Test button calls this one), and ``POST
/api/v2/connections/enqueue-test`` queues it for the scheduler to hand to a worker through the
executor (``[connection_test]``), with the result polled by token."""

from __future__ import annotations

import json
from typing import Any

import pytest

from airflow_provider_zohorel.emulator import DEMO_CLIENT_SECRET, DEMO_REFRESH_TOKEN, ZohoEmulator
from tests.deployment.deployment_support import RUN_TIMEOUT, AirflowDeployment, wait_for, zoho_connection

pytestmark = [pytest.mark.deployment, pytest.mark.timeout(240)]

CAMPAIGN_DAG, CAMPAIGN_TASK = "zoho_campaign_members", "add_leads_to_campaigns"
SPRING_LAUNCH, WEBINAR = "3652397000000327001", "3652397000001854001"
LEADS = ["3652397000001829002", *(f"36523970000018290{n:02d}" for n in range(3, 51))]
STATUSES = ("Planning", "Active", "Sent")
#: What example 1 relates: 49 leads to the spring launch with rotating statuses, 10 to the webinar.
SPRING_MEMBERS = {lead: STATUSES[i % len(STATUSES)] for i, lead in enumerate(LEADS)}
WEBINAR_MEMBERS = dict.fromkeys(LEADS[:10], "Active")

DEALS_DAG, DEALS_TASK = "zoho_deal_products", "relate_products_to_deals"
#: What example 2's load step writes: deal d gets product p at 50 + 10d + p + 0.5 when (d + p) % 3.
DEAL_PRODUCTS = {
    (f"36523970000050000{d:02d}", f"36523970000040000{p:02d}"): 50 + d * 10 + p + 0.5
    for d in range(1, 11)
    for p in range(1, 11)
    if (d + p) % 3
}


@pytest.fixture
def zoho(deployment_zoho: ZohoEmulator, airflow_deployment: AirflowDeployment) -> ZohoEmulator:
    """The deployment's emulator, back to the demo seed with zeroed counters.

    The reset voids every access token, so the provider's shared token cache is emptied too: each
    test starts with one mint and no 401, whatever ran before it.
    """
    deployment_zoho.admin.reset(seed="demo")
    airflow_deployment.forget_tokens()
    return deployment_zoho


def held(zoho: ZohoEmulator, campaign: str) -> dict[str, Any]:
    """What Zoho holds for a campaign: {lead id: Member_Status}."""
    return {r["id"]: r["fields"].get("Member_Status") for r in zoho.admin.relations_of(campaign, "Leads")}


def wait_task_try(
    airflow: AirflowDeployment, dag_id: str, run_id: str, task_id: str, try_number: int
) -> dict[str, Any]:
    """Wait until ``try_number`` of the task has finished; return the task instance."""

    def finished() -> dict[str, Any] | None:
        airflow.check_alive()
        ti = airflow.task_instance(dag_id, run_id, task_id)
        done = ti["try_number"] == try_number and ti["state"] in ("success", "failed", "skipped")
        return ti if done else None

    return wait_for(finished, RUN_TIMEOUT, f"{task_id} try {try_number} to finish")


def test_example_dag_runs_and_a_clear_reruns_without_resending(
    airflow_deployment: AirflowDeployment, zoho: ZohoEmulator
) -> None:
    airflow = airflow_deployment
    run_id = airflow.trigger(CAMPAIGN_DAG)
    assert airflow.wait_run(CAMPAIGN_DAG, run_id)["state"] == "success"

    assert held(zoho, SPRING_LAUNCH) == SPRING_MEMBERS
    assert held(zoho, WEBINAR) == WEBINAR_MEMBERS
    assert len(zoho.admin.export_relations()) == 59
    assert zoho.admin.counters()["crm_requests"] == 2  # one PUT per campaign (49 and 10 leads)
    first = airflow.xcom(CAMPAIGN_DAG, run_id, CAMPAIGN_TASK)
    assert (first["total"], first["succeeded"], first["added"], first["failed"]) == (59, 59, 59, 0)
    assert (first["api_calls"], first["resumed_items"], first["outcome"]) == (2, 0, "success")
    # Both finished batches are in the task state store: that is what a re-run resumes from.
    store = airflow.api(
        "GET", f"/dags/{CAMPAIGN_DAG}/dagRuns/{run_id}/taskInstances/{CAMPAIGN_TASK}/state-store"
    )
    chunks = [entry for entry in store["task_state_store"] if entry["key"].startswith("zohorel/done/")]
    assert sum(len(entry["value"]) for entry in chunks) == 2  # one chunk, both batches

    # What the UI's Clear button sends for the Zoho task.
    cleared = airflow.api(
        "POST",
        f"/dags/{CAMPAIGN_DAG}/clearTaskInstances",
        json={
            "dry_run": False,
            "only_failed": False,
            "task_ids": [CAMPAIGN_TASK],
            "dag_run_id": run_id,
            "include_upstream": False,
            "include_downstream": False,
        },
    )
    assert [ti["task_id"] for ti in cleared["task_instances"]] == [CAMPAIGN_TASK]
    assert wait_task_try(airflow, CAMPAIGN_DAG, run_id, CAMPAIGN_TASK, try_number=2)["state"] == "success"
    assert airflow.wait_run(CAMPAIGN_DAG, run_id)["state"] == "success"

    # The re-run sent nothing again: no duplicate relation, no request, every item accounted for.
    assert len(zoho.admin.export_relations()) == 59
    assert zoho.admin.counters()["crm_requests"] == 2
    assert (held(zoho, SPRING_LAUNCH), held(zoho, WEBINAR)) == (SPRING_MEMBERS, WEBINAR_MEMBERS)
    again = airflow.xcom(CAMPAIGN_DAG, run_id, CAMPAIGN_TASK)
    assert (again["total"], again["succeeded"], again["failed"], again["resumed_items"]) == (59, 59, 0, 59)
    assert again["by_code"] == {"SUCCESS": 59}
    assert (again["api_calls"], again["outcome"]) == (0, "success")

    # The task logs (what the UI shows) tell the story and never show a secret.
    logs = [airflow.task_log(CAMPAIGN_DAG, run_id, CAMPAIGN_TASK, try_number) for try_number in (1, 2)]
    assert "total 59: succeeded 59 (added 59, updated 0), failed 0" in logs[0]
    assert "batches it finished will not be sent again" in logs[1]
    # The Clear's try says it did nothing, rather than "succeeded 59 (added 59 ...)".
    assert (
        "0 call(s) sent by this try; 59 of 59 items were already related by an earlier try and not "
        "sent again (all of them: nothing to do)"
    ) in logs[1]
    assert "(59 already related by an earlier try, not sent; 0 call(s) sent)" in logs[1]
    # What the Task State Store tab's rows are.
    assert all("Task State Store under the keys zohorel/done/0" in log for log in logs)
    # What the bookkeeping cost, in the log: one write for both batches, then two reads and no write.
    assert "Resume bookkeeping (task_state_store): 1 reads (0 finished batches found), 1 writes" in logs[0]
    assert "Resume bookkeeping (task_state_store): 2 reads (2 finished batches found), 0 writes" in logs[1]
    assert not [secret for secret in (DEMO_CLIENT_SECRET, DEMO_REFRESH_TOKEN) if secret in "".join(logs)]


def test_example_dag_relates_deal_products_from_the_warehouse(
    airflow_deployment: AirflowDeployment, zoho: ZohoEmulator
) -> None:
    run_id = airflow_deployment.trigger(DEALS_DAG)
    assert airflow_deployment.wait_run(DEALS_DAG, run_id)["state"] == "success"

    held_prices = {}
    for row in zoho.admin.export_relations():
        ids = {row.first_module: row.first_id, row.second_module: row.second_id}
        held_prices[ids["Deals"], ids["Products"]] = float(row.fields["list_price"])
    assert held_prices == DEAL_PRODUCTS
    summary = airflow_deployment.xcom(DEALS_DAG, run_id, DEALS_TASK)
    assert (summary["total"], summary["succeeded"], summary["failed"]) == (
        len(DEAL_PRODUCTS),
        len(DEAL_PRODUCTS),
        0,
    )
    assert summary["api_calls"] == zoho.admin.counters()["crm_requests"] == 10  # one PUT per deal


def test_connection_form_offers_zoho_crm(airflow_deployment: AirflowDeployment) -> None:
    """The UI builds its connection form from ``GET /ui/connections/hook_meta``."""
    hooks = {
        meta["connection_type"]: meta for meta in airflow_deployment.api("GET", "/ui/connections/hook_meta")
    }
    form = hooks["zoho_crm"]
    assert (form["hook_name"], form["hook_class_name"]) == (
        "Zoho CRM",
        "airflow_provider_zohorel.hooks.zoho_crm.ZohoCRMHook",
    )
    standard = form["standard_fields"]
    assert all(standard[name]["hidden"] for name in ("host", "port", "url_schema"))  # url_schema = schema
    assert (standard["login"]["title"], standard["password"]["title"]) == ("Client ID", "Client Secret")
    extra = form["extra_fields"]
    assert set(extra) >= {"refresh_token", "region", "accounts_url", "api_domain", "api_version"}
    assert extra["refresh_token"]["schema"]["format"] == "password"  # a masked input
    assert extra["region"]["value"] == "us"
    assert "eu" in extra["region"]["schema"]["enum"]
    assert extra["api_version"]["value"] == "v2"
    assert extra["accounts_url"]["schema"]["title"] == "Accounts URL"


def test_connection_test_button_runs_the_hook_in_the_api_server(
    airflow_deployment: AirflowDeployment, zoho: ZohoEmulator
) -> None:
    """``POST /api/v2/connections/test`` (what the 3.3.2 UI's Test button calls) runs the hook's
    ``test_connection`` in the api-server. The right secret first: a token it caches must not make
    the wrong secret look valid afterwards."""
    form = {"connection_id": "zoho_crm_form", **zoho_connection(zoho.base_url)}
    good = airflow_deployment.api("POST", "/connections/test", json=form)
    assert good["status"] is True, good
    assert "Connected to Zoho CRM" in good["message"]

    wrong = {**form, "password": "not-" + DEMO_CLIENT_SECRET}
    bad = airflow_deployment.api("POST", "/connections/test", json=wrong)
    assert bad["status"] is False
    assert "client secret is wrong" in bad["message"]
    assert "not-" + DEMO_CLIENT_SECRET not in json.dumps(bad)


def test_connection_test_dispatched_to_a_worker(
    airflow_deployment: AirflowDeployment, zoho: ZohoEmulator
) -> None:
    """3.3's deferred test: ``POST /connections/enqueue-test``; the scheduler hands it to the
    LocalExecutor, a worker runs ``test_connection`` and reports back; the caller polls by token."""

    def run_on_worker(body: dict[str, Any]) -> dict[str, Any]:
        queued = airflow_deployment.api("POST", "/connections/enqueue-test", expect=202, json=body)
        headers = {"Airflow-Connection-Test-Token": queued["token"]}

        def finished() -> dict[str, Any] | None:
            airflow_deployment.check_alive()
            result = airflow_deployment.api("GET", "/connections/enqueue-test", headers=headers)
            return result if result["state"] in ("success", "failed") else None

        return wait_for(finished, RUN_TIMEOUT, f"the worker to test {body['connection_id']}")

    form = {"connection_id": "zoho_crm_worker", **zoho_connection(zoho.base_url)}
    good = run_on_worker(form)
    assert good["state"] == "success", good
    assert "Connected to Zoho CRM" in good["result_message"]
    bad = run_on_worker({**form, "password": "not-" + DEMO_CLIENT_SECRET})
    assert bad["state"] == "failed"
    assert "client secret is wrong" in bad["result_message"]
