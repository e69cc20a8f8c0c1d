"""The operator's extra link: declared on the operator, registered with Airflow (provider info), and
read from what ``execute`` found (Airflow calls ``get_link`` in the worker when the task ends)."""

from __future__ import annotations

import importlib
import types

from airflow_provider_zohorel import get_provider_info
from airflow_provider_zohorel.operators.links import ZohoCRMRecordsLink
from airflow_provider_zohorel.operators.related_records import UpdateRelatedRecordsOperator


def test_the_operator_declares_the_link_and_the_provider_registers_it():
    assert [type(link) for link in UpdateRelatedRecordsOperator.operator_extra_links] == [ZohoCRMRecordsLink]
    [path] = get_provider_info()["extra-links"]
    module, _, name = path.rpartition(".")
    assert getattr(importlib.import_module(module), name) is ZohoCRMRecordsLink


def test_the_link_is_what_the_run_found_and_empty_before():
    op = UpdateRelatedRecordsOperator(task_id="t", module="Campaigns", related_list="Leads", records=[])
    link = ZohoCRMRecordsLink()
    key = types.SimpleNamespace(dag_id="d", task_id="t", run_id="r", try_number=1, map_index=-1)
    assert link.get_link(op, ti_key=key) == ""
    op.zoho_records_url = "https://crm.zoho.eu/crm/tab/Campaigns/1"
    assert link.get_link(op, ti_key=key) == "https://crm.zoho.eu/crm/tab/Campaigns/1"
    assert link.name == "Zoho CRM records"
