"""Example 2: after a warehouse load, relate Products to Deals with a list price, straight from SQL.

``load_deal_products`` stands in for your ELT step: it (re)builds the ``deal_products`` table on
the ``warehouse`` connection (any SQL connection: Postgres, Snowflake, SQLite, ...). The Zoho task
then streams the table with ``sql=``: rows are read in chunks, never pushed to XCom, and memory
does not grow with the table. Column names are the item keys: ``record_id`` (the deal), ``id``
(the product), ``list_price``.

A second DAG, ``zoho_deal_products_on_asset``, does the same whenever the load DAG updates the
``deal_products`` Asset instead of on a clock.
"""

from __future__ import annotations

import pendulum
from airflow.providers.common.sql.operators.sql import SQLExecuteQueryOperator
from airflow.sdk import DAG, Asset

from airflow_provider_zohorel.operators.related_records import UpdateRelatedRecordsOperator

DEAL_PRODUCTS = Asset("warehouse://analytics/deal_products")

DEAL_PRODUCTS_SQL = """
SELECT deal_id AS record_id, product_id AS id, list_price
FROM deal_products
WHERE list_price IS NOT NULL
"""

LOAD_SQL = [
    "CREATE TABLE IF NOT EXISTS deal_products "
    "(deal_id VARCHAR(19), product_id VARCHAR(19), list_price NUMERIC(12, 2))",
    "DELETE FROM deal_products",
    *(
        f"INSERT INTO deal_products VALUES "
        f"('36523970000050000{d:02d}', '36523970000040000{p:02d}', {50 + d * 10 + p}.5)"
        for d in range(1, 11)
        for p in range(1, 11)
        if (d + p) % 3
    ),
]

with DAG(
    dag_id="zoho_deal_products",
    schedule="@daily",
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    tags=["zoho", "example"],
    doc_md=__doc__,
):
    load = SQLExecuteQueryOperator(
        task_id="load_deal_products", conn_id="warehouse", sql=LOAD_SQL, outlets=[DEAL_PRODUCTS]
    )
    relate = UpdateRelatedRecordsOperator(
        task_id="relate_products_to_deals",
        module="Deals",
        related_list="Products",
        sql=DEAL_PRODUCTS_SQL,
        sql_conn_id="warehouse",
        retries=2,
    )
    load >> relate


with DAG(
    dag_id="zoho_deal_products_on_asset",
    schedule=[DEAL_PRODUCTS],
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    tags=["zoho", "example"],
    doc_md="Relate deal products whenever `load_deal_products` updates the deal_products Asset.",
):
    UpdateRelatedRecordsOperator(
        task_id="relate_products_to_deals",
        module="Deals",
        related_list="Products",
        sql=DEAL_PRODUCTS_SQL,
        sql_conn_id="warehouse",
        retries=2,
    )
