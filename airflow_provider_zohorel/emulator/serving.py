"""Run the ASGI app under uvicorn on a socket we bind ourselves, and say when it is ready.

Binding first lets ``--port 0`` pick a free port whose number we know before uvicorn starts;
``on_ready`` fires only once uvicorn is accepting connections.
"""

from __future__ import annotations

import socket
from collections.abc import Callable

import uvicorn

from airflow_provider_zohorel.emulator.app import EmulatorApp
from airflow_provider_zohorel.emulator.wire.admin_guard import is_loopback


def bind_socket(host: str, port: int) -> socket.socket:
    """A listening TCP socket on (host, port); port 0 picks a free one."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
        sock.listen(2048)
    except OSError:
        sock.close()
        raise
    sock.setblocking(False)
    return sock


class ReadyServer(uvicorn.Server):
    """A uvicorn server that calls ``on_ready`` once it accepts connections."""

    def __init__(self, config: uvicorn.Config, on_ready: Callable[[], None]) -> None:
        super().__init__(config)
        self._on_ready = on_ready

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if self.started:
            self._on_ready()


def build_server(
    app: EmulatorApp,
    on_ready: Callable[[], None],
    *,
    log_level: str = "warning",
    access_log: bool = False,
    use_uvloop: bool = True,
) -> ReadyServer:
    """A uvicorn server for the app: uvloop and httptools when installed, no access log by default."""
    config = uvicorn.Config(
        app,
        loop="auto" if use_uvloop else "asyncio",
        http="auto",
        lifespan="on",
        log_level=log_level,
        access_log=access_log,
        server_header=False,
        timeout_graceful_shutdown=2,
        # Idle keep-alive connections stay open a minute (uvicorn's default is 5 s), so a test's
        # admin session reused after a long run does not race the server closing it.
        timeout_keep_alive=60,
        backlog=2048,
    )
    return ReadyServer(config, on_ready)


class EmulatorExposureWarning(UserWarning):
    """The emulator listens where other machines can reach it."""


def exposure_warning(host: str, admin_token: bool) -> str | None:
    """What to tell the operator when ``host`` is not a loopback address, else None.

    On a non-loopback address every machine that can route to it reaches the emulated CRM and
    its OAuth endpoint (which mint tokens for seeded credentials, printed at start-up); the admin
    API then serves other machines only with an admin token.
    """
    if is_loopback(host):
        return None
    admin = (
        "the admin API requires its token (ZOHO_EMULATOR_ADMIN_TOKEN)"
        if admin_token
        else "the admin API serves only this machine: set ZOHO_EMULATOR_ADMIN_TOKEN to let others use it"
    )
    return (
        f"the Zoho emulator listens on {host}, a non-loopback address: other machines can reach its "
        f"emulated CRM and OAuth endpoints (and the seeded credentials they accept); {admin}. "
        "Bind 127.0.0.1 unless you mean it."
    )


def host_for_url(host: str) -> str:
    """The host part of a URL for a bind address (IPv6 in brackets)."""
    return f"[{host}]" if ":" in host else host
