"""The Update Related Records calls: bulk ``PUT /{module}/{id}/{list}`` and single ``.../{related_id}``,
on any related list, with record ids or external ids.

The relation of a call is resolved once per (module, list, external) and kept for the life of this
object (one hook, one run): the catalog's hints, the optional check against Zoho's related-list
metadata and the unknown-field warnings all happen once per run, not once per call.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from airflow_provider_zohorel.zoho.client import ApiResponse, ZohoClient
from airflow_provider_zohorel.zoho.errors import (
    ZohoConfigurationError,
    ZohoError,
    ZohoTransientError,
    quote_body,
)
from airflow_provider_zohorel.zoho.external_ids import (
    API_NAME,
    parent_ref,
    path_part,
    related_ref,
    version_tuple,
    wire_item,
)
from airflow_provider_zohorel.zoho.limits import MAX_BATCH
from airflow_provider_zohorel.zoho.relation_catalog import (
    RelationSpec,
    UnsupportedRelation,
    list_hint,
    module_hint,
    resolve_relation,
)
from airflow_provider_zohorel.zoho.results import REMOVED, SUCCESS, ItemResult, parse_items
from airflow_provider_zohorel.zoho.values import InvalidValue, show_value

#: Codes that refuse the module itself (v8 spec updateRelatedRecords 400 InvalidModule/NotSupported).
_MODULE_CODES = ("INVALID_MODULE", "NOT_SUPPORTED")
#: How many valid names an error lists before "and N more".
_MAX_LISTED = 40
#: Records per page of Get Related Records (v8 spec getRelatedRecords ``per_page`` maximum 200).
MAX_PAGE_SIZE = 200
#: The first version whose Get Related Records requires ``fields`` (v8 spec getRelatedRecords
#: ``response-400-requiredparammissing``; the v2-v7 pages return every field without it).
_FIELDS_REQUIRED_FROM = "v8"


def _is_url_error(body: Any) -> bool:
    """Request-level INVALID_DATA about the URL (module or relation name), not about a record."""
    details = body.get("details") if isinstance(body, dict) else None
    return isinstance(details, dict) and details.get("resource_path_index") in (0, 2)


class UnknownRelatedList(UnsupportedRelation):
    """``validate_related_list``: Zoho's metadata for the module has no list of that name."""


class RelatedRecordsApi:
    """Validates, sends and classifies; every item of a call gets exactly one :class:`ItemResult`.

    :param validate_related_list: check each related list name against Zoho's metadata
        (``GET /settings/related_lists?module=X``, once per module) before the first call, and
        refuse an unknown name with the list of valid ones. Needs the
        ``ZohoCRM.settings.related_lists.READ`` scope.
    """

    def __init__(self, client: ZohoClient, *, validate_related_list: bool = False) -> None:
        self.client = client
        self.validate_related_list = validate_related_list
        self._relations: dict[tuple[str, str, Any], RelationSpec] = {}
        self._lists: dict[str, dict[str, str | None]] = {}
        self._lock = threading.Lock()

    @property
    def api_version(self) -> str:
        return self.client.credentials.api_version

    # -- the relation of a run ------------------------------------------------------------------

    def relation(self, module: str, related_list: str, external: Any = None) -> RelationSpec:
        """The run's relation for ``module``'s ``related_list``, resolved once and then reused."""
        key = (
            module,
            related_list,
            external if external is None or isinstance(external, str) else id(external),
        )
        with self._lock:
            spec = self._relations.get(key)
        if spec is not None:
            return spec
        spec = resolve_relation(module, related_list, self.api_version)
        if self.validate_related_list:
            spec = self._checked_against_metadata(spec)
        if external is not None:
            spec = spec.with_external(external, self.api_version)
        with self._lock:
            return self._relations.setdefault(key, spec)

    def related_lists(self, module: str) -> dict[str, str | None]:
        """``module``'s related lists from Zoho's metadata: API name -> the module it holds (if said).

        ``GET /crm/{v}/settings/related_lists?module=X`` (v8.0/related_lists.json); ``module`` is
        an object ``{"api_name", "id"}`` from v3 on and a plain API name in v2/v2.1 (v2.1
        related-list-meta docs); 204 when the module has none.
        """
        with self._lock:
            cached = self._lists.get(module)
        if cached is not None:
            return cached
        try:
            response = self.client.request("GET", "/settings/related_lists", params={"module": module})
        except ZohoConfigurationError as exc:
            hint = None
            if exc.code == "OAUTH_SCOPE_MISMATCH":
                hint = (
                    "validate_related_list reads Zoho's metadata: it needs the "
                    "ZohoCRM.settings.related_lists.READ scope"
                )
            elif exc.code in _MODULE_CODES:
                hint = module_hint(module, self.api_version)
            raise _with_hint(exc, hint) from None
        lists: dict[str, str | None] = {}
        if response.status != 204:
            body = response.body
            entries = body.get("related_lists") if isinstance(body, dict) else None
            if response.status != 200 or not isinstance(entries, list):
                code = response.error_code or f"HTTP_{response.status}"
                raise ZohoConfigurationError(
                    code,
                    f"could not read the related lists of {module}: {quote_body(body, 200)}",
                    http_status=response.status,
                )
            for entry in entries:
                if not isinstance(entry, dict) or not isinstance(entry.get("api_name"), str):
                    continue
                held = entry.get("module")
                if isinstance(held, dict):
                    held = held.get("api_name")
                lists[entry["api_name"]] = held if isinstance(held, str) else None
        with self._lock:
            return self._lists.setdefault(module, lists)

    def _checked_against_metadata(self, spec: RelationSpec) -> RelationSpec:
        lists = self.related_lists(spec.parent)
        if spec.related in lists:
            return spec.with_holds(lists[spec.related])
        same = [name for name in lists if name.lower() == spec.related.lower()]
        if len(same) == 1:  # Zoho's exact spelling of the name given
            return spec.with_holds(lists[same[0]], related=same[0])
        names = sorted(lists)
        shown = ", ".join(names[:_MAX_LISTED]) + (
            f" and {len(names) - _MAX_LISTED} more" if len(names) > _MAX_LISTED else ""
        )
        hint = list_hint(spec.parent, spec.related, self.api_version)
        raise UnknownRelatedList(
            f"{spec.parent} has no related list {spec.related!r} (validate_related_list=True checked "
            f"GET /crm/{self.api_version}/settings/related_lists?module={spec.parent}). "
            f"Its related lists: {shown or 'none'}." + (f" Hint: {hint}" if hint else "")
        )

    # -- calls ----------------------------------------------------------------------------------

    def update_related_records(
        self,
        module: str,
        record_id: Any,
        related_list: str,
        records: Sequence[Mapping[str, Any]],
        external: Any = None,
    ) -> list[ItemResult]:
        spec = self.relation(module, related_list, external)
        parent = parent_ref(spec.external, record_id, "record_id")
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
            related = related_ref(spec.external, record.get("id"), f"{where}.id")
            fields = spec.check_fields({k: v for k, v in record.items() if k != "id"}, where)
            payload.append({"id": related, **fields})
        return self.send(spec, parent, payload)

    def update_related_record(
        self,
        module: str,
        record_id: Any,
        related_list: str,
        related_record_id: Any,
        data: Mapping[str, Any],
        external: Any = None,
    ) -> ItemResult:
        """``PUT .../{related_list}/{related_record_id}`` with ``{"data": [{"id": ..., **data}]}``.

        The body names the record too: v8 requires ``id`` in it (spec updateSpecificRelatedRecord
        requestBody ``required: [id]``) and the v2.1-v7 pages list ``id`` as a mandatory key; only
        the v2 page's notes sample leaves it out, and v2 ignores it (the emulator follows each
        version's docs). With an external related field, that field carries the value instead.
        """
        spec = self.relation(module, related_list, external)
        parent = parent_ref(spec.external, record_id, "record_id")
        related = related_ref(spec.external, related_record_id, "related_record_id")
        data = dict(data)
        if "id" in data:
            given = related_ref(spec.external, data.pop("id"), "data['id']")
            if given != related:
                raise InvalidValue(f"data['id'] is {given} but related_record_id is {related}")
        fields = spec.check_fields(data, "data")
        path = f"/{spec.parent}/{path_part(parent)}/{spec.related}/{path_part(related)}"
        item = wire_item(spec.external, {"id": related, **fields})
        return self._call(spec, path, [related], {"data": [item]})[0]

    def get_related_records(
        self,
        module: str,
        record_id: Any,
        related_list: str,
        fields: Sequence[str] | str | None = None,
        external: Any = None,
    ) -> Iterator[dict[str, Any]]:
        """Every record in the parent's list, page by page: ``GET /{module}/{id}/{list}``.

        Pages of 200 (``per_page`` maximum) until ``info.more_records`` is false; 204 is an empty
        list (v8 spec getRelatedRecords). Past 2,000 records v8 pages by ``page_token``
        (``info.next_page_token``), which is followed when Zoho sends one. v8 requires ``fields``:
        without any, only ``id`` (and the related external field) is asked for; earlier versions
        return every field. A parent Zoho does not know (``INVALID_DATA`` about the record) raises
        :class:`ZohoError` with Zoho's code.
        """
        spec = self.relation(module, related_list, external)
        parent = parent_ref(spec.external, record_id, "record_id")
        names = self._fields_param(spec, fields)
        headers = spec.external.headers if spec.external is not None else None
        path = f"/{spec.parent}/{path_part(parent)}/{spec.related}"
        page, token = 1, None
        while True:
            params: dict[str, Any] = {"per_page": MAX_PAGE_SIZE}
            if names:
                params["fields"] = names
            if token:
                params["page_token"] = token
            else:
                params["page"] = page
            response = self._read(spec, path, params, headers)
            if response.status == 204:
                return
            body = response.body
            data = body.get("data") if isinstance(body, dict) else None
            if response.status != 200 or not isinstance(data, list):
                code = response.error_code or f"HTTP_{response.status}"
                message = body.get("message") if isinstance(body, dict) else None
                if code == "INVALID_DATA" and _is_url_error(body):  # the module or list name
                    index = body["details"].get("resource_path_index")
                    error = ZohoConfigurationError(
                        code, str(message or ""), http_status=response.status, details=body["details"]
                    )
                    raise _with_hint(error, spec.hint(index, self.api_version))
                raise ZohoError(
                    code,
                    str(message or f"unexpected answer: {quote_body(body, 120)}"),
                    http_status=response.status,
                    details=body.get("details") if isinstance(body, dict) else None,
                )
            for record in data:
                if isinstance(record, dict):
                    yield record
            info = body.get("info") if isinstance(body.get("info"), dict) else {}
            if not info.get("more_records"):
                return
            next_token = info.get("next_page_token")
            token = next_token if isinstance(next_token, str) and next_token else None
            page += 1

    def _fields_param(self, spec: RelationSpec, fields: Sequence[str] | str | None) -> str | None:
        names = [fields] if isinstance(fields, str) else list(fields or ())
        names = [n.strip() for part in names for n in str(part).split(",") if n.strip()]
        for name in names:
            if not API_NAME.match(name):
                raise InvalidValue(f"fields: {show_value(name)} is not a field API name")
        related_field = spec.external.related_field if spec.external is not None else None
        if names or version_tuple(self.api_version) >= version_tuple(_FIELDS_REQUIRED_FROM):
            for needed in ("id", related_field):
                if needed and needed not in names:
                    names.append(needed)
        return ",".join(names) or None

    def _read(
        self, spec: RelationSpec, path: str, params: dict[str, Any], headers: Mapping[str, str] | None
    ) -> ApiResponse:
        try:
            return self.client.request("GET", path, params=params, headers=headers)
        except ZohoConfigurationError as exc:
            index = exc.details.get("resource_path_index")
            if index is None and exc.code in _MODULE_CODES:
                index = 0
            raise _with_hint(exc, spec.hint(index, self.api_version)) from None

    def delink_related_records(
        self,
        module: str,
        record_id: Any,
        related_list: str,
        ids: Sequence[Any],
        external: Any = None,
    ) -> list[ItemResult]:
        """Remove up to 100 records from the parent's list: ``DELETE /{module}/{id}/{list}?ids=...``.

        One :class:`ItemResult` per id, in input order, whatever the HTTP status: SUCCESS
        "relation removed" (action ``removed``), or Zoho's code such as INVALID_DATA "relation
        not found" (v8 spec delinkRelatedRecords 200/207/400). The related records themselves stay.
        """
        spec = self.relation(module, related_list, external)
        parent = parent_ref(spec.external, record_id, "record_id")
        if isinstance(ids, (str, bytes)) or not isinstance(ids, Sequence):
            raise InvalidValue("ids must be a list of related record ids")
        if not ids:
            raise InvalidValue("ids is empty; nothing to delink")
        if len(ids) > MAX_BATCH:
            raise InvalidValue(
                f"ids holds {len(ids)} ids; Zoho delinks at most {MAX_BATCH} per call. Split them."
            )
        refs = [related_ref(spec.external, value, f"ids[{i}]") for i, value in enumerate(ids)]
        return self.delink(spec, parent, refs)

    def delink(
        self, spec: RelationSpec, parent: str, refs: list[str], *, absent_ok: bool = False
    ) -> list[ItemResult]:
        """The hot path for already validated ids (the runner's delink batches).

        ``absent_ok``: an id Zoho answers INVALID_DATA "relation not found" for is not related,
        which is what a sync wants: it counts as removed. A mirror run only delinks what Zoho held
        when it looked (or what it acknowledged earlier), so "not found" means a retry after a lost
        answer, or a hand edit, already removed it.
        """
        for index, ref in enumerate(refs):
            if "," in ref:
                raise InvalidValue(
                    f"ids[{index}]: {show_value(ref)} holds a comma, which the ids parameter cannot carry"
                )
        path = f"/{spec.parent}/{path_part(parent)}/{spec.related}"
        results = self._call(spec, path, refs, None, method="DELETE", params={"ids": ",".join(refs)})
        return [_removed(r, absent_ok) for r in results]

    def send(self, spec: RelationSpec, parent: str, payload: list[dict[str, Any]]) -> list[ItemResult]:
        """The hot path for already validated items (the runner's batches)."""
        path = f"/{spec.parent}/{path_part(parent)}/{spec.related}"
        ids = [item["id"] for item in payload]
        if spec.external is not None and spec.external.related_field is not None:
            payload = [wire_item(spec.external, item) for item in payload]
        return self._call(spec, path, ids, {"data": payload})

    def _call(
        self,
        spec: RelationSpec,
        path: str,
        related_ids: list[str],
        body: dict[str, Any] | None,
        *,
        method: str = "PUT",
        params: dict[str, Any] | None = None,
    ) -> list[ItemResult]:
        headers = spec.external.headers if spec.external is not None else None
        try:
            if method == "PUT":
                response = self.client.request("PUT", path, json=body, headers=headers)
            else:
                response = self.client.request(method, path, params=params, headers=headers)
            return self.interpret(related_ids, response)
        except ZohoTransientError as exc:
            return [
                ItemResult.failure(rid, exc.code, exc.zoho_message, exc.http_status) for rid in related_ids
            ]
        except ZohoConfigurationError as exc:
            index = exc.details.get("resource_path_index")
            if index is None and exc.code in _MODULE_CODES:
                index = 0
            raise _with_hint(exc, spec.hint(index, self.api_version)) from None

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


#: Zoho's answer to delinking an id that is not related (v8 spec delinkRelatedRecords 207/400).
RELATION_NOT_FOUND = "relation not found"


def _removed(result: ItemResult, absent_ok: bool) -> ItemResult:
    if result.succeeded:
        return dataclasses.replace(result, action=REMOVED)
    if absent_ok and result.code == "INVALID_DATA" and result.message == RELATION_NOT_FOUND:
        message = "relation not found: not related (already delinked)"
        return ItemResult(result.related_id, SUCCESS, "success", message, {}, result.http_status, REMOVED)
    return result


def _with_hint(exc: ZohoError, hint: str | None) -> ZohoError:
    """``exc`` with what the catalog knows about it, or ``exc`` itself when it knows nothing."""
    if not hint or exc.hint:
        return exc
    return type(exc)(
        exc.code, exc.zoho_message, http_status=exc.http_status, details=exc.details or None, hint=hint
    )
