"""Single-flight access tokens: reuse what any sharer minted, mint only when nobody has a good one."""

from __future__ import annotations

import threading
from collections.abc import Callable

from airflow_provider_zohorel.zoho.errors import ZohoAuthError
from airflow_provider_zohorel.zoho.oauth import AccessToken, TokenMinter
from airflow_provider_zohorel.zoho.token_cache import TokenCache

#: Refresh this long before expiry so a batch never starts with a token about to die.
DEFAULT_REFRESH_MARGIN = 300.0


class TokenProvider:
    """Hands out a valid token; after a 401 replaces it at most once per stale token.

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
        self.key = minter.credentials.cache_key
        self.refresh_margin = refresh_margin
        self.on_token = on_token
        self._current: AccessToken | None = None
        self._lock = threading.Lock()
        # A mint that failed is not retried by every thread that queued behind it: each would wait
        # out the whole throttle budget again. Threads waiting when it failed get the same error.
        self._failures = 0
        self._last_failure: ZohoAuthError | None = None

    def _fresh(self, token: AccessToken | None) -> bool:
        # Renew ahead of expiry, but never so early that a short-lived token is renewed on every use.
        return token is not None and token.seconds_left() > min(self.refresh_margin, token.lifetime / 2)

    def _adopt(self, token: AccessToken) -> AccessToken:
        if self._current is None or self._current.value != token.value:
            if self.on_token is not None:
                self.on_token(token.value)
            self._current = token
        return token

    def get(self) -> AccessToken:
        current = self._current
        if current is not None and self._fresh(current):
            return current
        failures = self._failures
        with self._lock:
            if self._current is not None and self._fresh(self._current):
                return self._current
            return self._obtain_once(None, failures)

    def refresh(self, stale: AccessToken) -> AccessToken:
        """Replace ``stale`` after Zoho rejected it, unless another thread or process already did."""
        failures = self._failures
        with self._lock:
            current = self._current
            if current is not None and current.value != stale.value and self._fresh(current):
                return current
            return self._obtain_once(stale, failures)

    def _obtain_once(self, stale: AccessToken | None, failures_seen: int) -> AccessToken:
        if self._failures != failures_seen and self._last_failure is not None:
            raise self._last_failure  # it failed while this thread waited: do not mint again
        try:
            return self._obtain(stale)
        except ZohoAuthError as exc:
            self._failures += 1
            self._last_failure = exc
            raise

    def _obtain(self, stale: AccessToken | None) -> AccessToken:
        def usable(token: AccessToken | None) -> bool:
            return self._fresh(token) and (stale is None or token is None or token.value != stale.value)

        cached = self.cache.load(self.key)
        if usable(cached):
            assert cached is not None
            return self._adopt(cached)
        with self.cache.lock(self.key):
            cached = self.cache.load(self.key)  # someone may have minted while we waited
            if usable(cached):
                assert cached is not None
                return self._adopt(cached)
            token = self.minter.mint()
            self.cache.store(self.key, token)
            return self._adopt(token)
