"""HTTP face of the CRM API under ``/crm/{version}/``: URL shape, authentication, limits,
latency and faults, then dispatch to Update Related Records, users or org.

Order for every request: URL pattern (404) -> Authorization (401) -> admission under the
concurrency cap and credit budget (429, not counted) -> latency and injected faults inside the
counted window -> method (400) -> the endpoint's own checks. The request leaves the concurrency
window before its response is sent.
"""

from __future__ import annotations

import asyncio
import random
from typing import Any

from airflow_provider_zohorel.emulator import catalog, errors
from airflow_provider_zohorel.emulator.accounts import AccessToken
from airflow_provider_zohorel.emulator.errors import ZohoError
from airflow_provider_zohorel.emulator.http_io import DROP, Reply, Scope, header, json_reply, query_params
from airflow_provider_zohorel.emulator.related_records import update_related_records
from airflow_provider_zohorel.emulator.state import EmulatorState
from airflow_provider_zohorel.emulator.users import User

_jitter = random.Random()


def _error_reply(error: ZohoError, headers: list[tuple[bytes, bytes]] | None = None) -> Reply:
    return json_reply(error.status, error.body(), headers)


def parse_path(path: str) -> tuple[str, str, list[str]]:
    """(endpoint label, version, path parts after the version), or INVALID_URL_PATTERN."""
    parts = path.split("/")
    # ["", "crm", version, ...]
    if len(parts) < 4 or parts[2] not in catalog.SUPPORTED_VERSIONS:
        raise errors.invalid_url_pattern()
    rest = parts[3:]
    if rest and rest[-1] == "":
        rest.pop()
    if "" in rest:
        raise errors.invalid_url_pattern()
    if len(rest) == 3:
        return "crm.related_records.bulk", parts[2], rest
    if len(rest) == 4:
        return "crm.related_records.single", parts[2], rest
    if rest == ["users"]:
        return "crm.users", parts[2], rest
    if rest == ["org"]:
        return "crm.org", parts[2], rest
    raise errors.invalid_url_pattern()


def authenticate(state: EmulatorState, scope: Scope) -> tuple[AccessToken, User]:
    """The caller's token and user, or AUTHENTICATION_FAILURE / INVALID_TOKEN."""
    value = header(scope, b"authorization")
    scheme, _, token = (value or "").partition(" ")
    scheme = scheme.lower()
    token = token.strip()
    config = state.config
    if not token or not (scheme == "zoho-oauthtoken" or (scheme == "bearer" and config.accept_bearer)):
        raise ZohoError(401, "AUTHENTICATION_FAILURE", errors.MSG_AUTHENTICATION_FAILURE)
    access = state.accounts.authenticate(token)
    user = state.users.get(access.grant.user_id) if access is not None else None
    if access is None or user is None:
        if config.bad_token_code == "AUTHENTICATION_FAILURE":  # noqa: S105
            raise ZohoError(401, "AUTHENTICATION_FAILURE", errors.MSG_AUTHENTICATION_FAILURE)
        raise ZohoError(401, "INVALID_TOKEN", errors.MSG_INVALID_TOKEN)
    return access, user


async def handle_crm(state: EmulatorState, scope: Scope, body: bytes) -> tuple[str, Reply]:
    """Answer a ``/crm/...`` request; returns (endpoint label for counters, reply)."""
    try:
        endpoint, version, parts = parse_path(scope["path"])
    except ZohoError as error:
        return "crm.invalid_url", _error_reply(error)
    try:
        access, user = authenticate(state, scope)
    except ZohoError as error:
        return endpoint, _error_reply(error)
    counters = state.counters
    counters.crm_requests += 1
    config = state.config
    key = (user.id, access.grant.client_id)
    gate = state.gate
    if not gate.try_enter(key, config.concurrency_limit):
        counters.throttled_concurrency += 1
        return endpoint, _too_many(state)
    if config.credit_limit is not None and not state.credits.try_spend(
        state.clock.now(), config.credit_limit, config.credit_window_s
    ):
        gate.leave(key)
        counters.throttled_credits += 1
        return endpoint, _too_many(state)
    if config.credit_limit is None:
        state.credits.spent_total += 1
    try:
        reply = await _admitted(state, scope, body, endpoint, version, parts, access, user)
    finally:
        gate.leave(key)
    if config.credit_limit is not None and config.credits_remaining_header and not reply.drop:
        used = state.credits.in_window(state.clock.now(), config.credit_window_s)
        if used * 2 >= config.credit_limit:
            reply.headers.append((b"x-api-credits-remaining", str(config.credit_limit - used).encode()))
    return endpoint, reply


def _too_many(state: EmulatorState) -> Reply:
    retry_after = state.config.retry_after_s
    headers = [] if retry_after is None else [(b"retry-after", str(retry_after).encode())]
    return _error_reply(errors.too_many_requests(), headers)


async def _admitted(
    state: EmulatorState,
    scope: Scope,
    body: bytes,
    endpoint: str,
    version: str,
    parts: list[str],
    access: AccessToken,
    user: User,
) -> Reply:
    """Latency, faults and the endpoint itself, all inside the concurrency window."""
    config = state.config
    fault = state.faults.next_fault()
    delay_ms = config.latency_ms + (_jitter.uniform(0, config.jitter_ms) if config.jitter_ms else 0.0)
    if delay_ms > 0:
        await asyncio.sleep(delay_ms / 1000.0)
    if fault == "error_500":
        return _error_reply(errors.internal_error())
    if fault == "drop_before":
        return DROP
    slow_ms = state.faults.settings.slow_ms
    if fault == "slow" and not state.faults.settings.slow_apply:
        await asyncio.sleep(slow_ms / 1000.0)
        return _error_reply(errors.internal_error())
    try:
        reply = _dispatch(state, scope, body, endpoint, version, parts, access, user)
    except ZohoError as error:
        reply = _error_reply(error)
    if fault == "drop_after":
        return DROP
    if fault == "slow":
        await asyncio.sleep(slow_ms / 1000.0)
    return reply


def _dispatch(
    state: EmulatorState,
    scope: Scope,
    body: bytes,
    endpoint: str,
    version: str,
    parts: list[str],
    access: AccessToken,
    user: User,
) -> Reply:
    method = scope["method"]
    if endpoint == "crm.users" or endpoint == "crm.org":
        if method != "GET":
            raise errors.invalid_request_method()
        return json_reply(
            200, _users(state, scope, access, user) if endpoint == "crm.users" else _org(state, access)
        )
    if method != "PUT":
        raise errors.invalid_request_method()
    related_id = parts[3] if len(parts) == 4 else None
    status, payload = update_related_records(
        state, version, parts[0], parts[1], parts[2], related_id, body, user, access.scopes
    )
    return json_reply(status, payload)


def _users(state: EmulatorState, scope: Scope, access: AccessToken, user: User) -> dict[str, Any]:
    if access.scopes.isdisjoint(catalog.USERS_READ_SCOPES):
        raise errors.scope_mismatch()
    org_id = state.config.org_id
    kind = query_params(scope).get("type", "AllUsers")
    users = [user] if kind == "CurrentUser" else list(state.users.users.values())
    return {
        "users": [u.to_crm(org_id) for u in users],
        "info": {"per_page": 200, "count": len(users), "page": 1, "more_records": False},
    }


def _org(state: EmulatorState, access: AccessToken) -> dict[str, Any]:
    if access.scopes.isdisjoint(catalog.ORG_READ_SCOPES):
        raise errors.scope_mismatch()
    org_id = state.config.org_id
    return {
        "org": [
            {
                "id": org_id,
                "company_name": "Zylker Corp (Zoho CRM emulator)",
                "alias": None,
                "primary_email": "admin@zylker.example",
                "domain_name": f"org{org_id[-9:]}",
                "zgid": f"6{org_id[-9:]}",
                "country_code": "US",
                "time_zone": "America/Los_Angeles",
                "currency": "US Dollar - USD",
                "currency_symbol": "$",
                "iso_code": "USD",
                "type": "production",
                "mc_status": False,
                "license_details": {
                    "paid": True,
                    "paid_type": "enterprise",
                    "users_license_purchased": 10,
                    "trial_type": None,
                },
            }
        ]
    }
