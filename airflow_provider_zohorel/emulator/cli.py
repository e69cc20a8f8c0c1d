"""Command line: ``python -m airflow_provider_zohorel.emulator --port 8765 --seed demo``.

Prints exactly one line, ``zoho-emulator listening on http://HOST:PORT``, to stdout once the
server accepts connections (``--port 0`` picks a free port; parents read the port from that
line). Logs go to stderr; there is no access log unless ``--access-log``.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Sequence
from typing import Any

import msgspec

from airflow_provider_zohorel.emulator.asgi import EmulatorApp
from airflow_provider_zohorel.emulator.config import EmulatorConfig, patched
from airflow_provider_zohorel.emulator.seed import SeedError, apply_seed, load_seed_source
from airflow_provider_zohorel.emulator.serving import bind_socket, build_server, host_for_url
from airflow_provider_zohorel.emulator.state import EmulatorState

READY_PREFIX = "zoho-emulator listening on "


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
    parser.add_argument("--log-level", default="warning", help="uvicorn/emulator log level (default warning)")
    parser.add_argument("--access-log", action="store_true", help="log every request (costs throughput)")
    parser.add_argument("--no-uvloop", action="store_true", help="use the stdlib asyncio loop")
    return parser


def config_from_args(args: argparse.Namespace) -> EmulatorConfig:
    """Configuration from the CLI flags (unset flags keep the defaults)."""
    changes: dict[str, Any] = {}
    for flag, key in (
        ("latency_ms", "latency_ms"),
        ("jitter_ms", "jitter_ms"),
        ("concurrency", "concurrency_limit"),
        ("credits", "credit_limit"),
        ("credit_window_s", "credit_window_s"),
        ("token_ttl", "token_ttl_s"),
        ("public_url", "public_url"),
    ):
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
    return patched(EmulatorConfig(), changes)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the emulator until SIGINT/SIGTERM."""
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(), stream=sys.stderr)
    try:
        state = EmulatorState(config_from_args(args))
        for source in args.seed:
            apply_seed(state, load_seed_source(source))
    except (ValueError, SeedError, msgspec.ValidationError) as exc:
        parser.error(str(exc))
    # A seed's "config" part becomes part of what reset() returns to.
    state.startup_config = state.config
    try:
        sock = bind_socket(args.host, args.port)
    except OSError as exc:
        print(f"zoho-emulator: cannot listen on {args.host}:{args.port}: {exc}", file=sys.stderr)
        return 1
    port = sock.getsockname()[1]
    url = f"http://{host_for_url(args.host)}:{port}"

    def announce() -> None:
        sys.stdout.write(f"{READY_PREFIX}{url}\n")
        sys.stdout.flush()

    server = build_server(
        EmulatorApp(state),
        announce,
        log_level=args.log_level.lower(),
        access_log=args.access_log,
        use_uvloop=not args.no_uvloop,
    )
    server.run(sockets=[sock])
    return 0
