"""What Zoho CRM documents about versions, modules, related lists and scopes, as data.

Everything here is static knowledge read from Zoho's docs and its v8 OpenAPI specification
(repository ``zoho/crm-oas``, folder ``v8.0/``; research notes ``research/zoho-api.md`` sections
2 and 6); the model and the handlers only look things up, so the emulator's reading of the docs
can be reviewed in one file. An org's related lists start from ``default_related_lists`` and
grow with the seed (custom, linking-module and renamed lists, see ``model/metadata.py``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

#: API versions that serve ``/crm/{version}/...``; any other version is INVALID_URL_PATTERN.
SUPPORTED_VERSIONS: frozenset[str] = frozenset({"v2", "v2.1", "v3", "v4", "v5", "v6", "v7", "v8"})

#: Versions that answer 202 for a partly failed batch; later ones answer 207 (some) or 400 (all)
#: (research 2.4; v8 spec ``related_records.yaml`` responses 200/207/400).
V2_STATUS_REGIME: frozenset[str] = frozenset({"v2", "v2.1"})

#: Versions before Appointments__s and Services__s existed (they arrived with v3, v3 change log).
PRE_V3_VERSIONS: frozenset[str] = V2_STATUS_REGIME

#: Versions that take ``X-EXTERNAL`` (the "using external ID" pages exist from v2.1 on:
#: zoho.com/crm/developer/docs/api/v2.1/update-related-records-ext.html to .../v8/...).
EXTERNAL_ID_VERSIONS: frozenset[str] = SUPPORTED_VERSIONS - {"v2"}

#: Versions whose shapes follow the v8 OpenAPI spec (``zoho/crm-oas`` ``v8.0/``): ``fields``
#: mandatory on GET related records, ``id`` required in the single-record PUT body, item and
#: permission error details as the spec's examples. Earlier versions keep their own docs' shapes.
SPEC_V8_VERSIONS: frozenset[str] = frozenset({"v8"})


@dataclass(frozen=True, slots=True)
class ModuleInfo:
    """One CRM module: its API name, the lower-case name used in OAuth scopes, and since when."""

    api_name: str
    scope_name: str
    since_v3: bool = False
    #: Name in Zoho's permission identifiers (``Crm_Implied_View_Potentials`` for Deals,
    #: ``v8.0/deal_contact_roles.json`` NoPermissionDealsError).
    permission_name: str = ""


_MODULE_LIST = (
    ModuleInfo("Leads", "leads"),
    ModuleInfo("Contacts", "contacts"),
    ModuleInfo("Accounts", "accounts"),
    ModuleInfo("Deals", "deals", permission_name="Potentials"),
    ModuleInfo("Campaigns", "campaigns"),
    ModuleInfo("Products", "products"),
    ModuleInfo("Price_Books", "pricebooks"),
    ModuleInfo("Notes", "notes"),
    # v3 renamed them with the system suffix (v3 change log; the v8 insert-records docs and the
    # v8 spec's ParentRecordModule example "Services__s" list them so).
    ModuleInfo("Appointments__s", "appointments", since_v3=True),
    ModuleInfo("Services__s", "services", since_v3=True),
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
_MODULES_LOWER: dict[str, str] = {name.lower(): name for name in MODULES}

#: Old API names that still address the same records: the v2 reference page lists "Potentials"
#: among the supported relations (seeds/update-related-records-api.txt).
MODULE_ALIASES: dict[str, str] = {"Potentials": "Deals"}

#: Modules Zoho names but does not serve in the API ("The given module is not supported in API",
#: v8 spec ``related_records.yaml`` 400 example NotSupported).
UNSUPPORTED_IN_API: frozenset[str] = frozenset({"Documents", "Projects"})

#: Modules whose records carry notes: every record module ("PUT /{module}/{id}/Notes", v8
#: update-notes docs; research 6).
RECORD_MODULES: frozenset[str] = frozenset(name for name in MODULES if name != "Notes")


def canonical_module(name: str, version: str, case_insensitive: bool = False) -> str | None:
    """The canonical API name of ``name`` in ``version``, or None when Zoho does not know it.

    Module API names are case-sensitive in Zoho's docs (the spec's pattern and every sample use
    the exact API name; no page says otherwise), so ``case_insensitive`` is off by default.
    """
    api_name = MODULE_ALIASES.get(name, name)
    if api_name not in MODULES and case_insensitive:
        api_name = _MODULES_LOWER.get(api_name.lower(), api_name)
    info = MODULES.get(api_name)
    if info is None or (info.since_v3 and version in PRE_V3_VERSIONS):
        return None
    return api_name


def module_for_seeding(name: str) -> str | None:
    """The canonical API name for seeding records (any version), or None when unknown."""
    api_name = MODULE_ALIASES.get(name, name)
    return api_name if api_name in MODULES else None


FieldKind = Literal["text", "number", "boolean", "contact_role", "any"]


@dataclass(frozen=True, slots=True)
class JunctionField:
    """A field stored on the link itself (``Member_Status``, ``list_price``, ``Contact_Role``)."""

    api_name: str
    kind: FieldKind
    mandatory: bool = False


@dataclass(frozen=True, slots=True)
class RelatedList:
    """One related list of one module: what its records are and where their links live.

    Two lists share a link table (``relation``) when they are two sides of the same
    relationship (``Leads.Campaigns`` and ``Campaigns.Leads``); the table stores each link once,
    ``(first id, second id)`` in the relation's fixed orientation. ``relation`` None is the
    parent's ``Notes`` list (a note belongs to exactly one parent).
    """

    parent: str
    api_name: str
    #: Module of the records in the list.
    module: str
    relation: str | None
    #: True when the parent's id comes first in the link key.
    parent_is_first: bool = True
    fields: dict[str, JunctionField] = field(default_factory=dict)
    display_label: str = ""
    #: ``default`` or ``multiselectlookup`` (v2.1 related-list-meta docs, "type").
    type: str = "default"
    linking_module: str | None = None
    connected_module: str | None = None
    since_v3: bool = False
    custom: bool = False

    @property
    def mandatory(self) -> tuple[JunctionField, ...]:
        """Junction fields every item must carry."""
        return tuple(f for f in self.fields.values() if f.mandatory)


_MEMBER_STATUS = JunctionField("Member_Status", "text")
_OPTIONAL_LIST_PRICE = JunctionField("list_price", "number")
_MANDATORY_LIST_PRICE = JunctionField("list_price", "number", mandatory=True)


def _pair(
    first: str, second: str, *fields: JunctionField, since_v3: bool = False
) -> tuple[RelatedList, RelatedList]:
    """The two default lists of a many-to-many relation, named after each other's module."""
    name = f"{first}-{second}"
    by_name = {f.api_name: f for f in fields}
    return (
        RelatedList(first, second, second, name, True, by_name, second.replace("_", " "), since_v3=since_v3),
        RelatedList(second, first, first, name, False, by_name, first.replace("_", " "), since_v3=since_v3),
    )


#: Relation name of deal contact roles (both of its lists share it).
CONTACT_ROLES_RELATION = "Deals-Contacts"

_LINK_LISTS: tuple[RelatedList, ...] = (
    # The reference page's supported relations (seeds/update-related-records-api.txt, research 2.2).
    *_pair("Campaigns", "Leads", _MEMBER_STATUS),
    *_pair("Campaigns", "Contacts", _MEMBER_STATUS),
    # The v2.1 Java sample sends list_price on Leads->Products, so it is accepted (optional).
    *_pair("Products", "Leads", _OPTIONAL_LIST_PRICE),
    *_pair("Products", "Accounts", _OPTIONAL_LIST_PRICE),
    *_pair("Products", "Contacts", _OPTIONAL_LIST_PRICE),
    *_pair("Products", "Deals", _OPTIONAL_LIST_PRICE),
    # list_price is mandatory here (v8 spec MandatoryNotFound example: api_name list_price).
    *_pair("Products", "Price_Books", _MANDATORY_LIST_PRICE),
    *_pair("Appointments__s", "Services__s", since_v3=True),
    # Deal contact roles, both directions: PUT /Contacts/{id}/Deals with Contact_Role answers
    # "relation added" (v8 update-related-records-ext.html sample); PUT /Deals/{id}/Contact_Roles
    # takes up to 100 {id, Contact_Role}, Contact_Role required (v8.0/deal_contact_roles.json
    # UpsertRelationsRequest). Deals has no "Contacts" list of its own in this API (research 2.2).
    RelatedList(
        "Contacts",
        "Deals",
        "Deals",
        CONTACT_ROLES_RELATION,
        False,
        {"Contact_Role": JunctionField("Contact_Role", "contact_role")},
        "Deals",
    ),
    RelatedList(
        "Deals",
        "Contact_Roles",
        "Contacts",
        CONTACT_ROLES_RELATION,
        True,
        {"Contact_Role": JunctionField("Contact_Role", "contact_role", mandatory=True)},
        "Contact Roles",
    ),
)

#: Link tables of the default lists: relation name -> (first module, second module).
DEFAULT_RELATIONS: dict[str, tuple[str, str]] = {
    rl.relation: ((rl.parent, rl.module) if rl.parent_is_first else (rl.module, rl.parent))
    for rl in _LINK_LISTS
    if rl.relation is not None
}


def default_related_lists() -> list[RelatedList]:
    """Every org's related lists before any customisation: the documented link lists, and a
    ``Notes`` list on every record module (research 6)."""
    notes = [
        RelatedList(module, "Notes", "Notes", None, since_v3=MODULES[module].since_v3, display_label="Notes")
        for module in MODULES
        if module in RECORD_MODULES
    ]
    return [*_LINK_LISTS, *notes]


def _scopes(scope_name: str, operations: tuple[str, ...]) -> frozenset[str]:
    return frozenset(
        {"zohocrm.modules.all"}
        | {f"zohocrm.modules.{operation}" for operation in operations if operation != "all"}
        | {f"zohocrm.modules.{scope_name}.{operation}" for operation in operations}
    )


Operation = Literal["read", "update", "delete"]

#: Scope operations that allow each operation on a module's related records: update ALL/WRITE/
#: UPDATE (update-related-records docs v2.1-v8); read ALL/READ and delete ALL/DELETE (v8 spec
#: security: ZohoCRM.modules.READ / .DELETE, also accepted as the generic scope).
OPERATION_SCOPES: dict[Operation, tuple[str, ...]] = {
    "update": ("all", "write", "update"),
    "read": ("all", "read"),
    "delete": ("all", "delete"),
}


def module_scopes(module: str, operation: Operation) -> frozenset[str]:
    """Lower-cased scopes any one of which allows ``operation`` on ``module``'s related records."""
    return _scopes(MODULES[module].scope_name, OPERATION_SCOPES[operation])


USERS_READ_SCOPES: frozenset[str] = frozenset({"zohocrm.users.read", "zohocrm.users.all"})
ORG_READ_SCOPES: frozenset[str] = frozenset({"zohocrm.org.read", "zohocrm.org.all"})
#: ``GET /settings/related_lists`` (v8.0/related_lists.json security).
RELATED_LISTS_READ_SCOPES: frozenset[str] = frozenset(
    {"zohocrm.settings.all", "zohocrm.settings.related_lists.all", "zohocrm.settings.related_lists.read"}
)
#: ``GET /settings/fields`` (v8.0/fields.json security).
FIELDS_READ_SCOPES: frozenset[str] = frozenset(
    {"zohocrm.settings.all", "zohocrm.settings.fields.all", "zohocrm.settings.fields.read"}
)

#: Default contact roles of an org (names from v8.0/deal_contact_roles.json examples).
DEFAULT_CONTACT_ROLES: tuple[str, ...] = ("Economic Decision Maker", "Developer/Evaluator")

#: Fields every module lists in ``GET /settings/fields`` (a small, documented subset: the record
#: name field each module's create docs mark mandatory), plus ``Created_Time``/``Modified_Time``.
NAME_FIELDS: dict[str, tuple[str, ...]] = {
    "Leads": ("Last_Name", "First_Name", "Email", "Company"),
    "Contacts": ("Last_Name", "First_Name", "Email"),
    "Accounts": ("Account_Name",),
    "Deals": ("Deal_Name", "Stage"),
    "Campaigns": ("Campaign_Name",),
    "Products": ("Product_Name",),
    "Price_Books": ("Price_Book_Name",),
    "Notes": ("Note_Title", "Note_Content", "Parent_Id"),
    "Appointments__s": ("Appointment_Name",),
    "Services__s": ("Service_Name",),
    "Vendors": ("Vendor_Name",),
    "Quotes": ("Subject",),
    "Sales_Orders": ("Subject",),
    "Purchase_Orders": ("Subject",),
    "Invoices": ("Subject",),
    "Cases": ("Subject",),
    "Solutions": ("Solution_Title",),
    "Tasks": ("Subject",),
    "Events": ("Event_Title",),
    "Calls": ("Subject",),
}
