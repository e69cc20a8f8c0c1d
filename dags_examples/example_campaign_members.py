"""Example 1: every day, add leads to campaigns with a member status, from an upstream task's XCom.

The first task builds the payload (in real life: a query on your warehouse or marketing tool);
its return value flows into the operator through XCom, which also sets the dependency. Grouping
by campaign (``module="Campaigns"``) puts up to 100 leads in each call.

Connection: ``zoho_crm_default`` (type ``zoho_crm``). The ids below exist in the bundled
emulator's ``demo`` seed, so ``make demo`` runs this DAG unchanged.
"""

from __future__ import annotations

import pendulum
from airflow.sdk import DAG, task

from airflow_provider_zohorel.operators.related_records import UpdateRelatedRecordsOperator

SPRING_LAUNCH = "3652397000000327001"
WEBINAR = "3652397000001854001"
STATUSES = ("Planning", "Active", "Sent")

with DAG(
    dag_id="zoho_campaign_members",
    schedule="@daily",
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    tags=["zoho", "example"],
    doc_md=__doc__,
):

    @task
    def build_campaign_members() -> list[dict[str, str]]:
        """Campaign memberships to keep in Zoho: parent = campaign, related = lead, with a status."""
        leads = ["3652397000001829002", *(f"36523970000018290{n:02d}" for n in range(3, 51))]
        members = [
            {"record_id": SPRING_LAUNCH, "id": lead, "Member_Status": STATUSES[i % len(STATUSES)]}
            for i, lead in enumerate(leads)
        ]
        members += [{"record_id": WEBINAR, "id": lead, "Member_Status": "Active"} for lead in leads[:10]]
        return members

    UpdateRelatedRecordsOperator(
        task_id="add_leads_to_campaigns",
        zoho_conn_id="zoho_crm_default",
        module="Campaigns",
        related_list="Leads",
        records=build_campaign_members(),
        max_concurrency=10,  # Zoho Standard edition's concurrency cap
        retries=2,
        retry_delay=pendulum.duration(minutes=1),
    )
