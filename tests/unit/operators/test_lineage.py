"""OpenLineage names without a network (whole runs: tests/e2e/test_openlineage.py)."""

from __future__ import annotations

import sys

from airflow_provider_zohorel.operators.lineage import operator_lineage, org_id_of, zoho_namespace


def test_the_namespace_names_the_api_host_and_the_org():
    assert zoho_namespace("https://www.zohoapis.eu", "3652397000000000001") == (
        "zohocrm://www.zohoapis.eu/3652397000000000001"
    )
    assert (
        zoho_namespace("https://zylkercorp.zohoplatform.com/", None)
        == "zohocrm://zylkercorp.zohoplatform.com"
    )


def test_an_org_that_cannot_be_read_is_none_not_an_error():
    class Refusing:
        def request(self, method, path):
            raise RuntimeError("OAUTH_SCOPE_MISMATCH")

    assert org_id_of(Refusing()) is None


def test_without_the_openlineage_provider_there_is_no_lineage(monkeypatch):
    monkeypatch.setitem(sys.modules, "airflow.providers.openlineage.extractors", None)
    lineage = operator_lineage(
        sql=None,
        sql_conn_id=None,
        module="Campaigns",
        related_list="Leads",
        api_domain="https://x",
        org_id=None,
    )
    assert lineage is None
