"""Token sharing: one mint for many threads, one re-mint per stale token, owner-only cache files."""

from __future__ import annotations

import contextlib
import dataclasses
import os
import stat
import threading

import pendulum
import pytest

from airflow_provider_zohorel.zoho.credentials import ZohoCredentials
from airflow_provider_zohorel.zoho.oauth import AccessToken
from airflow_provider_zohorel.zoho.token_cache import FileTokenCache, MemoryTokenCache, TokenCacheError
from airflow_provider_zohorel.zoho.token_provider import TokenProvider

CREDS = ZohoCredentials("1000.C", "secret-xyz", "1000.refresh-abc")


class FakeMinter:
    """Counts mints (thread-safe)."""

    def __init__(self, ttl: float = 3600) -> None:
        self.credentials = CREDS
        self.mints = 0
        self.ttl = ttl
        self._lock = threading.Lock()

    def mint(self) -> AccessToken:
        with self._lock:
            self.mints += 1
            n = self.mints
        return AccessToken(
            f"1000.token-{n}", "https://www.zohoapis.com", pendulum.now("UTC").add(seconds=self.ttl), self.ttl
        )


def run_threads(n, target):
    """Run ``target(i)`` or ``target()`` in n threads released together; their results in order."""
    barrier = threading.Barrier(n)
    out = [None] * n
    indexed = target.__code__.co_argcount == 1

    def work(i):
        barrier.wait()
        out[i] = target(i) if indexed else target()

    threads = [threading.Thread(target=work, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=20)
    return out


class Arrivals:
    """Counts the hooks that have asked for the cache lock; ``wait_for(n)`` blocks until n have."""

    def __init__(self) -> None:
        self.count = 0
        self._cond = threading.Condition()

    def arrive(self) -> None:
        with self._cond:
            self.count += 1
            self._cond.notify_all()

    def wait_for(self, n: int) -> bool:
        with self._cond:
            return self._cond.wait_for(lambda: self.count >= n, timeout=20)


class LockCounting:
    """A token cache whose ``lock()`` reports each hook that asks for it before delegating."""

    def __init__(self, cache, arrivals: Arrivals) -> None:
        self.cache, self.arrivals = cache, arrivals

    def __getattr__(self, name):
        return getattr(self.cache, name)

    @contextlib.contextmanager
    def lock(self, key):
        self.arrivals.arrive()
        with self.cache.lock(key):
            yield


class WaitingMinter(FakeMinter):
    """Mints only once ``hooks`` hooks have asked for the cache lock: every hook has found the
    cache empty and is at the lock (or, without one, past it) while the first mint runs, on any
    machine, so a missing lock or a missing re-check under it shows as extra mints."""

    def __init__(self, arrivals: Arrivals, hooks: int) -> None:
        super().__init__()
        self.arrivals, self.hooks = arrivals, hooks

    def mint(self) -> AccessToken:
        assert self.arrivals.wait_for(self.hooks), "not every hook reached the cache lock"
        return super().mint()


HOOKS = 4


@pytest.mark.parametrize("cache_kind", ["memory", "file"])
def test_hooks_sharing_a_cache_share_one_mint(tmp_path, cache_kind):
    """Four hooks (providers) on one cache object, one thread each: the first mints under the lock,
    the others re-check the cache under it and adopt that token."""
    arrivals = Arrivals()
    minter = WaitingMinter(arrivals, HOOKS)
    shared = MemoryTokenCache() if cache_kind == "memory" else FileTokenCache(tmp_path / "c")
    providers = [TokenProvider(minter, LockCounting(shared, arrivals)) for _ in range(HOOKS)]
    tokens = run_threads(HOOKS, lambda i: providers[i].get().value)
    assert minter.mints == 1
    assert set(tokens) == {"1000.token-1"}


def test_processes_sharing_a_cache_directory_share_one_mint(tmp_path):
    """Four hooks with a FileTokenCache each on one directory, as four worker processes have: only
    the ``flock`` on the lock file is shared between them (an flock belongs to an open file, so
    four caches in one process contend exactly as four processes do)."""
    arrivals = Arrivals()
    minter = WaitingMinter(arrivals, HOOKS)
    providers = [
        TokenProvider(minter, LockCounting(FileTokenCache(tmp_path / "c"), arrivals)) for _ in range(HOOKS)
    ]
    tokens = run_threads(HOOKS, lambda i: providers[i].get().value)
    assert minter.mints == 1
    assert set(tokens) == {"1000.token-1"}


@pytest.mark.parametrize("cache_kind", ["memory", "file"])
def test_many_threads_on_four_hooks_share_one_mint(tmp_path, cache_kind):
    minter = FakeMinter()
    cache = MemoryTokenCache() if cache_kind == "memory" else FileTokenCache(tmp_path / "c")
    providers = [TokenProvider(minter, cache) for _ in range(4)]  # four hooks, one process
    tokens = run_threads(32, lambda i: providers[i % 4].get().value)
    assert minter.mints == 1
    assert set(tokens) == {"1000.token-1"}


def test_refresh_replaces_a_stale_token_only_once():
    minter = FakeMinter()
    provider = TokenProvider(minter, MemoryTokenCache())
    stale = provider.get()
    values = run_threads(16, lambda: provider.refresh(stale).value)
    assert minter.mints == 2
    assert set(values) == {"1000.token-2"}


def test_tokens_close_to_expiry_are_renewed_ahead_of_time():
    cache = MemoryTokenCache()
    minter = FakeMinter()
    provider = TokenProvider(minter, cache)
    old = AccessToken("1000.old", "https://www.zohoapis.com", pendulum.now("UTC").add(seconds=120))
    cache.store(CREDS.cache_key, old)  # an hour-long token with 2 minutes left: inside the 5-minute margin
    assert provider.get().value == "1000.token-1"
    assert minter.mints == 1


def test_short_lived_tokens_are_not_renewed_on_every_use():
    minter = FakeMinter(ttl=120)  # a lifetime shorter than the 300 s margin
    provider = TokenProvider(minter, MemoryTokenCache())
    provider.get()
    provider.get()
    assert minter.mints == 1


def test_every_adopted_token_is_reported_once_for_masking():
    seen = []
    minter = FakeMinter()
    cache = MemoryTokenCache()
    TokenProvider(minter, cache).get()
    other = TokenProvider(minter, cache, on_token=seen.append)  # reads the shared token: must mask it too
    other.get()
    other.get()
    other.refresh(other.get())
    assert seen == ["1000.token-1", "1000.token-2"]


def test_file_cache_is_owner_only_and_survives_a_new_instance(tmp_path):
    directory = tmp_path / "cache"
    cache = FileTokenCache(directory)
    token = AccessToken("1000.file-token", "https://www.zohoapis.com", pendulum.now("UTC").add(hours=1))
    cache.store(CREDS.cache_key, token)
    assert stat.S_IMODE(directory.stat().st_mode) == 0o700
    files = list(directory.glob("*.json"))
    assert len(files) == 1
    assert stat.S_IMODE(files[0].stat().st_mode) == 0o600
    assert CREDS.refresh_token not in files[0].name  # the key is a digest, not the token
    assert FileTokenCache(directory).load(CREDS.cache_key) == token


def test_file_cache_refuses_a_directory_others_can_read(tmp_path):
    directory = tmp_path / "open"
    directory.mkdir()
    os.chmod(directory, 0o755)
    with pytest.raises(TokenCacheError, match="chmod 700"):
        FileTokenCache(directory)


def test_a_corrupt_cache_file_is_a_miss(tmp_path):
    cache = FileTokenCache(tmp_path / "c")
    (tmp_path / "c" / f"{CREDS.cache_key}.json").write_text("{not json")
    assert cache.load(CREDS.cache_key) is None


def test_credentials_repr_hides_secrets():
    text = repr(CREDS)
    assert "secret-xyz" not in text
    assert "refresh-abc" not in text
    token = AccessToken("1000.hidden", "https://x", pendulum.now("UTC"))
    assert "1000.hidden" not in repr(token)


class CountingLock:
    """A lock that counts the threads waiting for it, so a test can wait until they queue."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._guard = threading.Condition()
        self.waiting = 0

    def __enter__(self):
        with self._guard:
            self.waiting += 1
            self._guard.notify_all()
        self._lock.acquire()
        with self._guard:
            self.waiting -= 1
        return self

    def __exit__(self, *exc):
        self._lock.release()

    def wait_for_waiters(self, n: int) -> bool:
        with self._guard:
            return self._guard.wait_for(lambda: self.waiting >= n, timeout=10)


def test_a_failed_mint_is_not_repeated_by_the_threads_queued_behind_it():
    from airflow_provider_zohorel.zoho.errors import ZohoAuthUnavailable

    class Throttled(FakeMinter):
        def mint(self):
            with self._lock:
                self.mints += 1
            raise ZohoAuthUnavailable("TOKEN_THROTTLED", "throttled")

    minter = Throttled()
    provider = TokenProvider(minter, MemoryTokenCache())
    provider._lock = lock = CountingLock()
    release = threading.Event()
    real_obtain = provider._obtain

    def held_obtain(stale):
        release.wait(timeout=10)  # the first mint holds the lock until the others have queued
        return real_obtain(stale)

    provider._obtain = held_obtain
    errors = []

    def call():
        try:
            provider.get()
        except ZohoAuthUnavailable as exc:
            errors.append(exc.code)

    threads = [threading.Thread(target=call) for _ in range(9)]
    for t in threads:
        t.start()
    assert lock.wait_for_waiters(8)  # one thread mints, eight wait behind it
    release.set()
    for t in threads:
        t.join(timeout=10)
    assert errors == ["TOKEN_THROTTLED"] * 9
    assert minter.mints == 1
    provider._obtain = real_obtain
    with pytest.raises(ZohoAuthUnavailable):  # a later call tries again
        provider.get()
    assert minter.mints == 2


def sealed(token: AccessToken) -> AccessToken:
    return token.sealed(CREDS.seal_key, CREDS.cache_key)


def test_a_seal_survives_the_file_round_trip_and_any_change_breaks_it(tmp_path):
    cache = FileTokenCache(tmp_path / "c")
    token = sealed(
        AccessToken("1000.sealed", "https://www.zohoapis.eu", pendulum.now("UTC").add(hours=1), 3600)
    )
    cache.store(CREDS.cache_key, token)
    loaded = cache.load(CREDS.cache_key)
    assert loaded is not None
    assert loaded.seal_valid(CREDS.seal_key, CREDS.cache_key)
    for change in (
        {"value": "1000.other"},
        {"api_domain": "https://www.zohoapis.com"},
        {"expires_at": loaded.expires_at.add(days=1)},
        {"lifetime": 7200.0},
    ):
        forged = dataclasses.replace(loaded, **change)
        assert not forged.seal_valid(CREDS.seal_key, CREDS.cache_key), change
    other = ZohoCredentials("1000.C", "secret-xyz", "1000.another-refresh")
    assert not loaded.seal_valid(other.seal_key, CREDS.cache_key)  # another refresh token's key


def test_an_unsealed_cache_entry_is_not_used():
    cache = MemoryTokenCache()
    cache.store(
        CREDS.cache_key,
        AccessToken("1000.unsealed", "https://www.zohoapis.com", pendulum.now("UTC").add(hours=1)),
    )
    minter = FakeMinter()
    assert TokenProvider(minter, cache).get().value == "1000.token-1"


def test_a_dead_token_from_the_cache_does_not_count_against_the_configuration():
    """Only tokens this provider minted, rejected before they ever worked, point at the
    configuration; a shared token that died elsewhere does not."""
    from airflow_provider_zohorel.zoho.errors import ZohoTokenRejected

    cache = MemoryTokenCache()
    TokenProvider(FakeMinter(), cache).get()  # another process's token, now evicted
    minter = FakeMinter()
    minter.mints = 10
    provider = TokenProvider(minter, cache)
    shared = provider.get()
    fresh = provider.refresh(shared)  # the shared one is rejected: mint
    assert fresh.value == "1000.token-11"
    with pytest.raises(ZohoTokenRejected):
        provider.refresh(provider.refresh(fresh))  # two of our own fresh tokens rejected unproven
