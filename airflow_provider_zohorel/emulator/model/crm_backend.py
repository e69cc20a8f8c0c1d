"""The CRM's related-records operations on the model: resolve a URL's parent and related
list, then relate (or update notes for) each decoded item.

Request-level problems raise :class:`ZohoError`; item problems become per-item envelopes. URL
checks run in Zoho's order (each stops the request): parent module (INVALID_MODULE), scope
(OAUTH_SCOPE_MISMATCH), user permissions (NO_PERMISSION, AUTHORIZATION_FAILED), parent record
(INVALID_DATA, ``resource_path_index`` 1), related list (INVALID_DATA, index 2). Decoding the
body and choosing the HTTP status belong to the wire layer (``wire/crm_requests.py``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from airflow_provider_zohorel.emulator import errors
from airflow_provider_zohorel.emulator.errors import ZohoError, envelope, item_field_error
from airflow_provider_zohorel.emulator.model import catalog
from airflow_provider_zohorel.emulator.model.catalog import JunctionField, Relation
from airflow_provider_zohorel.emulator.model.records import normalise_id
from airflow_provider_zohorel.emulator.model.state import EmulatorState
from airflow_provider_zohorel.emulator.model.users import User

NOTE_FIELDS = frozenset({"Note_Title", "Note_Content"})

_UPDATE_SCOPES = {m.api_name: catalog.update_scopes(m.scope_name) for m in catalog.MODULES.values()}
_MANDATORY = {r.name: tuple(f for f in r.fields.values() if f.mandatory) for r in catalog.RELATIONS}


def _success(related_id: str, message: str) -> dict[str, Any]:
    return {"code": "SUCCESS", "details": {"id": related_id}, "message": message, "status": "success"}


def _invalid_related(related_id: str) -> dict[str, Any]:
    return envelope("INVALID_DATA", errors.MSG_INVALID_RELATED_ID, {"id": related_id})


def resolve_parent_module(name: str, version: str, user: User) -> str:
    """Canonical parent module, or INVALID_MODULE (unknown, not in the API, or hidden from the user)."""
    if name in catalog.UNSUPPORTED_IN_API:
        raise errors.invalid_module(errors.MSG_MODULE_NOT_SUPPORTED)
    module = catalog.canonical_module(name, version)
    if module is None or module in user.denied:
        raise errors.invalid_module()
    return module


def _invalid_relation(state: EmulatorState) -> ZohoError:
    if state.config.unsupported_relation_code == "INVALID_MODULE":
        return errors.invalid_module(index=2)
    return ZohoError(400, "INVALID_DATA", errors.MSG_INVALID_RELATION, {"resource_path_index": 2})


@dataclass(frozen=True, slots=True)
class UpdateTarget:
    """Where an update goes, once the URL has passed every request-level check."""

    parent: str
    record_id: str
    #: None for the parent's Notes list (notes belong to one parent record).
    relation: Relation | None
    related: str


def resolve_update(
    state: EmulatorState,
    version: str,
    module_name: str,
    record_id: str,
    related_list: str,
    user: User,
    scopes: frozenset[str],
) -> UpdateTarget:
    """Check the URL of an update in Zoho's order; raises the first request-level error."""
    parent = resolve_parent_module(module_name, version, user)
    if scopes.isdisjoint(_UPDATE_SCOPES[parent]):
        raise errors.scope_mismatch()
    permissions = user.permissions
    if not permissions.update_related:
        raise ZohoError(403, "NO_PERMISSION", errors.MSG_NO_PERMISSION)
    if not permissions.related_privilege:
        raise ZohoError(400, "AUTHORIZATION_FAILED", errors.MSG_AUTHORIZATION_FAILED)
    parent_record = state.records.get(record_id) if record_id.isdigit() else None
    if parent_record is None or parent_record.module != parent:
        status = state.config.unknown_parent_status
        message = errors.MSG_INVALID_PARENT_400 if status == 400 else errors.MSG_INVALID_PARENT_404
        raise ZohoError(status, "INVALID_DATA", message, {"resource_path_index": 1})
    # Notes are the one related list the reference page addresses in lower case.
    if (
        related_list.lower() == "notes"
        and parent in catalog.NOTE_PARENT_MODULES
        and "Notes" not in user.denied
    ):
        return UpdateTarget(parent, record_id, None, "Notes")
    related = catalog.canonical_module(related_list, version)
    relation = catalog.relation_between(parent, related, version) if related else None
    if relation is None or related is None or related in user.denied:
        raise _invalid_relation(state)
    return UpdateTarget(parent, record_id, relation, related)


def apply_update(
    state: EmulatorState, target: UpdateTarget, items: list[Any], related_id: str | None
) -> tuple[list[dict[str, Any]], int]:
    """Relate (or update notes for) each decoded item; returns (per-item results, successes)."""
    if target.relation is None:
        results, succeeded = _update_notes(state, target.parent, target.record_id, items, related_id)
    else:
        results, succeeded = _relate(
            state, target.relation, target.parent, target.related, target.record_id, items, related_id
        )
    counters = state.counters
    counters.items += len(results)
    if succeeded != len(results):
        item_errors = counters.item_errors
        for result in results:
            if result["status"] == "error":
                item_errors[result["code"]] = item_errors.get(result["code"], 0) + 1
    return results, succeeded


def _check_value(spec: JunctionField, value: Any) -> tuple[bool, Any]:
    """(valid, value to store) for a junction field value; numbers may come as numeric strings."""
    if value is None:
        return True, None
    if spec.kind == "text":
        return type(value) is str, value
    kind = type(value)
    if kind is int or kind is float:
        return True, value
    if kind is str:
        try:
            return True, float(value)
        except ValueError:
            return False, value
    return False, value


def _junction_values(
    item: dict[str, Any], index: int, relation: Relation, strict: bool
) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """(values to store, None) or ({}, per-item error) for the non-id keys of one item."""
    values: dict[str, Any] = {}
    field_specs = relation.fields
    for key, value in item.items():
        if key == "id":
            continue
        spec = field_specs.get(key)
        if spec is None:
            if strict:
                return {}, item_field_error("INVALID_DATA", errors.MSG_INVALID_DATA, index, key)
            continue
        valid, stored = _check_value(spec, value)
        if not valid:
            expected = "text" if spec.kind == "text" else "double"
            return {}, item_field_error(
                "INVALID_DATA", errors.MSG_INVALID_DATA, index, key, expected_data_type=expected
            )
        values[key] = stored
    for spec in _MANDATORY[relation.name]:
        if values.get(spec.api_name) is None:
            return {}, item_field_error(
                "MANDATORY_NOT_FOUND", errors.MSG_MANDATORY_NOT_FOUND, index, spec.api_name
            )
    return values, None


_MISSING = object()


def _relate(
    state: EmulatorState,
    relation: Relation,
    parent: str,
    related: str,
    record_id: str,
    items: list[Any],
    url_related_id: str | None,
) -> tuple[list[dict[str, Any]], int]:
    """Relate each item to the parent. This loop is the emulator's hot path: 100 items per call."""
    records = state.records.records
    links = state.links
    table = links.table(relation)
    failing = state.faults.failing_ids
    strict = state.config.strict_fields
    has_mandatory = bool(_MANDATORY[relation.name])
    related_is_first = relation.first == related
    results: list[dict[str, Any]] = []
    append = results.append
    succeeded = added_count = 0
    for index, item in enumerate(items):
        if type(item) is not dict:
            append(
                envelope(
                    "INVALID_DATA",
                    errors.MSG_INVALID_DATA,
                    {"expected_data_type": "jsonobject", "json_path": f"$.data[{index}]"},
                )
            )
            continue
        if url_related_id is not None:
            rid = url_related_id
        else:
            raw = item.get("id", _MISSING)
            normalised = raw if type(raw) is str and raw.isdigit() and raw.isascii() else normalise_id(raw)
            if normalised is None:
                if raw is _MISSING:
                    append(
                        item_field_error("MANDATORY_NOT_FOUND", errors.MSG_MANDATORY_NOT_FOUND, index, "id")
                    )
                else:
                    append(
                        item_field_error(
                            "INVALID_DATA", errors.MSG_INVALID_DATA, index, "id", expected_data_type="bigint"
                        )
                    )
                continue
            rid = normalised
        record = records.get(rid)
        if record is None or record.module != related or rid in failing:
            append(_invalid_related(rid))
            continue
        if len(item) == 1 and url_related_id is None and not has_mandatory:
            values: dict[str, Any] = {}  # only "id": nothing to store
        else:
            values, error = _junction_values(item, index, relation, strict)
            if error is not None:
                append(error)
                continue
        key = (rid, record_id) if related_is_first else (record_id, rid)
        stored = table.get(key)
        succeeded += 1
        if stored is None:
            links.insert(relation, key, values)
            added_count += 1
            append(
                {"code": "SUCCESS", "details": {"id": rid}, "message": "relation added", "status": "success"}
            )
        else:
            if values:
                stored.update(values)
            append(
                {
                    "code": "SUCCESS",
                    "details": {"id": rid},
                    "message": "relation updated",
                    "status": "success",
                }
            )
    state.counters.relations_added += added_count
    state.counters.relations_updated += succeeded - added_count
    return results, succeeded


def _update_notes(
    state: EmulatorState,
    parent: str,
    record_id: str,
    items: list[Any],
    url_note_id: str | None,
) -> tuple[list[dict[str, Any]], int]:
    """Update notes of a parent record (a note belongs to exactly one parent)."""
    records = state.records.records
    failing = state.faults.failing_ids
    strict = state.config.strict_fields
    results: list[dict[str, Any]] = []
    succeeded = 0
    for index, item in enumerate(items):
        if type(item) is not dict:
            results.append(
                envelope(
                    "INVALID_DATA",
                    errors.MSG_INVALID_DATA,
                    {"expected_data_type": "jsonobject", "json_path": f"$.data[{index}]"},
                )
            )
            continue
        if url_note_id is not None:
            nid: str | None = url_note_id
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
        note_parent = note.fields.get("Parent_Id") if note is not None else None
        if (
            note is None
            or note.module != "Notes"
            or not isinstance(note_parent, dict)
            or note_parent.get("id") != record_id
            or nid in failing
        ):
            results.append(_invalid_related(nid))
            continue
        error = _note_item_error(item, index, parent, record_id, strict)
        if error is not None:
            results.append(error)
            continue
        for key in NOTE_FIELDS:
            if key in item:
                note.fields[key] = item[key]
        succeeded += 1
        results.append(_success(nid, "record updated"))
    state.counters.notes_updated += succeeded
    return results, succeeded


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
