"""The HTTP client: one pooled session, a timeout on every call, 401 refresh, 429/5xx backoff.

HTTP status alone is never the verdict with Zoho (a 400 may carry per-item results), so this
layer only decides *whether to try again*; it returns every final answer as an
:class:`ApiResponse` and raises only for what no caller can handle per item: configuration
errors, a token that stays rejected, and transient failures that outlived the retry budget.
"""

from __future__ import annotations

import http.cookiejar
import random
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import requests
import requests.auth
from requests.adapters import HTTPAdapter

from airflow_provider_zohorel import __version__
from airflow_provider_zohorel.zoho.credentials import ZohoCredentials
from airflow_provider_zohorel.zoho.errors import (
    CONFIGURATION_CODES,
    MAX_CODE,
    TOKEN_CODES,
    ZohoAuthError,
    ZohoConfigurationError,
    ZohoTransientError,
    quote_body,
)
from airflow_provider_zohorel.zoho.limiter import AdaptiveLimiter
from airflow_provider_zohorel.zoho.limits import DEFAULT_MAX_CONCURRENCY
from airflow_provider_zohorel.zoho.oauth import TokenMinter
from airflow_provider_zohorel.zoho.retry import RetryBudget, RetryPolicy, parse_retry_after
from airflow_provider_zohorel.zoho.token_cache import PROCESS_CACHE, TokenCache
from airflow_provider_zohorel.zoho.token_provider import TokenProvider

USER_AGENT = f"airflow-provider-zohorel/{__version__}"


@dataclass(frozen=True)
class ClientSettings:
    """Timeouts (seconds), retry budget and concurrency for one client."""

    connect_timeout: float = 10.0
    read_timeout: float = 60.0
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    max_concurrency: int = DEFAULT_MAX_CONCURRENCY


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
    adapter = HTTPAdapter(pool_connections=2, pool_maxsize=max(1, max_concurrency), max_retries=0)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    session.cookies.set_policy(http.cookiejar.DefaultCookiePolicy(allowed_domains=[]))
    session.headers["User-Agent"] = USER_AGENT
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
    ) -> None:
        self.credentials = credentials
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
        )
        self.tokens = TokenProvider(
            self.minter, token_cache if token_cache is not None else PROCESS_CACHE, on_token=on_token
        )

    @property
    def base_path(self) -> str:
        return f"/crm/{self.credentials.api_version}"

    def close(self) -> None:
        self.session.close()

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
        refreshed = False
        unanswered = False
        while True:
            token = self.tokens.get()
            try:
                # A configured api_domain wins even over a token shared through the cache, which
                # carries the domain of whichever connection minted it.
                domain = self.credentials.api_domain or token.api_domain
                response = self._send(
                    method, domain + self.base_path + path, token.value, json, params, headers
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
            if response.status == 401 and code in TOKEN_CODES:
                if refreshed:
                    raise ZohoAuthError(
                        code or "INVALID_TOKEN",
                        "Zoho rejected a freshly minted access token: "
                        f"{quote_body(response.body.get('message', ''))}",
                        http_status=401,
                    )
                self.tokens.refresh(token)
                self.stats.add(token_refreshes=1)
                refreshed = True
                continue
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
        headers: Mapping[str, str] | None = None,
    ) -> ApiResponse:
        timeout = (self.settings.connect_timeout, self.settings.read_timeout)
        with self.limiter.slot():
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
                )
            except requests.ConnectTimeout:
                self.stats.add(network_errors=1)
                message = f"could not connect within {self.settings.connect_timeout:g} s"
                raise _Transient("TIMEOUT", message, None, None) from None
            except requests.Timeout:
                self.stats.add(network_errors=1)
                message = f"no answer within {self.settings.read_timeout:g} s"
                raise _Transient("TIMEOUT", message, None, None, maybe_applied=True) from None
            except (requests.ConnectionError, requests.exceptions.ChunkedEncodingError) as exc:
                self.stats.add(network_errors=1)
                message = f"connection failed ({type(exc).__name__})"
                raise _Transient("CONNECTION_ERROR", message, None, None, _maybe_sent(exc)) from None
        try:
            body: Any = raw.json() if raw.content else None
        except ValueError:
            body = None
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
            detail = (
                quote_body(body.get("message", "")) if isinstance(body, dict) else quote_body(raw.text, 120)
            )
            raise _Transient(
                code, f"Zoho answered HTTP {raw.status_code} {code}: {detail}", raw.status_code, None
            )
        self.limiter.succeeded()
        return response
