"""Who may use the admin API (``/__emulator__/``): the checks every admin request passes first.

The admin API can reset, seed and reconfigure the emulator and read what it holds, so it must not
be reachable from a web page the person running the tests happens to open, nor from another
machine. Each check answers one attack:

- a cross-site request (``<form>`` POST, ``fetch(..., {mode: "no-cors"})``): browsers send those
  without asking first only with a form or ``text/plain`` content type, so every admin request
  that changes something must say ``Content-Type: application/json`` (415 otherwise), and a
  request whose ``Origin`` is another site is refused (403);
- DNS rebinding (a page whose own host name is made to resolve to 127.0.0.1): the ``Host`` header
  then names the attacker's domain, so it must be a loopback name, the address the request came
  in on, or a name the operator allowed (403 otherwise);
- another machine, when the emulator listens on a non-loopback address: without an admin token
  only connections from this machine are served (403 otherwise);
- with an admin token (``ZOHO_EMULATOR_ADMIN_TOKEN``), every admin request must carry it as
  ``Authorization: Bearer <token>`` (401 otherwise); a page cannot know it, so Host and peer are
  then not checked (a container or another machine may use the API).

The CRM and OAuth endpoints emulate Zoho and are not restricted: they hold only emulated data.
"""

from __future__ import annotations

import hmac
import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from airflow_provider_zohorel.emulator.wire.asgi_io import Reply, Scope, header, json_reply

#: Names that always mean this machine (RFC 6761 reserves ``localhost``).
LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1"})
#: Methods that change nothing (the others need a JSON content type).
SAFE_METHODS = frozenset({"GET", "HEAD"})


def is_loopback(host: str) -> bool:
    """True for ``localhost`` and loopback addresses (127.0.0.0/8, ::1)."""
    name = host.strip("[]").lower()
    if name in LOOPBACK_NAMES or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def _hostname(value: str) -> str:
    """The host part of a ``Host`` header value (``name``, ``name:port``, ``[v6]:port``)."""
    value = value.strip().lower()
    if value.startswith("["):
        return value[1 : value.find("]")] if "]" in value else value
    if value.count(":") == 1:
        return value.split(":", 1)[0]
    return value


@dataclass(frozen=True)
class AdminGuard:
    """The admin API's access rules for one running emulator."""

    #: When set, every admin request must carry ``Authorization: Bearer <token>``.
    token: str | None = field(default=None, repr=False)
    #: Extra ``Host`` names accepted without a token (loopback names always are).
    allowed_hosts: frozenset[str] = frozenset()

    @classmethod
    def build(cls, token: str | None, allowed_hosts: Iterable[str] = ()) -> AdminGuard:
        """A guard from settings (an empty token means none)."""
        return cls(token or None, frozenset(name.strip().lower() for name in allowed_hosts if name.strip()))

    def _host_allowed(self, name: str, scope: Scope) -> bool:
        if is_loopback(name) or name in self.allowed_hosts:
            return True
        server = scope.get("server")
        return server is not None and name == str(server[0]).lower()

    def refuse(self, scope: Scope) -> Reply | None:
        """The refusal for this admin request, or None when it may go ahead."""
        method: str = scope["method"]
        if method not in SAFE_METHODS:
            content_type = (header(scope, b"content-type") or "").split(";", 1)[0].strip().lower()
            if content_type != "application/json":
                message = (
                    "admin requests that change something must be sent as Content-Type: application/json"
                )
                return json_reply(415, {"error": message})
        origin = header(scope, b"origin")
        # A page's request carries its origin; "null" (sandboxed frames, file: pages) names no host.
        if origin is not None and not self._host_allowed((urlsplit(origin).hostname or "").lower(), scope):
            return json_reply(403, {"error": f"cross-site admin request refused (Origin {origin[:100]!r})"})
        if self.token is not None:
            given = header(scope, b"authorization") or ""
            scheme, _, value = given.partition(" ")
            valid = hmac.compare_digest(value.strip().encode(), self.token.encode())
            if scheme.lower() != "bearer" or not valid:
                return json_reply(
                    401, {"error": "this emulator's admin API needs its token: Authorization: Bearer <token>"}
                )
            return None
        host = _hostname(header(scope, b"host") or "")
        if not self._host_allowed(host, scope):
            return json_reply(
                403,
                {
                    "error": f"admin request for host {host[:100]!r} refused (DNS rebinding guard); use "
                    "localhost, or start the emulator with --allowed-host or an admin token"
                },
            )
        client = scope.get("client")
        peer = str(client[0]) if client else ""
        server = scope.get("server")
        if not (is_loopback(peer) or (server is not None and peer == str(server[0]))):
            return json_reply(
                403,
                {
                    "error": "admin requests from other machines need an admin token "
                    "(start the emulator with ZOHO_EMULATOR_ADMIN_TOKEN set)"
                },
            )
        return None
