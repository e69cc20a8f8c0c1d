"""One concurrency budget for a whole deployment: a shared semaphore on Redis, with leases.

Zoho's cap (5 to 25 calls in flight by edition) is per user and client, not per task: mapped tasks
on several workers that each respect ``max_concurrency`` can still exceed it together. With
``concurrency_budget: redis://...`` on the connection, every HTTP attempt of every task takes a
slot from one Redis sorted set of at most ``cap`` members before it is sent, and gives it back as
soon as the answer is read. A task holds slots only for calls on the wire: never while it backs
off, waits for a token or accounts for results.

A slot is a lease, not a lock: it expires ``lease`` seconds after it was taken (the attempt's own
deadline plus a margin, so a live call never outlives its lease), and whoever looks for a slot
first drops expired ones. A worker killed mid-call therefore gives its slots back within one lease;
the deployment never stalls on a dead holder. Time is Redis's own (``TIME`` in the scripts), so the
workers' clocks need not agree.

Waiters block on a wake-up list (``BLPOP``) that every release pushes to, so a freed slot is taken
within a Redis round trip, and poll at least once a second for leases that expired.

Without the setting each task is bounded only by its own ``max_concurrency`` (the in-process
limiter). If Redis cannot be reached, calls go ahead on the in-process limiter alone, with one
warning: Zoho's own 429 and the client's backoff are then the safety net, not a stalled run.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import socket
import threading
import uuid
from collections.abc import Iterator
from typing import Any, Protocol

log = logging.getLogger(__name__)

DEFAULT_PREFIX = "zohorel:budget:"
#: Seconds a lease outlives the attempt's own deadline (the client's connect + read timeout).
LEASE_MARGIN = 5.0
#: Longest a waiter sleeps before looking again for expired leases.
MAX_WAIT = 1.0

# KEYS: slots (sorted set: holder -> lease expiry in ms), wake-ups (list).
# ARGV: cap, lease in ms, holder. Returns {1, reclaimed} when the slot is taken, else {0, reclaimed,
# ms until the earliest lease expires}.
_ACQUIRE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local cap, lease = tonumber(ARGV[1]), tonumber(ARGV[2])
local reclaimed = redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if reclaimed > 0 then
  for _ = 1, math.min(reclaimed, cap) do redis.call('LPUSH', KEYS[2], '1') end
  redis.call('LTRIM', KEYS[2], 0, cap - 1)
  redis.call('PEXPIRE', KEYS[2], lease)
end
if redis.call('ZCARD', KEYS[1]) < cap then
  redis.call('ZADD', KEYS[1], now + lease, ARGV[3])
  -- the set itself outlives every lease in it by a minute, so expired leases are reclaimed (and
  -- counted) here rather than vanishing with the key
  if redis.call('PTTL', KEYS[1]) < lease + 60000 then redis.call('PEXPIRE', KEYS[1], lease + 60000) end
  return {1, reclaimed}
end
local first = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return {0, reclaimed, tonumber(first[2]) - now}
"""

# KEYS: slots, wake-ups. ARGV: holder, cap, wake-up list lifetime in ms. Returns 1 if the lease was
# still held (0: it had expired and someone may have taken the slot since).
_RELEASE = """
local removed = redis.call('ZREM', KEYS[1], ARGV[1])
if removed == 1 then
  redis.call('LPUSH', KEYS[2], '1')
  redis.call('LTRIM', KEYS[2], 0, tonumber(ARGV[2]) - 1)
  redis.call('PEXPIRE', KEYS[2], tonumber(ARGV[3]))
end
return removed
"""


class ConcurrencyBudget(Protocol):
    """What the client asks of a budget: a slot for one attempt that may last ``lease`` seconds."""

    def slot(self, lease: float) -> contextlib.AbstractContextManager[None]: ...


class RedisConcurrencyBudget:
    """A deployment-wide semaphore of ``cap`` slots on Redis (see the module docstring).

    :param client: a ``redis.Redis`` (its pool gives each waiting thread its own connection).
    :param cap: slots in the budget: the Zoho edition's concurrent-call cap.
    :param name: which budget (one per Zoho client: its cap is per user and client).
    """

    def __init__(
        self,
        client: Any,
        cap: int,
        name: str,
        *,
        prefix: str = DEFAULT_PREFIX,
        lease_margin: float = LEASE_MARGIN,
    ) -> None:
        if isinstance(cap, bool) or not isinstance(cap, int) or cap < 1:
            raise ValueError(
                f"the concurrency budget must be a whole number of calls, at least 1, got {cap!r}"
            )
        self.client = client
        self.cap = cap
        self.lease_margin = lease_margin
        self.key = prefix + name
        self.wake_key = self.key + ":wake"
        self._acquire = client.register_script(_ACQUIRE)
        self._release = client.register_script(_RELEASE)
        self._holder_prefix = f"{socket.gethostname()}:{os.getpid()}:"
        self._warned = False
        self._lock = threading.Lock()
        #: Slots found expired (a holder that died mid-call) and taken back by this process.
        self.reclaimed = 0
        #: Attempts that went ahead without a slot because Redis could not be reached.
        self.unavailable = 0

    @classmethod
    def from_url(cls, url: str, cap: int, name: str, **kwargs: Any) -> RedisConcurrencyBudget:
        try:
            import redis
        except ImportError as exc:
            raise ImportError(
                "concurrency_budget=redis://... needs the redis package: "
                "pip install airflow-provider-zohorel[redis]"
            ) from exc
        client = redis.Redis.from_url(
            url, socket_connect_timeout=5, socket_timeout=MAX_WAIT + 5, health_check_interval=30
        )
        return cls(client, cap, name, **kwargs)

    @contextlib.contextmanager
    def slot(self, lease: float) -> Iterator[None]:
        """Hold one slot of the budget for one attempt of at most ``lease`` seconds."""
        from redis.exceptions import RedisError

        lease_ms = max(1, round((lease + self.lease_margin) * 1000))
        holder = self._holder_prefix + uuid.uuid4().hex
        taken = True
        try:
            self._take(holder, lease_ms)
        except RedisError as exc:
            self._unreachable(exc)
            taken = False
        try:
            yield
        finally:
            if taken:
                self._give_back(holder, lease_ms)

    def _give_back(self, holder: str, lease_ms: int) -> None:
        from redis.exceptions import RedisError

        try:
            if not self._release(keys=[self.key, self.wake_key], args=[holder, self.cap, lease_ms]):
                log.warning(
                    "Zoho concurrency budget: a call outlived its %.0f s lease; its slot had "
                    "already been reclaimed",
                    lease_ms / 1000,
                )
        except RedisError as exc:  # the lease expires on its own
            self._unreachable(exc)

    def in_use(self) -> int:
        """Slots held now, expired leases included (for tests and diagnostics)."""
        return int(self.client.zcard(self.key))

    def _take(self, holder: str, lease_ms: int) -> None:
        while True:
            answer = self._acquire(keys=[self.key, self.wake_key], args=[self.cap, lease_ms, holder])
            if answer[1]:
                with self._lock:
                    self.reclaimed += int(answer[1])
                log.warning(
                    "Zoho concurrency budget: took back %d slot(s) whose lease expired (a worker "
                    "stopped mid-call)",
                    answer[1],
                )
            if answer[0]:
                return
            wait = min(MAX_WAIT, max(0.01, int(answer[2]) / 1000))
            self.client.blpop([self.wake_key], timeout=wait)

    def _unreachable(self, exc: Exception) -> None:
        with self._lock:
            self.unavailable += 1
            first, self._warned = not self._warned, True
        if first:
            log.warning(
                "Zoho concurrency budget: Redis unreachable (%s); calls go ahead within this task's "
                "max_concurrency only until it answers again",
                type(exc).__name__,
            )


def budget_name(client_id: str, accounts_url: str) -> str:
    """The budget's key for one Zoho client (Zoho's cap is per user and client): a digest, so the
    client id does not appear in Redis."""
    return hashlib.sha256(f"{accounts_url}\n{client_id}".encode()).hexdigest()[:24]
