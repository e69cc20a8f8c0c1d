"""One org's metadata: its related lists, contact roles and external fields.

Zoho's related lists have API names of their own (``GET /crm/{v}/settings/related_lists
?module=X``, v8.0/related_lists.json): custom lists, linking-module lists and renamed lists sit
next to the default ones, and ``Contact_Roles`` on Deals names no module. Every org starts with
``catalog.default_related_lists()``; a seed adds its own (``related_lists``). PUT, GET and
DELETE on ``/{module}/{id}/{list}`` work on any list the module's metadata names.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from airflow_provider_zohorel.emulator.model import catalog
from airflow_provider_zohorel.emulator.model.catalog import JunctionField, RelatedList


class MetadataError(ValueError):
    """A related list, contact role or external field that cannot be added (the message says why)."""


@dataclass(frozen=True, slots=True)
class ContactRole:
    """A contact role of the org (``GET /Contacts/roles``, v8.0/contact_roles.json)."""

    id: str
    name: str
    sequence_number: int


@dataclass(slots=True)
class Metadata:
    """Related lists by module, link tables, contact roles and external fields of one org."""

    org_id: str
    #: parent module -> list API name -> list.
    related_lists: dict[str, dict[str, RelatedList]] = field(default_factory=dict)
    #: parent module -> lower-cased list API name -> list API name (lenient lookups).
    _lower: dict[str, dict[str, str]] = field(default_factory=dict)
    #: relation (link table) name -> (first module, second module).
    relations: dict[str, tuple[str, str]] = field(default_factory=dict)
    #: list (parent, api_name) -> its id, stable for the org's lifetime.
    list_ids: dict[tuple[str, str], str] = field(default_factory=dict)
    contact_roles: dict[str, ContactRole] = field(default_factory=dict)
    #: module -> names of its external fields (Kaizen #64 "external fields").
    external_fields: dict[str, set[str]] = field(default_factory=dict)

    @classmethod
    def default(cls, org_id: str) -> Metadata:
        """An org as Zoho creates it: default related lists and contact roles."""
        meta = cls(org_id)
        meta.relations.update(catalog.DEFAULT_RELATIONS)
        for related_list in catalog.default_related_lists():
            meta._register(related_list)
        for name in catalog.DEFAULT_CONTACT_ROLES:
            meta.add_contact_role(name)
        return meta

    # --- ids ------------------------------------------------------------------------------------

    def _new_id(self, serial: int) -> str:
        """A 19-digit id inside the org's id space (Zoho ids share the org's prefix)."""
        return f"{self.org_id[:7]}{serial:012d}"

    def module_id(self, module: str) -> str:
        """The stable id of a module (``module.id`` in related-list metadata)."""
        names = list(catalog.MODULES)
        return self._new_id(100 + names.index(module)) if module in catalog.MODULES else self._new_id(99)

    # --- related lists --------------------------------------------------------------------------

    def _register(self, related_list: RelatedList) -> None:
        lists = self.related_lists.setdefault(related_list.parent, {})
        lists[related_list.api_name] = related_list
        self._lower.setdefault(related_list.parent, {})[related_list.api_name.lower()] = related_list.api_name
        key = (related_list.parent, related_list.api_name)
        if key not in self.list_ids:
            self.list_ids[key] = self._new_id(1000 + len(self.list_ids))

    def lists_of(self, module: str, version: str) -> list[RelatedList]:
        """The related lists of ``module`` that exist in ``version``, in display order."""
        lists = self.related_lists.get(module, {}).values()
        return [rl for rl in lists if not (rl.since_v3 and version in catalog.PRE_V3_VERSIONS)]

    def find_list(
        self, module: str, name: str, version: str, case_insensitive: bool = False
    ) -> RelatedList | None:
        """The list ``name`` of ``module`` in ``version``, or None (INVALID_DATA for the caller).

        ``notes`` is accepted in lower case: the v2 reference page addresses the Notes list so
        (seeds/update-related-records-api.txt, ``PUT /crm/v2/Leads/{id}/notes``). "Potentials"
        names the Deals list, as the reference page's supported relations do.
        """
        lists = self.related_lists.get(module)
        if lists is None:
            return None
        found = lists.get(name)
        if found is None:
            alias = catalog.MODULE_ALIASES.get(name)
            if alias is not None:
                found = lists.get(alias)
            elif name == "notes" or case_insensitive:
                exact = self._lower.get(module, {}).get(name.lower())
                found = lists.get(exact) if exact is not None else None
        if found is None or (found.since_v3 and version in catalog.PRE_V3_VERSIONS):
            return None
        return found

    def add_custom_list(
        self,
        parent: str,
        api_name: str,
        module: str,
        *,
        fields: dict[str, JunctionField] | None = None,
        display_label: str | None = None,
        linking_module: str | None = None,
        reverse_api_name: str | None = None,
        relation: str | None = None,
    ) -> RelatedList:
        """Add a custom (or renamed, or linking-module) list; ``reverse_api_name`` also adds the
        list on ``module`` that shows the same links from the other side.

        ``relation`` shares the link table of an existing list (a renamed copy of a default
        list); otherwise a new table named after the linking module (or the list) is created.
        """
        for name, side in ((parent, "module"), (module, "related module")):
            if name not in catalog.MODULES:
                raise MetadataError(f"unknown {side} {name!r}")
        if not api_name.replace("_", "").isalnum() or not api_name[0].isalpha():
            raise MetadataError(f"{api_name!r} is not an API name (letters, digits and underscores)")
        if api_name in self.related_lists.get(parent, {}):
            raise MetadataError(f"{parent} already has a related list {api_name!r}")
        if relation is None:
            relation = linking_module or f"{parent}.{api_name}"
        table = self.relations.get(relation)
        if table is None:
            table = self.relations[relation] = (parent, module)
        elif set(table) != {parent, module}:
            raise MetadataError(f"relation {relation!r} links {table[0]} and {table[1]}, not {parent}")
        kind = "multiselectlookup" if linking_module else "default"
        created = RelatedList(
            parent,
            api_name,
            module,
            relation,
            table[0] == parent,
            dict(fields or {}),
            display_label or api_name.replace("_", " "),
            kind,
            linking_module,
            module if linking_module else None,
            custom=True,
        )
        self._register(created)
        if reverse_api_name is not None:
            reverse = replace(
                created,
                parent=module,
                api_name=reverse_api_name,
                module=parent,
                parent_is_first=table[0] == module,
                display_label=reverse_api_name.replace("_", " "),
                connected_module=parent if linking_module else None,
            )
            if reverse_api_name in self.related_lists.get(module, {}):
                raise MetadataError(f"{module} already has a related list {reverse_api_name!r}")
            self._register(reverse)
        return created

    # --- contact roles and external fields ------------------------------------------------------

    def add_contact_role(self, name: str, role_id: str | None = None) -> ContactRole:
        """Add (or rename) a contact role; returns it."""
        rid = role_id or self._new_id(500 + len(self.contact_roles))
        if not rid.isdigit():
            raise MetadataError(f"contact role id must be digits, got {rid!r}")
        role = ContactRole(rid, name, len(self.contact_roles) + 1)
        self.contact_roles[rid] = role
        return role

    def add_external_field(self, module: str, field_name: str) -> None:
        """Declare ``field_name`` an external field of ``module``."""
        if module not in catalog.MODULES:
            raise MetadataError(f"unknown module {module!r}")
        self.external_fields.setdefault(module, set()).add(field_name)

    def is_external(self, module: str, field_name: str) -> bool:
        """Whether ``field_name`` is an external field of ``module``."""
        return field_name in self.external_fields.get(module, ())
