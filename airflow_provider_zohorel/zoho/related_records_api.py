"""The Update Related Records calls: bulk ``PUT /{module}/{id}/{list}`` and single ``.../{related_id}``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import quote

from airflow_provider_zohorel.zoho.client import ApiResponse, ZohoClient
from airflow_provider_zohorel.zoho.errors import ZohoConfigurationError, ZohoTransientError, quote_body
from airflow_provider_zohorel.zoho.limits import MAX_BATCH
from airflow_provider_zohorel.zoho.relation_catalog import RelationSpec, resolve_relation
from airflow_provider_zohorel.zoho.results import ItemResult, parse_items
from airflow_provider_zohorel.zoho.values import InvalidValue, normalize_id


def _is_url_error(body: Any) -> bool:
    """Request-level INVALID_DATA about the URL (module or relation name), not about a record."""
    details = body.get("details") if isinstance(body, dict) else None
    return isinstance(details, dict) and details.get("resource_path_index") in (0, 2)


class RelatedRecordsApi:
    """Validates, sends and classifies; every item of a call gets exactly one :class:`ItemResult`."""

    def __init__(self, client: ZohoClient) -> None:
        self.client = client

    def relation(self, module: str, related_list: str) -> RelationSpec:
        return resolve_relation(module, related_list, self.client.credentials.api_version)

    def update_related_records(
        self, module: str, record_id: Any, related_list: str, records: Sequence[Mapping[str, Any]]
    ) -> list[ItemResult]:
        spec = self.relation(module, related_list)
        parent = normalize_id(record_id, "record_id")
        if isinstance(records, (str, bytes)) or not isinstance(records, Sequence):
            raise InvalidValue("records must be a list of dicts, each with an 'id'")
        if not records:
            raise InvalidValue("records is empty; nothing to relate")
        if len(records) > MAX_BATCH:
            raise InvalidValue(
                f"records holds {len(records)} items; Zoho accepts at most {MAX_BATCH} per call. "
                "Split them, or use UpdateRelatedRecordsOperator, which batches for you."
            )
        payload = []
        for index, record in enumerate(records):
            where = f"records[{index}]"
            if not isinstance(record, Mapping):
                raise InvalidValue(f"{where}: expected a dict, got {type(record).__name__}")
            related = normalize_id(record.get("id"), f"{where}.id")
            fields = spec.check_fields({k: v for k, v in record.items() if k != "id"}, where)
            payload.append({"id": related, **fields})
        return self.send(spec, parent, payload)

    def update_related_record(
        self, module: str, record_id: Any, related_list: str, related_record_id: Any, data: Mapping[str, Any]
    ) -> ItemResult:
        spec = self.relation(module, related_list)
        parent = normalize_id(record_id, "record_id")
        related = normalize_id(related_record_id, "related_record_id")
        fields = spec.check_fields({k: v for k, v in dict(data).items() if k != "id"}, "data")
        path = f"/{spec.parent}/{parent}/{spec.related}/{quote(related)}"
        # The body names the record too: v8 requires it (spec updateSpecificRelatedRecord
        # requestBody, items required [id]); earlier versions take the URL's and accept it.
        return self._call(path, [related], {"data": [{"id": related, **fields}]})[0]

    def send(self, spec: RelationSpec, parent: str, payload: list[dict[str, Any]]) -> list[ItemResult]:
        """The hot path for already validated items (the runner's batches)."""
        path = f"/{spec.parent}/{parent}/{spec.related}"
        return self._call(path, [item["id"] for item in payload], {"data": payload})

    def _call(self, path: str, related_ids: list[str], body: dict[str, Any]) -> list[ItemResult]:
        try:
            response = self.client.request("PUT", path, json=body)
        except ZohoTransientError as exc:
            return [
                ItemResult.failure(rid, exc.code, exc.zoho_message, exc.http_status) for rid in related_ids
            ]
        return self.interpret(related_ids, response)

    @staticmethod
    def interpret(related_ids: list[str], response: ApiResponse) -> list[ItemResult]:
        """Per-item results whatever the status (200, 202, 207, or 400 with a ``data`` array)."""
        items = parse_items(related_ids, response.body, response.status)
        if items is not None:
            return items
        body = response.body
        code = response.error_code
        if code is not None:
            message = str(body.get("message", ""))
            if code == "INVALID_DATA" and _is_url_error(body):
                raise ZohoConfigurationError(
                    code, message, http_status=response.status, details=body.get("details")
                )
            # e.g. INVALID_DATA for an unknown or deleted parent record: every item fails with it
            return [
                ItemResult.failure(rid, code, message, response.status, body.get("details"))
                for rid in related_ids
            ]
        code = "UNEXPECTED_RESPONSE" if 200 <= response.status < 300 else f"HTTP_{response.status}"
        message = f"HTTP {response.status} without per-item results: {quote_body(body, 120)}"
        return [ItemResult.failure(rid, code, message, response.status) for rid in related_ids]
