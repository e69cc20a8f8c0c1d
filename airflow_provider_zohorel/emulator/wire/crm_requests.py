"""Decoding CRM requests (a PUT body's ``data`` array, GET's page query, DELETE's ``ids``) and
Zoho's HTTP status rules.

The model never sees bytes: request-level problems (not JSON, no ``data``, an empty or oversized
array, a missing ``fields`` or ``ids``) are raised here as :class:`ZohoError`, before anything
is applied.
"""

from __future__ import annotations

import email.utils
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

import msgspec

from airflow_provider_zohorel.emulator import errors
from airflow_provider_zohorel.emulator.errors import ZohoError
from airflow_provider_zohorel.emulator.model import catalog
from airflow_provider_zohorel.emulator.wire.asgi_io import Scope, header, query_params

#: At most 100 records per call (update-related-records, v2 to v8).
MAX_ITEMS = 100

_decode = msgspec.json.decode


def decode_items(body: bytes, single: bool) -> list[Any]:
    """The ``data`` array, or a request-level error for a missing, empty or oversized one."""
    if body.strip():
        try:
            doc = _decode(body)
        except msgspec.DecodeError:
            raise ZohoError(400, "INVALID_DATA", errors.MSG_INVALID_JSON, {"json_path": "$"}) from None
    else:
        doc = {}
    missing = ZohoError(
        400,
        "MANDATORY_NOT_FOUND",
        errors.MSG_MANDATORY_NOT_FOUND,
        {"api_name": "data", "json_path": "$.data"},
    )
    if type(doc) is not dict or "data" not in doc:
        raise missing
    data = doc["data"]
    if type(data) is not list:
        raise ZohoError(
            400,
            "INVALID_DATA",
            errors.MSG_INVALID_DATA,
            {"api_name": "data", "json_path": "$.data", "expected_data_type": "jsonarray"},
        )
    if not data:
        raise missing
    limit = 1 if single else MAX_ITEMS
    if len(data) > limit:
        raise ZohoError(
            400,
            "LIMIT_EXCEEDED",
            errors.MSG_LIMIT_EXCEEDED.format(limit=limit),
            {"limit": str(limit), "param_name": "data"},
        )
    data_list: list[Any] = data
    return data_list


def bulk_status(version: str, succeeded: int, total: int) -> int:
    """HTTP status of a per-item answer: v2/v2.1 200 or 202; v3+ 200, 207 (mixed) or 400 (all failed)."""
    if succeeded == total:
        return 200
    if version in catalog.V2_STATUS_REGIME:
        return 202
    return 400 if succeeded == 0 else 207


#: GET related records: at most 200 per page, pages up to 10,000 (v8 spec ``PerPage``, ``Page``).
MAX_PER_PAGE = 200
MAX_PAGE = 10_000
#: Delink: at most 100 ids (v8 spec delinkRelatedRecords LimitExceeded example).
MAX_IDS = 100

_SORT_BY = ("id", "Created_Time", "Modified_Time")


def _bad_param(name: str) -> ZohoError:
    """A query parameter Zoho cannot use. The spec gives no example for these; the emulator
    answers INVALID_DATA naming the parameter, as Zoho's other parameter errors do."""
    return ZohoError(400, "INVALID_DATA", errors.MSG_INVALID_DATA, {"param_name": name})


def _int_param(params: dict[str, str], name: str, default: int, maximum: int) -> int:
    raw = params.get(name)
    if raw is None:
        return default
    if not raw.isdigit() or not 1 <= int(raw) <= maximum:
        raise _bad_param(name)
    return int(raw)


@dataclass(frozen=True, slots=True)
class PageQuery:
    """The query of ``GET /{module}/{id}/{list}`` (v8 spec getRelatedRecords parameters)."""

    #: Field API names to return (``id`` always comes back); None = every stored field.
    fields: list[str] | None
    page: int
    per_page: int
    modified_since: float | None
    ids: list[str] | None
    descending: bool
    sort_by: str


def decode_page_query(scope: Scope, version: str) -> PageQuery:
    """Decode and check the query; ``fields`` is mandatory from v8 on.

    Without it v8 answers REQUIRED_PARAM_MISSING ``{"param_name": "fields"}`` (v8 spec
    getRelatedRecords example ``response-400-requiredparammissing``); earlier versions return
    every field (v2 get-related-records docs have no ``fields`` parameter requirement).
    """
    params = query_params(scope)
    raw_fields = params.get("fields")
    fields: list[str] | None = None
    if raw_fields is None or raw_fields == "":
        if version in catalog.SPEC_V8_VERSIONS:
            raise errors.required_param_missing("fields")
    else:
        fields = raw_fields.split(",")
        if not all(name and (name[0].isalpha() or name[0] in "_$") for name in fields):
            raise _bad_param("fields")
    raw_ids = params.get("ids")
    ids = None
    if raw_ids:
        ids = raw_ids.split(",")
        if not all(part.isdigit() for part in ids):
            raise _bad_param("ids")
    sort_order = params.get("sort_order", "desc")
    sort_by = params.get("sort_by", "id")
    if sort_order not in ("asc", "desc"):
        raise _bad_param("sort_order")
    if sort_by not in _SORT_BY:
        raise _bad_param("sort_by")
    return PageQuery(
        fields,
        _int_param(params, "page", 1, MAX_PAGE),
        _int_param(params, "per_page", MAX_PER_PAGE, MAX_PER_PAGE),
        _modified_since(header(scope, b"if-modified-since")),
        ids,
        sort_order == "desc",
        sort_by,
    )


def _modified_since(value: str | None) -> float | None:
    """``If-Modified-Since`` as Unix seconds: ISO 8601 (the spec's example) or RFC 2822 (its text)."""
    if value is None:
        return None
    text = value.strip()
    try:
        when = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(text)
        except (TypeError, ValueError):
            raise _bad_param("If-Modified-Since") from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return when.timestamp()


def decode_ids(scope: Scope, external: bool) -> list[str]:
    """The ``ids`` of a delink: required, at most 100, numeric unless they are external values.

    Missing: MANDATORY_NOT_FOUND ``{"param_name": "ids"}``; over 100: LIMIT_EXCEEDED ``{"limit":
    "100", "param_name": "ids"}``; malformed: UNABLE_TO_PARSE_DATA_TYPE (v8 spec
    delinkRelatedRecords examples ``mandatorynotfound``, ``limitexceeded``, ``unabletoparsedatatype``).
    """
    raw = query_params(scope).get("ids")
    if not raw:
        raise ZohoError(400, "MANDATORY_NOT_FOUND", errors.MSG_PARAM_MISSING, {"param_name": "ids"})
    ids = raw.split(",")
    if len(ids) > MAX_IDS:
        raise ZohoError(
            400,
            "LIMIT_EXCEEDED",
            errors.MSG_IDS_LIMIT.format(limit=MAX_IDS),
            {"limit": str(MAX_IDS), "param_name": "ids"},
        )
    if not all(part and (external or part.isdigit()) for part in ids):
        raise ZohoError(400, "UNABLE_TO_PARSE_DATA_TYPE", errors.MSG_UNABLE_TO_PARSE)
    return ids
