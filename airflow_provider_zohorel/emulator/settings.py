"""Everything a running emulator is started with, in one typed object.

The library (:class:`~airflow_provider_zohorel.emulator.server.ZohoEmulator`) builds it from
keyword arguments, the CLI from its flags; both then start the same way. A subprocess gets the
settings as one JSON argument (``--settings-json``), never re-parsed from generated flags.
"""

from __future__ import annotations

import msgspec

from airflow_provider_zohorel.emulator.model.config import EmulatorConfig
from airflow_provider_zohorel.emulator.model.seed import apply_seed, load_seed_source
from airflow_provider_zohorel.emulator.model.state import EmulatorState


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


def build_state(settings: EmulatorSettings) -> EmulatorState:
    """A fresh state with the configuration and seeds of ``settings``.

    A seed's ``config`` part becomes part of what an admin reset returns to.
    """
    state = EmulatorState(settings.config)
    for source in settings.seeds:
        apply_seed(state, load_seed_source(source))
    state.startup_config = state.config
    return state


def settings_to_json(settings: EmulatorSettings) -> str:
    """The settings as one JSON string (for ``--settings-json``)."""
    return msgspec.json.encode(settings).decode()


def settings_from_json(text: str) -> EmulatorSettings:
    """Settings from ``settings_to_json`` output; raises ``msgspec.ValidationError`` if invalid."""
    return msgspec.json.decode(text, type=EmulatorSettings)
