"""A local Zoho CRM for tests and demos ("moto for Zoho"): OAuth token endpoint, the Update
Related Records API (v2 to v8) and an admin API, on one base URL.

It is an independent second reading of Zoho's documentation and imports nothing from the rest
of ``airflow_provider_zohorel`` nor from Airflow, so a misreading shared with the client cannot
pass unnoticed. Start it with ``python -m airflow_provider_zohorel.emulator --port 8765 --seed
demo``, with :class:`ZohoEmulator` in Python, or with the fixtures of
``airflow_provider_zohorel.emulator.pytest_plugin``.

Layout (as moto keeps models, responses and URLs apart): ``model/`` holds the state and Zoho's
rules, ``wire/`` decodes requests and encodes Zoho's answers, ``routes`` maps URLs to handlers,
``app`` is the ASGI application; ``settings``, ``cli`` and ``server`` start it.
"""

from __future__ import annotations

from airflow_provider_zohorel.emulator.admin_client import (
    Credentials,
    EmulatorAdmin,
    EmulatorAdminError,
    RelationRow,
)
from airflow_provider_zohorel.emulator.model.seed import bundled_seed_dict
from airflow_provider_zohorel.emulator.server import EmulatorStartError, ZohoEmulator

_DEMO = bundled_seed_dict("demo")
_DEMO_CLIENT = _DEMO["clients"][0]

#: Credentials of the bundled ``demo`` seed (the example DAGs and ``make demo`` use them).
DEMO_CLIENT_ID: str = _DEMO_CLIENT["client_id"]
DEMO_CLIENT_SECRET: str = _DEMO_CLIENT["client_secret"]
DEMO_REFRESH_TOKEN: str = _DEMO_CLIENT["refresh_tokens"][0]
DEMO_SCOPES: tuple[str, ...] = tuple(_DEMO_CLIENT["scopes"])
DEMO_USER_ID: str = _DEMO_CLIENT["user_id"]

__all__ = [
    "DEMO_CLIENT_ID",
    "DEMO_CLIENT_SECRET",
    "DEMO_REFRESH_TOKEN",
    "DEMO_SCOPES",
    "DEMO_USER_ID",
    "Credentials",
    "EmulatorAdmin",
    "EmulatorAdminError",
    "EmulatorStartError",
    "RelationRow",
    "ZohoEmulator",
]
