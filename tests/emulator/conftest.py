"""Fixtures for the emulator's own contract tests.

The emulator's pytest plugin (``zoho_emulator*`` fixtures) is enabled by ``tests/conftest.py``.
Every test gets the session's emulator, reset, plus a small seeded world and a ready access
token.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import requests

from airflow_provider_zohorel.emulator import Credentials, ZohoEmulator


@dataclass
class Crm:
    """A minimal CRM caller (deliberately not the provider's client)."""

    base_url: str
    token: str
    session: requests.Session

    def call(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        version: str = "v2",
        token: str | None = None,
        headers: dict[str, str] | None = None,
        data: bytes | str | None = None,
        timeout: float = 10.0,
    ) -> requests.Response:
        """``method {base}/crm/{version}/{path}`` with a Zoho-oauthtoken header."""
        sent = {"Authorization": f"Zoho-oauthtoken {token or self.token}"}
        sent.update(headers or {})
        return self.session.request(
            method,
            f"{self.base_url}/crm/{version}/{path}",
            json=body,
            data=data,
            headers=sent,
            timeout=timeout,
        )

    def put(self, path: str, body: Any = None, **kwargs: Any) -> requests.Response:
        """PUT ``path`` (relative to ``/crm/{version}/``)."""
        return self.call("PUT", path, body, **kwargs)


@dataclass
class World:
    """Records seeded for a test, by module."""

    leads: list[str]
    contacts: list[str]
    campaigns: list[str]
    products: list[str]
    deals: list[str]
    accounts: list[str]
    price_books: list[str]
    appointments: list[str]
    services: list[str]


@pytest.fixture
def emu(zoho_emulator: ZohoEmulator) -> ZohoEmulator:
    """The reset emulator."""
    return zoho_emulator


@pytest.fixture
def creds(emu: ZohoEmulator) -> Credentials:
    """An admin user with a client and refresh token (modules, users and org scopes)."""
    return emu.admin.create_credentials()


@pytest.fixture
def session() -> Iterator[requests.Session]:
    """A keep-alive HTTP session."""
    with requests.Session() as s:
        yield s


@pytest.fixture
def crm(emu: ZohoEmulator, creds: Credentials, session: requests.Session) -> Crm:
    """A caller holding a fresh access token for ``creds``."""
    return Crm(emu.base_url, emu.admin.access_token(creds), session)


@pytest.fixture
def world(emu: ZohoEmulator) -> World:
    """A few records in every module the API relates."""
    a = emu.admin
    return World(
        leads=a.add_records("Leads", count=5),
        contacts=a.add_records("Contacts", count=3),
        campaigns=a.add_records("Campaigns", count=3),
        products=a.add_records("Products", count=3),
        deals=a.add_records("Deals", count=2),
        accounts=a.add_records("Accounts", count=2),
        price_books=a.add_records("Price_Books", count=2),
        appointments=a.add_records("Appointments__s", count=1),
        services=a.add_records("Services__s", count=2),
    )


@dataclass
class OAuth:
    """Calls the token endpoint the way a client does."""

    base_url: str
    session: requests.Session

    def token(self, **params: str) -> dict[str, Any]:
        """POST the token endpoint with form parameters; asserts HTTP 200 (Zoho's rule)."""
        response = self.session.post(f"{self.base_url}/oauth/v2/token", data=params, timeout=10)
        assert response.status_code == 200
        result: dict[str, Any] = response.json()
        return result

    def refresh(self, creds: Credentials) -> dict[str, Any]:
        """A refresh_token grant for ``creds``."""
        return self.token(
            grant_type="refresh_token",
            client_id=creds.client_id,
            client_secret=creds.client_secret,
            refresh_token=creds.refresh_token,
        )


@pytest.fixture
def oauth(emu: ZohoEmulator, session: requests.Session) -> OAuth:
    """The token endpoint of the emulator."""
    return OAuth(emu.base_url, session)
