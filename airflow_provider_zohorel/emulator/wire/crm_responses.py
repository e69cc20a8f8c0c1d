"""CRM handlers: decode the request, ask the model, encode Zoho's answer and pick its status."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from airflow_provider_zohorel.emulator import errors
from airflow_provider_zohorel.emulator.errors import ZohoError
from airflow_provider_zohorel.emulator.model import catalog, crm_backend
from airflow_provider_zohorel.emulator.model.catalog import Operation, RelatedList
from airflow_provider_zohorel.emulator.model.metadata import Metadata
from airflow_provider_zohorel.emulator.wire.asgi_io import Reply, header, json_reply, no_content, query_params
from airflow_provider_zohorel.emulator.wire.crm_gate import CrmRequest
from airflow_provider_zohorel.emulator.wire.crm_requests import (
    bulk_status,
    decode_ids,
    decode_items,
    decode_page_query,
)


def _target(request: CrmRequest, operation: Operation) -> crm_backend.Target:
    parts = request.parts
    return crm_backend.resolve(
        request.state,
        request.version,
        operation,
        parts[0],
        parts[1],
        parts[2],
        request.user,
        request.access.scopes,
        header(request.scope, b"x-external"),
    )


def put_related_records(request: CrmRequest) -> Reply:
    """``PUT /{module}/{id}/{list}`` (bulk, up to 100) and ``PUT .../{list}/{related_id}`` (one).

    200 when every item succeeded, 207 when some did, 400 with the per-item ``data`` when none
    did (v8 spec updateRelatedRecords responses); 202 for any failure in v2/v2.1.
    """
    state = request.state
    target = _target(request, "update")
    related_id: str | None = None
    if len(request.parts) == 4:
        related_id = crm_backend.resolve_related_ref(state, target, request.parts[3])
        if related_id is None:
            related_id = _unknown_single(target, request.parts[3])
    items = decode_items(request.body, related_id is not None)
    results, succeeded = crm_backend.update(state, target, items, related_id)
    return json_reply(bulk_status(request.version, succeeded, len(results)), {"data": results})


def _unknown_single(target: crm_backend.Target, ref: str) -> str:
    """A single-record URL naming no record: 404 "The record does not exist" in v8 (spec
    updateSpecificRelatedRecord 404 RecordNotFound); earlier versions answer per item, so the
    ref goes on to fail there."""
    if target.spec_v8:
        raise errors.record_not_found()
    return ref


def get_related_records(request: CrmRequest) -> Reply:
    """``GET /{module}/{id}/{list}`` with ``fields`` (mandatory in v8), ``page``, ``per_page``
    (at most 200), ``If-Modified-Since``, ``ids``, ``sort_order``, ``sort_by``; 204 when no
    record matches (v8 spec getRelatedRecords)."""
    state = request.state
    target = _target(request, "read")
    query = decode_page_query(request.scope, request.version)
    ids = query.ids
    if len(request.parts) == 4:
        rid = crm_backend.resolve_related_ref(state, target, request.parts[3])
        if rid is None and target.spec_v8:
            # A related record that does not exist is 404 RecordNotFound; one that exists but is
            # not in the list is 204 (v8 spec getRelatedRecord 404 "Related record not found", 204).
            raise errors.record_not_found()
        ids = [rid] if rid is not None else []
    rows, more = crm_backend.query_related(
        state,
        target,
        page=query.page,
        per_page=query.per_page,
        modified_since=query.modified_since,
        ids=ids,
        descending=query.descending,
        sort_by=query.sort_by,
    )
    if not rows:
        return no_content()
    data = [_project(row, query.fields) for row in rows]
    if len(request.parts) == 4:
        return json_reply(200, {"data": data})
    info: dict[str, Any] = {
        "per_page": query.per_page,
        "count": len(data),
        "page": query.page,
        "more_records": more,
    }
    if target.spec_v8:
        # Page tokens only matter past 2,000 records (spec PageToken); the emulator sends nulls.
        info.update(next_page_token=None, page_token_expiry=None, previous_page_token=None)
    return json_reply(200, {"data": data, "info": info})


def _iso(timestamp: float) -> str:
    return datetime.fromtimestamp(int(timestamp), timezone.utc).isoformat()


def _project(row: crm_backend.RelatedRow, fields: list[str] | None) -> dict[str, Any]:
    """A related record as GET returns it: ``id`` plus the asked fields (record fields, the
    link's junction fields, ``Created_Time``/``Modified_Time``); a field it lacks is null."""
    record = row.record
    available = {
        **record.fields,
        **row.link,
        "Created_Time": _iso(record.created_at),
        "Modified_Time": _iso(record.modified_at),
    }
    if fields is None:
        return {"id": row.id, **available}
    projected: dict[str, Any] = {"id": row.id}
    for name in fields:
        if name != "id":
            projected[name] = available.get(name)
    return projected


def delete_related_records(request: CrmRequest) -> Reply:
    """``DELETE /{module}/{id}/{list}?ids=a,b`` (at most 100) and ``DELETE .../{list}/{related_id}``.

    Bulk: per-id results, 200/207/400 as for updates (v8 spec delinkRelatedRecords). Single: 200
    with one "relation removed" result, or 404 "The record does not exist" when there is no such
    link (v8 spec delinkSpecificRelatedRecord 404 example).
    """
    state = request.state
    target = _target(request, "delete")
    if len(request.parts) == 4:
        results, succeeded = crm_backend.delink(state, target, [request.parts[3]])
        if not succeeded:
            raise errors.record_not_found()
        return json_reply(200, {"data": results})
    ids = decode_ids(request.scope, external=target.related_external is not None)
    results, succeeded = crm_backend.delink(state, target, ids)
    return json_reply(bulk_status(request.version, succeeded, len(results)), {"data": results})


def get_related_lists(request: CrmRequest) -> Reply:
    """``GET /settings/related_lists?module=X`` (v8.0/related_lists.json getRelatedLists)."""
    if request.access.scopes.isdisjoint(catalog.RELATED_LISTS_READ_SCOPES):
        raise errors.scope_mismatch()
    params = query_params(request.scope)
    module_name = params.get("module")
    if not module_name:
        # REQUIRED_PARAM_MISSING (related-list-meta docs, "Possible Errors"; details as answered).
        raise ZohoError(400, "REQUIRED_PARAM_MISSING", errors.MSG_PARAM_MISSING, {"param": "module"})
    state = request.state
    lists = crm_backend.related_lists_of(state, request.version, module_name, request.user)
    status = params.get("status")
    if status is not None and status != "visible":
        lists = []
    if not lists:
        return no_content()
    metadata = state.metadata
    v2_shape = request.version in catalog.V2_STATUS_REGIME
    encoded = [_related_list(metadata, rl, index, v2_shape) for index, rl in enumerate(lists)]
    return json_reply(200, {"related_lists": encoded})


def _related_list(metadata: Metadata, rl: RelatedList, index: int, v2_shape: bool) -> dict[str, Any]:
    """One related list as the metadata API describes it.

    v2/v2.1: ``module`` is the API name of the list's module (v2.1 related-list-meta docs,
    "Response JSON Keys"); later versions describe it as ``{"api_name", "id"}`` and add the
    ``customize_*`` flags and ``status`` (v8.0/related_lists.json RelatedList, required keys).
    """
    base: dict[str, Any] = {
        "id": metadata.list_ids[(rl.parent, rl.api_name)],
        "sequence_number": str(index + 1),
        "display_label": rl.display_label or rl.api_name,
        "api_name": rl.api_name,
        "name": rl.display_label or rl.api_name,
        "action": None,
        "href": f"{rl.parent}/{{ENTITYID}}/{rl.api_name}",
        "type": rl.type,
        "connectedmodule": rl.connected_module,
        "linkingmodule": rl.linking_module,
    }
    if v2_shape:
        base["module"] = rl.module
        return base
    base["module"] = {"api_name": rl.module, "id": metadata.module_id(rl.module)}
    base.update(
        customize_sort=rl.custom,
        customize_fields=rl.custom,
        customize_display_label=rl.custom,
        status="visible",
        visibility=1,
    )
    return base


def get_fields(request: CrmRequest) -> Reply:
    """``GET /settings/fields?module=X`` (v8.0/fields.json "Get Fields"; the official SDK calls it
    before writing, research 0.9). A subset of each field's keys: enough to read API names, data
    types, mandatory and external flags."""
    if request.access.scopes.isdisjoint(catalog.FIELDS_READ_SCOPES):
        raise errors.scope_mismatch()
    module_name = query_params(request.scope).get("module")
    if not module_name:
        # details.param_name (v8.0/fields.json MandatoryParamError, MandatoryParamDetails).
        raise errors.required_param_missing("module")
    state = request.state
    # The same module check as the related-lists metadata (INVALID_MODULE for unknown/hidden).
    crm_backend.related_lists_of(state, request.version, module_name, request.user)
    module = catalog.canonical_module(module_name, request.version, state.config.case_insensitive_modules)
    assert module is not None
    metadata = state.metadata
    names = [*catalog.NAME_FIELDS.get(module, ()), *sorted(metadata.external_fields.get(module, ()))]
    fields = [_field(metadata, module, name, index) for index, name in enumerate(names)]
    for index, name in enumerate(("Created_Time", "Modified_Time"), start=len(fields)):
        fields.append(_field(metadata, module, name, index, data_type="datetime", read_only=True, length=120))
    return json_reply(200, {"fields": fields})


def _field(
    metadata: Metadata,
    module: str,
    name: str,
    index: int,
    *,
    data_type: str = "text",
    read_only: bool = False,
    length: int = 255,
) -> dict[str, Any]:
    """One field's metadata. ``length`` is an integer for every field (v8.0/fields.json: int32,
    not nullable; the Fields Meta Data docs' sample answers 120 for ``Modified_Time``), and
    ``external`` is null unless the field is an external one (the same sample)."""
    external = metadata.is_external(module, name)
    if name == "Parent_Id":
        data_type = "lookup"
    mandatory = index == 0 and module != "Notes" and not external
    return {
        "api_name": name,
        "id": f"{metadata.module_id(module)[:-3]}{index + 1:03d}",
        "field_label": name.replace("_", " "),
        "display_label": name.replace("_", " "),
        "data_type": data_type,
        "json_type": "jsonobject" if data_type == "lookup" else "string",
        "system_mandatory": mandatory,
        "read_only": read_only,
        "custom_field": external,
        "visible": True,
        "length": length,
        "decimal_place": None,
        "external": {"show": True, "type": "org", "allow_multiple_config": False} if external else None,
    }


def get_contact_roles(request: CrmRequest) -> Reply:
    """``GET /Contacts/roles`` (v8.0/contact_roles.json "Get Roles"): the ids ``Contact_Role`` takes."""
    if request.access.scopes.isdisjoint(catalog.module_scopes("Contacts", "read")):
        raise errors.scope_mismatch()
    roles = request.state.metadata.contact_roles.values()
    if not roles:
        return no_content()
    return json_reply(
        200,
        {
            "contact_roles": [
                {"id": r.id, "name": r.name, "sequence_number": r.sequence_number} for r in roles
            ]
        },
    )


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
