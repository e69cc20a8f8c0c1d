"""Provider metadata: valid against Airflow's own schemas, names exactly as the contract says."""

from __future__ import annotations

import importlib.metadata
import json
from pathlib import Path

import jsonschema

import airflow_provider_zohorel
from airflow_provider_zohorel import get_provider_info


def _schema(name: str) -> dict:
    import airflow

    return json.loads((Path(airflow.__file__).parent / name).read_text())


def test_provider_info_is_valid_for_runtime_and_dev_schemas():
    info = get_provider_info()
    jsonschema.validate(info, _schema("provider_info.schema.json"))
    dev = _schema("provider.yaml.schema.json")
    item_schema = dev["properties"]["connection-types"]["items"]
    for connection_type in info["connection-types"]:
        jsonschema.validate(connection_type, item_schema)


def test_names_match_the_public_contract():
    info = get_provider_info()
    assert info["package-name"] == "airflow-provider-zohorel"
    (conn,) = info["connection-types"]
    assert conn["connection-type"] == "zoho_crm"
    assert conn["hook-class-name"] == "airflow_provider_zohorel.hooks.zoho_crm.ZohoCRMHook"
    assert set(conn["conn-fields"]) == {
        "refresh_token",
        "region",
        "accounts_url",
        "mint_url",
        "concurrency_budget",
        "concurrency_cap",
        "api_domain",
        "api_version",
        "cache_backend",
    }
    assert conn["conn-fields"]["refresh_token"]["schema"]["format"] == "password"
    assert conn["ui-field-behaviour"]["hidden-fields"] == ["host", "port", "schema"]


def test_entry_point_and_version_come_from_the_installed_distribution():
    dist = importlib.metadata.distribution("airflow-provider-zohorel")
    (ep,) = [e for e in dist.entry_points if e.group == "apache_airflow_provider"]
    assert ep.value == "airflow_provider_zohorel:get_provider_info"
    assert dist.version == airflow_provider_zohorel.__version__


def test_hook_declares_what_discovery_reads():
    from airflow_provider_zohorel.hooks.zoho_crm import ZohoCRMHook

    assert (ZohoCRMHook.conn_type, ZohoCRMHook.conn_name_attr, ZohoCRMHook.default_conn_name) == (
        "zoho_crm",
        "zoho_conn_id",
        "zoho_crm_default",
    )
    assert ZohoCRMHook.hook_name == "Zoho CRM"
