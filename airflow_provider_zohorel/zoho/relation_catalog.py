"""The core's catalog of relations: which (module, related list) pairs Update Related Records supports,
and the fields each one carries.

Read from the reference page (seeds/) and research/zoho-api.md section 2.2: Campaigns with Leads
and Contacts (``Member_Status``); Products with Leads, Accounts, Contacts, Deals (old name
Potentials) and Price Books (``list_price``, mandatory there); Appointments with Services from v3;
and updating a Lead's Notes. A relation is symmetric: either side may be the parent.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from airflow_provider_zohorel.zoho.values import MAX_TEXT, InvalidValue, show_value, to_json_value

MODULES = ("Leads", "Contacts", "Accounts", "Deals", "Campaigns", "Products", "Price_Books", "Notes",
           "Appointments", "Services")  # fmt: skip
_ALIASES = {"potentials": "Deals", "pricebooks": "Price_Books", "price books": "Price_Books"}
_BY_LOWER = {m.lower(): m for m in MODULES}

TEXT, NUMBER, OBJECT = "text", "number", "object"


@dataclass(frozen=True)
class RelationSpec:
    """One supported (parent module, related list) pair and the fields its items may carry."""

    parent: str
    related: str
    fields: dict[str, str] = field(default_factory=dict)
    mandatory: frozenset[str] = frozenset()
    min_version: int = 2

    @property
    def label(self) -> str:
        return f"{self.parent} -> {self.related}"

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
        for name, value in item.items():
            kind = self.fields.get(name)
            if kind is None:
                allowed = ", ".join(sorted(self.fields)) or "none"
                raise InvalidValue(
                    f"{where}: field {show_value(name)} is not a field of the {self.label} relation "
                    f"(allowed: {allowed})"
                )
            out[name] = _convert(kind, value, where, name)
        missing = [name for name in sorted(self.mandatory) if out.get(name) is None]
        if missing:
            raise InvalidValue(f"{where}: the {self.label} relation requires {', '.join(missing)}")
        return out


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
    return to_json_value(value, where)


_MEMBER = {"Member_Status": TEXT}
_PRICE = {"list_price": NUMBER}
_NOTE = {"Note_Title": TEXT, "Note_Content": TEXT, "Parent_Id": OBJECT, "$se_module": TEXT}


def _symmetric(a: str, b: str, fields: dict[str, str], mandatory: frozenset[str] = frozenset(),
               min_version: int = 2) -> list[RelationSpec]:  # fmt: skip
    return [
        RelationSpec(a, b, fields, mandatory, min_version),
        RelationSpec(b, a, fields, mandatory, min_version),
    ]


_SPECS: list[RelationSpec] = [
    *_symmetric("Campaigns", "Leads", _MEMBER),
    *_symmetric("Campaigns", "Contacts", _MEMBER),
    *_symmetric("Products", "Leads", _PRICE),
    *_symmetric("Products", "Accounts", _PRICE),
    *_symmetric("Products", "Contacts", _PRICE),
    *_symmetric("Products", "Deals", _PRICE),
    *_symmetric("Products", "Price_Books", _PRICE, frozenset({"list_price"})),
    *_symmetric("Appointments", "Services", {}, min_version=3),
    RelationSpec("Leads", "Notes", _NOTE),
]
RELATIONS: dict[tuple[str, str], RelationSpec] = {(s.parent, s.related): s for s in _SPECS}


class UnsupportedRelation(ValueError):
    """The module pair is not something Update Related Records can relate."""


def canonical_module(name: str, what: str = "module") -> str:
    """``deals``/``Potentials`` -> ``Deals``, ``pricebooks`` -> ``Price_Books`` and so on."""
    if not isinstance(name, str) or not name.strip():
        raise UnsupportedRelation(f"{what} is empty")
    key = name.strip().lower()
    found = _ALIASES.get(key) or _BY_LOWER.get(key) or _BY_LOWER.get(key.replace(" ", "_"))
    if found is None:
        raise UnsupportedRelation(
            f"{what} {show_value(name)} is not a module Update Related Records works with "
            f"(known: {', '.join(MODULES)}; Potentials is accepted for Deals)"
        )
    return found


def _major(api_version: str) -> int:
    return int(api_version.lstrip("v").split(".")[0])


def resolve_relation(module: str, related_list: str, api_version: str = "v2") -> RelationSpec:
    """The spec for ``module``'s ``related_list``, or a clear :class:`UnsupportedRelation`."""
    parent = canonical_module(module, "module")
    related = canonical_module(related_list, "related_list")
    spec = RELATIONS.get((parent, related))
    if spec is None:
        partners = sorted(s.related for s in _SPECS if s.parent == parent)
        hint = ""
        if {parent, related} == {"Deals", "Contacts"}:
            hint = " Deal contacts are set through Zoho's Contact Roles API instead."
        raise UnsupportedRelation(
            f"{parent} -> {related} is not a relation Update Related Records supports. "
            f"{parent} relates to: {', '.join(partners) or 'nothing'}.{hint}"
        )
    if _major(api_version) < spec.min_version:
        raise UnsupportedRelation(
            f"{spec.label} needs API version v{spec.min_version} or later; the connection uses {api_version}"
        )
    return spec
