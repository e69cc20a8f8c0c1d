"""Decoding CRM requests: the ``data`` array of a PUT body, and Zoho's HTTP status rules.

The model never sees bytes: request-level problems with the body (not JSON, no ``data``, an
empty or oversized array) are raised here as :class:`ZohoError`, before any item is applied.
"""

from __future__ import annotations

from typing import Any

import msgspec

from airflow_provider_zohorel.emulator import errors
from airflow_provider_zohorel.emulator.errors import ZohoError
from airflow_provider_zohorel.emulator.model import catalog

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
