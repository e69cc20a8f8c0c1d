"""Handlers of the admin API under ``/__emulator__/``: seed, configure, inject faults, inspect,
reset. Each is named after its HTTP method and path (``post_records`` answers ``POST records``).

All bodies and answers are JSON; errors are ``{"error": "..."}`` with HTTP 400 (bad input) or 404
(unknown path or record). ``routes.ADMIN_ROUTES`` maps paths to these handlers;
:class:`~airflow_provider_zohorel.emulator.admin_client.EmulatorAdmin` is the typed Python client.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, Protocol, TypeVar

import msgspec

from airflow_provider_zohorel.emulator.model import catalog
from airflow_provider_zohorel.emulator.model.accounts import AccountsError
from airflow_provider_zohorel.emulator.model.config import config_to_dict, patched
from airflow_provider_zohorel.emulator.model.metadata import MetadataError
from airflow_provider_zohorel.emulator.model.records import RecordError
from airflow_provider_zohorel.emulator.model.seed import (
    ClientSeed,
    ContactRoleSeed,
    NoteSeed,
    RecordSeed,
    RefreshTokenSeed,
    RelatedListSeed,
    RelationSeed,
    SeedError,
    UserSeed,
    add_notes,
    add_records,
    add_related_list,
    add_relation,
    apply_seed,
    load_admin_seed,
    parse_seed,
)
from airflow_provider_zohorel.emulator.model.state import EmulatorState
from airflow_provider_zohorel.emulator.model.users import Permissions
from airflow_provider_zohorel.emulator.wire.asgi_io import Reply, Scope, json_reply, query_params

_STARTED = time.monotonic()

T = TypeVar("T")


class AdminError(Exception):
    """A refused admin request."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class GrantCodeRequest(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Body of ``POST grant_codes``."""

    client_id: str
    code: str | None = None
    scopes: list[str] | None = None
    user_id: str | None = None


class TokenSelector(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Body of ``POST tokens/expire``, ``tokens/revoke`` and ``tokens/revoke_access``."""

    refresh_token: str | None = None
    access_token: str | None = None


class ClockAdvance(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Body of ``POST clock/advance``."""

    seconds: float


class ResetRequest(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Body of ``POST reset``: optionally a seed (bundled name or document) to load afterwards."""

    seed: str | dict[str, Any] | None = None


def _decode(body: bytes, kind: type[T]) -> T:
    try:
        return msgspec.json.decode(body or b"{}", type=kind)
    except (msgspec.ValidationError, msgspec.DecodeError) as exc:
        raise AdminError(400, str(exc)) from exc


def _json_object(body: bytes) -> dict[str, Any]:
    try:
        value = msgspec.json.decode(body or b"{}")
    except msgspec.DecodeError as exc:
        raise AdminError(400, str(exc)) from exc
    if not isinstance(value, dict):
        raise AdminError(400, "expected a JSON object")
    return value


#: An admin handler: (state, scope, body, *path arguments) -> JSON-ready answer.
AdminHandler = Callable[..., Any]


def get_health(state: EmulatorState, scope: Scope, body: bytes) -> Any:
    """``GET health``: liveness."""
    return {"status": "ok", "uptime_s": round(time.monotonic() - _STARTED, 3)}


def get_summary(state: EmulatorState, scope: Scope, body: bytes) -> Any:
    """``GET summary``: how much is seeded."""
    return {
        "records": state.records.counts(),
        "relations": state.links.count,
        "users": len(state.users.users),
        "clients": len(state.accounts.clients),
        "refresh_tokens": sum(1 for g in state.accounts.grants.values() if g.is_refresh_token),
    }


class StateHolder(Protocol):
    """What owns the current state (the ASGI app); a reset replaces ``state``. ``seed_dir`` is the
    only directory seed files are loaded from by name (None: bundled seeds only)."""

    state: EmulatorState
    seed_dir: str | None


def post_reset(holder: StateHolder, scope: Scope, body: bytes) -> Any:
    """``POST reset``: empty state, startup config, no faults, zero counters; then an optional seed
    (a bundled name, a file name in the seed directory, or a seed document)."""
    request = _decode(body, ResetRequest)
    doc = None
    if request.seed is not None:
        seed = request.seed
        doc = load_admin_seed(seed, holder.seed_dir) if isinstance(seed, str) else parse_seed(seed)
    state = holder.state.fresh()
    created = apply_seed(state, doc) if doc is not None else None
    holder.state = state
    return {"status": "ok", "seed": created}


def get_config(state: EmulatorState, scope: Scope, body: bytes) -> Any:
    """``GET config``."""
    return config_to_dict(state.config)


def patch_config(state: EmulatorState, scope: Scope, body: bytes) -> Any:
    """``PATCH config``: change some settings; answers the whole new configuration."""
    try:
        state.config = patched(state.config, _json_object(body))
    except msgspec.ValidationError as exc:
        raise AdminError(400, str(exc)) from exc
    return config_to_dict(state.config)


def post_users(state: EmulatorState, scope: Scope, body: bytes) -> Any:
    """``POST users``: create or update a user."""
    seed = _decode(body, UserSeed)
    user = state.users.upsert(
        seed.id,
        email=seed.email,
        full_name=seed.full_name,
        profile=seed.profile,
        role=seed.role,
        permissions=seed.permissions,
    )
    return user.to_dict()


def get_users(state: EmulatorState, scope: Scope, body: bytes) -> Any:
    """``GET users``."""
    return {"users": [u.to_dict() for u in state.users.users.values()]}


def put_user_permissions(state: EmulatorState, scope: Scope, body: bytes, user_id: str) -> Any:
    """``PUT users/{id}/permissions``: replace a user's permissions."""
    user = state.users.get(user_id)
    if user is None:
        raise AdminError(404, f"unknown user {user_id}")
    user.set_permissions(_decode(body, Permissions))
    return user.to_dict()


def post_clients(state: EmulatorState, scope: Scope, body: bytes) -> Any:
    """``POST clients``: register a client (and optional refresh tokens)."""
    seed = _decode(body, ClientSeed)
    if seed.user_id is not None and state.users.get(seed.user_id) is None:
        state.users.upsert(seed.user_id)
    user_id = seed.user_id or state.default_admin().id
    client = state.accounts.add_client(user_id, seed.client_id, seed.client_secret, seed.scopes)
    tokens = [state.accounts.add_refresh_token(client.client_id, t).key for t in seed.refresh_tokens]
    # The caller set or is given these secrets now; listings afterwards show only labels.
    return {**client.to_dict(reveal_secret=True), "refresh_tokens": tokens}


def get_clients(state: EmulatorState, scope: Scope, body: bytes) -> Any:
    """``GET clients``: secrets appear as labels only (``client_secret_label``)."""
    return {"clients": [c.to_dict() for c in state.accounts.clients.values()]}


def post_refresh_tokens(state: EmulatorState, scope: Scope, body: bytes) -> Any:
    """``POST refresh_tokens``: issue a refresh token (generated unless given)."""
    seed = _decode(body, RefreshTokenSeed)
    if seed.user_id is not None and state.users.get(seed.user_id) is None:
        state.users.upsert(seed.user_id)
    grant = state.accounts.add_refresh_token(seed.client_id, seed.refresh_token, seed.scopes, seed.user_id)
    return {
        "refresh_token": grant.key,
        "client_id": grant.client_id,
        "scopes": list(grant.scopes),
        "user_id": grant.user_id,
    }


def post_grant_codes(state: EmulatorState, scope: Scope, body: bytes) -> Any:
    """``POST grant_codes``: issue a single-use authorization code."""
    request = _decode(body, GrantCodeRequest)
    code = state.accounts.add_grant_code(request.client_id, request.code, request.scopes, request.user_id)
    return {"code": code.code, "client_id": code.client_id, "scopes": list(code.scopes)}


def post_records(state: EmulatorState, scope: Scope, body: bytes) -> Any:
    """``POST records``: records by ``ids``, ``range`` or ``count``; answers their ids."""
    module, ids = add_records(state, _decode(body, RecordSeed))
    return {"module": module, "ids": ids}


def get_records(state: EmulatorState, scope: Scope, body: bytes) -> Any:
    """``GET records?module=Leads``: ids of one module."""
    module = catalog.module_for_seeding(query_params(scope).get("module", ""))
    if module is None:
        raise AdminError(400, "give ?module=<known module>")
    ids = [rid for rid, _ in state.records.of_module(module)]
    return {"module": module, "count": len(ids), "ids": ids}


def get_record(state: EmulatorState, scope: Scope, body: bytes, record_id: str) -> Any:
    """``GET records/{id}``: one record with its fields."""
    record = state.records.get(record_id)
    if record is None:
        raise AdminError(404, f"unknown record {record_id}")
    return {"id": record_id, "module": record.module, "fields": record.fields}


def post_notes(state: EmulatorState, scope: Scope, body: bytes) -> Any:
    """``POST notes``: notes under a seeded parent; answers their ids."""
    return {"ids": add_notes(state, _decode(body, NoteSeed))}


def get_notes(state: EmulatorState, scope: Scope, body: bytes) -> Any:
    """``GET notes?parent_id=X``: notes of one parent."""
    parent_id = query_params(scope).get("parent_id")
    notes = [
        {"id": rid, **record.fields}
        for rid, record in state.records.of_module("Notes")
        if parent_id is None or record.fields.get("Parent_Id", {}).get("id") == parent_id
    ]
    return {"notes": notes}


def post_relations(state: EmulatorState, scope: Scope, body: bytes) -> Any:
    """``POST relations``: create or update a link directly (no API call, no limits)."""
    return {"added": add_relation(state, _decode(body, RelationSeed))}


def get_relations(state: EmulatorState, scope: Scope, body: bytes) -> Any:
    """``GET relations?id=X[&related=Module]``: links of a record, from either side."""
    params = query_params(scope)
    record_id = params.get("id", "")
    record = state.records.get(record_id)
    if record is None:
        raise AdminError(404, f"unknown record {record_id!r}")
    wanted = catalog.module_for_seeding(params["related"]) if "related" in params else None
    relations = []
    for name, partner, fields in state.links.of_record(record_id):
        partner_record = state.records.get(partner)
        module = partner_record.module if partner_record is not None else None
        if wanted is not None and module != wanted:
            continue
        relations.append({"relation": name, "module": module, "id": partner, "fields": fields})
    return {"id": record_id, "module": record.module, "relations": relations}


EXPORT_COLUMNS = ["relation", "first_module", "first_id", "second_module", "second_id", "fields"]


def get_relations_export(state: EmulatorState, scope: Scope, body: bytes) -> Any:
    """``GET relations/export[?relation=Campaigns-Leads]``: every link, as compact rows."""
    relation = query_params(scope).get("relation")
    rows = []
    tables = state.metadata.relations
    for name, first, second, fields in state.links.rows(relation):
        first_module, second_module = tables[name]
        rows.append([name, first_module, first, second_module, second, fields])
    return {"count": len(rows), "columns": EXPORT_COLUMNS, "rows": rows}


def get_counters(state: EmulatorState, scope: Scope, body: bytes) -> Any:
    """``GET counters``."""
    return state.counters_snapshot()


def post_counters_reset(state: EmulatorState, scope: Scope, body: bytes) -> Any:
    """``POST counters/reset``."""
    state.reset_counters()
    return state.counters_snapshot()


def get_faults(state: EmulatorState, scope: Scope, body: bytes) -> Any:
    """``GET faults``."""
    return state.faults.to_dict()


def put_faults(state: EmulatorState, scope: Scope, body: bytes) -> Any:
    """``PUT faults``: merge into the fault plan; answers the whole plan."""
    try:
        state.faults.update(_json_object(body))
    except msgspec.ValidationError as exc:
        raise AdminError(400, str(exc)) from exc
    return state.faults.to_dict()


def delete_faults(state: EmulatorState, scope: Scope, body: bytes) -> Any:
    """``DELETE faults``."""
    state.faults.clear()
    return state.faults.to_dict()


def post_tokens_expire(state: EmulatorState, scope: Scope, body: bytes) -> Any:
    """``POST tokens/expire``: expire all access tokens now (or those of one refresh token)."""
    request = _decode(body, TokenSelector)
    return {"expired": state.accounts.expire_tokens(request.refresh_token)}


def post_tokens_revoke(state: EmulatorState, scope: Scope, body: bytes) -> Any:
    """``POST tokens/revoke``: revoke a refresh token and its access tokens (``refresh_token``),
    or one access token (``access_token``: later calls with it answer INVALID_OAUTHTOKEN)."""
    request = _decode(body, TokenSelector)
    token = request.refresh_token or request.access_token
    if not token or (request.refresh_token and request.access_token):
        raise AdminError(400, "give refresh_token or access_token")
    return {"revoked": state.accounts.revoke(token)}


def post_tokens_revoke_access(state: EmulatorState, scope: Scope, body: bytes) -> Any:
    """``POST tokens/revoke_access``: revoke every live access token (or one refresh token's),
    keeping the refresh tokens; answers how many."""
    request = _decode(body, TokenSelector)
    if request.access_token:
        raise AdminError(400, "revoke one access token with POST tokens/revoke")
    return {"revoked": state.accounts.revoke_access_tokens(request.refresh_token)}


def post_related_lists(state: EmulatorState, scope: Scope, body: bytes) -> Any:
    """``POST related_lists``: add a custom, linking-module or renamed related list."""
    add_related_list(state, _decode(body, RelatedListSeed))
    return {"status": "ok"}


def post_contact_roles(state: EmulatorState, scope: Scope, body: bytes) -> Any:
    """``POST contact_roles``: add a contact role; answers it with its id."""
    seed = _decode(body, ContactRoleSeed)
    role = state.metadata.add_contact_role(seed.name, seed.id)
    return {"id": role.id, "name": role.name, "sequence_number": role.sequence_number}


def post_seed(holder: StateHolder, scope: Scope, body: bytes) -> Any:
    """``POST seed`` (a seed document) or ``POST seed?name=demo`` (a bundled seed, or a file name
    in the seed directory)."""
    name = query_params(scope).get("name")
    doc = load_admin_seed(name, holder.seed_dir) if name else parse_seed(body)
    return apply_seed(holder.state, doc)


def post_clock_advance(state: EmulatorState, scope: Scope, body: bytes) -> Any:
    """``POST clock/advance``: move emulator time forward (token expiry, windows)."""
    request = _decode(body, ClockAdvance)
    if request.seconds < 0:
        raise AdminError(400, "time only moves forward")
    return {"offset_s": state.clock.advance(request.seconds)}


#: Handlers that need the app (to replace its state, or to know its seed directory).
_TAKE_THE_APP: frozenset[AdminHandler] = frozenset({post_reset, post_seed})


def run_admin(
    holder: StateHolder, scope: Scope, body: bytes, handler: AdminHandler, args: tuple[str, ...]
) -> Reply:
    """Run an admin handler and turn refusals into ``{"error": ...}`` answers."""
    try:
        if handler in _TAKE_THE_APP:
            return json_reply(200, handler(holder, scope, body))
        return json_reply(200, handler(holder.state, scope, body, *args))
    except AdminError as exc:
        return json_reply(exc.status, {"error": exc.message})
    except (SeedError, AccountsError, RecordError, MetadataError) as exc:
        return json_reply(400, {"error": str(exc)})
