"""Minting access tokens from a refresh token at Zoho Accounts.

Zoho answers every token error with HTTP 200 and an ``error`` key, so the body decides, never the
status. The mint throttle ("Access Denied": about 10 mints per refresh token per 10 minutes) is
waited out with backoff instead of hammered, and every wait is logged and counted.

The token request carries the client secret and the refresh token, so it goes to the configured
endpoint and nowhere else: redirects are refused, ``~/.netrc`` is never consulted, the answer is
read with a size cap and a total deadline, and an answer from a host that is not Zoho's (nor
loopback) is described by status and content type only, never quoted (it may be an internal
service reached through a hostile connection's URL).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pendulum
import requests
import requests.auth

from airflow_provider_zohorel.zoho.credentials import ZohoCredentials
from airflow_provider_zohorel.zoho.errors import ZohoAuthError, ZohoAuthUnavailable, quote_body
from airflow_provider_zohorel.zoho.regions import (
    check_api_domain,
    host_of,
    is_loopback,
    is_zoho_accounts_host,
)
from airflow_provider_zohorel.zoho.retry import RetryBudget, RetryPolicy
from airflow_provider_zohorel.zoho.transport import (
    MAX_TOKEN_BODY_BYTES,
    BodyTooLarge,
    DeadlineExceeded,
    UnreadableBody,
    exchange_deadline,
    parse_json,
    read_body,
)

log = logging.getLogger(__name__)

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


#: The codes Zoho Accounts answers with; only these are named when the answer comes from elsewhere.
KNOWN_ERRORS = frozenset(_AUTH_HINTS) | {"access denied", "Access Denied", "invalid_redirect_uri"}


def _is_throttle(error: str) -> bool:
    return error.replace("_", " ").strip().lower() == "access denied"


@dataclass(frozen=True)
class AccessToken:
    """An access token and where it may be used; the value never appears in ``repr``."""

    value: str = field(repr=False)
    api_domain: str
    expires_at: pendulum.DateTime
    lifetime: float = DEFAULT_TTL  # seconds it was issued for; bounds how early it is renewed
    seal: str = field(default="", repr=False, compare=False)  # HMAC over the above, see sealed()

    def seconds_left(self, now: pendulum.DateTime | None = None) -> float:
        return (self.expires_at - (now or pendulum.now("UTC"))).total_seconds()

    def _mac(self, key: bytes, context: str) -> str:
        message = "\n".join(
            (context, self.value, self.api_domain, self.expires_at.isoformat(), repr(float(self.lifetime)))
        )
        return hmac.new(key, message.encode(), hashlib.sha256).hexdigest()

    def sealed(self, key: bytes, context: str) -> AccessToken:
        """This token with an HMAC (keyed from the connection's secrets) over every field, so a cache
        entry written by anyone who lacks those secrets is recognised and ignored."""
        seal = self._mac(key, context)
        return AccessToken(self.value, self.api_domain, self.expires_at, self.lifetime, seal)

    def seal_valid(self, key: bytes, context: str) -> bool:
        return bool(self.seal) and hmac.compare_digest(self.seal, self._mac(key, context))

    def to_json(self) -> dict[str, Any]:
        return {
            "value": self.value,
            "api_domain": self.api_domain,
            "expires_at": self.expires_at.isoformat(),
            "lifetime": self.lifetime,
            "seal": self.seal,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> AccessToken:
        if not isinstance(data, dict):
            raise ValueError("a token entry is a JSON object")
        expires = pendulum.parse(str(data["expires_at"]))
        if not isinstance(expires, pendulum.DateTime):
            raise ValueError("expires_at is not a date-time")
        lifetime = float(data.get("lifetime", DEFAULT_TTL))
        return cls(str(data["value"]), str(data["api_domain"]), expires, lifetime, str(data.get("seal", "")))


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
    """POSTs ``grant_type=refresh_token`` and turns the answer into an :class:`AccessToken`.

    ``on_wait(seconds, reason)`` is told about every wait between attempts (throttle or network),
    after it has been logged, so the client can count them in its stats.
    """

    def __init__(
        self,
        credentials: ZohoCredentials,
        session: requests.Session,
        *,
        timeout: tuple[float, float] = (10.0, 30.0),
        throttle_policy: RetryPolicy = MINT_THROTTLE_POLICY,
        network_policy: RetryPolicy = MINT_NETWORK_POLICY,
        sleep: Callable[[float], None] = time.sleep,
        on_wait: Callable[[float, str], None] | None = None,
    ) -> None:
        self.credentials = credentials
        self.session = session
        self.timeout = timeout
        self.throttle_policy = throttle_policy
        self.network_policy = network_policy
        self.sleep = sleep
        self.on_wait = on_wait
        self.mints = 0

    @property
    def token_url(self) -> str:
        return self.credentials.token_endpoint

    @property
    def _trusted(self) -> bool:
        """Zoho's own accounts hosts and loopback (the emulator) may be quoted; nobody else."""
        host = host_of(self.token_url)
        return is_zoho_accounts_host(host) or is_loopback(host)

    def _wait(self, delay: float, reason: str) -> None:
        log.warning("Token mint at %s: %s; waiting %.1f s before trying again", self.token_url, reason, delay)
        if self.on_wait is not None:
            self.on_wait(delay, reason)
        self.sleep(delay)

    def mint(self) -> AccessToken:
        throttle = RetryBudget(self.throttle_policy, rng=random.Random())
        network = RetryBudget(self.network_policy, rng=random.Random())
        url = self.token_url
        while True:
            try:
                status, body = self._post()
            except (requests.ConnectionError, requests.Timeout, _Unanswered) as exc:
                delay = network.next_delay()
                what = exc.reason if isinstance(exc, _Unanswered) else type(exc).__name__
                if delay is None:
                    raise ZohoAuthUnavailable(
                        "ACCOUNTS_UNREACHABLE",
                        f"Zoho Accounts at {url} did not answer usefully after {network.attempts} "
                        f"attempts (last: {what}).",
                        http_status=exc.status if isinstance(exc, _Unanswered) else None,
                    ) from None
                self._wait(delay, f"Zoho Accounts did not answer usefully ({what})")
                continue
            error = body.get("error")
            if error is None and body.get("access_token"):
                self.mints += 1
                return self._token_from(body)
            if error is None:
                raise ZohoAuthError(
                    "INVALID_RESPONSE",
                    f"{url} answered HTTP {status} with JSON but no access_token; is it a Zoho token "
                    "endpoint (check accounts_url and mint_url)?",
                    http_status=status,
                )
            error_text = quote_body(str(error), 64)
            if _is_throttle(error_text):
                delay = throttle.next_delay()
                said = quote_body(body.get("error_description", error_text)) if self._trusted else error_text
                if delay is None:
                    raise ZohoAuthUnavailable(
                        "TOKEN_THROTTLED",
                        f"Zoho Accounts at {url} is throttling access-token creation for this refresh "
                        "token (about 10 per 10 minutes) and still was after "
                        f"{throttle.attempts} attempts. Tasks should share tokens: keep the default file "
                        f"token cache, or configure a shared one. Zoho said: {said}",
                        http_status=status,
                    )
                self._wait(delay, f"Zoho Accounts is throttling token creation ({said})")
                continue
            if not self._trusted and error_text not in KNOWN_ERRORS:
                error_text = "UNRECOGNISED_ERROR"  # a code from an unknown host is not quoted
            hint = _AUTH_HINTS.get(error_text, "Zoho Accounts refused to mint an access token.")
            raise ZohoAuthError(
                error_text,
                f"{hint.format(accounts=self.credentials.accounts_url)} (token endpoint {url})",
                http_status=status,
            )

    def _post(self) -> tuple[int, dict[str, Any]]:
        creds = self.credentials
        url = self.token_url
        with exchange_deadline(sum(self.timeout)) as deadline:
            response = self.session.post(
                url,
                data={
                    "grant_type": "refresh_token",
                    "client_id": creds.client_id,
                    "client_secret": creds.client_secret,
                    "refresh_token": creds.refresh_token,
                },
                timeout=self.timeout,
                allow_redirects=False,  # a redirect would re-send the secrets to whatever it names
                auth=_NO_AUTH,  # and ~/.netrc must not add Basic credentials of its own
                stream=True,
            )
            status = response.status_code
            kind = quote_body(response.headers.get("Content-Type", "no content type"), 60)
            try:
                if 300 <= status < 400:
                    raise ZohoAuthError(
                        "REDIRECT_REFUSED",
                        f"{url} answered HTTP {status}, a redirect{self._where_to(response)}; the token "
                        "request (which carries the client secret) is never re-sent elsewhere. Set "
                        "accounts_url or mint_url to the address that answers directly.",
                        http_status=status,
                    )
                if status >= 500:
                    raise _Unanswered(status, f"HTTP {status}")
                try:
                    raw = read_body(response, deadline, MAX_TOKEN_BODY_BYTES)
                except DeadlineExceeded as exc:
                    raise _Unanswered(status, str(exc)) from None
                except (BodyTooLarge, UnreadableBody) as exc:
                    message = f"{url} answered HTTP {status} ({kind}): {exc}"
                    raise ZohoAuthError("INVALID_RESPONSE", message, http_status=status) from None
            finally:
                response.close()
        body = parse_json(raw)
        if not isinstance(body, dict):
            shown = f": {quote_body(raw.decode('utf-8', 'replace'), 120)}" if self._trusted else ""
            raise ZohoAuthError(
                "INVALID_RESPONSE",
                f"{url} answered HTTP {status} ({kind}) without a JSON object{shown}; is it a Zoho "
                "token endpoint (check accounts_url and mint_url)?",
                http_status=status,
            )
        return status, body

    def _where_to(self, response: requests.Response) -> str:
        if not self._trusted:
            return ""
        return f" to {quote_body(response.headers.get('Location', '?'), 120)}"

    def _token_from(self, body: dict[str, Any]) -> AccessToken:
        ttl = _ttl_seconds(body)
        creds = self.credentials
        domain = creds.api_domain or body.get("api_domain")
        if not domain:
            raise ZohoAuthError(
                "INVALID_RESPONSE",
                f"The token response of {self.token_url} names no api_domain; set 'api_domain' in the "
                "connection.",
            )
        api_domain = check_api_domain(
            str(domain),
            configured=creds.api_domain,
            mint_url=self.token_url,
            source=f"The token response of {self.token_url}",
        )
        return AccessToken(
            value=str(body["access_token"]),
            api_domain=api_domain,
            expires_at=pendulum.now("UTC").add(seconds=ttl),
            lifetime=ttl,
        )


class _NoAuth(requests.auth.AuthBase):
    """An explicit "no credentials": requests consults ~/.netrc only when ``auth`` is empty."""

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        return request


_NO_AUTH = _NoAuth()


class _Unanswered(Exception):
    """A 5xx or an answer cut off by the deadline: worth another attempt."""

    def __init__(self, status: int | None, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason
