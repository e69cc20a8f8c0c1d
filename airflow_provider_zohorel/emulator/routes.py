"""URLs -> handlers: which part of the emulator answers a path, and with which function.

Three families share one base URL, as Zoho's accounts server and CRM API share nothing else:
``/oauth/v2/token`` (and ``/revoke``) for Accounts, ``/crm/{version}/...`` for the CRM API, and
``/__emulator__/...`` for the admin API (no Zoho path starts with it).
"""

from __future__ import annotations

from dataclasses import dataclass

from airflow_provider_zohorel.emulator import errors
from airflow_provider_zohorel.emulator.model import catalog
from airflow_provider_zohorel.emulator.wire import admin_responses as admin
from airflow_provider_zohorel.emulator.wire import crm_responses
from airflow_provider_zohorel.emulator.wire.admin_responses import AdminHandler
from airflow_provider_zohorel.emulator.wire.crm_gate import Handler

CRM_PREFIX = "/crm/"
ADMIN_PREFIX = "/__emulator__/"
TOKEN_PATH = "/oauth/v2/token"  # noqa: S105
REVOKE_PATH = "/oauth/v2/token/revoke"
#: A Vertical Solutions portal's token endpoint: ``{Accounts_URL}/clientoauth/v2/{PORTAL_ID}/token``
#: (zoho.com/developer/docs/vertical-solutions/api/v6/access-refresh.html).
PORTAL_TOKEN_PREFIX = "/clientoauth/v2/"  # noqa: S105

_RELATED_RECORDS: dict[str, Handler] = {
    "GET": crm_responses.get_related_records,
    "PUT": crm_responses.put_related_records,
    "DELETE": crm_responses.delete_related_records,
}
#: Path templates of the related-records routes (Zoho's spec writes them so, v8.0/related_records).
BULK_TEMPLATE = "/crm/{version}/{module}/{record}/{related_list}"
SINGLE_TEMPLATE = "/crm/{version}/{module}/{record}/{related_list}/{related_record}"
#: Fixed CRM paths: (first, second) -> (counter label, handlers).
_FIXED: dict[tuple[str, ...], tuple[str, dict[str, Handler]]] = {
    ("users",): ("crm.users", {"GET": crm_responses.get_users}),
    ("org",): ("crm.org", {"GET": crm_responses.get_org}),
    ("settings", "related_lists"): ("crm.settings.related_lists", {"GET": crm_responses.get_related_lists}),
    ("settings", "fields"): ("crm.settings.fields", {"GET": crm_responses.get_fields}),
    ("Contacts", "roles"): ("crm.contact_roles", {"GET": crm_responses.get_contact_roles}),
}


@dataclass(frozen=True, slots=True)
class CrmRoute:
    """A matched ``/crm/{version}/...`` path."""

    #: Label for the counters (``crm.related_records.bulk``, ...).
    endpoint: str
    version: str
    #: Path parts after the version.
    parts: list[str]
    #: HTTP method -> handler; any other method is INVALID_REQUEST_METHOD.
    handlers: dict[str, Handler]
    #: The path with its variable parts named (``/crm/{version}/{module}/...``), for recordings.
    template: str


def match_crm(path: str) -> CrmRoute:
    """The route of a CRM path, or INVALID_URL_PATTERN (wrong shape or unknown API version)."""
    parts = path.split("/")
    # ["", "crm", version, ...]
    if len(parts) < 4 or parts[2] not in catalog.SUPPORTED_VERSIONS:
        raise errors.invalid_url_pattern()
    version = parts[2]
    rest = parts[3:]
    if rest and rest[-1] == "":
        rest.pop()
    if "" in rest:
        raise errors.invalid_url_pattern()
    size = len(rest)
    if size == 3:
        return CrmRoute("crm.related_records.bulk", version, rest, _RELATED_RECORDS, BULK_TEMPLATE)
    if size == 4:
        return CrmRoute("crm.related_records.single", version, rest, _RELATED_RECORDS, SINGLE_TEMPLATE)
    fixed = _FIXED.get(tuple(rest))
    if fixed is not None:
        return CrmRoute(fixed[0], version, rest, fixed[1], "/crm/{version}/" + "/".join(rest))
    raise errors.invalid_url_pattern()


#: Admin API: (method, path under ``/__emulator__/``) -> handler.
ADMIN_ROUTES: dict[tuple[str, str], AdminHandler] = {
    ("GET", "health"): admin.get_health,
    ("GET", "summary"): admin.get_summary,
    ("POST", "reset"): admin.post_reset,
    ("GET", "config"): admin.get_config,
    ("PATCH", "config"): admin.patch_config,
    ("POST", "users"): admin.post_users,
    ("GET", "users"): admin.get_users,
    ("POST", "clients"): admin.post_clients,
    ("GET", "clients"): admin.get_clients,
    ("POST", "refresh_tokens"): admin.post_refresh_tokens,
    ("POST", "grant_codes"): admin.post_grant_codes,
    ("POST", "records"): admin.post_records,
    ("GET", "records"): admin.get_records,
    ("POST", "notes"): admin.post_notes,
    ("GET", "notes"): admin.get_notes,
    ("POST", "relations"): admin.post_relations,
    ("GET", "relations"): admin.get_relations,
    ("GET", "relations/export"): admin.get_relations_export,
    ("GET", "counters"): admin.get_counters,
    ("POST", "counters/reset"): admin.post_counters_reset,
    ("GET", "faults"): admin.get_faults,
    ("PUT", "faults"): admin.put_faults,
    ("DELETE", "faults"): admin.delete_faults,
    ("POST", "tokens/expire"): admin.post_tokens_expire,
    ("POST", "tokens/revoke"): admin.post_tokens_revoke,
    ("POST", "tokens/revoke_access"): admin.post_tokens_revoke_access,
    ("POST", "related_lists"): admin.post_related_lists,
    ("POST", "contact_roles"): admin.post_contact_roles,
    ("POST", "seed"): admin.post_seed,
    ("POST", "clock/advance"): admin.post_clock_advance,
}


def match_admin(method: str, path: str) -> tuple[AdminHandler, tuple[str, ...]] | None:
    """The admin handler and its path arguments for ``method /__emulator__/...``, or None."""
    sub = path[len(ADMIN_PREFIX) :].strip("/")
    handler = ADMIN_ROUTES.get((method, sub))
    if handler is not None:
        return handler, ()
    parts = sub.split("/")
    if method == "GET" and len(parts) == 2 and parts[0] == "records":
        return admin.get_record, (parts[1],)
    if method == "PUT" and len(parts) == 3 and parts[0] == "users" and parts[2] == "permissions":
        return admin.put_user_permissions, (parts[1],)
    return None


def match_portal_token(path: str) -> str | None:
    """The portal id of a Vertical Solutions token path, or None."""
    if not path.startswith(PORTAL_TOKEN_PREFIX) or not path.endswith("/token"):
        return None
    portal = path[len(PORTAL_TOKEN_PREFIX) : -len("/token")]
    return portal if portal and "/" not in portal and len(portal) <= 64 else None
