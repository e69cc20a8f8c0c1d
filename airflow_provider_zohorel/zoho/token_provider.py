"""Single-flight access tokens: reuse what any sharer minted, mint only when nobody has a good one.

A token Zoho rejects (401) after it has worked was revoked or evicted (the 16th live token pushes
out the oldest, answered ``INVALID_OAUTHTOKEN``): it is replaced, once however many calls saw the
401, and never taken for a configuration error. Once any call has succeeded, the configuration is
proven (the refresh token, the data centre and the API domain cannot change during a run), so no
number of revocations makes it suspect. Before that, two tokens in a row that this provider minted
and that Zoho rejected point at the configuration (a token valid elsewhere: another data centre, a
sandbox), and even that is reported as retryable, since a fresh token may simply have been revoked
at once.

Everything read from a cache is checked before use: its seal (an HMAC keyed from the connection's
secrets, so write access to the cache yields nothing) and its ``api_domain`` (the configured one,
a Zoho host, or loopback for the emulator).
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable

from airflow_provider_zohorel.zoho.errors import (
    ConnectionConfigError,
    ZohoAuthError,
    ZohoAuthUnavailable,
    ZohoTokenRejected,
)
from airflow_provider_zohorel.zoho.oauth import AccessToken, TokenMinter
from airflow_provider_zohorel.zoho.regions import check_api_domain
from airflow_provider_zohorel.zoho.token_cache import TokenCache, TokenCacheError, TokenCacheLockTimeout

log = logging.getLogger(__name__)

#: Refresh this long before expiry so a batch never starts with a token about to die.
DEFAULT_REFRESH_MARGIN = 300.0
#: Fresh tokens rejected before they ever worked, in a row, that make the configuration suspect.
UNPROVEN_REJECTIONS_LIMIT = 2


class TokenProvider:
    """Hands out a valid token; after a 401 replaces it at most once per rejected token.

    ``on_token`` sees every token value this process starts using (minted here or read from the
    shared cache), so the hook can register each with Airflow's secrets masker.
    """

    def __init__(
        self,
        minter: TokenMinter,
        cache: TokenCache,
        *,
        refresh_margin: float = DEFAULT_REFRESH_MARGIN,
        on_token: Callable[[str], None] | None = None,
    ) -> None:
        self.minter = minter
        self.cache = cache
        credentials = minter.credentials
        self.key = credentials.cache_key
        self._seal_key = credentials.seal_key
        self.refresh_margin = refresh_margin
        self.on_token = on_token
        self._current: AccessToken | None = None
        # (current token, epoch second until which it counts as fresh): one float comparison per
        # call instead of date arithmetic; cleared whenever ``_current`` is.
        self._fast: tuple[AccessToken, float] | None = None
        self._lock = threading.Lock()
        # A mint that failed is not retried by every thread that queued behind it: each would wait
        # out the whole throttle budget again. Threads waiting when it failed get the same error.
        self._failures = 0
        self._last_failure: ZohoAuthError | None = None
        self._dead: deque[str] = deque(maxlen=32)  # values Zoho rejected: never adopted again
        self._proven = False  # a call has succeeded: the configuration is right
        self._minted: str | None = None  # the last token value this provider minted
        self._unproven_rejections = 0
        self._warned_cache = False

    def _fresh(self, token: AccessToken | None) -> bool:
        # Renew ahead of expiry, but never so early that a short-lived token is renewed on every use.
        return token is not None and token.seconds_left() > min(self.refresh_margin, token.lifetime / 2)

    def _adopt(self, token: AccessToken) -> AccessToken:
        if self._current is None or self._current.value != token.value:
            if self.on_token is not None:
                self.on_token(token.value)
            self._current = token
            margin = min(self.refresh_margin, token.lifetime / 2)
            self._fast = (token, token.expires_at.timestamp() - margin)
        return token

    def get(self) -> AccessToken:
        fast = self._fast
        if fast is not None and time.time() < fast[1]:
            return fast[0]
        current = self._current
        if current is not None and self._fresh(current):
            return current
        failures = self._failures
        with self._lock:
            if self._current is not None and self._fresh(self._current):
                return self._current
            return self._obtain_once(None, failures)

    def worked(self, token: AccessToken) -> None:
        """A call with ``token`` got an answer other than 401: the configuration is good."""
        if not self._proven:
            self._proven = True

    def refresh(self, stale: AccessToken) -> AccessToken:
        """Replace ``stale`` after Zoho rejected it, unless another thread or process already did.

        Raises :class:`ZohoTokenRejected` when this provider's fresh tokens were rejected twice in a
        row before any call ever succeeded (see the module docstring).
        """
        current = self._current
        if current is not None and current.value != stale.value and self._fresh(current):
            return current  # already replaced: no need to queue behind a mint in progress
        failures = self._failures
        with self._lock:
            current = self._current
            if current is not None and current.value != stale.value and self._fresh(current):
                return current  # another thread replaced it while this one waited
            if stale.value not in self._dead:
                self._dead.append(stale.value)
                if stale.value == self._minted and not self._proven:
                    self._unproven_rejections += 1
            if current is not None and current.value == stale.value:
                self._current = None  # no later call may pick the rejected token up again
                self._fast = None
            if self._unproven_rejections >= UNPROVEN_REJECTIONS_LIMIT:
                raise ZohoTokenRejected(
                    "INVALID_TOKEN",
                    f"Zoho rejected {self._unproven_rejections} freshly minted access tokens in a row "
                    "and no call has succeeded yet, while the token endpoint kept issuing them. The refresh "
                    "token probably belongs to another data centre or environment than the API domain "
                    "(check region, accounts_url, api_domain); a retry of the task mints again.",
                    http_status=401,
                )
            return self._obtain_once(stale, failures)

    def _obtain_once(self, stale: AccessToken | None, failures_seen: int) -> AccessToken:
        if self._failures != failures_seen and self._last_failure is not None:
            raise self._last_failure  # it failed while this thread waited: do not mint again
        try:
            try:
                return self._obtain(stale)
            except TokenCacheLockTimeout as exc:
                raise ZohoAuthUnavailable("TOKEN_CACHE_BUSY", str(exc)) from None
            except TokenCacheError as exc:  # the cache became unsafe mid-run (see FileTokenCache)
                raise ZohoAuthUnavailable("TOKEN_CACHE_UNSAFE", str(exc)) from None
        except ZohoAuthError as exc:
            self._failures += 1
            self._last_failure = exc
            raise

    def _usable(self, token: AccessToken | None) -> bool:
        return token is not None and self._fresh(token) and token.value not in self._dead

    def _load(self) -> AccessToken | None:
        """The cached token if it is authentic and points at a host the token may go to."""
        token = self.cache.load(self.key)
        if token is None:
            return None
        reason = None
        if not token.seal_valid(self._seal_key, self.key):
            reason = "its seal does not match (written by someone without this connection's secrets)"
        else:
            creds = self.minter.credentials
            try:
                check_api_domain(
                    token.api_domain,
                    configured=creds.api_domain,
                    mint_url=creds.token_endpoint,
                    source="The cached token",
                )
            except ConnectionConfigError:
                reason = "its api_domain is not a Zoho host"
        if reason is None:
            return token
        if not self._warned_cache:
            self._warned_cache = True
            log.warning("Ignoring a cached Zoho access token: %s; minting a new one", reason)
        return None

    def _obtain(self, stale: AccessToken | None) -> AccessToken:
        cached = self._load()
        if self._usable(cached):
            assert cached is not None
            return self._adopt(cached)
        with self.cache.lock(self.key):
            cached = self._load()  # someone may have minted while we waited
            if self._usable(cached):
                assert cached is not None
                return self._adopt(cached)
            if cached is not None or stale is not None:
                discard = getattr(self.cache, "discard", None)
                if discard is not None:  # a dead entry must not outlive a mint that fails next
                    discard(self.key)
            token = self.minter.mint().sealed(self._seal_key, self.key)
            self._minted = token.value
            self.cache.store(self.key, token)
            return self._adopt(token)
