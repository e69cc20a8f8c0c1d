"""The Airflow connection that points at an emulator, written in one place.

The emulator imports nothing of the provider, so this follows the provider's documented
public contract (DESIGN.md, README "Connection"): type ``zoho_crm``, client id as ``login``,
client secret as ``password``, and the extras ``refresh_token`` and ``accounts_url`` (the
emulator serves Accounts and CRM on one base URL). Tests, benchmarks, the demo and the
emulator's own start-up text all take it from here.
"""

from __future__ import annotations

import json
import shlex
from typing import Any
from urllib.parse import quote, urlencode

from airflow_provider_zohorel.emulator.admin_client import Credentials
from airflow_provider_zohorel.emulator.model.seed import bundled_seed_dict

CONN_TYPE = "zoho_crm"
DEFAULT_CONN_ID = "zoho_crm_default"
#: The API version the emulator's connections use unless told otherwise (Zoho's current one).
DEFAULT_API_VERSION = "v8"


def _demo_credentials() -> Credentials:
    client = bundled_seed_dict("demo")["clients"][0]
    return Credentials(
        client["client_id"],
        client["client_secret"],
        client["refresh_tokens"][0],
        client["user_id"],
        tuple(client["scopes"]),
    )


#: Credentials of the bundled ``demo`` seed (the example DAGs and ``make demo`` use them).
DEMO_CREDENTIALS: Credentials = _demo_credentials()


def connection(
    base_url: str | None,
    credentials: Credentials | None = None,
    *,
    api_version: str | None = DEFAULT_API_VERSION,
    **extra: Any,
) -> dict[str, Any]:
    """The connection as Airflow's JSON form (``AIRFLOW_CONN_*`` value, ``--conn-json``).

    ``credentials`` defaults to the demo seed's; ``extra`` adds or overrides extras
    (``cache_backend="memory"``, ``api_domain=...``). A value of ``None`` (``base_url``,
    ``api_version`` or an extra) leaves that extra out.
    """
    creds = credentials or DEMO_CREDENTIALS
    extras: dict[str, Any] = {
        "refresh_token": creds.refresh_token,
        "accounts_url": base_url,
        "api_version": api_version,
        **extra,
    }
    return {
        "conn_type": CONN_TYPE,
        "login": creds.client_id,
        "password": creds.client_secret,
        "extra": {key: value for key, value in extras.items() if value is not None},
    }


def connection_json(
    base_url: str | None,
    credentials: Credentials | None = None,
    *,
    api_version: str | None = DEFAULT_API_VERSION,
    **extra: Any,
) -> str:
    """:func:`connection` as a JSON string."""
    return json.dumps(connection(base_url, credentials, api_version=api_version, **extra))


def connection_uri(
    base_url: str | None,
    credentials: Credentials | None = None,
    *,
    api_version: str | None = DEFAULT_API_VERSION,
    **extra: Any,
) -> str:
    """:func:`connection` as Airflow's URI form (``zoho-crm://login:password@/?extra=...``)."""
    doc = connection(base_url, credentials, api_version=api_version, **extra)
    login, password = quote(doc["login"], safe=""), quote(doc["password"], safe="")
    # Airflow maps the URI scheme's "-" back to "_" in the connection type.
    return f"{CONN_TYPE.replace('_', '-')}://{login}:{password}@/?{urlencode(doc['extra'])}"


def env_var_name(conn_id: str = DEFAULT_CONN_ID) -> str:
    """The environment variable Airflow reads the connection ``conn_id`` from."""
    return f"AIRFLOW_CONN_{conn_id.upper()}"


def connections_add_argv(
    base_url: str,
    conn_id: str = DEFAULT_CONN_ID,
    credentials: Credentials | None = None,
    *,
    api_version: str | None = DEFAULT_API_VERSION,
    **extra: Any,
) -> list[str]:
    """``airflow connections add`` arguments (after ``airflow``) that store this connection."""
    doc = connection(base_url, credentials, api_version=api_version, **extra)
    return [
        "connections",
        "add",
        conn_id,
        "--conn-type",
        doc["conn_type"],
        "--conn-login",
        doc["login"],
        "--conn-password",
        doc["password"],
        "--conn-extra",
        json.dumps(doc["extra"]),
    ]


def connections_add_command(
    base_url: str,
    conn_id: str = DEFAULT_CONN_ID,
    credentials: Credentials | None = None,
    *,
    api_version: str | None = DEFAULT_API_VERSION,
    **extra: Any,
) -> str:
    """A ready-to-paste ``airflow connections add ...`` shell command."""
    argv = connections_add_argv(base_url, conn_id, credentials, api_version=api_version, **extra)
    return shlex.join(["airflow", *argv])
