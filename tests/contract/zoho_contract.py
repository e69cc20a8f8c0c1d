"""Check recorded CRM exchanges against our JSON Schemas of Zoho's operations (``schemas/``).

The emulator appends one JSON line per CRM request when ``ZOHO_EMULATOR_RECORD`` names a file
(``airflow_provider_zohorel.emulator.recording``). This module decides which of Zoho's operations
an exchange is, and validates with the ``jsonschema`` library:

- every response, whoever sent the request: ``response-{status}`` of the operation's schema (a
  status the operation does not document is a problem; ``x-status-versions`` limits some statuses
  to some API versions);
- the request body and query of the provider's own client, told apart by its ``User-Agent``:
  tests that send malformed requests on purpose with plain ``requests`` are not held to it.

A schema may refine a definition per API version or for ``X-EXTERNAL``: ``response-200-v2`` (v2
and v2.1), ``request-v8``, ``request-external``; the most specific one that exists is used.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError, best_match
from referencing import Registry, Resource

SCHEMAS = Path(__file__).resolve().parent / "schemas"
BASE_URI = "https://contract.zohorel.invalid/"
#: The provider's client announces itself so (``zoho/client.py`` ``USER_AGENT``).
CLIENT_USER_AGENT = "airflow-provider-zohorel/"
V2_REGIME = frozenset({"v2", "v2.1"})
BULK = "/crm/{version}/{module}/{record}/{related_list}"
SINGLE = BULK + "/{related_record}"

#: (path template, method) -> schema file stem; ``None`` method = any other method.
_OPERATIONS: dict[tuple[str | None, str | None], str] = {
    (BULK, "PUT"): "updateRelatedRecords",
    (BULK, "GET"): "getRelatedRecords",
    (BULK, "DELETE"): "delinkRelatedRecords",
    (BULK, None): "getRelatedRecords",
    (SINGLE, "PUT"): "updateSpecificRelatedRecord",
    (SINGLE, "GET"): "getRelatedRecord",
    (SINGLE, "DELETE"): "delinkSpecificRelatedRecord",
    (SINGLE, None): "getRelatedRecord",
    ("/crm/{version}/settings/related_lists", None): "getRelatedLists",
    ("/crm/{version}/settings/fields", None): "getFields",
    ("/crm/{version}/Contacts/roles", None): "getContactRoles",
    ("/crm/{version}/users", None): "getUsers",
    ("/crm/{version}/org", None): "getOrganization",
    (None, None): "invalidUrl",
}
#: The deal contact roles list has operations of its own for PUT (v8.0/deal_contact_roles.json).
_CONTACT_ROLES_PUT = {BULK: "upsertContactRoleRelations", SINGLE: "associateContactRoleToDeal"}


@dataclass(frozen=True)
class Exchange:
    """One recorded CRM request and its answer, and where it came from."""

    line: int
    test: str
    record: dict[str, Any]

    @property
    def method(self) -> str:
        return str(self.record["method"])

    @property
    def status(self) -> int:
        return int(self.record["status"])

    @property
    def version(self) -> str | None:
        version = self.record.get("version")
        return str(version) if version is not None else None

    @property
    def from_client(self) -> bool:
        """Sent by the provider's client (held to the request schemas), not by a raw test call."""
        return str(self.record.get("user_agent") or "").startswith(CLIENT_USER_AGENT)

    @property
    def operation(self) -> str:
        """The stem of the schema file for this exchange."""
        template = self.record.get("template")
        if self.method == "PUT" and template in _CONTACT_ROLES_PUT:
            parts = str(self.record["path"]).split("/")
            if len(parts) > 5 and parts[3] in ("Deals", "Potentials") and parts[5] == "Contact_Roles":
                return _CONTACT_ROLES_PUT[template]
        return _OPERATIONS.get((template, self.method)) or _OPERATIONS[(template, None)]

    @property
    def defined_method(self) -> bool:
        """The method is one Zoho defines for this URL (else only the answer has a contract:
        INVALID_REQUEST_METHOD, which every operation documents)."""
        template = self.record.get("template")
        if (template, self.method) in _OPERATIONS:
            return True
        return template not in (BULK, SINGLE) and template is not None and self.method == "GET"

    def describe(self) -> str:
        """``METHOD /path?query -> status`` (bounded), to name the exchange in a report."""
        query = self.record.get("query") or ""
        target = str(self.record["path"]) + (f"?{query}" if query else "")
        if len(target) > 160:
            target = target[:157] + "..."
        return f"{self.method} {target} -> {self.status or 'dropped'}"


@dataclass(frozen=True)
class Problem:
    """An exchange that breaks the contract, and how."""

    exchange: Exchange
    part: str
    message: str

    def __str__(self) -> str:
        e = self.exchange
        return f"{e.test or '(before any test)'}: {e.describe()} [{e.operation} {self.part}]: {self.message}"


def read_exchanges(path: Path) -> Iterator[Exchange]:
    """The exchanges of a recording, each with the test that was running (marker lines)."""
    test = ""
    with path.open("rb") as lines:
        for number, raw in enumerate(lines, start=1):
            if not raw.strip():
                continue
            record = json.loads(raw)
            if "test" in record and "method" not in record:
                test = str(record["test"])
                continue
            yield Exchange(number, test, record)


@dataclass
class ContractChecker:
    """Our schemas, loaded once, and the validation of exchanges against them."""

    directory: Path = SCHEMAS
    checked: int = 0
    _validators: dict[str, Draft202012Validator] = field(default_factory=dict)
    #: (definition, exact JSON text) -> error message or None: identical answers are checked once.
    _memo: dict[tuple[str, str], str | None] = field(default_factory=dict)

    @cached_property
    def documents(self) -> dict[str, dict[str, Any]]:
        """Schema file stem -> the schema document."""
        return {path.stem: json.loads(path.read_text()) for path in sorted(self.directory.glob("*.json"))}

    @cached_property
    def registry(self) -> Registry:
        resources = [
            (BASE_URI + f"{stem}.json", Resource.from_contents(doc)) for stem, doc in self.documents.items()
        ]
        return Registry().with_resources(resources)

    def _validator(self, stem: str, definition: str) -> Draft202012Validator:
        key = f"{stem}#{definition}"
        validator = self._validators.get(key)
        if validator is None:
            schema = {"$ref": f"{BASE_URI}{stem}.json#/$defs/{definition}"}
            validator = Draft202012Validator(schema, registry=self.registry)
            self._validators[key] = validator
        return validator

    def _definition(self, stem: str, kind: str, exchange: Exchange) -> str | None:
        """The most specific definition of ``kind`` for this exchange, or None when there is none."""
        defs = self.documents[stem].get("$defs", {})
        version = exchange.version or ""
        candidates = []
        if exchange.record.get("external"):
            candidates.append(f"{kind}-external")
        candidates.append(f"{kind}-{version}")
        if version in V2_REGIME:
            candidates.append(f"{kind}-v2")
        candidates.append(kind)
        return next((name for name in candidates if name in defs), None)

    def validate(self, stem: str, definition: str, instance: Any, *, body: bool = True) -> str | None:
        """None when ``instance`` fits ``definition`` of ``stem``, else the best error, bounded.

        A body is looked up in the memo by its shape (:func:`shape`): two bodies that differ only
        in which digits their ids hold are the same to every schema here, so a run of 100-item
        batches is validated once per shape, not once per batch.
        """
        text = json.dumps(shape(instance) if body else instance, sort_keys=True)
        key = (f"{stem}#{definition}", text)
        if key in self._memo:
            return self._memo[key]
        error = best_match(self._validator(stem, definition).iter_errors(instance))
        message = None if error is None else _describe(error)
        self._memo[key] = message
        return message

    def problems(self, exchange: Exchange) -> list[Problem]:
        """What is wrong with one exchange (empty when it keeps the contract)."""
        self.checked += 1
        found: list[Problem] = []
        stem = exchange.operation
        doc = self.documents[stem]
        status = exchange.status
        if status:
            found += self._response_problems(stem, doc, exchange)
        if exchange.from_client and exchange.defined_method:
            found += self._request_problems(stem, exchange)
        return found

    def _response_problems(self, stem: str, doc: dict[str, Any], exchange: Exchange) -> list[Problem]:
        status = exchange.status
        body = exchange.record.get("response")
        if exchange.record.get("injected") == "auth_error":
            # A 401 whose code the test chose (any string): only the envelope's shape is Zoho's.
            if status != 401:
                return [Problem(exchange, "response", f"an injected auth error answered {status}, not 401")]
            message = self.validate("common", "errorEnvelope", body)
            return [Problem(exchange, "response 401", message)] if message else []
        versions = doc.get("x-status-versions", {}).get(str(status))
        if versions is not None and exchange.version not in versions:
            return [
                Problem(
                    exchange,
                    "response",
                    f"HTTP {status} is documented for API versions {', '.join(versions)} only",
                )
            ]
        definition = self._definition(stem, f"response-{status}", exchange)
        if definition is None:
            return [Problem(exchange, "response", f"HTTP {status} is not an answer this operation documents")]
        message = self.validate(stem, definition, body)
        return [Problem(exchange, f"response {status}", message)] if message else []

    def _request_problems(self, stem: str, exchange: Exchange) -> list[Problem]:
        found = []
        record = exchange.record
        if record.get("request_text") is not None:
            found.append(Problem(exchange, "request", "the client sent a body that is not JSON"))
        else:
            definition = self._definition(stem, "request", exchange)
            if definition is not None:
                message = self.validate(stem, definition, record.get("request"))
                if message:
                    found.append(Problem(exchange, "request", message))
        definition = self._definition(stem, "query", exchange)
        if definition is not None:
            query = dict(parse_qsl(str(record.get("query") or ""), keep_blank_values=True))
            message = self.validate(stem, definition, query, body=False)
            if message:
                found.append(Problem(exchange, "query", message))
        return found

    def check(self, exchanges: Iterable[Exchange]) -> list[Problem]:
        """Every problem of every exchange."""
        found: list[Problem] = []
        for exchange in exchanges:
            found += self.problems(exchange)
        return found


def shape(value: Any) -> Any:
    """``value`` with every string of digits replaced by as many ``0``: what the schemas can see.

    Sound because no schema tells digit strings of one length apart in a body: ids are
    ``^[0-9]+$`` with a length limit, and so are ``limit`` and ``sequence_number``
    (``test_body_patterns_cannot_tell_digit_strings_of_one_length_apart`` keeps it so). Query
    values (``page``, ``per_page``) are validated as they are.
    """
    if isinstance(value, str):
        return "0" * len(value) if value.isdigit() and value.isascii() else value
    if isinstance(value, dict):
        return {key: shape(item) for key, item in value.items()}
    if isinstance(value, list):
        return [shape(item) for item in value]
    return value


def _describe(error: ValidationError) -> str:
    path = "$" + "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in error.absolute_path)
    message = error.message if len(error.message) <= 200 else error.message[:197] + "..."
    return f"{path}: {message}"
