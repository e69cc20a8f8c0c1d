"""Everything a running emulator is started with, in one typed object.

The library (:class:`~airflow_provider_zohorel.emulator.server.ZohoEmulator`) builds it from
keyword arguments, the CLI from its flags; both then start the same way. A subprocess gets the
settings as one JSON argument (``--settings-json``), never re-parsed from generated flags.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

import msgspec

from airflow_provider_zohorel.emulator.model.config import EmulatorConfig
from airflow_provider_zohorel.emulator.model.seed import apply_seed, load_seed_source
from airflow_provider_zohorel.emulator.model.state import EmulatorState
from airflow_provider_zohorel.emulator.wire.admin_guard import AdminGuard

#: The admin token comes from the environment, never from a command line (which other local
#: users can read in the process list).
ADMIN_TOKEN_ENV = "ZOHO_EMULATOR_ADMIN_TOKEN"  # noqa: S105 (a variable name, not a token)


class EmulatorSettings(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Where to listen, Zoho's behaviour (``config``), what to seed, and how to log."""

    host: str = "127.0.0.1"
    #: 0 picks a free port.
    port: int = 8765
    config: EmulatorConfig = msgspec.field(default_factory=EmulatorConfig)
    #: Bundled seed names (``demo``) or seed file paths, applied in order.
    seeds: list[str] = msgspec.field(default_factory=list)
    log_level: str = "warning"
    access_log: bool = False
    use_uvloop: bool = True
    #: Admin API: the only directory seed files may be loaded from by name (None: bundled only).
    seed_dir: str | None = None
    #: Admin API: ``Host`` names accepted besides loopback names and the address a request came
    #: in on (without an admin token; DNS-rebinding guard).
    allowed_hosts: list[str] = msgspec.field(default_factory=list)
    #: Admin API token (None: ``ZOHO_EMULATOR_ADMIN_TOKEN``, or no token). Never serialised for
    #: a subprocess's command line; :class:`ZohoEmulator` hands it over in the environment.
    admin_token: str | None = None


def build_state(settings: EmulatorSettings) -> EmulatorState:
    """A fresh state with the configuration and seeds of ``settings``.

    A seed's ``config`` part becomes part of what an admin reset returns to.
    """
    state = EmulatorState(settings.config)
    for source in settings.seeds:
        apply_seed(state, load_seed_source(source))
    state.startup_config = state.config
    return state


def admin_guard(settings: EmulatorSettings, environ: Mapping[str, str] | None = None) -> AdminGuard:
    """The admin API's guard: the settings' token, else ``ZOHO_EMULATOR_ADMIN_TOKEN``."""
    token = settings.admin_token or (os.environ if environ is None else environ).get(ADMIN_TOKEN_ENV)
    return AdminGuard.build(token, settings.allowed_hosts)


def settings_to_json(settings: EmulatorSettings) -> str:
    """The settings as one JSON string (for ``--settings-json``), without the admin token."""
    return msgspec.json.encode(msgspec.structs.replace(settings, admin_token=None)).decode()


def settings_from_json(text: str) -> EmulatorSettings:
    """Settings from ``settings_to_json`` output; raises ``msgspec.ValidationError`` if invalid."""
    return msgspec.json.decode(text, type=EmulatorSettings)
