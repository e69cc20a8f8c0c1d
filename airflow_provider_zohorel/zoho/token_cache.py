"""Where access tokens are shared, and the lock that makes exactly one sharer mint.

Zoho allows about 10 mints per refresh token per 10 minutes and 15 live tokens, so every task
process minting its own token locks the others out. A :class:`TokenCache` is shared by every
process that can reach it; its :meth:`~TokenCache.lock` serializes minting among them.

- :class:`MemoryTokenCache`: one process (all hooks and threads in it).
- :class:`FileTokenCache` (default): every process of one OS user on one machine; an owner-only
  directory and ``flock``. Each machine mints its own token: N workers cost N mints per hour.
  Every open goes through a descriptor of the checked directory and refuses symlinks, and every
  file read must belong to this user, so another user who can write near the cache cannot plant
  or redirect a token file.
- A cluster-wide cache (Redis, a database row) implements the same three methods with a
  distributed lock; it turns N mints per hour into 1, at the price of a network hop per process
  start and a lock service whose failure stalls minting. See the README for an example.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import stat
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Protocol, runtime_checkable

from airflow_provider_zohorel.zoho.oauth import AccessToken

#: How long a process waits for another one's mint before giving up (the mint itself may wait out
#: Zoho's throttle for up to 10 minutes, so less would give up on a healthy minter).
DEFAULT_LOCK_TIMEOUT = 660.0


@runtime_checkable
class TokenCache(Protocol):
    """Storage for one access token per key, plus an exclusive lock per key.

    The provider seals every token it stores (an HMAC keyed from the connection's secrets) and
    checks the seal and the ``api_domain`` of every token it loads, so a cache needs access control
    for confidentiality only. A cache may also offer ``discard(key)``, called under the lock to drop
    an entry Zoho rejected before a new one is minted.
    """

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

    def discard(self, key: str) -> None:
        self._tokens.pop(key, None)

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

    The directory is created ``0700`` and, at every use, opened without following a symlink and
    refused unless this user owns it and nobody else can enter it; files inside are opened relative
    to that descriptor, without following symlinks, and read only if this user owns them. Token
    files are written ``0600`` under a random name and renamed into place (the rename replaces a
    planted symlink instead of following it), so readers never need the lock. The lock (``flock``)
    is given up after ``lock_timeout`` seconds, so one stuck process cannot stall every task.
    """

    def __init__(
        self, directory: str | os.PathLike[str] | None = None, *, lock_timeout: float = DEFAULT_LOCK_TIMEOUT
    ) -> None:
        try:
            import fcntl  # noqa: F401  (POSIX only; Airflow workers are POSIX)
        except ImportError as exc:  # pragma: no cover - Windows
            raise TokenCacheError("the file token cache needs POSIX flock") from exc
        self.directory = Path(directory) if directory is not None else default_cache_dir()
        self.lock_timeout = lock_timeout
        self._thread_locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()
        try:
            self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        except OSError as exc:
            raise TokenCacheError(f"cannot use token cache directory {self.directory}: {exc}") from exc
        os.close(self._open_directory())

    def _open_directory(self) -> int:
        """A descriptor of the cache directory, checked now (not once at start-up)."""
        flags = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | getattr(os, "O_NOFOLLOW", 0)
        try:
            fd = os.open(self.directory, flags)
        except OSError as exc:
            raise TokenCacheError(
                f"cannot use token cache directory {self.directory} ({exc.strerror}); it must be a real "
                "directory, not a symlink"
            ) from None
        info = os.fstat(fd)
        problem = None
        if info.st_uid != os.getuid():
            problem = (
                f"token cache directory {self.directory} belongs to another user; set "
                "ZOHOREL_TOKEN_CACHE_DIR to a directory of your own"
            )
        elif stat.S_IMODE(info.st_mode) & 0o077:
            problem = (
                f"token cache directory {self.directory} is accessible by other users "
                f"(mode {stat.S_IMODE(info.st_mode):o}); run: chmod 700 {self.directory}"
            )
        if problem is not None:
            os.close(fd)
            raise TokenCacheError(problem)
        return fd

    @contextlib.contextmanager
    def _directory_fd(self) -> Iterator[int]:
        fd = self._open_directory()
        try:
            yield fd
        finally:
            os.close(fd)

    @staticmethod
    def _name(key: str) -> str:
        if not key.isalnum():
            raise ValueError("token cache keys are hex digests")
        return f"{key}.json"

    def load(self, key: str) -> AccessToken | None:
        name = self._name(key)
        try:
            with self._directory_fd() as dir_fd:
                fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK, dir_fd=dir_fd)
                with os.fdopen(fd, "rb") as handle:
                    info = os.fstat(handle.fileno())
                    if info.st_uid != os.getuid() or not stat.S_ISREG(info.st_mode):
                        return None  # planted by someone else (or not a file): never trusted
                    raw = handle.read(64 * 1024)
            return AccessToken.from_json(json.loads(raw))
        except FileNotFoundError:
            return None
        except (OSError, ValueError, KeyError, TypeError, RecursionError, TokenCacheError):
            return None  # a torn, foreign or unreachable file is a cache miss, never a crash

    def store(self, key: str, token: AccessToken) -> None:
        name = self._name(key)
        data = json.dumps(token.to_json()).encode()
        with self._directory_fd() as dir_fd:
            tmp = f".{key}.{secrets.token_hex(8)}.tmp"
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600, dir_fd=dir_fd)
            try:
                with os.fdopen(fd, "wb") as handle:
                    handle.write(data)
                os.replace(tmp, name, src_dir_fd=dir_fd, dst_dir_fd=dir_fd)
            except BaseException:
                with contextlib.suppress(OSError):
                    os.unlink(tmp, dir_fd=dir_fd)
                raise

    def discard(self, key: str) -> None:
        with self._directory_fd() as dir_fd, contextlib.suppress(FileNotFoundError):
            os.unlink(self._name(key), dir_fd=dir_fd)

    @contextlib.contextmanager
    def lock(self, key: str) -> Iterator[None]:
        import fcntl

        self._name(key)
        with self._guard:
            thread_lock = self._thread_locks.setdefault(key, threading.Lock())
        if not thread_lock.acquire(timeout=self.lock_timeout):
            raise TokenCacheLockTimeout(self._busy())
        try:
            with self._directory_fd() as dir_fd:
                try:
                    flags = os.O_CREAT | os.O_RDWR | os.O_NOFOLLOW
                    fd = os.open(f"{key}.lock", flags, 0o600, dir_fd=dir_fd)
                except OSError as exc:
                    raise TokenCacheError(
                        f"cannot open the token cache lock file in {self.directory} ({exc.strerror}); "
                        "it must be a plain file of yours, not a symlink"
                    ) from None
            try:
                if os.fstat(fd).st_uid != os.getuid():
                    raise TokenCacheError(f"the token cache lock file in {self.directory} is not yours")
                give_up = time.monotonic() + self.lock_timeout
                pause = 0.005
                while True:
                    try:
                        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                        break
                    except BlockingIOError:
                        if time.monotonic() >= give_up:
                            raise TokenCacheLockTimeout(self._busy()) from None
                        time.sleep(pause)  # polled: flock itself has no timeout
                        pause = min(pause * 2, 0.25)
                yield
            finally:
                os.close(fd)  # closing releases the flock
        finally:
            thread_lock.release()

    def _busy(self) -> str:
        return (
            f"another process has held the token cache lock in {self.directory} for more than "
            f"{self.lock_timeout:g} s (a mint stuck or waiting out Zoho's throttle)"
        )


class TokenCacheLockTimeout(TokenCacheError):
    """Waited ``lock_timeout`` for another sharer's mint; the task can be retried."""
