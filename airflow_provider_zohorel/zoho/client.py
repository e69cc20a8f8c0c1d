"""The HTTP client: one pooled session, a deadline on every call, 401 refresh, 429/5xx backoff.

HTTP status alone is never the verdict with Zoho (a 400 may carry per-item results), so this
layer only decides *whether to try again*; it returns every final answer as an
:class:`ApiResponse` and raises only for what no caller can handle per item: configuration
errors, a token that stays rejected, and transient failures that outlived the retry budget.

Every 401 but a configuration code (OAUTH_SCOPE_MISMATCH) replaces the token and tries again: Zoho
answers INVALID_TOKEN, INVALID_OAUTHTOKEN (a token evicted by the 16th live one, or revoked) or
AUTHENTICATION_FAILURE, and may add codes. Answers are read with a size cap and each attempt has a
total deadline (see :mod:`~airflow_provider_zohorel.zoho.transport`).
"""

from __future__ import annotations

import contextlib
import http.cookiejar
import logging
import random
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import requests
import requests.auth

from airflow_provider_zohorel import __version__
from airflow_provider_zohorel.zoho.concurrency_budget import ConcurrencyBudget
from airflow_provider_zohorel.zoho.credentials import ZohoCredentials
from airflow_provider_zohorel.zoho.errors import (
    CONFIGURATION_CODES,
    MAX_CODE,
    ZohoConfigurationError,
    ZohoTransientError,
    quote_body,
)
from airflow_provider_zohorel.zoho.limiter import AdaptiveLimiter
from airflow_provider_zohorel.zoho.limits import DEFAULT_MAX_CONCURRENCY
from airflow_provider_zohorel.zoho.oauth import TokenMinter
from airflow_provider_zohorel.zoho.regions import host_of, is_loopback, is_zoho_api_host
from airflow_provider_zohorel.zoho.retry import RetryBudget, RetryPolicy, parse_retry_after
from airflow_provider_zohorel.zoho.token_cache import PROCESS_CACHE, TokenCache
from airflow_provider_zohorel.zoho.token_provider import TokenProvider
from airflow_provider_zohorel.zoho.transport import (
    ACCEPT_ENCODING,
    MAX_BODY_BYTES,
    BodyTooLarge,
    DeadlineAdapter,
    DeadlineExceeded,
    UnreadableBody,
    exchange_deadline,
    parse_json,
    read_body,
)

USER_AGENT = f"airflow-provider-zohorel/{__version__}"
#: New tokens one call may ask for after 401s before its items are reported failed, within the
#: call's retry deadline (bounded: a server that rejects every token must not make a call mint
#: forever; mints themselves are single-flight and paced by Zoho's mint throttle). Generous, because
#: under load a replacement token can be revoked again before a slow call gets to use it, round
#: after round.
MAX_TOKEN_RENEWALS_PER_CALL = 50

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ClientSettings:
    """Timeouts (seconds), retry budget and concurrency for one client."""

    connect_timeout: float = 10.0
    read_timeout: float = 60.0
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    max_concurrency: int = DEFAULT_MAX_CONCURRENCY
    #: Most bytes one answer may have, on the wire and decompressed.
    max_body_bytes: int = MAX_BODY_BYTES


@dataclass(frozen=True)
class ApiResponse:
    """A final answer from the CRM API: status, parsed JSON body (or ``None``) and headers."""

    status: int
    body: Any
    headers: Mapping[str, str]

    @property
    def error_code(self) -> str | None:
        """Zoho's top-level ``code`` when the body is an error envelope, else ``None``."""
        if isinstance(self.body, dict) and self.body.get("status") == "error":
            code = self.body.get("code")
            return quote_body(str(code), MAX_CODE) if code is not None else None
        return None


@dataclass
class ClientStats:
    """What the client did, for the run summary and the benchmarks."""

    calls: int = 0
    retries: int = 0
    throttled: int = 0
    server_errors: int = 0
    network_errors: int = 0
    token_refreshes: int = 0
    mint_waits: int = 0  # waits between token mint attempts (Zoho's mint throttle, accounts down)
    mint_wait_ms: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, **counts: int) -> None:
        with self._lock:
            for name, value in counts.items():
                setattr(self, name, getattr(self, name) + value)

    def as_dict(self) -> dict[str, int]:
        return {
            "calls": self.calls,
            "retries": self.retries,
            "throttled": self.throttled,
            "server_errors": self.server_errors,
            "network_errors": self.network_errors,
            "token_refreshes": self.token_refreshes,
            "mint_waits": self.mint_waits,
            "mint_wait_ms": self.mint_wait_ms,
        }


class _Transient(Exception):
    def __init__(
        self,
        code: str,
        message: str,
        status: int | None,
        retry_after: float | None,
        maybe_applied: bool = False,
    ) -> None:
        super().__init__(message)
        self.code, self.message, self.status, self.retry_after = code, message, status, retry_after
        self.maybe_applied = maybe_applied  # sent, but no answer came back: Zoho may have applied it


def _quotable(url: str) -> bool:
    """Zoho's hosts and loopback (the emulator): their non-JSON error pages may be quoted."""
    host = host_of(url)
    return is_zoho_api_host(host) or is_loopback(host)


def _maybe_sent(exc: requests.RequestException) -> bool:
    """False only when the request certainly never reached Zoho (no connection was made)."""
    if isinstance(exc, requests.ConnectTimeout):
        return False
    return "Failed to establish a new connection" not in str(exc)


class _ZohoAuth(requests.auth.AuthBase):
    """Zoho's ``Authorization`` header, given as ``auth`` rather than a plain header: requests then
    skips its ~/.netrc lookup on every call, whose match (a ``default`` line matches every host)
    would otherwise replace the header with Basic auth."""

    def __init__(self, token: str) -> None:
        self.header = f"Zoho-oauthtoken {token}"

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["Authorization"] = self.header
        return request


class _Session(requests.Session):
    """requests re-reads the proxy and CA-bundle environment (every variable) on each call, a tenth
    of a call's client CPU; a task's environment does not change, so read it once per host."""

    def __init__(self) -> None:
        super().__init__()
        self._environment: dict[tuple[Any, ...], Any] = {}

    def merge_environment_settings(self, url: Any, proxies: Any, stream: Any, verify: Any, cert: Any) -> Any:
        if proxies:  # explicit per-call proxies: requests' own handling
            return super().merge_environment_settings(url, proxies, stream, verify, cert)
        parts = urlsplit(url)
        key = (parts.scheme, parts.netloc, stream, verify, cert)
        settings = self._environment.get(key)
        if settings is None:
            settings = super().merge_environment_settings(url, proxies, stream, verify, cert)
            self._environment[key] = settings
        return {**settings, "proxies": dict(settings["proxies"])}


def new_session(max_concurrency: int) -> requests.Session:
    """A session whose pool holds one connection per concurrent call and which keeps no cookies."""
    session = _Session()
    adapter = DeadlineAdapter(pool_connections=2, pool_maxsize=max(1, max_concurrency), max_retries=0)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    session.cookies.set_policy(http.cookiejar.DefaultCookiePolicy(allowed_domains=[]))
    session.headers["User-Agent"] = USER_AGENT
    session.headers["Accept-Encoding"] = ACCEPT_ENCODING  # only what read_body can bound
    session.verify = True
    return session


class ZohoClient:
    """Authenticated, retrying access to ``{api_domain}/crm/{version}``; safe to share across threads."""

    def __init__(
        self,
        credentials: ZohoCredentials,
        *,
        settings: ClientSettings | None = None,
        token_cache: TokenCache | None = None,
        on_token: Callable[[str], None] | None = None,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
        budget: ConcurrencyBudget | None = None,
    ) -> None:
        self.credentials = credentials
        #: The deployment-wide budget every attempt takes a slot from (None: this client's
        #: ``max_concurrency`` only), see :mod:`~airflow_provider_zohorel.zoho.concurrency_budget`.
        self.budget = budget
        self.settings = settings or ClientSettings()
        self.session = session or new_session(self.settings.max_concurrency)
        self.sleep = sleep
        self.rng = rng or random.Random()
        self.stats = ClientStats()
        self.limiter = AdaptiveLimiter(self.settings.max_concurrency)
        self.minter = TokenMinter(
            credentials,
            self.session,
            timeout=(self.settings.connect_timeout, self.settings.read_timeout),
            sleep=sleep,
            on_wait=self._mint_waited,
        )
        self.tokens = TokenProvider(
            self.minter, token_cache if token_cache is not None else PROCESS_CACHE, on_token=on_token
        )

    @property
    def base_path(self) -> str:
        return f"/crm/{self.credentials.api_version}"

    def close(self) -> None:
        self.session.close()

    def _mint_waited(self, seconds: float, reason: str) -> None:
        self.stats.add(mint_waits=1, mint_wait_ms=round(seconds * 1000))

    def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: Any = None,
        headers: Mapping[str, str] | None = None,
    ) -> ApiResponse:
        """Send one CRM request, retrying what is worth retrying; ``path`` is below ``/crm/{v}``.

        ``headers``: extra request headers, such as ``X-EXTERNAL`` for external ids."""
        budget = RetryBudget(self.settings.retry, rng=self.rng)
        renewals = 0
        unanswered = False
        while True:
            token = self.tokens.get()
            try:
                # A configured api_domain wins even over a token shared through the cache, which
                # carries the domain of whichever connection minted it.
                domain = self.credentials.api_domain or token.api_domain
                response = self._send(
                    method,
                    domain + self.base_path + path,
                    token.value,
                    json,
                    params,
                    budget.remaining(),
                    headers,
                )
            except _Transient as exc:
                unanswered = unanswered or exc.maybe_applied
                delay = budget.next_delay(exc.retry_after)
                if delay is None:
                    note = (
                        "; an attempt got no answer, so Zoho may hold the change already"
                        if unanswered
                        else ""
                    )
                    raise ZohoTransientError(
                        exc.code,
                        f"{exc.message} (gave up after {budget.attempts} attempts{note})",
                        http_status=exc.status,
                    ) from None
                self.stats.add(retries=1)
                self.sleep(delay)
                continue
            code = response.error_code
            if response.status == 401 and code not in CONFIGURATION_CODES:
                # Revoked, expired or evicted (INVALID_OAUTHTOKEN), or a code we do not know yet:
                # replace the token (one mint for all the calls that saw it fail) and try again.
                renewals += 1
                if renewals > MAX_TOKEN_RENEWALS_PER_CALL or budget.remaining() <= 0:
                    raise ZohoTransientError(
                        code or "INVALID_TOKEN",
                        f"Zoho rejected {renewals} access tokens in a row for this call, each newly "
                        "minted or shared, until its retry deadline; stopped asking for more",
                        http_status=401,
                    )
                self.stats.add(token_refreshes=1)
                self.tokens.refresh(token)
                continue
            self.tokens.worked(token)
            if code in CONFIGURATION_CODES:
                body = response.body
                raise ZohoConfigurationError(
                    code or "",
                    str(body.get("message", "")),
                    http_status=response.status,
                    details=body.get("details") if isinstance(body.get("details"), dict) else None,
                )
            return response

    def _send(
        self,
        method: str,
        url: str,
        token: str,
        json: Any,
        params: Any,
        time_left: float,
        headers: Mapping[str, str] | None = None,
    ) -> ApiResponse:
        settings = self.settings
        timeout = (settings.connect_timeout, settings.read_timeout)
        # One attempt may take connect + read timeout in all, and never run past the retry deadline:
        # read_timeout alone bounds each socket read, which a dripping server renews at will.
        total = max(0.001, min(settings.connect_timeout + settings.read_timeout, time_left))
        # The shared slot is leased for as long as this attempt may last, and taken after the local
        # one: threads of this task queue here, and only calls about to be sent hold the budget.
        shared = self.budget.slot(total) if self.budget is not None else contextlib.nullcontext()
        with self.limiter.slot(), shared, exchange_deadline(total) as deadline:
            self.stats.add(calls=1)
            try:
                raw = self.session.request(
                    method,
                    url,
                    json=json,
                    params=params,
                    headers=headers,
                    auth=_ZohoAuth(token),
                    timeout=timeout,
                    allow_redirects=False,
                    stream=True,
                )
                content = read_body(raw, deadline, settings.max_body_bytes)
            except requests.ConnectTimeout:
                self.stats.add(network_errors=1)
                message = f"could not connect within {settings.connect_timeout:g} s"
                raise _Transient("TIMEOUT", message, None, None) from None
            except (requests.Timeout, DeadlineExceeded):
                self.stats.add(network_errors=1)
                message = f"no complete answer within {min(settings.read_timeout, total):g} s"
                raise _Transient("TIMEOUT", message, None, None, maybe_applied=True) from None
            except (requests.ConnectionError, requests.exceptions.ChunkedEncodingError) as exc:
                self.stats.add(network_errors=1)
                if deadline.expired:
                    message = f"no complete answer within {total:g} s"
                    raise _Transient("TIMEOUT", message, None, None, maybe_applied=True) from None
                message = f"connection failed ({type(exc).__name__})"
                raise _Transient("CONNECTION_ERROR", message, None, None, _maybe_sent(exc)) from None
            except (BodyTooLarge, UnreadableBody) as exc:
                self.stats.add(network_errors=1)
                message = f"unreadable answer, HTTP {raw.status_code}: {exc}"
                raise _Transient("RESPONSE_UNREADABLE", message, raw.status_code, None, True) from None
        body: Any = parse_json(content)
        response = ApiResponse(raw.status_code, body, raw.headers)
        if raw.status_code == 429:
            self.limiter.throttled()
            self.stats.add(throttled=1)
            raise _Transient(
                "TOO_MANY_REQUESTS",
                "Zoho answered 429 TOO_MANY_REQUESTS",
                429,
                parse_retry_after(raw.headers.get("Retry-After")),
            )
        if raw.status_code >= 500:
            self.stats.add(server_errors=1)
            code = response.error_code or "INTERNAL_ERROR"
            if isinstance(body, dict):
                detail = quote_body(body.get("message", ""))
            elif _quotable(url):
                detail = quote_body(content.decode("utf-8", "replace"), 120)
            else:  # an api_domain that is not Zoho's: never read an unknown host's page back
                detail = quote_body(raw.headers.get("Content-Type", "no content type"), 60)
            raise _Transient(
                code, f"Zoho answered HTTP {raw.status_code} {code}: {detail}", raw.status_code, None
            )
        self.limiter.succeeded()
        return response
