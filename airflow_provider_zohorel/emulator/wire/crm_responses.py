"""CRM handlers: decode the request, ask the model, encode Zoho's answer and pick its status."""

from __future__ import annotations

from typing import Any

from airflow_provider_zohorel.emulator import errors
from airflow_provider_zohorel.emulator.model import catalog, crm_backend
from airflow_provider_zohorel.emulator.wire.asgi_io import Reply, json_reply, query_params
from airflow_provider_zohorel.emulator.wire.crm_gate import CrmRequest
from airflow_provider_zohorel.emulator.wire.crm_requests import bulk_status, decode_items


def put_related_records(request: CrmRequest) -> Reply:
    """``PUT /{module}/{id}/{list}`` (bulk) and ``PUT /{module}/{id}/{list}/{related_id}`` (single)."""
    parts = request.parts
    state = request.state
    related_id = parts[3] if len(parts) == 4 else None
    target = crm_backend.resolve_update(
        state, request.version, parts[0], parts[1], parts[2], request.user, request.access.scopes
    )
    items = decode_items(request.body, related_id is not None)
    results, succeeded = crm_backend.apply_update(state, target, items, related_id)
    return json_reply(bulk_status(request.version, succeeded, len(results)), {"data": results})


def get_users(request: CrmRequest) -> Reply:
    """``GET /users?type=CurrentUser|AllUsers`` (the connection test reads it)."""
    if request.access.scopes.isdisjoint(catalog.USERS_READ_SCOPES):
        raise errors.scope_mismatch()
    state = request.state
    org_id = state.config.org_id
    kind = query_params(request.scope).get("type", "AllUsers")
    users = [request.user] if kind == "CurrentUser" else list(state.users.users.values())
    return json_reply(
        200,
        {
            "users": [u.to_crm(org_id) for u in users],
            "info": {"per_page": 200, "count": len(users), "page": 1, "more_records": False},
        },
    )


def get_org(request: CrmRequest) -> Reply:
    """``GET /org``."""
    if request.access.scopes.isdisjoint(catalog.ORG_READ_SCOPES):
        raise errors.scope_mismatch()
    return json_reply(200, {"org": [_org(request.state.config.org_id)]})


def _org(org_id: str) -> dict[str, Any]:
    return {
        "id": org_id,
        "company_name": "Zylker Corp (Zoho CRM emulator)",
        "alias": None,
        "primary_email": "admin@zylker.example",
        "domain_name": f"org{org_id[-9:]}",
        "zgid": f"6{org_id[-9:]}",
        "country_code": "US",
        "time_zone": "America/Los_Angeles",
        "currency": "US Dollar - USD",
        "currency_symbol": "$",
        "iso_code": "USD",
        "type": "production",
        "mc_status": False,
        "license_details": {
            "paid": True,
            "paid_type": "enterprise",
            "users_license_purchased": 10,
            "trial_type": None,
        },
    }
