"""OpenLineage for the operator, as Airflow's own SQL operators report it.

Inputs: the tables the ``sql=`` input reads, found by the OpenLineage provider's SQL parser with the
input connection's dialect and database info (the same calls ``SQLExecuteQueryOperator`` makes);
none for ``records=`` (an upstream task's output is that task's lineage). Output: the related list
in the Zoho org, namespace ``zohocrm://<api host>/<org id>`` and name ``<Module>.<related list>``
(``zohocrm://www.zohoapis.eu/3652397000000012345``, ``Campaigns.Leads``). The org id is read once
with ``GET /org`` after the run; without the scope it needs, the namespace is the API host alone.

Lineage never fails a task: whatever goes wrong here is logged at debug level and left out.
"""

from __future__ import annotations

import logging
from typing import Any

from airflow_provider_zohorel._compat import BaseHook

log = logging.getLogger(__name__)

NAMESPACE_SCHEME = "zohocrm"


def zoho_namespace(api_domain: str, org_id: str | None) -> str:
    host = api_domain.split("://", 1)[-1].rstrip("/")
    return f"{NAMESPACE_SCHEME}://{host}/{org_id}" if org_id else f"{NAMESPACE_SCHEME}://{host}"


def sql_inputs(sql: Any, sql_conn_id: str) -> list[Any]:
    """The datasets ``sql`` reads on ``sql_conn_id`` (empty where the database gives no lineage
    info, e.g. SQLite, or the parser cannot tell)."""
    from airflow.providers.openlineage.sqlparser import SQLParser

    hook = BaseHook.get_connection(sql_conn_id).get_hook()  # type: ignore[no-untyped-call,unused-ignore]
    connection = hook.get_connection(getattr(hook, hook.conn_name_attr))
    database_info = getattr(hook, "get_openlineage_database_info", lambda _conn: None)(connection)
    if database_info is None:
        return []
    try:
        from airflow.providers.openlineage.utils.utils import should_use_external_connection

        use_connection = should_use_external_connection(hook)
    except ImportError:
        use_connection = True
    parser = SQLParser(
        dialect=hook.get_openlineage_database_dialect(connection),
        default_schema=hook.get_openlineage_default_schema(),
    )
    lineage = parser.generate_openlineage_metadata_from_sql(
        sql=sql,
        hook=hook,
        database_info=database_info,
        sqlalchemy_engine=hook.get_sqlalchemy_engine(),
        use_connection=use_connection,
    )
    return list(lineage.inputs)


def org_id_of(client: Any) -> str | None:
    """The org's id from ``GET /org`` (``None`` without the ZohoCRM.org.READ scope or on any error)."""
    try:
        response = client.request("GET", "/org")
        [org] = response.body["org"]
        return str(org["id"])
    except Exception as exc:
        log.debug("OpenLineage: the Zoho org id could not be read (%s)", type(exc).__name__)
        return None


def operator_lineage(
    *,
    sql: Any,
    sql_conn_id: str | None,
    module: str,
    related_list: str,
    api_domain: str | None,
    org_id: str | None,
) -> Any:
    """An ``OperatorLineage`` (``None`` when the OpenLineage provider is not installed)."""
    try:
        from airflow.providers.common.compat.openlineage.facet import Dataset
        from airflow.providers.openlineage.extractors import OperatorLineage
    except ImportError:
        return None
    inputs: list[Any] = []
    if sql and sql_conn_id:
        try:
            inputs = sql_inputs(sql, sql_conn_id)
        except Exception as exc:
            log.debug("OpenLineage: no inputs from the SQL input (%s: %s)", type(exc).__name__, exc)
    outputs = []
    if api_domain:
        outputs.append(Dataset(namespace=zoho_namespace(api_domain, org_id), name=f"{module}.{related_list}"))
    return OperatorLineage(inputs=inputs, outputs=outputs)
