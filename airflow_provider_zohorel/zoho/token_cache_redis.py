"""A cluster-wide token cache: every worker that reaches one Redis shares one access token.

With the default file cache each machine mints its own token (N workers: N mints an hour, and
Zoho keeps at most 15 live tokens per refresh token). A Redis cache makes it one mint for the whole
deployment, at the price of a network hop when a process first needs a token and a dependency on
Redis for minting.

Entries are sealed by the provider (an HMAC keyed from the connection's secrets) and checked on
every load, so whoever can write the key cannot make workers use a token or an API host of their
choosing. Tokens are stored readable, though: use a private Redis (``rediss://``, a password or an
ACL user); a URL without them is accepted with a warning.

Needs ``pip install airflow-provider-zohorel[redis]``.
"""

from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

from airflow_provider_zohorel.zoho.oauth import AccessToken
from airflow_provider_zohorel.zoho.regions import is_loopback
from airflow_provider_zohorel.zoho.token_cache import TokenCacheLockTimeout

log = logging.getLogger(__name__)

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
        for problem in redis_url_warnings(url):
            log.warning("Redis token cache: %s", problem)
        return cls(redis.Redis.from_url(url), **kwargs)

    def load(self, key: str) -> AccessToken | None:
        raw = self.client.get(self.prefix + key)
        if raw is None:
            return None
        try:
            return AccessToken.from_json(json.loads(raw))
        except (ValueError, KeyError, TypeError, RecursionError):
            return None

    def store(self, key: str, token: AccessToken) -> None:
        ttl_ms = int(token.seconds_left() * 1000)
        if ttl_ms > 0:
            self.client.set(self.prefix + key, json.dumps(token.to_json()), px=ttl_ms)

    def discard(self, key: str) -> None:
        self.client.delete(self.prefix + key)

    @contextlib.contextmanager
    def lock(self, key: str) -> Iterator[None]:
        from redis.exceptions import LockError

        lock = self.client.lock(
            self.prefix + key + ":lock", timeout=self.lock_timeout, blocking_timeout=self.lock_timeout
        )
        if not lock.acquire():
            raise TokenCacheLockTimeout(
                f"another worker has held the Redis token lock for more than {self.lock_timeout:g} s"
            )
        try:
            yield
        finally:
            with contextlib.suppress(LockError):  # expired meanwhile: nothing left to release
                lock.release()


def redis_url_warnings(url: str) -> list[str]:
    """What a ``redis://`` URL leaves open: no TLS to a remote host, no AUTH (the password is not
    quoted back)."""
    parts = urlsplit(url)
    problems = []
    if parts.scheme == "redis" and not is_loopback(parts.hostname or ""):
        problems.append("redis:// without TLS: access tokens cross the network in clear text; use rediss://")
    if parts.scheme in ("redis", "rediss") and not parts.password:
        problems.append(
            "no password (AUTH) in the URL: anyone who can reach this Redis can read the access tokens "
            "(entries are sealed, so they cannot be forged)"
        )
    return problems
