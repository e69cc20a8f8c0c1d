"""What Zoho CRM documents about modules, versions, relations and scopes, as data.

Everything here is static knowledge read from the Update Related Records reference page and
the research notes (``research/zoho-api.md`` sections 2.1-2.2); the request handlers only look
things up. Keeping it in one table makes the emulator's reading of the docs easy to review.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

#: API versions that serve ``/crm/{version}/...``; any other version is INVALID_URL_PATTERN.
SUPPORTED_VERSIONS: frozenset[str] = frozenset({"v2", "v2.1", "v3", "v4", "v5", "v6", "v7", "v8"})

#: Versions that answer 202 for a partly failed batch; later ones answer 207 (some) or 400 (all).
V2_STATUS_REGIME: frozenset[str] = frozenset({"v2", "v2.1"})

#: Versions before Appointments and Services existed (they arrived with v3).
PRE_V3_VERSIONS: frozenset[str] = V2_STATUS_REGIME


@dataclass(frozen=True, slots=True)
class ModuleInfo:
    """One CRM module: its API name, the lower-case name used in OAuth scopes, and since when."""

    api_name: str
    scope_name: str
    since_v3: bool = False


_MODULE_LIST = (
    ModuleInfo("Leads", "leads"),
    ModuleInfo("Contacts", "contacts"),
    ModuleInfo("Accounts", "accounts"),
    ModuleInfo("Deals", "deals"),
    ModuleInfo("Campaigns", "campaigns"),
    ModuleInfo("Products", "products"),
    ModuleInfo("Price_Books", "pricebooks"),
    ModuleInfo("Notes", "notes"),
    ModuleInfo("Appointments", "appointments", since_v3=True),
    ModuleInfo("Services", "services", since_v3=True),
    # Real modules that take part in no relation of this API: a request naming them as the
    # parent is answered "the relation name given seems to be invalid", not INVALID_MODULE.
    ModuleInfo("Tasks", "tasks"),
    ModuleInfo("Events", "events"),
    ModuleInfo("Calls", "calls"),
    ModuleInfo("Vendors", "vendors"),
    ModuleInfo("Quotes", "quotes"),
    ModuleInfo("Sales_Orders", "salesorders"),
    ModuleInfo("Purchase_Orders", "purchaseorders"),
    ModuleInfo("Invoices", "invoices"),
    ModuleInfo("Cases", "cases"),
    ModuleInfo("Solutions", "solutions"),
)

#: Canonical module API name -> module.
MODULES: dict[str, ModuleInfo] = {m.api_name: m for m in _MODULE_LIST}

#: Old API names that address the same records (Deals were called Potentials).
MODULE_ALIASES: dict[str, str] = {"Potentials": "Deals"}

#: Modules Zoho names but does not serve in the API ("The given module is not supported in API").
UNSUPPORTED_IN_API: frozenset[str] = frozenset({"Documents", "Projects"})

#: Parent modules whose "Notes" related list can be updated (notes belong to a parent record).
NOTE_PARENT_MODULES: frozenset[str] = frozenset(
    {"Leads", "Contacts", "Accounts", "Deals", "Campaigns", "Products", "Price_Books"}
)


def canonical_module(name: str, version: str) -> str | None:
    """Return the canonical API name of ``name`` in ``version``, or None when unknown there."""
    api_name = MODULE_ALIASES.get(name, name)
    info = MODULES.get(api_name)
    if info is None or (info.since_v3 and version in PRE_V3_VERSIONS):
        return None
    return api_name


def module_for_seeding(name: str) -> str | None:
    """Return the canonical API name for seeding records (any version), or None when unknown."""
    api_name = MODULE_ALIASES.get(name, name)
    return api_name if api_name in MODULES else None


FieldKind = Literal["text", "number"]


@dataclass(frozen=True, slots=True)
class JunctionField:
    """A field stored on the relation itself (``Member_Status``, ``list_price``)."""

    api_name: str
    kind: FieldKind
    mandatory: bool = False


@dataclass(frozen=True, slots=True)
class Relation:
    """One supported module pair; its links are stored once, whichever side the request names.

    ``first`` and ``second`` fix the orientation used in storage and exports (Campaigns,
    Products and Appointments come first).
    """

    name: str
    first: str
    second: str
    fields: dict[str, JunctionField] = field(default_factory=dict)
    since_v3: bool = False


_MEMBER_STATUS = JunctionField("Member_Status", "text")
_OPTIONAL_LIST_PRICE = JunctionField("list_price", "number")
_MANDATORY_LIST_PRICE = JunctionField("list_price", "number", mandatory=True)


def _relation(first: str, second: str, *fields: JunctionField, since_v3: bool = False) -> Relation:
    return Relation(f"{first}-{second}", first, second, {f.api_name: f for f in fields}, since_v3)


#: Every relation the reference page lists (v2+), plus Appointments-Services (v3+).
RELATIONS: tuple[Relation, ...] = (
    _relation("Campaigns", "Leads", _MEMBER_STATUS),
    _relation("Campaigns", "Contacts", _MEMBER_STATUS),
    # The v2.1 Java sample sends list_price on Leads->Products, so it is accepted (optional).
    _relation("Products", "Leads", _OPTIONAL_LIST_PRICE),
    _relation("Products", "Accounts", _OPTIONAL_LIST_PRICE),
    _relation("Products", "Contacts", _OPTIONAL_LIST_PRICE),
    _relation("Products", "Deals", _OPTIONAL_LIST_PRICE),
    _relation("Products", "Price_Books", _MANDATORY_LIST_PRICE),
    _relation("Appointments", "Services", since_v3=True),
)

RELATIONS_BY_NAME: dict[str, Relation] = {r.name: r for r in RELATIONS}

_BY_PAIR: dict[tuple[str, str], Relation] = {}
for _rel in RELATIONS:
    _BY_PAIR[(_rel.first, _rel.second)] = _rel
    _BY_PAIR[(_rel.second, _rel.first)] = _rel


def relation_between(parent: str, related: str, version: str) -> Relation | None:
    """The relation linking two canonical modules in ``version``, or None if the API has none."""
    rel = _BY_PAIR.get((parent, related))
    if rel is None or (rel.since_v3 and version in PRE_V3_VERSIONS):
        return None
    return rel


#: Scope operations that allow updating related records of a module.
UPDATE_OPERATIONS: tuple[str, ...] = ("all", "write", "update")


def update_scopes(scope_name: str) -> frozenset[str]:
    """Lower-cased scopes any one of which allows updating related records of the module."""
    return frozenset(
        {"zohocrm.modules.all"} | {f"zohocrm.modules.{scope_name}.{op}" for op in UPDATE_OPERATIONS}
    )


USERS_READ_SCOPES: frozenset[str] = frozenset({"zohocrm.users.read", "zohocrm.users.all"})
ORG_READ_SCOPES: frozenset[str] = frozenset({"zohocrm.org.read", "zohocrm.org.all"})
