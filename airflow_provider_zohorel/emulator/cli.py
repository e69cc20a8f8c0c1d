"""Command line: ``python -m airflow_provider_zohorel.emulator --port 8765 --seed demo``.

A thin layer over :class:`~airflow_provider_zohorel.emulator.settings.EmulatorSettings`: the flags
fill the settings, then the emulator starts exactly as the library starts it. Once the server
accepts connections, the first line on stdout is ``zoho-emulator listening on http://HOST:PORT``
(``--port 0`` picks a free port; parents read the port from that line, so it stays first and
unchanged); indented lines follow with a seeded client's id, secret and refresh token and a
ready-to-paste ``airflow connections add`` command. Logs go to stderr; there is no access log
unless ``--access-log``.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Sequence
from typing import Any

import msgspec

from airflow_provider_zohorel.emulator.admin_client import Credentials
from airflow_provider_zohorel.emulator.airflow_connection import DEMO_CREDENTIALS, connections_add_command
from airflow_provider_zohorel.emulator.app import EmulatorApp
from airflow_provider_zohorel.emulator.model.config import EmulatorConfig, patched
from airflow_provider_zohorel.emulator.model.seed import SeedError
from airflow_provider_zohorel.emulator.model.state import EmulatorState
from airflow_provider_zohorel.emulator.serving import (
    bind_socket,
    build_server,
    exposure_warning,
    host_for_url,
)
from airflow_provider_zohorel.emulator.settings import (
    EmulatorSettings,
    admin_guard,
    build_state,
    settings_from_json,
)

READY_PREFIX = "zoho-emulator listening on "

#: CLI flag (argparse dest) -> configuration field.
_CONFIG_FLAGS = {
    "latency_ms": "latency_ms",
    "jitter_ms": "jitter_ms",
    "concurrency": "concurrency_limit",
    "credits": "credit_limit",
    "credit_window_s": "credit_window_s",
    "token_ttl": "token_ttl_s",
    "public_url": "public_url",
}


def build_parser() -> argparse.ArgumentParser:
    """The CLI's arguments."""
    parser = argparse.ArgumentParser(
        prog="python -m airflow_provider_zohorel.emulator",
        description="Zoho CRM emulator: OAuth token endpoint, Update Related Records API and an admin "
        "API (/__emulator__/) on one base URL.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="bind address (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8765, help="port; 0 picks a free one (default 8765)")
    parser.add_argument("--latency-ms", type=float, help="processing time added to every CRM request")
    parser.add_argument("--jitter-ms", type=float, help="extra random latency, uniform in [0, jitter]")
    parser.add_argument(
        "--concurrency", type=int, help="concurrent CRM calls per (user, client); off if unset"
    )
    parser.add_argument("--credits", type=int, help="API credits per window (1 per CRM call); off if unset")
    parser.add_argument("--credit-window-s", type=float, help="rolling credit window (default 86400)")
    parser.add_argument("--token-ttl", type=int, help="access-token lifetime in seconds (default 3600)")
    parser.add_argument("--public-url", help="api_domain to announce instead of the URL the client used")
    parser.add_argument(
        "--seed",
        action="append",
        default=[],
        help="bundled seed name (demo) or path to a seed JSON file; repeatable",
    )
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=JSON",
        help="any configuration field, e.g. --set bad_token_code='\"AUTHENTICATION_FAILURE\"'",
    )
    parser.add_argument(
        "--seed-dir",
        metavar="DIR",
        help="the only directory the admin API may load seed files from by name (default: none, "
        "bundled seeds only)",
    )
    parser.add_argument(
        "--allowed-host",
        action="append",
        default=[],
        metavar="NAME",
        help="a Host name the admin API accepts besides localhost and the listening address "
        "(repeatable); the admin token (env ZOHO_EMULATOR_ADMIN_TOKEN) lifts this check",
    )
    parser.add_argument("--log-level", default="warning", help="uvicorn/emulator log level (default warning)")
    parser.add_argument("--access-log", action="store_true", help="log every request (costs throughput)")
    parser.add_argument("--no-uvloop", action="store_true", help="use the stdlib asyncio loop")
    parser.add_argument(
        "--settings-json",
        metavar="JSON",
        help="all settings as one JSON object (what ZohoEmulator passes); other flags are then ignored",
    )
    return parser


def settings_from_args(args: argparse.Namespace) -> EmulatorSettings:
    """Settings from the CLI flags (unset flags keep the defaults)."""
    if args.settings_json:
        return settings_from_json(args.settings_json)
    changes: dict[str, Any] = {}
    for flag, key in _CONFIG_FLAGS.items():
        value = getattr(args, flag)
        if value is not None:
            changes[key] = value
    for item in args.set:
        key, sep, raw = item.partition("=")
        if not sep:
            raise ValueError(f"--set expects KEY=JSON, got {item!r}")
        try:
            changes[key] = json.loads(raw)
        except json.JSONDecodeError:
            changes[key] = raw
    return EmulatorSettings(
        host=args.host,
        port=args.port,
        config=patched(EmulatorConfig(), changes),
        seeds=list(args.seed),
        log_level=args.log_level,
        access_log=args.access_log,
        use_uvloop=not args.no_uvloop,
        seed_dir=args.seed_dir,
        allowed_hosts=list(args.allowed_host),
    )


def start_up_text(state: EmulatorState, url: str) -> str:
    """What a person needs to point Airflow at this emulator, printed after the ready line: the
    base URL, a seeded client's id, secret and refresh token, and an ``airflow connections add``
    command with them (the demo seed's client when it is loaded)."""
    lines = [f"  accounts_url (Zoho Accounts and CRM share it): {url}"]
    clients = state.accounts.clients
    client = clients.get(DEMO_CREDENTIALS.client_id) or next(iter(clients.values()), None)
    grant = None
    if client is not None:
        grant = next(
            (
                g
                for g in state.accounts.grants.values()
                if g.is_refresh_token and g.client_id == client.client_id
            ),
            None,
        )
    if client is None or grant is None:
        lines.append(
            "  no client with a refresh token is seeded: start with --seed demo, or create one with "
            "EmulatorAdmin(url).create_credentials()"
        )
        return "\n".join(lines) + "\n"
    credentials = Credentials(client.client_id, client.client_secret, grant.key, grant.user_id, grant.scopes)
    which = "demo " if client.client_id == DEMO_CREDENTIALS.client_id else ""
    lines += [
        f"  {which}client id:     {credentials.client_id}",
        f"  {which}client secret: {credentials.client_secret}",
        f"  {which}refresh token: {credentials.refresh_token}",
        "  point Airflow's zoho_crm_default at this emulator:",
        f"    {connections_add_command(url, credentials=credentials)}",
    ]
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    """Run the emulator until SIGINT/SIGTERM."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        settings = settings_from_args(args)
        logging.basicConfig(level=settings.log_level.upper(), stream=sys.stderr)
        state = build_state(settings)
    except (ValueError, SeedError, msgspec.ValidationError, msgspec.DecodeError) as exc:
        parser.error(str(exc))
    try:
        sock = bind_socket(settings.host, settings.port)
    except OSError as exc:
        print(f"zoho-emulator: cannot listen on {settings.host}:{settings.port}: {exc}", file=sys.stderr)
        return 1
    url = f"http://{host_for_url(settings.host)}:{sock.getsockname()[1]}"
    guard = admin_guard(settings)
    warning = exposure_warning(settings.host, guard.token is not None)
    if warning is not None:
        # Loud, on stderr: stdout's first line stays the ready line parents wait for.
        print(f"zoho-emulator: WARNING: {warning}", file=sys.stderr, flush=True)

    def announce() -> None:
        sys.stdout.write(f"{READY_PREFIX}{url}\n{start_up_text(state, url)}")
        sys.stdout.flush()

    server = build_server(
        EmulatorApp(state, guard=guard, seed_dir=settings.seed_dir),
        announce,
        log_level=settings.log_level.lower(),
        access_log=settings.access_log,
        use_uvloop=settings.use_uvloop,
    )
    server.run(sockets=[sock])
    return 0
