"""The emulator as one ASGI application: accounts, CRM and admin API on one base URL.

A thin router over raw ASGI (no framework, no body models) so that the emulator is never the
bottleneck of a benchmark: ``routes`` says who answers a path, the ``wire`` handlers decode,
ask the ``model`` and encode. The lifespan starts the event-loop lag probe.
"""

from __future__ import annotations

import logging

from airflow_provider_zohorel.emulator import errors, routes
from airflow_provider_zohorel.emulator.errors import ZohoError
from airflow_provider_zohorel.emulator.model.config import EmulatorConfig
from airflow_provider_zohorel.emulator.model.counters import LoopLagProbe
from airflow_provider_zohorel.emulator.model.state import EmulatorState
from airflow_provider_zohorel.emulator.recording import ExchangeRecorder
from airflow_provider_zohorel.emulator.wire.admin_guard import AdminGuard
from airflow_provider_zohorel.emulator.wire.admin_responses import run_admin
from airflow_provider_zohorel.emulator.wire.asgi_io import (
    Receive,
    Reply,
    Scope,
    Send,
    drop_connection,
    json_reply,
    read_body,
    send_reply,
)
from airflow_provider_zohorel.emulator.wire.crm_gate import error_reply, pass_gate
from airflow_provider_zohorel.emulator.wire.oauth_responses import handle_oauth

log = logging.getLogger("zoho_emulator")


class EmulatorApp:
    """ASGI callable serving one :class:`EmulatorState`."""

    def __init__(
        self,
        state: EmulatorState | None = None,
        config: EmulatorConfig | None = None,
        *,
        guard: AdminGuard | None = None,
        seed_dir: str | None = None,
    ) -> None:
        #: The current state; an admin reset replaces it (requests keep the one they started with).
        self.state = state or EmulatorState(config)
        #: Who may use the admin API (Content-Type, Origin, Host, peer, optional token).
        self.guard = guard or AdminGuard()
        #: The only directory the admin API loads seed files from (None: bundled seeds only).
        self.seed_dir = seed_dir
        self._probe = LoopLagProbe(lambda: self.state.counters)
        #: Appends every CRM exchange to the file ``ZOHO_EMULATOR_RECORD`` names; None = off.
        self.recorder = ExchangeRecorder.from_env()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "http":
            await self._http(scope, receive, send)
        elif kind == "lifespan":
            await self._lifespan(receive, send)

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        body = await read_body(receive)
        path: str = scope["path"]
        state = self.state
        endpoint: str | None = "unknown"
        crm_route: routes.CrmRoute | None = None
        try:
            if path.startswith(routes.CRM_PREFIX):
                endpoint = "crm.invalid_url"
                try:
                    crm_route = routes.match_crm(path)
                except ZohoError as error:
                    reply = error_reply(error)
                else:
                    endpoint = crm_route.endpoint
                    reply = await pass_gate(
                        state, scope, body, crm_route.version, crm_route.parts, crm_route.handlers
                    )
            elif path in (routes.TOKEN_PATH, routes.REVOKE_PATH):
                endpoint = "oauth.token" if path == routes.TOKEN_PATH else "oauth.revoke"
                reply = handle_oauth(state, scope, body, revoke=path == routes.REVOKE_PATH)
            elif (portal := routes.match_portal_token(path)) is not None:
                # A Vertical Solutions portal mints like Zoho Accounts does (VS v6 access-refresh).
                endpoint = f"oauth.portal_token.{portal}"
                reply = handle_oauth(state, scope, body)
            elif path.startswith(routes.ADMIN_PREFIX):
                endpoint = None
                method: str = scope["method"]
                refusal = self.guard.refuse(scope)
                match = routes.match_admin(method, path) if refusal is None else None
                if refusal is not None:
                    reply = refusal
                elif match is None:
                    reply = json_reply(404, {"error": f"no admin endpoint {method} {path[:200]}"})
                else:
                    reply = run_admin(self, scope, body, *match)
            else:
                reply = json_reply(404, errors.invalid_url_pattern().body())
        except Exception as exc:  # a bug in the emulator: say so instead of a bare 500
            log.exception("emulator error on %s %s", scope["method"], path)
            reply = json_reply(500, errors.envelope("INTERNAL_ERROR", f"emulator bug: {exc!r}"))
        if self.recorder is not None and endpoint is not None and endpoint.startswith("crm."):
            self.recorder.record(
                scope,
                body,
                crm_route.template if crm_route is not None else None,
                crm_route.version if crm_route is not None else None,
                reply,
            )
        if reply.drop:
            if endpoint is not None:
                state.counters.count(endpoint, "dropped")
            state.counters.dropped_connections += 1
            try:
                await drop_connection(send, receive)
            except ConnectionAbortedError:
                await send_reply(send, Reply(500, b'{"code":"INTERNAL_ERROR"}'))
            return
        if endpoint is not None:
            state.counters.count(endpoint, reply.status)
        await send_reply(send, reply)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                self._probe.start()
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await self._probe.stop()
                await send({"type": "lifespan.shutdown.complete"})
                return
