"""Minting access tokens from a refresh token at Zoho Accounts.

Zoho answers every token error with HTTP 200 and an ``error`` key, so the body decides, never the
status. The mint throttle ("Access Denied": about 10 mints per refresh token per 10 minutes) is
waited out with backoff instead of hammered.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pendulum
import requests

from airflow_provider_zohorel.zoho.credentials import ZohoCredentials
from airflow_provider_zohorel.zoho.errors import ZohoAuthError, ZohoAuthUnavailable, quote_body
from airflow_provider_zohorel.zoho.regions import check_base_url
from airflow_provider_zohorel.zoho.retry import RetryBudget, RetryPolicy

DEFAULT_TTL = 3600

#: A throttled accounts server frees a mint slot within 10 minutes; wait long enough to see one.
MINT_THROTTLE_POLICY = RetryPolicy(max_attempts=8, base_delay=5.0, max_delay=120.0, deadline=600.0)
#: Network errors and 5xx from the accounts server.
MINT_NETWORK_POLICY = RetryPolicy(max_attempts=5, base_delay=1.0, max_delay=20.0, deadline=90.0)

_AUTH_HINTS = {
    "invalid_client": "Zoho Accounts does not know this client id at {accounts}. The client is probably "
    "registered in another data centre: check the connection's region or accounts_url.",
    "invalid_client_secret": "The client secret is wrong for this client id.",
    "invalid_code": "The refresh token is wrong, was revoked, or was pushed out by a newer one (Zoho keeps "
    "20 per user and client). Generate a new refresh token.",
    "missing_org_info": "client_credentials grants need the soid parameter (ZohoCRM.<org id>).",
    "unsupported_grant_type": "The accounts server refused the grant type.",
}


def _is_throttle(error: str) -> bool:
    return error.replace("_", " ").strip().lower() == "access denied"


@dataclass(frozen=True)
class AccessToken:
    """An access token and where it may be used; the value never appears in ``repr``."""

    value: str = field(repr=False)
    api_domain: str
    expires_at: pendulum.DateTime
    lifetime: float = DEFAULT_TTL  # seconds it was issued for; bounds how early it is renewed

    def seconds_left(self, now: pendulum.DateTime | None = None) -> float:
        return (self.expires_at - (now or pendulum.now("UTC"))).total_seconds()

    def to_json(self) -> dict[str, Any]:
        return {
            "value": self.value,
            "api_domain": self.api_domain,
            "expires_at": self.expires_at.isoformat(),
            "lifetime": self.lifetime,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> AccessToken:
        expires = pendulum.parse(str(data["expires_at"]))
        if not isinstance(expires, pendulum.DateTime):
            raise ValueError("expires_at is not a date-time")
        lifetime = float(data.get("lifetime", DEFAULT_TTL))
        return cls(str(data["value"]), str(data["api_domain"]), expires, lifetime)


def _ttl_seconds(body: dict[str, Any]) -> float:
    """Zoho's legacy shape sends ``expires_in_sec`` with ``expires_in`` in milliseconds."""
    if "expires_in_sec" in body:
        return float(body["expires_in_sec"])
    raw = body.get("expires_in")
    if raw is None:
        return DEFAULT_TTL  # seen missing intermittently (research 4.6); Zoho's default lifetime
    ttl = float(raw)
    return ttl / 1000.0 if ttl > 100_000 else ttl


class TokenMinter:
    """POSTs ``grant_type=refresh_token`` and turns the answer into an :class:`AccessToken`."""

    def __init__(
        self,
        credentials: ZohoCredentials,
        session: requests.Session,
        *,
        timeout: tuple[float, float] = (10.0, 30.0),
        throttle_policy: RetryPolicy = MINT_THROTTLE_POLICY,
        network_policy: RetryPolicy = MINT_NETWORK_POLICY,
        sleep: Callable[[float], None] = time.sleep,
        on_throttled: Callable[[float], None] | None = None,
    ) -> None:
        self.credentials = credentials
        self.session = session
        self.timeout = timeout
        self.throttle_policy = throttle_policy
        self.network_policy = network_policy
        self.sleep = sleep
        self.on_throttled = on_throttled
        self.mints = 0

    @property
    def token_url(self) -> str:
        return f"{self.credentials.accounts_url}/oauth/v2/token"

    def mint(self) -> AccessToken:
        throttle = RetryBudget(self.throttle_policy, rng=random.Random())
        network = RetryBudget(self.network_policy, rng=random.Random())
        while True:
            try:
                body = self._post()
            except (requests.ConnectionError, requests.Timeout, _ServerError) as exc:
                delay = network.next_delay()
                if delay is None:
                    raise ZohoAuthUnavailable(
                        "ACCOUNTS_UNREACHABLE",
                        f"Zoho Accounts at {self.credentials.accounts_url} did not answer after "
                        f"{network.attempts} attempts ({type(exc).__name__}).",
                    ) from None
                self.sleep(delay)
                continue
            error = body.get("error")
            if error is None and body.get("access_token"):
                self.mints += 1
                return self._token_from(body)
            error_text = str(error or "no access_token in response")
            if _is_throttle(error_text):
                delay = throttle.next_delay()
                if delay is None:
                    raise ZohoAuthUnavailable(
                        "TOKEN_THROTTLED",
                        "Zoho Accounts is throttling access-token creation for this refresh token "
                        "(about 10 per 10 minutes). Tasks should share tokens: keep the default file "
                        "token cache, or configure a shared one. "
                        f"Zoho said: {quote_body(body.get('error_description', error_text))}",
                    )
                if self.on_throttled is not None:
                    self.on_throttled(delay)
                self.sleep(delay)
                continue
            hint = _AUTH_HINTS.get(error_text, "Zoho Accounts refused to mint an access token.")
            raise ZohoAuthError(error_text, hint.format(accounts=self.credentials.accounts_url))

    def _post(self) -> dict[str, Any]:
        creds = self.credentials
        response = self.session.post(
            self.token_url,
            data={
                "grant_type": "refresh_token",
                "client_id": creds.client_id,
                "client_secret": creds.client_secret,
                "refresh_token": creds.refresh_token,
            },
            timeout=self.timeout,
        )
        if response.status_code >= 500:
            raise _ServerError(response.status_code)
        try:
            body = response.json()
        except ValueError:
            raise ZohoAuthError(
                "INVALID_RESPONSE",
                f"Zoho Accounts answered HTTP {response.status_code} without JSON: "
                f"{quote_body(response.text, 120)}",
            ) from None
        if not isinstance(body, dict):
            raise ZohoAuthError("INVALID_RESPONSE", "Zoho Accounts answered with a non-object JSON body.")
        return body

    def _token_from(self, body: dict[str, Any]) -> AccessToken:
        ttl = _ttl_seconds(body)
        domain = self.credentials.api_domain or body.get("api_domain")
        if not domain:
            raise ZohoAuthError(
                "INVALID_RESPONSE",
                "The token response names no api_domain; set 'api_domain' in the connection.",
            )
        return AccessToken(
            value=str(body["access_token"]),
            api_domain=check_base_url(str(domain), "api_domain"),
            expires_at=pendulum.now("UTC").add(seconds=ttl),
            lifetime=ttl,
        )


class _ServerError(Exception):
    def __init__(self, status: int) -> None:
        super().__init__(f"HTTP {status}")
        self.status = status
