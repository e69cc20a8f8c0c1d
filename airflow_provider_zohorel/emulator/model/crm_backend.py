"""The CRM's related-records operations on the model: resolve a URL's parent and related list,
then relate, read or delink decoded items.

Request-level problems raise :class:`ZohoError`; item problems become per-item envelopes. URL
checks run in Zoho's order (each stops the request): parent module (INVALID_MODULE), scope
(OAUTH_SCOPE_MISMATCH), user permissions (NO_PERMISSION, AUTHORIZATION_FAILED), parent record
(INVALID_DATA, ``resource_path_index`` 1), related list (INVALID_DATA, index 2). Decoding the
request and choosing the HTTP status belong to the wire layer (``wire/crm_requests.py``).

Sources, cited where each rule is applied: Zoho's v8 OpenAPI spec (``zoho/crm-oas``,
``v8.0/related_records/related_records.yaml`` and its operation examples), the update-related-
records pages v2 to v8 and their external-ID variants, and ``research/zoho-api.md``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from airflow_provider_zohorel.emulator import errors
from airflow_provider_zohorel.emulator.errors import ZohoError, envelope, item_field_error, success
from airflow_provider_zohorel.emulator.model import catalog
from airflow_provider_zohorel.emulator.model.catalog import JunctionField, Operation, RelatedList
from airflow_provider_zohorel.emulator.model.records import Record, normalise_id
from airflow_provider_zohorel.emulator.model.state import EmulatorState
from airflow_provider_zohorel.emulator.model.users import User

NOTE_FIELDS = frozenset({"Note_Title", "Note_Content"})
RELATION_ADDED = "relation added"
RELATION_UPDATED = "relation updated"

_SCOPES: dict[tuple[str, Operation], frozenset[str]] = {
    (module, operation): catalog.module_scopes(module, operation)
    for module in catalog.MODULES
    for operation in ("read", "update", "delete")
}

#: Per operation: (NO_PERMISSION message v2-v7, v8 message, AUTHORIZATION_FAILED message).
#: v2-v7 wording from the update-related-records docs (D-URR7); the v8 spec's 403 examples carry
#: ``details.permissions`` and say "read related records" for GET and PUT alike (the PUT
#: example reuses the GET one), "delete records" for DELETE.
_PERMISSION_WORDING: dict[Operation, tuple[str, str, str]] = {
    "update": (errors.MSG_NO_PERMISSION, errors.MSG_NO_PERMISSION_READ, errors.MSG_AUTHORIZATION_FAILED),
    "read": (
        errors.MSG_NO_PERMISSION_READ,
        errors.MSG_NO_PERMISSION_READ,
        errors.MSG_AUTHORIZATION_FAILED_READ,
    ),
    "delete": (
        errors.MSG_NO_PERMISSION_DELETE,
        errors.MSG_NO_PERMISSION_DELETE,
        errors.MSG_AUTHORIZATION_FAILED_DELETE,
    ),
}


@dataclass(frozen=True, slots=True)
class Target:
    """Where an operation goes, once the URL has passed every request-level check."""

    version: str
    parent: str
    #: The parent record's id (an external value in the URL is resolved already).
    record_id: str
    related_list: RelatedList
    #: External field of the related module named by ``X-EXTERNAL``: items (and ids, and the
    #: URL's related part) then carry its values instead of record ids.
    related_external: str | None
    #: v8 shapes (spec) rather than the older docs' (``catalog.SPEC_V8_VERSIONS``).
    spec_v8: bool


# --- resolving the URL -----------------------------------------------------------------------


def resolve_parent_module(
    state: EmulatorState, name: str, version: str, user: User, operation: Operation = "update"
) -> str:
    """Canonical parent module, or INVALID_MODULE (unknown, not in the API, or hidden from the user).

    ``Appointments``/``Services`` are unknown names: their API names are ``Appointments__s`` and
    ``Services__s`` from v3 on (v3 change log), and v2/v2.1 have neither. A module Zoho does not
    serve in the API is INVALID_MODULE for PUT, but NOT_SUPPORTED for v8's GET and DELETE (spec
    examples ``updateRelatedRecords/response-400-notsupported`` and
    ``getRelatedRecords/response-400-notsupported``, the delinkRelatedRecords NotSupported example).
    """
    if name in catalog.UNSUPPORTED_IN_API:
        if operation != "update" and version in catalog.SPEC_V8_VERSIONS:
            raise ZohoError(400, "NOT_SUPPORTED", errors.MSG_MODULE_NOT_SUPPORTED, {"resource_path_index": 0})
        raise errors.invalid_module(errors.MSG_MODULE_NOT_SUPPORTED)
    module = catalog.canonical_module(name, version, state.config.case_insensitive_modules)
    if module is None or module in user.denied:
        raise errors.invalid_module()
    return module


def _parse_external(
    state: EmulatorState, header: str | None, version: str, parent: str, related: str | None
) -> tuple[str | None, str | None]:
    """(parent external field, related external field) named by ``X-EXTERNAL``.

    The header is ``{Module}.{field}``, comma-separated when both sides are external (v8
    update-related-records-ext.html sample: ``Contacts.External_Contact_ID,Deals.External_Deal_ID``);
    versions before v2.1 have no external IDs and ignore it. A part naming neither side, or a
    field that is not an external field, is refused (INVALID_DATA, emulator's wording: the docs
    give no example).
    """
    if not header or version not in catalog.EXTERNAL_ID_VERSIONS:
        return None, None
    parent_field = related_field = None
    for part in header.split(","):
        module_name, _, field_name = part.strip().partition(".")
        module = catalog.module_for_seeding(module_name)
        if module is None or not field_name or not state.metadata.is_external(module, field_name):
            raise ZohoError(400, "INVALID_DATA", errors.MSG_INVALID_DATA, {"api_name": part.strip()})
        if module == parent and parent_field is None:
            parent_field = field_name
        elif module == related and related_field is None:
            related_field = field_name
        else:
            raise ZohoError(400, "INVALID_DATA", errors.MSG_INVALID_DATA, {"api_name": part.strip()})
    return parent_field, related_field


def _check_permissions(user: User, operation: Operation, parent: str, spec_v8: bool) -> None:
    permissions = user.permissions
    allowed = {
        "update": permissions.update_related,
        "read": permissions.read_related,
        "delete": permissions.delink_related,
    }[operation]
    old_message, v8_message, auth_message = _PERMISSION_WORDING[operation]
    if not allowed:
        if spec_v8:
            # details.permissions as the v8 spec's 403 examples (Crm_Implied_View_Leads; Deals
            # are "Potentials" there, v8.0/deal_contact_roles.json).
            name = catalog.MODULES[parent].permission_name or parent
            raise ZohoError(403, "NO_PERMISSION", v8_message, {"permissions": [f"Crm_Implied_View_{name}"]})
        raise ZohoError(403, "NO_PERMISSION", old_message)
    if not permissions.related_privilege:
        # AUTHORIZATION_FAILED is 400, not 403 (D-URR7; v8 spec 400 AuthorizationFailed example).
        raise ZohoError(400, "AUTHORIZATION_FAILED", auth_message)


def resolve(
    state: EmulatorState,
    version: str,
    operation: Operation,
    module_name: str,
    record_ref: str,
    list_name: str,
    user: User,
    scopes: frozenset[str],
    external_header: str | None = None,
) -> Target:
    """Check the URL of an operation in Zoho's order; raises the first request-level error."""
    parent = resolve_parent_module(state, module_name, version, user, operation)
    metadata = state.metadata
    related_list = metadata.find_list(parent, list_name, version, state.config.case_insensitive_modules)
    if related_list is not None and related_list.module in user.denied:
        related_list = None
    # Notes need the notes scope (ZohoCRM.modules.notes.*, v8 notes docs; research 6); every
    # other list the parent module's.
    scope_module = "Notes" if related_list is not None and related_list.relation is None else parent
    if scopes.isdisjoint(_SCOPES[(scope_module, operation)]):
        raise errors.scope_mismatch()
    spec_v8 = version in catalog.SPEC_V8_VERSIONS
    _check_permissions(user, operation, parent, spec_v8)
    parent_field, related_field = _parse_external(
        state, external_header, version, parent, related_list.module if related_list else None
    )
    records = state.records
    if parent_field is not None:
        record_id = records.by_external(parent, parent_field, record_ref)
    else:
        record_id = record_ref if record_ref.isdigit() else None
    parent_record = records.get(record_id) if record_id is not None else None
    if record_id is None or parent_record is None or parent_record.module != parent:
        if state.config.unknown_parent_status == 404:
            # RecordNotFound, details {} (the spec's five RecordNotFound examples).
            raise errors.record_not_found()
        message = errors.MSG_INVALID_PARENT_V8 if spec_v8 else errors.MSG_INVALID_PARENT_400
        raise ZohoError(400, "INVALID_DATA", message, {"resource_path_index": 1})
    if related_list is None:
        raise _invalid_relation(state)
    return Target(version, parent, record_id, related_list, related_field, spec_v8)


def _invalid_relation(state: EmulatorState) -> ZohoError:
    # "the relation name given seems to be invalid", resource_path_index 2 (D-URR7; v8 spec
    # InvalidDataRelationNameError).
    if state.config.unsupported_relation_code == "INVALID_MODULE":
        return errors.invalid_module(index=2)
    return ZohoError(400, "INVALID_DATA", errors.MSG_INVALID_RELATION, {"resource_path_index": 2})


def resolve_related_ref(state: EmulatorState, target: Target, ref: str) -> str | None:
    """The id of the list-module record a URL's ``{related_id}`` (or an ``ids`` entry) names,
    or None if it names none."""
    module = target.related_list.module
    if target.related_external is not None:
        return state.records.by_external(module, target.related_external, ref)
    record = state.records.get(ref)
    return ref if record is not None and record.module == module else None


# --- per-item helpers --------------------------------------------------------------------------


def _invalid_related(target: Target, index: int, rid: str, api_name: str = "id") -> dict[str, Any]:
    """A related id that names no record of the list's module (or cannot be related).

    v8: INVALID_DATA "the id given seems to be invalid" with ``{"api_name", "json_path"}``
    (spec example ``updateRelatedRecords/examples/response-400-relationnotfoundbulk.md``).
    v2-v7: "the related id given seems to be invalid" with ``{"id"}`` (update-related-records
    v7 docs, research 2.5).
    """
    if target.spec_v8:
        return envelope(
            "INVALID_DATA",
            errors.MSG_INVALID_ID,
            {"api_name": api_name, "json_path": f"$.data[{index}].{api_name}"},
        )
    return envelope("INVALID_DATA", errors.MSG_INVALID_RELATED_ID, {"id": rid})


def _record_locked(rid: str) -> dict[str, Any]:
    return envelope("RECORD_LOCKED", errors.MSG_RECORD_LOCKED, {"id": rid, "action": "zia_vision_processing"})


def _not_an_object(index: int) -> dict[str, Any]:
    return envelope(
        "INVALID_DATA",
        errors.MSG_INVALID_DATA,
        {"expected_data_type": "jsonobject", "json_path": f"$.data[{index}]"},
    )


def _check_value(state: EmulatorState, spec: JunctionField, value: Any) -> tuple[bool, Any]:
    """(valid, value to store) for a junction field value; numbers may come as numeric strings."""
    if value is None:
        return True, None
    kind = spec.kind
    if kind == "text":
        return type(value) is str, value
    if kind == "number":
        vtype = type(value)
        if vtype is int or vtype is float:
            return True, value
        if vtype is str:
            try:
                return True, float(value)
            except ValueError:
                return False, value
        return False, value
    if kind == "contact_role":
        # A role id (v8 update-related-records-ext sample: "Contact_Role": "111111000000026002")
        # or {"id", "name"} (v8.0/deal_contact_roles.json UpsertRelationsRequest).
        role_id = value.get("id") if isinstance(value, dict) else value
        role = state.metadata.contact_roles.get(normalise_id(role_id) or "")
        if role is None:
            return False, value
        return True, {"id": role.id, "name": role.name}
    if kind == "boolean":
        return type(value) is bool, value
    return True, value


_EXPECTED_TYPE = {"text": "text", "number": "double", "boolean": "boolean", "contact_role": "lookup"}


def _junction_values(
    state: EmulatorState,
    item: dict[str, Any],
    index: int,
    field_specs: dict[str, JunctionField],
    mandatory: tuple[JunctionField, ...],
    strict: bool,
    skip: str | None,
) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """(values to store, None) or ({}, per-item error) for the non-id keys of one item.

    A key that is no junction field of the list is ignored: the v8 request schema allows
    additional properties (``related_records.yaml`` ``additionalProperties: true``), unless the
    ``strict_fields`` setting asks for the emulator's older, stricter reading.
    """
    values: dict[str, Any] = {}
    for key, value in item.items():
        if key == "id" or key == skip:
            continue
        spec = field_specs.get(key)
        if spec is None:
            if strict:
                return {}, item_field_error("INVALID_DATA", errors.MSG_INVALID_DATA, index, key)
            continue
        if spec.kind == "text" and type(value) is str:
            values[key] = value  # the common case (Member_Status), checked inline
            continue
        valid, stored = _check_value(state, spec, value)
        if not valid:
            return {}, item_field_error(
                "INVALID_DATA",
                errors.MSG_INVALID_DATA,
                index,
                key,
                expected_data_type=_EXPECTED_TYPE.get(spec.kind, "text"),
            )
        values[key] = stored
    for spec in mandatory:
        if values.get(spec.api_name) is None:
            # MANDATORY_NOT_FOUND with api_name/json_path (v8 spec MandatoryNotFoundBulk example).
            return {}, item_field_error(
                "MANDATORY_NOT_FOUND", errors.MSG_MANDATORY_NOT_FOUND, index, spec.api_name
            )
    return values, None


_MISSING = object()


def _item_record_id(
    state: EmulatorState, target: Target, item: dict[str, Any], index: int, url_related_id: str | None
) -> tuple[str | None, dict[str, Any] | None]:
    """(related record id, None) or (None, per-item error) for one item."""
    if url_related_id is not None:
        if target.spec_v8 and target.related_external is None:
            # The v8 single-record body requires "id" (updateSpecificRelatedRecord requestBody:
            # items ``required: [id]``); earlier versions' samples send none (v2 reference page).
            raw = item.get("id", _MISSING)
            if raw is _MISSING:
                return None, item_field_error(
                    "MANDATORY_NOT_FOUND", errors.MSG_MANDATORY_NOT_FOUND, index, "id"
                )
            if normalise_id(raw) != url_related_id:
                return None, _invalid_related(target, index, str(raw))
        return url_related_id, None
    external = target.related_external
    if external is not None:
        # The external field replaces "id" in each item; missing -> MANDATORY_NOT_FOUND (v8
        # update-related-records-ext "Possible Errors"); unknown -> INVALID_DATA.
        value = item.get(external, _MISSING)
        if value is _MISSING:
            return None, item_field_error(
                "MANDATORY_NOT_FOUND", errors.MSG_MANDATORY_NOT_FOUND, index, external
            )
        rid = state.records.by_external(target.related_list.module, external, str(value))
        if rid is None:
            return None, _invalid_related(target, index, str(value), external)
        return rid, None
    raw = item.get("id", _MISSING)
    rid = raw if type(raw) is str and raw.isdigit() and raw.isascii() else normalise_id(raw)
    if rid is None:
        if raw is _MISSING:
            return None, item_field_error("MANDATORY_NOT_FOUND", errors.MSG_MANDATORY_NOT_FOUND, index, "id")
        return None, item_field_error(
            "INVALID_DATA", errors.MSG_INVALID_DATA, index, "id", expected_data_type="bigint"
        )
    return rid, None


# --- update (PUT) ------------------------------------------------------------------------------


def update(
    state: EmulatorState, target: Target, items: list[Any], url_related_id: str | None
) -> tuple[list[dict[str, Any]], int]:
    """Relate (or update notes for) each decoded item; returns (per-item results, successes)."""
    if target.related_list.relation is None:
        results, succeeded = _update_notes(state, target, items, url_related_id)
    else:
        results, succeeded = _relate(state, target, items, url_related_id)
    _count_items(state, results, succeeded)
    return results, succeeded


def _count_items(state: EmulatorState, results: list[dict[str, Any]], succeeded: int) -> None:
    counters = state.counters
    counters.items += len(results)
    if succeeded != len(results):
        item_errors = counters.item_errors
        for result in results:
            if result["status"] == "error":
                item_errors[result["code"]] = item_errors.get(result["code"], 0) + 1


def _relate(
    state: EmulatorState, target: Target, items: list[Any], url_related_id: str | None
) -> tuple[list[dict[str, Any]], int]:
    """Relate each item to the parent. This loop is the emulator's hot path: 100 items per call."""
    related_list = target.related_list
    relation = related_list.relation
    assert relation is not None
    records = state.records.records
    links = state.links
    table = links.table(relation)
    faults = state.faults
    failing = faults.failing_ids
    locks = faults.locks
    related_module = related_list.module
    record_id = target.record_id
    parent_first = related_list.parent_is_first
    field_specs = related_list.fields
    mandatory = related_list.mandatory
    strict = state.config.strict_fields
    simple = not mandatory and url_related_id is None and target.related_external is None
    external = target.related_external
    results: list[dict[str, Any]] = []
    append = results.append
    succeeded = added_count = 0
    no_values: dict[str, Any] = {}
    for index, item in enumerate(items):
        if type(item) is not dict:
            append(_not_an_object(index))
            continue
        rid = item.get("id") if simple else None
        if type(rid) is not str or not rid.isdigit() or not rid.isascii():  # else the common case
            rid, error = _item_record_id(state, target, item, index, url_related_id)
            if rid is None:
                assert error is not None
                append(error)
                continue
        record = records.get(rid)
        if record is None or record.module != related_module or rid in failing:
            append(_invalid_related(target, index, rid))
            continue
        if locks and rid in locks and faults.is_locked(rid):
            append(_record_locked(rid))
            continue
        if simple and len(item) == 1:
            values = no_values  # only "id": nothing to store
        else:
            values, error = _junction_values(state, item, index, field_specs, mandatory, strict, external)
            if error is not None:
                append(error)
                continue
        key = (record_id, rid) if parent_first else (rid, record_id)
        stored = table.get(key)
        succeeded += 1
        # With an external related field, details carry its value too (v8 update-related-records-
        # ext sample: {"External_Deal_ID": "extdeal3", "id": "..."}).
        details: dict[str, Any] = (
            {"id": rid} if external is None else {"id": rid, external: record.fields.get(external)}
        )
        if stored is None:
            links.insert(relation, key, values)
            added_count += 1
            append({"code": "SUCCESS", "details": details, "message": RELATION_ADDED, "status": "success"})
        else:
            if values:
                stored.update(values)
            append({"code": "SUCCESS", "details": details, "message": RELATION_UPDATED, "status": "success"})
    state.counters.relations_added += added_count
    state.counters.relations_updated += succeeded - added_count
    return results, succeeded


def _update_notes(
    state: EmulatorState, target: Target, items: list[Any], url_note_id: str | None
) -> tuple[list[dict[str, Any]], int]:
    """Update notes of a parent record (a note belongs to exactly one parent)."""
    records = state.records.records
    failing = state.faults.failing_ids
    strict = state.config.strict_fields
    now = state.clock.wall()
    results: list[dict[str, Any]] = []
    succeeded = 0
    for index, item in enumerate(items):
        if type(item) is not dict:
            results.append(_not_an_object(index))
            continue
        if url_note_id is not None and not (target.spec_v8 and "id" not in item):
            nid: str | None = url_note_id
            if target.spec_v8 and normalise_id(item.get("id")) != url_note_id:
                results.append(_invalid_related(target, index, str(item.get("id"))))
                continue
        elif "id" not in item:
            results.append(
                item_field_error("MANDATORY_NOT_FOUND", errors.MSG_MANDATORY_NOT_FOUND, index, "id")
            )
            continue
        else:
            nid = normalise_id(item["id"])
        if nid is None:
            results.append(
                item_field_error(
                    "INVALID_DATA", errors.MSG_INVALID_DATA, index, "id", expected_data_type="bigint"
                )
            )
            continue
        note = records.get(nid)
        if note is None or not _note_of(note, target.record_id) or nid in failing:
            results.append(_invalid_related(target, index, nid))
            continue
        error = _note_item_error(item, index, target.parent, target.record_id, strict)
        if error is not None:
            results.append(error)
            continue
        for key in NOTE_FIELDS:
            if key in item:
                note.fields[key] = item[key]
        note.modified_at = now
        succeeded += 1
        # Notes answer "record updated": they are records, not links (v8 spec updateRelatedRecords
        # 200 example; update-notes docs).
        results.append(success({"id": nid}, "record updated"))
    state.counters.notes_updated += succeeded
    return results, succeeded


def _note_of(note: Record, parent_id: str) -> bool:
    parent = note.fields.get("Parent_Id")
    return note.module == "Notes" and isinstance(parent, dict) and parent.get("id") == parent_id


def _note_item_error(
    item: dict[str, Any], index: int, parent: str, record_id: str, strict: bool
) -> dict[str, Any] | None:
    for key, value in item.items():
        if key == "id":
            continue
        if key in NOTE_FIELDS:
            if value is not None and type(value) is not str:
                return item_field_error(
                    "INVALID_DATA", errors.MSG_INVALID_DATA, index, key, expected_data_type="text"
                )
        elif key == "Parent_Id":
            parent_id = normalise_id(value.get("id")) if isinstance(value, dict) else None
            if parent_id != record_id:
                return item_field_error("INVALID_DATA", errors.MSG_INVALID_DATA, index, key)
        elif key == "$se_module":
            if type(value) is not str or catalog.MODULE_ALIASES.get(value, value) != parent:
                return item_field_error("INVALID_DATA", errors.MSG_INVALID_DATA, index, key)
        elif strict:
            return item_field_error("INVALID_DATA", errors.MSG_INVALID_DATA, index, key)
    return None


# --- read (GET) --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RelatedRow:
    """One record of a related list, with the junction fields of its link."""

    id: str
    record: Record
    link: dict[str, Any]


def related_rows(state: EmulatorState, target: Target) -> list[RelatedRow]:
    """Every record in the parent's list (unsorted)."""
    related_list = target.related_list
    records = state.records.records
    rows: list[RelatedRow] = []
    if related_list.relation is None:
        for rid, record in records.items():
            if _note_of(record, target.record_id):
                rows.append(RelatedRow(rid, record, {}))
        return rows
    links = state.links
    relation = related_list.relation
    for partner in links.partners(target.record_id, relation):
        linked = records.get(partner)
        if linked is None or linked.module != related_list.module:
            continue
        key = (target.record_id, partner) if related_list.parent_is_first else (partner, target.record_id)
        rows.append(RelatedRow(partner, linked, links.get(relation, key) or {}))
    return rows


def query_related(
    state: EmulatorState,
    target: Target,
    *,
    page: int,
    per_page: int,
    modified_since: float | None = None,
    ids: Iterable[str] | None = None,
    descending: bool = True,
    sort_by: str = "id",
) -> tuple[list[RelatedRow], bool]:
    """One page of the list (``page`` from 1), and whether more follow (``info.more_records``).

    Filters and order follow the v8 spec's getRelatedRecords parameters: ``If-Modified-Since``
    keeps records modified after it, ``ids`` keeps those ids, ``sort_order`` (default desc) and
    ``sort_by`` (``id``, ``Created_Time``, ``Modified_Time``; default id).
    """
    rows = related_rows(state, target)
    state.counters.related_reads += 1
    if modified_since is not None:
        rows = [row for row in rows if row.record.modified_at > modified_since]
    if ids is not None:
        wanted = set(ids)
        rows = [row for row in rows if row.id in wanted]
    if sort_by == "Created_Time":
        rows.sort(key=lambda row: (row.record.created_at, int(row.id)), reverse=descending)
    elif sort_by == "Modified_Time":
        rows.sort(key=lambda row: (row.record.modified_at, int(row.id)), reverse=descending)
    else:
        rows.sort(key=lambda row: int(row.id), reverse=descending)
    start = (page - 1) * per_page
    return rows[start : start + per_page], len(rows) > start + per_page


# --- delink (DELETE) ---------------------------------------------------------------------------


def delink(state: EmulatorState, target: Target, refs: list[str]) -> tuple[list[dict[str, Any]], int]:
    """Remove the parent's links to each ref (record ids, or external values); per-ref results.

    A linked ref answers SUCCESS "relation removed"; one that is not linked INVALID_DATA
    "relation not found" with ``details.id`` (v8 spec delinkRelatedRecords 207 and 400
    relationnotfound examples; the 200 example's "record deleted" contradicts the 207 example
    and v8.0/deal_contact_roles.json, which both say "relation removed"). The related records
    stay. On the Notes list a delinked note is deleted, as a note has no other parent.
    """
    results: list[dict[str, Any]] = []
    succeeded = 0
    for ref in refs:
        rid = resolve_related_ref(state, target, ref)
        if rid is not None and _unlink(state, target, rid):
            succeeded += 1
            details = (
                {"id": rid} if target.related_external is None else {"id": rid, target.related_external: ref}
            )
            results.append(success(details, errors.MSG_RELATION_REMOVED))
        else:
            results.append(envelope("INVALID_DATA", errors.MSG_RELATION_NOT_FOUND, {"id": ref}))
    state.counters.relations_removed += succeeded
    _count_items(state, results, succeeded)
    return results, succeeded


def _unlink(state: EmulatorState, target: Target, rid: str) -> bool:
    related_list = target.related_list
    if related_list.relation is None:
        note = state.records.get(rid)
        if note is None or not _note_of(note, target.record_id):
            return False
        del state.records.records[rid]
        return True
    key = (target.record_id, rid) if related_list.parent_is_first else (rid, target.record_id)
    return state.links.delete(related_list.relation, key)


# --- metadata ----------------------------------------------------------------------------------


def related_lists_of(state: EmulatorState, version: str, module_name: str, user: User) -> list[RelatedList]:
    """The related lists of a module (``GET /settings/related_lists?module=X``); INVALID_MODULE
    for a module Zoho does not know, or one hidden from the user."""
    module = catalog.canonical_module(module_name, version, state.config.case_insensitive_modules)
    if module is None or module in user.denied:
        # details {} as Zoho answers (related-list-meta docs' INVALID_MODULE sample).
        raise ZohoError(400, "INVALID_MODULE", errors.MSG_INVALID_MODULE.lower())
    return [rl for rl in state.metadata.lists_of(module, version) if rl.module not in user.denied]
