"""Where access tokens are shared, and the lock that makes exactly one sharer mint.

Zoho allows about 10 mints per refresh token per 10 minutes and 15 live tokens, so every task
process minting its own token locks the others out. A :class:`TokenCache` is shared by every
process that can reach it; its :meth:`~TokenCache.lock` serializes minting among them.

- :class:`MemoryTokenCache`: one process (all hooks and threads in it).
- :class:`FileTokenCache` (default): every process of one OS user on one machine; an owner-only
  directory and ``flock``. Each machine mints its own token: N workers cost N mints per hour.
- A cluster-wide cache (Redis, a database row) implements the same three methods with a
  distributed lock; it turns N mints per hour into 1, at the price of a network hop per process
  start and a lock service whose failure stalls minting. See the README for an example.
"""

from __future__ import annotations

import contextlib
import json
import os
import stat
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Protocol, runtime_checkable

from airflow_provider_zohorel.zoho.oauth import AccessToken


@runtime_checkable
class TokenCache(Protocol):
    """Storage for one access token per key, plus an exclusive lock per key."""

    def load(self, key: str) -> AccessToken | None: ...

    def store(self, key: str, token: AccessToken) -> None: ...

    def lock(self, key: str) -> contextlib.AbstractContextManager[None]: ...


class MemoryTokenCache:
    """Shares tokens between the hooks and threads of one process."""

    def __init__(self) -> None:
        self._tokens: dict[str, AccessToken] = {}
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()

    def load(self, key: str) -> AccessToken | None:
        return self._tokens.get(key)

    def store(self, key: str, token: AccessToken) -> None:
        self._tokens[key] = token

    @contextlib.contextmanager
    def lock(self, key: str) -> Iterator[None]:
        with self._guard:
            lock = self._locks.setdefault(key, threading.Lock())
        with lock:
            yield


#: The process-wide memory cache, so two hooks on one connection in one task share a token.
PROCESS_CACHE = MemoryTokenCache()


class TokenCacheError(RuntimeError):
    """The cache location is unsafe or unusable; the message says why and what to do."""


def default_cache_dir() -> Path:
    """``$ZOHOREL_TOKEN_CACHE_DIR``, else ``$XDG_CACHE_HOME/airflow-provider-zohorel/tokens``."""
    explicit = os.environ.get("ZOHOREL_TOKEN_CACHE_DIR")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "airflow-provider-zohorel" / "tokens"


class FileTokenCache:
    """Shares tokens between all processes of one OS user on one machine.

    The directory is created ``0700`` and refused if another user owns it or others can write to
    it; token files are written ``0600`` and replaced atomically, so readers never need the lock.
    """

    def __init__(self, directory: str | os.PathLike[str] | None = None) -> None:
        try:
            import fcntl  # noqa: F401  (POSIX only; Airflow workers are POSIX)
        except ImportError as exc:  # pragma: no cover - Windows
            raise TokenCacheError("the file token cache needs POSIX flock") from exc
        self.directory = Path(directory) if directory is not None else default_cache_dir()
        self._thread_locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()
        self._ensure_directory()

    def _ensure_directory(self) -> None:
        try:
            self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
            info = self.directory.stat()
        except OSError as exc:
            raise TokenCacheError(f"cannot use token cache directory {self.directory}: {exc}") from exc
        if info.st_uid != os.getuid():
            raise TokenCacheError(
                f"token cache directory {self.directory} belongs to another user; set "
                "ZOHOREL_TOKEN_CACHE_DIR to a directory of your own"
            )
        if stat.S_IMODE(info.st_mode) & 0o077:
            raise TokenCacheError(
                f"token cache directory {self.directory} is accessible by other users "
                f"(mode {stat.S_IMODE(info.st_mode):o}); run: chmod 700 {self.directory}"
            )

    def _path(self, key: str) -> Path:
        if not key.isalnum():
            raise ValueError("token cache keys are hex digests")
        return self.directory / f"{key}.json"

    def load(self, key: str) -> AccessToken | None:
        try:
            with self._path(key).open(encoding="utf-8") as handle:
                return AccessToken.from_json(json.load(handle))
        except FileNotFoundError:
            return None
        except (OSError, ValueError, KeyError, TypeError):
            return None  # a torn or foreign file is a cache miss, never a crash

    def store(self, key: str, token: AccessToken) -> None:
        fd, tmp = tempfile.mkstemp(prefix=f".{key}.", dir=self.directory)  # mkstemp creates 0600
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump(token.to_json(), handle)
            os.replace(tmp, self._path(key))
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise

    @contextlib.contextmanager
    def lock(self, key: str) -> Iterator[None]:
        import fcntl

        with self._guard:
            thread_lock = self._thread_locks.setdefault(key, threading.Lock())
        with thread_lock:
            fd = os.open(self.directory / f"{key}.lock", os.O_CREAT | os.O_RDWR, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX)
                yield
            finally:
                os.close(fd)  # closing releases the flock
