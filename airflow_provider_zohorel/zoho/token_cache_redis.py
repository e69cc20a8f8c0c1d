"""A cluster-wide token cache: every worker that reaches one Redis shares one access token.

With the default file cache each machine mints its own token (N workers: N mints an hour, and
Zoho keeps at most 15 live tokens per refresh token). A Redis cache makes it one mint for the whole
deployment, at the price of a network hop when a process first needs a token and a dependency on
Redis for minting. Tokens are stored in clear in Redis: use a private Redis (TLS, ACLs).

Needs ``pip install airflow-provider-zohorel[redis]``.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from typing import Any

from airflow_provider_zohorel.zoho.oauth import AccessToken

DEFAULT_PREFIX = "zohorel:token:"


class RedisTokenCache:
    """:class:`~airflow_provider_zohorel.zoho.token_cache.TokenCache` on Redis: a key per token
    (expiring with it) and a Redis lock (``SET NX PX``) so one worker in the cluster mints."""

    def __init__(self, client: Any, *, prefix: str = DEFAULT_PREFIX, lock_timeout: float = 660.0) -> None:
        self.client = client
        self.prefix = prefix
        # Longer than the longest mint (the throttle policy waits up to 10 minutes), so the lock
        # cannot expire under a slow minter; a crashed holder frees it after this long.
        self.lock_timeout = lock_timeout

    @classmethod
    def from_url(cls, url: str, **kwargs: Any) -> RedisTokenCache:
        try:
            import redis
        except ImportError as exc:
            raise ImportError(
                "token_cache=redis://... needs the redis package: pip install airflow-provider-zohorel[redis]"
            ) from exc
        return cls(redis.Redis.from_url(url), **kwargs)

    def load(self, key: str) -> AccessToken | None:
        raw = self.client.get(self.prefix + key)
        if raw is None:
            return None
        try:
            return AccessToken.from_json(json.loads(raw))
        except (ValueError, KeyError, TypeError):
            return None

    def store(self, key: str, token: AccessToken) -> None:
        ttl_ms = int(token.seconds_left() * 1000)
        if ttl_ms > 0:
            self.client.set(self.prefix + key, json.dumps(token.to_json()), px=ttl_ms)

    @contextlib.contextmanager
    def lock(self, key: str) -> Iterator[None]:
        with self.client.lock(
            self.prefix + key + ":lock", timeout=self.lock_timeout, blocking_timeout=self.lock_timeout
        ):
            yield
