"""What every CRM request passes before its handler: authentication, Zoho's limits, latency
and injected faults.

Order: Authorization (401) -> admission under the concurrency cap and credit budget (429, not
counted) -> latency and injected faults inside the counted window -> method (400) -> the
handler. The request leaves the concurrency window before its response is sent.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable
from dataclasses import dataclass

from airflow_provider_zohorel.emulator import errors
from airflow_provider_zohorel.emulator.errors import ZohoError
from airflow_provider_zohorel.emulator.model import catalog
from airflow_provider_zohorel.emulator.model.accounts import EVICTED, REFRESH_REVOKED, AccessToken
from airflow_provider_zohorel.emulator.model.state import EmulatorState
from airflow_provider_zohorel.emulator.model.users import User
from airflow_provider_zohorel.emulator.wire.asgi_io import DROP, Reply, Scope, base_url, header, json_reply

_jitter = random.Random()


@dataclass(slots=True)
class CrmRequest:
    """One authenticated CRM request, as handlers see it."""

    state: EmulatorState
    scope: Scope
    body: bytes
    version: str
    #: Path parts after ``/crm/{version}/``.
    parts: list[str]
    access: AccessToken
    user: User


Handler = Callable[[CrmRequest], Reply]


class InjectedAuthError(ZohoError):
    """A 401 the fault plan asked for (``auth_errors_next``): any code, the token untouched."""

    def __init__(self, code: str, message: str | None = None) -> None:
        error = errors.unauthorized(code, message)
        super().__init__(error.status, error.code, error.message, error.details)


def error_reply(error: ZohoError, headers: list[tuple[bytes, bytes]] | None = None) -> Reply:
    """Zoho's envelope for a request-level error."""
    return json_reply(error.status, error.body(), headers)


def authenticate(state: EmulatorState, scope: Scope) -> tuple[AccessToken, User]:
    """The caller's token and user, or the 401 Zoho answers.

    No or a garbled ``Authorization`` header: AUTHENTICATION_FAILURE. A token pushed out by the
    16th live one, or revoked: ``evicted_token_code`` (INVALID_OAUTHTOKEN, v8 token-validity
    page). A token whose refresh token was revoked: INVALID_TOKEN (v2 token-validity page). An
    unknown or expired one: ``bad_token_code`` (INVALID_TOKEN or AUTHENTICATION_FAILURE, both
    observed, research 1.6). Injected 401s (``auth_errors_next``) come first.
    """
    faults = state.faults
    injected = faults.next_auth_error()
    if injected is not None:
        raise InjectedAuthError(*injected)
    value = header(scope, b"authorization")
    scheme, _, token = (value or "").partition(" ")
    scheme = scheme.lower()
    token = token.strip()
    config = state.config
    if not token or not (scheme == "zoho-oauthtoken" or (scheme == "bearer" and config.accept_bearer)):
        raise ZohoError(401, "AUTHENTICATION_FAILURE", errors.MSG_AUTHENTICATION_FAILURE)
    accounts = state.accounts
    access = accounts.authenticate(token)
    if access is not None and faults.revoke_this_token():
        accounts.revoke(token)
        access = None
    user = state.users.get(access.grant.user_id) if access is not None else None
    if access is None or user is None:
        reason = accounts.why_dead(token)
        if reason == EVICTED:
            raise errors.unauthorized(config.evicted_token_code)
        if reason == REFRESH_REVOKED:
            raise errors.unauthorized("INVALID_TOKEN")
        raise errors.unauthorized(config.bad_token_code)
    if config.org_api_domain is not None and base_url(scope) != config.org_api_domain.rstrip("/"):
        # A token used at another domain's API is refused (Accounts FAQ "Why am I getting
        # INVALID_OAUTHTOKEN", point 1); a Vertical Solutions org answers on its own domain.
        raise errors.unauthorized(config.evicted_token_code)
    return access, user


async def pass_gate(
    state: EmulatorState,
    scope: Scope,
    body: bytes,
    version: str,
    parts: list[str],
    handlers: dict[str, Handler],
) -> Reply:
    """Authenticate, admit under the limits, apply latency and faults, then run the handler."""
    try:
        access, user = authenticate(state, scope)
    except ZohoError as error:
        reply = error_reply(error)
        if isinstance(error, InjectedAuthError):
            reply.injected = "auth_error"
        return reply
    counters = state.counters
    counters.crm_requests += 1
    config = state.config
    key = (user.id, access.grant.client_id)
    gate = state.gate
    if not gate.try_enter(key, config.concurrency_limit):
        counters.throttled_concurrency += 1
        return _too_many(state)
    if config.credit_limit is not None and not state.credits.try_spend(
        state.clock.now(), config.credit_limit, config.credit_window_s
    ):
        gate.leave(key)
        counters.throttled_credits += 1
        return _too_many(state)
    if config.credit_limit is None:
        state.credits.spent_total += 1
    try:
        reply = await _admitted(CrmRequest(state, scope, body, version, parts, access, user), handlers)
    finally:
        gate.leave(key)
    if config.credit_limit is not None and config.credits_remaining_header and not reply.drop:
        used = state.credits.in_window(state.clock.now(), config.credit_window_s)
        if used * 2 >= config.credit_limit:
            reply.headers.append((b"x-api-credits-remaining", str(config.credit_limit - used).encode()))
    return reply


async def _held(state: EmulatorState, number: int) -> None:
    """Wait while ``hold_after_requests`` holds request ``number`` back (a test control)."""
    if state.config.hold_after_requests is None or number <= state.config.hold_after_requests:
        return
    state.counters.held_requests += 1
    try:
        while not state.retired and (
            state.config.hold_after_requests is not None and number > state.config.hold_after_requests
        ):
            await asyncio.sleep(0.01)  # the admin API releases by patching the config
    finally:
        state.counters.held_requests -= 1


def _too_many(state: EmulatorState) -> Reply:
    retry_after = state.config.retry_after_s
    headers = [] if retry_after is None else [(b"retry-after", str(retry_after).encode())]
    return error_reply(errors.too_many_requests(), headers)


async def _admitted(request: CrmRequest, handlers: dict[str, Handler]) -> Reply:
    """Latency, faults and the handler itself, all inside the concurrency window."""
    state = request.state
    config = state.config
    faults = state.faults
    fault = faults.next_fault()
    await _held(state, state.counters.crm_requests)
    delay_ms = config.latency_ms + (_jitter.uniform(0, config.jitter_ms) if config.jitter_ms else 0.0)
    if delay_ms > 0:
        await asyncio.sleep(delay_ms / 1000.0)
    if fault == "error_500":
        return error_reply(errors.internal_error(request.version in catalog.SPEC_V8_VERSIONS))
    if fault == "drop_before":
        return DROP
    slow_ms = faults.settings.slow_ms
    if fault == "slow" and not faults.settings.slow_apply:
        await asyncio.sleep(slow_ms / 1000.0)
        return error_reply(errors.internal_error(request.version in catalog.SPEC_V8_VERSIONS))
    handler = handlers.get(request.scope["method"])
    try:
        if handler is None:
            raise errors.invalid_request_method()
        reply = handler(request)
    except ZohoError as error:
        reply = error_reply(error)
    if fault == "drop_after":
        return DROP
    if fault == "slow":
        await asyncio.sleep(slow_ms / 1000.0)
    return reply
