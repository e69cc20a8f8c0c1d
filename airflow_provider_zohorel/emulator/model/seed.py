"""The seed document: users, clients, tokens, related lists, records, notes and links in one JSON.

Loaded at start (``--seed demo|PATH``) or through the admin API (``POST /__emulator__/seed``).
Record sets may be given as explicit ``ids``, an inclusive id ``range`` or a ``count`` of
generated ids, so a seed for 100,000 records stays one line. Format::

    {
      "config": {"concurrency_limit": 10},
      "faults": {"error_500_next": 1},
      "users": [{"id": "...", "email": "...", "full_name": "...", "permissions": {...}}],
      "clients": [{"client_id": "...", "client_secret": "...", "scopes": ["ZohoCRM.modules.ALL"],
                   "user_id": "...", "refresh_tokens": ["1000.x.y"]}],
      "refresh_tokens": [{"client_id": "...", "refresh_token": "...", "scopes": [...], "user_id": "..."}],
      "related_lists": [{"module": "Leads", "api_name": "Related_List_Name_2", "related_module": "Contacts",
                         "linking_module": "Leads_X_Contacts", "reverse_api_name": "Leads_Linked",
                         "fields": {"Role__c": "text"}, "mandatory": []}],
      "contact_roles": [{"name": "Purchasing"}],
      "records": [{"module": "Leads", "ids": ["..."]}, {"module": "Leads", "range": ["...", "..."]},
                  {"module": "Deals", "count": 1000, "fields": {...}},
                  {"module": "Contacts", "count": 3, "external": {"field": "External_Contact_ID",
                                                                   "prefix": "extcontact"}}],
      "notes": [{"parent_module": "Leads", "parent_id": "...", "range": ["...", "..."],
                 "fields": {"Note_Title": "...", "Note_Content": "..."}}],
      "relations": [{"module": "Leads", "id": "...", "related_list": "Campaigns", "related_id": "...",
                     "fields": {"Member_Status": "Active"}}]
    }
"""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import Any

import msgspec

from airflow_provider_zohorel.emulator.model import catalog
from airflow_provider_zohorel.emulator.model.catalog import FieldKind, JunctionField
from airflow_provider_zohorel.emulator.model.config import patched
from airflow_provider_zohorel.emulator.model.metadata import MetadataError
from airflow_provider_zohorel.emulator.model.records import RecordError, id_range, normalise_id
from airflow_provider_zohorel.emulator.model.state import EmulatorState
from airflow_provider_zohorel.emulator.model.users import Permissions

#: Names of seeds bundled in ``airflow_provider_zohorel/emulator/seeds/``.
BUNDLED_SEEDS = ("demo",)

RecordId = str | int


class SeedError(ValueError):
    """A seed that cannot be applied; the message says which entry and why."""


class UserSeed(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """A CRM user."""

    id: str | None = None
    email: str | None = None
    full_name: str | None = None
    profile: str | None = None
    role: str | None = None
    permissions: Permissions | None = None


class ClientSeed(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """An OAuth client; ``user_id`` defaults to the emulator's administrator."""

    client_id: str | None = None
    client_secret: str | None = None
    scopes: list[str] = msgspec.field(default_factory=lambda: ["ZohoCRM.modules.ALL"])
    user_id: str | None = None
    refresh_tokens: list[str] = msgspec.field(default_factory=list)


class RefreshTokenSeed(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """A refresh token for an already seeded client (generated when ``refresh_token`` is None)."""

    client_id: str
    refresh_token: str | None = None
    scopes: list[str] | None = None
    user_id: str | None = None


class ExternalSeed(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Values of an external field (``X-EXTERNAL: {Module}.{field}``) for a record set: one
    value per record, in order (``values``), or ``prefix`` + 1, 2, 3, ..."""

    field: str
    values: list[str] | None = None
    prefix: str | None = None


class RecordSeed(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Records of one module: exactly one of ``ids``, ``range`` (inclusive) or ``count``."""

    module: str
    ids: list[RecordId] | None = None
    range: list[RecordId] | None = None
    count: int | None = None
    fields: dict[str, Any] | None = None
    external: ExternalSeed | None = None


class NoteSeed(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Notes attached to one parent record: exactly one of ``ids``, ``range`` or ``count``."""

    parent_module: str
    parent_id: RecordId
    ids: list[RecordId] | None = None
    range: list[RecordId] | None = None
    count: int | None = None
    fields: dict[str, Any] | None = None


class RelationSeed(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """A link to create directly (no API call, no limits)."""

    module: str
    id: RecordId
    related_list: str
    related_id: RecordId
    fields: dict[str, Any] = msgspec.field(default_factory=dict)


class RelatedListSeed(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """A related list of the org beyond the defaults: custom, linking-module or renamed.

    ``fields`` maps junction field names to their kind (``text``, ``number``, ``boolean``,
    ``contact_role``, ``any``); ``mandatory`` names those every item must carry. ``relation``
    shares the links of an existing list (a renamed copy of ``Leads.Campaigns`` uses relation
    ``Campaigns-Leads``); ``reverse_api_name`` adds the same list on the other module too.
    """

    module: str
    api_name: str
    related_module: str
    display_label: str | None = None
    linking_module: str | None = None
    reverse_api_name: str | None = None
    relation: str | None = None
    fields: dict[str, FieldKind] = msgspec.field(default_factory=dict)
    mandatory: list[str] = msgspec.field(default_factory=list)


class ContactRoleSeed(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """A contact role of the org (generated id unless given)."""

    name: str
    id: str | None = None


class SeedDocument(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """A whole seed; every part is optional."""

    config: dict[str, Any] | None = None
    #: A fault plan (``FaultSettings`` fields), e.g. ``{"random": {"probability": 0.05, "seed": 1}}``.
    faults: dict[str, Any] | None = None
    users: list[UserSeed] = msgspec.field(default_factory=list)
    clients: list[ClientSeed] = msgspec.field(default_factory=list)
    refresh_tokens: list[RefreshTokenSeed] = msgspec.field(default_factory=list)
    records: list[RecordSeed] = msgspec.field(default_factory=list)
    notes: list[NoteSeed] = msgspec.field(default_factory=list)
    related_lists: list[RelatedListSeed] = msgspec.field(default_factory=list)
    contact_roles: list[ContactRoleSeed] = msgspec.field(default_factory=list)
    relations: list[RelationSeed] = msgspec.field(default_factory=list)


def bundled_seed_text(name: str) -> str:
    """The JSON text of a bundled seed (``demo``)."""
    if name not in BUNDLED_SEEDS:
        raise SeedError(f"no bundled seed named {name!r}; bundled: {', '.join(BUNDLED_SEEDS)}")
    return resources.files("airflow_provider_zohorel.emulator").joinpath(f"seeds/{name}.json").read_text()


def parse_seed(data: bytes | str | dict[str, Any]) -> SeedDocument:
    """Validate a seed given as JSON text or as a decoded dict."""
    try:
        if isinstance(data, dict):
            return msgspec.convert(data, SeedDocument)
        return msgspec.json.decode(data, type=SeedDocument)
    except (msgspec.ValidationError, msgspec.DecodeError) as exc:
        raise SeedError(f"invalid seed: {exc}") from exc


def load_seed_source(source: str | Path) -> SeedDocument:
    """A bundled seed by name, or a seed file by path."""
    if isinstance(source, str) and source in BUNDLED_SEEDS:
        return parse_seed(bundled_seed_text(source))
    path = Path(source)
    if not path.is_file():
        raise SeedError(f"seed {str(source)!r} is neither a bundled seed nor a file")
    return parse_seed(path.read_bytes())


#: Largest seed file the admin API reads from the seed directory.
MAX_SEED_FILE = 64 * 1024 * 1024


def load_admin_seed(name: str, seed_dir: str | Path | None) -> SeedDocument:
    """A seed the admin API may load by name: a bundled one, or a file inside ``seed_dir``.

    Unlike the command line's ``--seed PATH`` (the operator's own choice), a name arriving over
    HTTP may come from anyone who can reach the port, so it never opens a path of its choosing:
    no absolute path, no ``..``, nothing that resolves (symbolic links included) outside the
    directory, regular files only.
    """
    if name in BUNDLED_SEEDS:
        return parse_seed(bundled_seed_text(name))
    shown = name[:100]
    if seed_dir is None:
        raise SeedError(
            f"seed {shown!r} is not a bundled seed ({', '.join(BUNDLED_SEEDS)}); the admin API loads "
            "seed files only from the directory given with --seed-dir (or send the seed document)"
        )
    relative = Path(name)
    if not name or relative.is_absolute() or ".." in relative.parts or "\0" in name:
        raise SeedError(f"seed {shown!r} must be a file name inside the seed directory")
    root = Path(seed_dir).resolve()
    path = (root / relative).resolve()
    if not path.is_relative_to(root) or not path.is_file():
        raise SeedError(f"seed {shown!r} is not a file in the seed directory")
    if path.stat().st_size > MAX_SEED_FILE:
        raise SeedError(f"seed {shown!r} is larger than {MAX_SEED_FILE} bytes")
    return parse_seed(path.read_bytes())


def bundled_seed_dict(name: str) -> dict[str, Any]:
    """A bundled seed as plain JSON data (used for the package's DEMO_* constants)."""
    result: dict[str, Any] = json.loads(bundled_seed_text(name))
    return result


def _id_set(spec: RecordSeed | NoteSeed, what: str) -> list[RecordId] | int:
    given = [x for x in (spec.ids, spec.range, spec.count) if x is not None]
    if len(given) != 1:
        raise SeedError(f"{what}: give exactly one of 'ids', 'range' or 'count'")
    if spec.count is not None:
        if spec.count < 0:
            raise SeedError(f"{what}: count must not be negative")
        return spec.count
    if spec.range is not None:
        if len(spec.range) != 2:
            raise SeedError(f"{what}: range is [first, last]")
        return [str(i) for i in id_range(spec.range[0], spec.range[1])]
    return list(spec.ids or [])


def apply_seed(state: EmulatorState, doc: SeedDocument) -> dict[str, Any]:
    """Apply a seed to the state; returns what was created (ids only for ``count`` sets)."""
    try:
        return _apply(state, doc)
    except (RecordError, MetadataError, ValueError) as exc:
        raise SeedError(str(exc)) from exc


def _apply(state: EmulatorState, doc: SeedDocument) -> dict[str, Any]:
    summary: dict[str, Any] = {"records": {}, "generated": {}, "refresh_tokens": [], "clients": []}
    if doc.config:
        try:
            state.config = patched(state.config, doc.config)
        except msgspec.ValidationError as exc:
            raise SeedError(f"config: {exc}") from exc
    if doc.faults:
        try:
            state.faults.update(doc.faults)
        except msgspec.ValidationError as exc:
            raise SeedError(f"faults: {exc}") from exc
    for user in doc.users:
        state.users.upsert(
            user.id,
            email=user.email,
            full_name=user.full_name,
            profile=user.profile,
            role=user.role,
            permissions=user.permissions,
        )
    for client in doc.clients:
        user_id = _user_id(state, client.user_id)
        created = state.accounts.add_client(user_id, client.client_id, client.client_secret, client.scopes)
        summary["clients"].append(created.client_id)
        for token in client.refresh_tokens:
            summary["refresh_tokens"].append(state.accounts.add_refresh_token(created.client_id, token).key)
    for rt in doc.refresh_tokens:
        rt_user = _user_id(state, rt.user_id) if rt.user_id else None
        grant = state.accounts.add_refresh_token(rt.client_id, rt.refresh_token, rt.scopes, rt_user)
        summary["refresh_tokens"].append(grant.key)
    for index, rl in enumerate(doc.related_lists):
        add_related_list(state, rl, f"related_lists[{index}]")
    for index, role in enumerate(doc.contact_roles):
        try:
            state.metadata.add_contact_role(role.name, role.id)
        except MetadataError as exc:
            raise SeedError(f"contact_roles[{index}]: {exc}") from exc
    for index, spec in enumerate(doc.records):
        module, created_ids = add_records(state, spec, f"records[{index}]")
        if spec.count is not None:
            summary["generated"].setdefault(module, []).extend(created_ids)
        summary["records"][module] = summary["records"].get(module, 0) + len(created_ids)
    for index, note in enumerate(doc.notes):
        created_ids = add_notes(state, note, f"notes[{index}]")
        summary["records"]["Notes"] = summary["records"].get("Notes", 0) + len(created_ids)
    for index, rel in enumerate(doc.relations):
        add_relation(state, rel, f"relations[{index}]")
    summary["relations"] = len(doc.relations)
    return summary


def _user_id(state: EmulatorState, user_id: str | None) -> str:
    if user_id is None:
        return state.default_admin().id
    if state.users.get(user_id) is None:
        state.users.upsert(user_id)
    return user_id


def add_records(state: EmulatorState, spec: RecordSeed, what: str = "records") -> tuple[str, list[str]]:
    """Create the records of one spec; returns (canonical module, ids)."""
    module = catalog.module_for_seeding(spec.module)
    if module is None:
        raise SeedError(f"{what}: unknown module {spec.module!r}")
    ids = _id_set(spec, what)
    now = state.clock.wall()
    if isinstance(ids, int):
        created = state.records.generate(module, ids, spec.fields, now)
    else:
        created = state.records.add_many(module, ids, spec.fields, now)
    if spec.external is not None:
        ext = spec.external
        if (ext.values is None) == (ext.prefix is None):
            raise SeedError(f"{what}: external needs exactly one of 'values' or 'prefix'")
        values = (
            ext.values if ext.values is not None else [f"{ext.prefix}{n}" for n in range(1, len(created) + 1)]
        )
        try:
            state.metadata.add_external_field(module, ext.field)
            state.records.set_external(module, ext.field, created, values)
        except (RecordError, MetadataError) as exc:
            raise SeedError(f"{what}: {exc}") from exc
    return module, created


def add_notes(state: EmulatorState, spec: NoteSeed, what: str = "notes") -> list[str]:
    """Create notes under an existing parent record (any record module); returns their ids."""
    parent_module = catalog.module_for_seeding(spec.parent_module)
    parent_id = normalise_id(spec.parent_id)
    if parent_module not in catalog.RECORD_MODULES or parent_id is None:
        raise SeedError(f"{what}: notes need a parent record of a record module, not {spec.parent_module!r}")
    parent = state.records.get(parent_id)
    if parent is None or parent.module != parent_module:
        raise SeedError(f"{what}: parent {parent_module} {parent_id} is not seeded")
    ids = _id_set(spec, what)
    base = {"Note_Title": None, "Note_Content": None, **(spec.fields or {})}
    now = state.clock.wall()
    if isinstance(ids, int):
        created = state.records.generate("Notes", ids, None, now)
    else:
        created = state.records.add_many("Notes", ids, None, now)
    for nid in created:
        record = state.records.records[nid]
        record.fields = {**base, "Parent_Id": {"id": parent_id}, "$se_module": parent_module}
    return created


def add_related_list(state: EmulatorState, spec: RelatedListSeed, what: str = "related list") -> None:
    """Add a custom (linking-module, renamed) related list to the org."""
    unknown = set(spec.mandatory) - set(spec.fields)
    if unknown:
        raise SeedError(f"{what}: mandatory {sorted(unknown)} are not among its fields")
    fields = {name: JunctionField(name, kind, name in spec.mandatory) for name, kind in spec.fields.items()}
    parent = catalog.module_for_seeding(spec.module) or spec.module
    related = catalog.module_for_seeding(spec.related_module) or spec.related_module
    try:
        state.metadata.add_custom_list(
            parent,
            spec.api_name,
            related,
            fields=fields,
            display_label=spec.display_label,
            linking_module=spec.linking_module,
            reverse_api_name=spec.reverse_api_name,
            relation=spec.relation,
        )
    except MetadataError as exc:
        raise SeedError(f"{what}: {exc}") from exc


def add_relation(state: EmulatorState, spec: RelationSeed, what: str = "relation") -> bool:
    """Create or update a link directly through a related list; returns True when it is new."""
    parent_module = catalog.module_for_seeding(spec.module)
    related_list = state.metadata.find_list(parent_module, spec.related_list, "v8") if parent_module else None
    if related_list is None or related_list.relation is None or parent_module is None:
        raise SeedError(f"{what}: {spec.module} has no related list {spec.related_list!r} to link")
    parent_id, related_id = normalise_id(spec.id), normalise_id(spec.related_id)
    for module, rid in ((parent_module, parent_id), (related_list.module, related_id)):
        record = state.records.get(rid) if rid else None
        if record is None or record.module != module:
            raise SeedError(f"{what}: {module} {rid} is not seeded")
    assert parent_id is not None
    assert related_id is not None
    unknown = set(spec.fields) - set(related_list.fields)
    if unknown:
        raise SeedError(f"{what}: {sorted(unknown)} are not fields of {spec.module}.{related_list.api_name}")
    key = (parent_id, related_id) if related_list.parent_is_first else (related_id, parent_id)
    return state.links.upsert(related_list.relation, key[0], key[1], spec.fields)
