"""Example 5: a daily campaign-membership sync in mirror mode, with a state table on Postgres.

``load_campaign_members`` stands in for your ELT step: it rebuilds ``campaign_members`` on the
``warehouse_pg`` connection (Postgres) with today's membership (``dag_run.conf["day"]`` picks the
day, so the example can show a second day: five leads leave campaign 1 and one changes status).

The sync task makes every campaign in the table hold exactly the leads the table lists for it:

- ``mode="mirror"``: leads a campaign holds in Zoho but the table no longer lists are delinked;
  campaigns absent from the table are never touched, so an empty load delinks nothing;
- ``max_delink_ratio=0.2``: a day that would delink more than a fifth of a load's memberships
  fails before any write (a half-loaded table), saying how many; ``dry_run=True`` lists them;
- ``state_table="zoho_sync_state"``: only memberships that are new or changed since Zoho
  acknowledged them are sent, and the leavers are delinked without reading Zoho back. Day 2 costs
  two calls (one PUT, one DELETE) instead of re-sending all 65 memberships and reading both lists.
- ``null_fields="omit"``: a NULL status leaves Zoho's value as it is.
"""

from __future__ import annotations

import pendulum
from airflow.providers.common.sql.operators.sql import SQLExecuteQueryOperator
from airflow.sdk import DAG

from airflow_provider_zohorel.operators.related_records import UpdateRelatedRecordsOperator

#: Day 1: leads 02-40 in campaign 1 (Active), 20-50 in campaign 2 (Planning). Day 2: leads 36-40
#: leave campaign 1, lead 02 responded.
LOAD_SQL = """
CREATE TABLE IF NOT EXISTS campaign_members (
    campaign_id VARCHAR(19), lead_id VARCHAR(19), member_status VARCHAR(40));
DELETE FROM campaign_members;
{% set day = dag_run.conf.get("day", 1) | int %}
INSERT INTO campaign_members
SELECT '3652397000000327001', '36523970000018290' || lpad(n::text, 2, '0'),
       CASE WHEN n = 2 AND {{ day }} >= 2 THEN 'Responded' ELSE 'Active' END
FROM generate_series(2, {{ 40 if day == 1 else 35 }}) AS n;
INSERT INTO campaign_members
SELECT '3652397000001854001', '36523970000018290' || lpad(n::text, 2, '0'), 'Planning'
FROM generate_series(20, 50) AS n;
"""

MEMBERS_SQL = """
SELECT campaign_id AS record_id, lead_id AS id, member_status AS "Member_Status"
FROM campaign_members
"""

with DAG(
    dag_id="zoho_campaign_membership_sync",
    schedule="@daily",
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    tags=["zoho", "example"],
    doc_md=__doc__,
):
    load = SQLExecuteQueryOperator(task_id="load_campaign_members", conn_id="warehouse_pg", sql=LOAD_SQL)
    sync = UpdateRelatedRecordsOperator(
        task_id="sync_campaign_members",
        module="Campaigns",
        related_list="Leads",
        sql=MEMBERS_SQL,
        sql_conn_id="warehouse_pg",
        mode="mirror",
        max_delink_ratio=0.2,
        state_table="zoho_sync_state",
        null_fields="omit",
        retries=2,
    )
    load >> sync
