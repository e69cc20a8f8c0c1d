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
from airflow_provider_zohorel.emulator.airflow_connection import (
    DEMO_CREDENTIALS,
    connection,
    connection_json,
    connection_uri,
    connections_add_command,
    env_var_name,
)
from airflow_provider_zohorel.emulator.server import EmulatorStartError, ZohoEmulator

#: Credentials of the bundled ``demo`` seed, one by one (the example DAGs and ``make demo``).
DEMO_CLIENT_ID: str = DEMO_CREDENTIALS.client_id
DEMO_CLIENT_SECRET: str = DEMO_CREDENTIALS.client_secret
DEMO_REFRESH_TOKEN: str = DEMO_CREDENTIALS.refresh_token
DEMO_SCOPES: tuple[str, ...] = DEMO_CREDENTIALS.scopes
DEMO_USER_ID: str = DEMO_CREDENTIALS.user_id

__all__ = [
    "DEMO_CLIENT_ID",
    "DEMO_CLIENT_SECRET",
    "DEMO_CREDENTIALS",
    "DEMO_REFRESH_TOKEN",
    "DEMO_SCOPES",
    "DEMO_USER_ID",
    "Credentials",
    "EmulatorAdmin",
    "EmulatorAdminError",
    "EmulatorStartError",
    "RelationRow",
    "ZohoEmulator",
    "connection",
    "connection_json",
    "connection_uri",
    "connections_add_command",
    "env_var_name",
]
