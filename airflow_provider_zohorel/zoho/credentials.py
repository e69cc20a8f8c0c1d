"""What the client needs to know about a Zoho org, validated once, secrets never printed."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from airflow_provider_zohorel.zoho.errors import ConnectionConfigError
from airflow_provider_zohorel.zoho.regions import (
    TOKEN_PATH,
    accounts_url_for,
    check_api_version,
    check_base_url,
    check_mint_url,
)


@dataclass(frozen=True)
class ZohoCredentials:
    """Client credentials plus where to send them.

    ``api_domain`` is ``None`` when the token response's ``api_domain`` should be used (the normal
    case); set it for Vertical Solutions orgs, whose token response names www.zohoapis.com anyway.
    ``mint_url`` replaces ``{accounts_url}/oauth/v2/token`` where tokens are minted elsewhere (a
    Vertical Solutions portal: ``https://{solution}.zohoplatform.com/clientoauth/v2/{PORTAL_ID}/token``).
    """

    client_id: str
    client_secret: str = field(repr=False)
    refresh_token: str = field(repr=False)
    accounts_url: str = "https://accounts.zoho.com"
    api_domain: str | None = None
    api_version: str = "v2"
    mint_url: str | None = None

    def __post_init__(self) -> None:
        for name in ("client_id", "client_secret", "refresh_token"):
            value = getattr(self, name)
            if not isinstance(value, str) or not value.strip():
                label = {
                    "client_id": "login (Client ID)",
                    "client_secret": "password (Client Secret)",
                    "refresh_token": "extra 'refresh_token' (Refresh Token, under Extra Fields in the form)",
                }[name]
                raise ConnectionConfigError(f"Connection field {label} is missing or empty.")
        object.__setattr__(
            self, "accounts_url", check_base_url(self.accounts_url, "accounts_url", allow_path=False)
        )
        if self.mint_url is not None:
            object.__setattr__(self, "mint_url", check_mint_url(self.mint_url))
        if self.api_domain is not None:
            object.__setattr__(self, "api_domain", check_base_url(self.api_domain, "api_domain"))
        object.__setattr__(self, "api_version", check_api_version(self.api_version))

    @property
    def token_endpoint(self) -> str:
        """Where tokens are minted: ``mint_url`` when set, else the accounts server's token path."""
        return self.mint_url or f"{self.accounts_url}{TOKEN_PATH}"

    @property
    def cache_key(self) -> str:
        """Identifies one refresh token at one accounts server without revealing either.

        The client secret is part of the key: a token minted with the right secret must not make
        a connection with a wrong one look valid (``test_connection`` would report success).
        """
        material = "\0".join(
            (self.token_endpoint, self.client_id, self.client_secret, self.refresh_token)
        ).encode()
        return hashlib.sha256(material).hexdigest()[:32]

    @property
    def seal_key(self) -> bytes:
        """The HMAC key that authenticates this connection's cached tokens: derived from the client
        secret and refresh token, which anyone who can forge a cache entry does not hold."""
        material = "\0".join(("zohorel-token-seal-v1", self.client_secret, self.refresh_token)).encode()
        return hashlib.sha256(material).digest()

    @classmethod
    def from_fields(
        cls,
        *,
        client_id: str | None,
        client_secret: str | None,
        extra: Mapping[str, Any],
    ) -> ZohoCredentials:
        """Build from a connection's login, password and extras (short names; see the hook)."""

        def text(name: str) -> str | None:
            value = extra.get(name)
            if value is None or (isinstance(value, str) and not value.strip()):
                return None
            if not isinstance(value, str):
                raise ConnectionConfigError(
                    f"Connection extra {name!r} must be a string, got {type(value).__name__}."
                )
            return value.strip()

        accounts_url = text("accounts_url")
        if accounts_url is None:
            accounts_url = accounts_url_for(text("region") or "us")
        return cls(
            client_id=(client_id or "").strip(),
            client_secret=client_secret or "",
            refresh_token=text("refresh_token") or "",
            accounts_url=accounts_url,
            api_domain=text("api_domain"),
            api_version=text("api_version") or "v2",
            mint_url=text("mint_url") or text("token_url"),
        )
