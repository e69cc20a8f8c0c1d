"""What the project knows about Zoho's related lists: hints that validate and convert, never a gate.

Related lists have API names of their own (``GET /crm/{v}/settings/related_lists?module=X``):
custom lists, linking-module lists, renamed lists, ``Contact_Roles`` on Deals; the reference
page's own Deluge sample uses ``"Related_List_Name_2"``. So any module and list name matching
Zoho's API-name pattern is accepted (v8 spec ``ParentRecordModule``/``RelatedList``:
``^[A-Za-z_][A-Za-z0-9_]*$``, at most 100 characters) and sent as given.

For the lists below the catalog knows which module a list holds and its junction fields: their
types convert values (``list_price`` from ``"50.56"``), a missing mandatory field is named before
any call, and module names the project knows are matched case-insensitively. An item field the
catalog does not know is sent as is: Zoho's request schema allows additional properties
(``related_records.yaml`` updateRelatedRecords items ``additionalProperties: true``); it is named
in one warning per field per run. Sources per entry: the reference page (seeds/) and
research/zoho-api.md sections 2.2 and 6.
"""

from __future__ import annotations

import difflib
import logging
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from decimal import Decimal, InvalidOperation
from typing import Any

from airflow_provider_zohorel.zoho.external_ids import (
    API_NAME,
    MAX_API_NAME,
    ExternalIds,
    external_value,
    version_tuple,
)
from airflow_provider_zohorel.zoho.values import (
    MAX_TEXT,
    InvalidValue,
    check_field_name,
    show_value,
    to_json_value,
)

log = logging.getLogger(__name__)

TEXT, NUMBER, OBJECT, ROLE_ID, ROLE_OBJECT = "text", "number", "object", "role_id", "role_object"

#: Module API names the project knows, matched case-insensitively (``campaigns`` -> ``Campaigns``).
#: ``Appointments__s``/``Services__s`` are their names from v3 on (v3 change log; v8 spec
#: ``ParentRecordModule`` example ``Services__s``).
MODULES = ("Leads", "Contacts", "Accounts", "Deals", "Campaigns", "Products", "Price_Books", "Notes",
           "Appointments__s", "Services__s", "Tasks", "Events", "Calls", "Vendors", "Quotes",
           "Sales_Orders", "Purchase_Orders", "Invoices", "Cases", "Solutions")  # fmt: skip
#: Other spellings of known modules: the reference page's "Potentials" (= Deals) and
#: "Price Books", and the OAuth scope names (``pricebooks``).
_ALIASES = {"potentials": "Deals", "pricebooks": "Price_Books", "price books": "Price_Books"}
_BY_LOWER = {m.lower(): m for m in MODULES}
#: Pre-v3 names of modules renamed with the system suffix (v3 change log). Not mapped: a custom
#: module may carry the bare name, so it is sent as given, with a warning and, if Zoho refuses
#: it, an error naming the v3 name.
RENAMED_IN_V3 = {"appointments": "Appointments__s", "services": "Services__s"}


@dataclass(frozen=True)
class KnownList:
    """What the catalog knows about one (module, related list): the module it holds, the junction
    fields and their kinds, the mandatory ones, and the first API version that has it."""

    holds: str
    fields: Mapping[str, str] = field(default_factory=dict)
    mandatory: frozenset[str] = frozenset()
    min_version: int = 2


_MEMBER = {"Member_Status": TEXT}
_PRICE = {"list_price": NUMBER}
_NOTE = {"Note_Title": TEXT, "Note_Content": TEXT, "Parent_Id": OBJECT, "$se_module": TEXT}


def _pair(a: str, b: str, fields: Mapping[str, str] | None = None, mandatory: frozenset[str] = frozenset(),
          min_version: int = 2) -> dict[tuple[str, str], KnownList]:  # fmt: skip
    """A many-to-many relation: each side's list is named after the other module (research 2.2)."""
    fields = dict(fields or {})
    return {
        (a, b): KnownList(b, fields, mandatory, min_version),
        (b, a): KnownList(a, fields, mandatory, min_version),
    }


KNOWN_LISTS: dict[tuple[str, str], KnownList] = {
    # The reference page's supported relations, either side as the parent (seeds/; research 2.2).
    **_pair("Campaigns", "Leads", _MEMBER),
    **_pair("Campaigns", "Contacts", _MEMBER),
    **_pair("Products", "Leads", _PRICE),  # the v2.1 Java sample sends list_price on Leads->Products
    **_pair("Products", "Accounts", _PRICE),
    **_pair("Products", "Contacts", _PRICE),
    **_pair("Products", "Deals", _PRICE),
    # list_price is mandatory here (v8 spec MandatoryNotFoundBulk example: api_name list_price).
    **_pair("Products", "Price_Books", _PRICE, frozenset({"list_price"})),
    # From v3 (update-related-records v3-v8: "Appointments - to - Services").
    **_pair("Appointments__s", "Services__s", min_version=3),
    # Deal contact roles, both directions. A contact's Deals list takes a role id (v8
    # update-related-records-ext sample: "Contact_Role": "111111000000026002"); a deal's
    # Contact_Roles list takes {id, Contact_Role: {id[, name]}}, both required
    # (v8.0/deal_contact_roles.json UpsertRelationsRequest).
    ("Contacts", "Deals"): KnownList("Deals", {"Contact_Role": ROLE_ID}),
    ("Deals", "Contact_Roles"): KnownList(
        "Contacts", {"Contact_Role": ROLE_OBJECT}, frozenset({"Contact_Role"})
    ),
}
#: Every record module's notes: ``PUT /{module}/{id}/Notes`` ("update notes of a specific
#: record", v8 notes docs; research 6), fields from the reference page's notes sample.
NOTES_LIST = KnownList("Notes", _NOTE)

#: Lists Zoho is known to refuse, with what to use instead. Deals has no Contacts list in this
#: API: "the relation name given seems to be invalid" (research 2.2); contact roles it is.
_MISNAMED = {
    ("Deals", "Contacts"): "a deal's contacts are its Contact_Roles list (related_list='Contact_Roles', "
    "each item with a Contact_Role), or relate from the contact's side (module='Contacts', "
    "related_list='Deals')",
}


class UnsupportedRelation(ValueError):
    """The module or related list name cannot be a Zoho API name, or Zoho's metadata lacks it."""


def _major(api_version: str) -> int:
    return version_tuple(api_version)[0]


def _name(name: Any, what: str) -> str:
    """A module or list name as sent: a known name in its canonical case, else as given."""
    if not isinstance(name, str) or not name.strip():
        raise UnsupportedRelation(f"{what} is empty")
    key = name.strip().lower()
    found = _ALIASES.get(key) or _BY_LOWER.get(key) or _BY_LOWER.get(key.replace(" ", "_"))
    if found is not None:
        return found
    text = name.strip()
    if len(text) > MAX_API_NAME or not API_NAME.match(text):
        shown = repr(text[:60]) + ("..." if len(text) > 60 else "")
        raise UnsupportedRelation(
            f"{what} {shown} is not a Zoho API name (letters, digits and underscores, at most "
            f"{MAX_API_NAME} characters; e.g. Campaigns, Price_Books, Contact_Roles)"
        )
    return text


def canonical_module(name: Any, what: str = "module") -> str:
    """``deals``/``Potentials`` -> ``Deals``, ``pricebooks`` -> ``Price_Books``; other API names as given."""
    return _name(name, what)


def module_hint(module: str, api_version: str) -> str | None:
    """Why Zoho may refuse ``module``, when the catalog knows (for warnings and error messages)."""
    renamed = RENAMED_IN_V3.get(module.lower())
    if renamed is not None and _major(api_version) >= 3:
        return (
            f"from API v3 on the module {module!r} is named {renamed!r} (v3 change log); "
            f"{module!r} works only if your org has a custom module of that name"
        )
    if module in ("Appointments__s", "Services__s") and _major(api_version) < 3:
        return f"{module} exists from API v3 on; the connection uses {api_version}"
    return None


def list_hint(parent: str, related: str, api_version: str) -> str | None:
    """Why Zoho may refuse ``parent``'s list ``related``, when the catalog knows."""
    misnamed = _MISNAMED.get((parent, related))
    if misnamed is not None:
        return misnamed
    known = KNOWN_LISTS.get((parent, related))
    if known is not None and _major(api_version) < known.min_version:
        return (
            f"{parent} -> {related} exists from API v{known.min_version} on; the connection uses "
            f"{api_version}"
        )
    return module_hint(related, api_version)


@dataclass(frozen=True)
class RelationSpec:
    """One run's relation: the names sent, what the catalog knows about the list, and how ids are
    addressed (record ids, or external values). Made by :func:`resolve_relation`, once per run."""

    parent: str
    related: str
    #: Module of the records in the list, when known (the catalog or Zoho's metadata).
    holds: str | None = None
    fields: Mapping[str, str] = field(default_factory=dict)
    mandatory: frozenset[str] = frozenset()
    min_version: int = 2
    #: Whether the catalog knows the list (its fields and mandatory ones apply).
    known: bool = False
    external: ExternalIds | None = None
    _warned: set[str] = field(default_factory=set, compare=False, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, compare=False, repr=False)

    @property
    def label(self) -> str:
        return f"{self.parent} -> {self.related}"

    def with_external(self, value: Any, api_version: str) -> RelationSpec:
        """This relation addressed through ``X-EXTERNAL: value`` (see :mod:`.external_ids`)."""
        external = ExternalIds.parse(
            value, parent=self.parent, holds=self.holds, api_version=api_version, canonical=_canonical_or_same
        )
        return replace(self, external=external, _warned=set(), _lock=threading.Lock())

    def with_holds(self, holds: str | None, related: str | None = None) -> RelationSpec:
        """The same relation with what Zoho's metadata says (the list's exact name, its module)."""
        return replace(
            self,
            related=related or self.related,
            holds=holds or self.holds,
            _warned=set(),
            _lock=threading.Lock(),
        )

    def canonical_field(self, name: str) -> str:
        """``member_status`` / ``LIST_PRICE`` (Postgres and Snowflake fold unquoted names) -> Zoho's name."""
        if name in self.fields:
            return name
        for known in self.fields:
            if known.lower() == name.lower():
                return known
        return name

    def check_fields(self, item: dict[str, Any], where: str) -> dict[str, Any]:
        """Validate and convert an item's relation fields (everything but the ids)."""
        out: dict[str, Any] = {}
        fields = self.fields
        for name, value in item.items():
            kind = fields.get(name)
            if kind is None and fields:
                canonical = self.canonical_field(name) if isinstance(name, str) else name
                if canonical != name:  # member_status -> Member_Status
                    if canonical in item:
                        raise InvalidValue(f"{where}: keys differ only in case and clash: {canonical}")
                    name, kind = canonical, fields[canonical]
            if kind is None:
                seen = name in self._warned
                if not seen:
                    _check_field_name(name, where)
                out[name] = to_json_value(value, f"{where}: field {show_value(name)}")
                if not seen:
                    self._warn_unknown(name)
            else:
                out[name] = _convert(kind, value, where, name)
        if self.mandatory:
            missing = [name for name in sorted(self.mandatory) if out.get(name) is None]
            if missing:
                raise InvalidValue(f"{where}: the {self.label} relation requires {', '.join(missing)}")
        return out

    def _warn_unknown(self, name: str) -> None:
        """Name an item field the catalog does not know, once per run."""
        with self._lock:
            if name in self._warned:
                return
            self._warned.add(name)
        what = "a list the catalog does not know" if not self.known else f"the {self.label} relation"
        known = f" (known fields: {', '.join(sorted(self.fields))})" if self.fields else ""
        close = difflib.get_close_matches(name.lower(), [f.lower() for f in self.fields], n=1, cutoff=0.8)
        guess = next((f for f in self.fields if close and f.lower() == close[0]), None)
        log.warning(
            "Field %r is not a field the provider knows for %s%s; it is sent to Zoho as given (Zoho's "
            "request schema allows fields beyond the known ones).%s Warned once per run.",
            name,
            what,
            known,
            f" Did you mean {guess!r}?" if guess else " Check its spelling if Zoho should store it.",
        )

    def hint(self, resource_path_index: Any, api_version: str) -> str | None:
        """What the catalog knows about a refused URL part (0: the module, 2: the related list)."""
        if resource_path_index == 0:
            return module_hint(self.parent, api_version)
        if resource_path_index == 2:
            found = list_hint(self.parent, self.related, api_version)
            return found or (
                f"related list names are API names of {self.parent}'s related lists and may differ "
                f"from module names: GET /crm/{api_version}/settings/related_lists?module={self.parent} "
                "lists them, and validate_related_list=True checks the name before any call"
            )
        return None


def _check_field_name(name: Any, where: str) -> None:
    """An unknown field is sent as given, but only if it can be a Zoho field API name."""
    try:
        check_field_name(name)
    except InvalidValue as exc:
        raise InvalidValue(f"{where}: {exc}") from None


def _canonical_or_same(name: str) -> str:
    try:
        return _name(name, "module")
    except UnsupportedRelation:
        return name


def _convert(kind: str, value: Any, row: str, name: str) -> Any:
    if value is None:
        return None
    if kind == TEXT and type(value) is str and len(value) <= MAX_TEXT:
        return value  # the common case, without building an error location
    where = f"{row}: field {show_value(name)}"
    if kind == TEXT:
        if not isinstance(value, str):
            raise InvalidValue(f"{where} must be text, got {type(value).__name__} {show_value(value)}")
        return to_json_value(value, where)
    if kind == NUMBER:
        if isinstance(value, str):  # "50.56" from CSV-shaped sources: a documented normalisation
            try:
                value = Decimal(value.strip())
            except InvalidOperation:
                raise InvalidValue(f"{where} must be a number, got {show_value(value)}") from None
        if isinstance(value, bool) or not isinstance(value, (int, float, Decimal)):
            raise InvalidValue(f"{where} must be a number, got {type(value).__name__} {show_value(value)}")
        return to_json_value(value, where)
    if kind in (ROLE_ID, ROLE_OBJECT):
        return _contact_role(kind, value, where)
    return to_json_value(value, where)


def _contact_role(kind: str, value: Any, where: str) -> Any:
    """A contact role as each list takes it: a role id, or ``{"id"[, "name"]}``."""
    name = None
    raw = value
    if isinstance(value, Mapping):
        raw = value.get("id")
        name = value.get("name")
    try:
        role_id = external_value(raw, where) if raw is not None else ""
    except InvalidValue:
        role_id = ""
    if not role_id.isdigit():
        raise InvalidValue(
            f"{where} must be a contact role id or {{'id': ...}} (GET /crm/{{v}}/Contacts/roles lists "
            f"them), got {show_value(value)}"
        )
    if kind == ROLE_ID:
        return role_id
    role: dict[str, Any] = {"id": role_id}
    if isinstance(name, str):
        role["name"] = to_json_value(name, f"{where}.name")
    return role


def resolve_relation(
    module: str, related_list: str, api_version: str = "v2", *, external: Any = None
) -> RelationSpec:
    """The relation for ``module``'s ``related_list``: any API names, with the catalog's hints.

    Warns (never refuses) when the catalog knows Zoho will refuse a name: a pre-v3 module name,
    a list that needs a later API version, Deals' non-existent Contacts list.
    """
    parent = canonical_module(module, "module")
    related = _name(related_list, "related_list")
    known = KNOWN_LISTS.get((parent, related)) or (NOTES_LIST if related == "Notes" else None)
    if known is None:
        spec = RelationSpec(parent, related)
    else:
        spec = RelationSpec(
            parent, related, known.holds, dict(known.fields), known.mandatory, known.min_version, True
        )
    hints = dict.fromkeys(
        h for h in (module_hint(parent, api_version), list_hint(parent, related, api_version)) if h
    )
    for hint in hints:
        log.warning("%s: Zoho will probably refuse this: %s", spec.label, hint)
    if external is not None:
        spec = spec.with_external(external, api_version)
    return spec
