"""Bounded HTTP exchanges: a size cap on every answer and a total deadline that no server can extend.

requests' ``timeout`` bounds each socket operation, not the exchange: a server that sends one byte
every few seconds (headers or body) holds a call for as long as it likes, and a small gzip body can
inflate to gigabytes when read whole. Every call to Zoho (CRM and Accounts) therefore runs inside
:func:`exchange_deadline`, whose watchdog shuts the socket down when the deadline passes, and reads
its body with :func:`read_body`, which counts bytes on the wire and after decompression.
"""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time
import zlib
from collections.abc import Iterator
from typing import Any

import requests
import urllib3
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

#: Zoho's largest answers (200 related records per page) are a few hundred KiB; 8 MiB is far above.
MAX_BODY_BYTES = 8 * 1024 * 1024
#: A token response is a few hundred bytes.
MAX_TOKEN_BODY_BYTES = 64 * 1024
#: What the client accepts, so no encoding arrives that :func:`read_body` cannot bound.
ACCEPT_ENCODING = "gzip, deflate"
_CHUNK = 64 * 1024


class BodyTooLarge(Exception):
    """The answer exceeded the cap on the wire or once decompressed."""


class DeadlineExceeded(Exception):
    """The exchange did not complete within its total deadline."""


class UnreadableBody(Exception):
    """The answer's Content-Encoding is one this client did not ask for, or is corrupt."""


class Deadline:
    """The total time one exchange may take, from sending the request to the last body byte."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.at = time.monotonic() + seconds
        self.expired = False
        self.done = False
        self.response: Any = None  # urllib3's response once the headers are in

    def check(self) -> None:
        if self.expired or time.monotonic() >= self.at:
            self.expired = True
            raise DeadlineExceeded(f"no complete answer within {self.seconds:g} s")


_local = threading.local()


class _Watchdog:
    """One daemon thread for the whole process: shuts down the socket of an exchange whose deadline
    passed, which makes the blocked read in the calling thread fail at once.

    It holds only the exchanges in flight (at most the calls running at once) and looks at them
    twice a second, so a deadline is kept to within half a second; a call never wakes it (no
    notify per call), which keeps its cost per call to one dict insert and one removal.
    """

    TICK = 0.5

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._active: dict[int, tuple[Deadline, list[socket.socket]]] = {}
        self._thread: threading.Thread | None = None

    def watch(self, deadline: Deadline, sock: socket.socket) -> None:
        with self._cond:
            if deadline.done:
                return
            entry = self._active.get(id(deadline))
            if entry is None:
                self._active[id(deadline)] = (deadline, [sock])
            elif sock not in entry[1]:
                entry[1].append(sock)
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="zohorel-deadlines", daemon=True)
                self._thread.start()

    def finish(self, deadline: Deadline) -> None:
        with self._cond:  # the watchdog decides under this lock: after it, the socket is left alone
            deadline.done = True
            self._active.pop(id(deadline), None)

    def _run(self) -> None:
        with self._cond:
            while True:
                now = time.monotonic()
                nearest = now + self.TICK
                for key, (deadline, socks) in list(self._active.items()):
                    if deadline.at > now:
                        nearest = min(nearest, deadline.at)
                        continue
                    del self._active[key]
                    response = deadline.response
                    if response is not None and getattr(response, "_connection", None) is None:
                        continue  # the body is read and the connection is back in the pool: not ours
                    deadline.expired = True
                    for sock in socks:
                        with contextlib.suppress(OSError):
                            socket.socket.shutdown(sock, socket.SHUT_RDWR)
                self._cond.wait(max(0.0, nearest - time.monotonic()))


_WATCHDOG = _Watchdog()


def _watch_current(sock: Any) -> None:
    deadline = getattr(_local, "deadline", None)
    if deadline is not None and isinstance(sock, socket.socket):
        _WATCHDOG.watch(deadline, sock)


@contextlib.contextmanager
def exchange_deadline(seconds: float) -> Iterator[Deadline]:
    """Run one HTTP exchange (request and body read) in this thread under a total deadline."""
    deadline = Deadline(seconds)
    previous = getattr(_local, "deadline", None)
    _local.deadline = deadline
    try:
        yield deadline
    finally:
        _WATCHDOG.finish(deadline)
        _local.deadline = previous


class _DeadlineMixin:
    sock: Any

    def connect(self) -> None:
        super().connect()  # type: ignore[misc]
        _watch_current(self.sock)

    def request(self, *args: Any, **kwargs: Any) -> None:
        if self.sock is not None:  # a pooled connection: no connect() this time
            _watch_current(self.sock)
        super().request(*args, **kwargs)  # type: ignore[misc]


class _HTTPConnection(_DeadlineMixin, HTTPConnection):
    pass


class _HTTPSConnection(_DeadlineMixin, HTTPSConnection):
    pass


class _HTTPPool(HTTPConnectionPool):
    ConnectionCls = _HTTPConnection


class _HTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _HTTPSConnection


_POOLS = {"http": _HTTPPool, "https": _HTTPSPool}


class DeadlineAdapter(HTTPAdapter):
    """requests' adapter with connections whose sockets the deadline watchdog can reach."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = _POOLS

    def proxy_manager_for(self, proxy: str, **proxy_kwargs: Any) -> Any:
        manager = super().proxy_manager_for(proxy, **proxy_kwargs)
        if not proxy.lower().startswith("socks"):
            manager.pool_classes_by_scheme = _POOLS
        return manager


def _decoder(encoding: str) -> Any:
    if encoding in ("", "identity"):
        return None
    if encoding in ("gzip", "x-gzip"):
        return zlib.decompressobj(16 + zlib.MAX_WBITS)
    if encoding == "deflate":
        return zlib.decompressobj()
    raise UnreadableBody(f"unexpected Content-Encoding {encoding[:40]!r}")


def read_body(response: requests.Response, deadline: Deadline | None, limit: int) -> bytes:
    """The body of a ``stream=True`` response, at most ``limit`` bytes on the wire and decoded.

    Reads in small steps, checking the deadline between them; the watchdog covers a single step
    that blocks. Closes the response (dropping the connection) when it gives up.
    """
    raw = response.raw
    if deadline is not None:
        deadline.response = raw
    try:
        declared = response.headers.get("Content-Length", "").strip()
        if declared.isdigit() and int(declared) > limit:
            raise BodyTooLarge(f"the answer announces {int(declared)} bytes, more than the {limit} allowed")
        decoder = _decoder(response.headers.get("Content-Encoding", "").strip().lower())
        out = bytearray()
        wire = 0
        # urllib3 2.3+ reads "what has arrived" (read1); older ones block for a full chunk, which
        # the watchdog still bounds.
        read = getattr(raw, "read1", None) or raw.read
        while True:
            if deadline is not None:
                deadline.check()
            try:
                chunk = read(_CHUNK, decode_content=False)
            except (urllib3.exceptions.HTTPError, OSError) as exc:
                if deadline is not None and deadline.expired:
                    raise DeadlineExceeded(f"no complete answer within {deadline.seconds:g} s") from None
                raise requests.exceptions.ChunkedEncodingError(type(exc).__name__) from None
            if not chunk:
                break
            wire += len(chunk)
            if wire > limit:
                raise BodyTooLarge(f"the answer exceeds {limit} bytes")
            if decoder is None:
                out += chunk
            else:
                try:
                    out += decoder.decompress(chunk, limit + 1 - len(out))
                except zlib.error:
                    raise UnreadableBody("the compressed answer is corrupt") from None
                if len(out) > limit or decoder.unconsumed_tail:
                    raise BodyTooLarge(f"the answer inflates to more than {limit} bytes")
        if decoder is not None:
            try:
                out += decoder.flush(limit + 1 - len(out))
            except zlib.error:
                raise UnreadableBody("the compressed answer is corrupt") from None
            if len(out) > limit:
                raise BodyTooLarge(f"the answer inflates to more than {limit} bytes")
        return bytes(out)
    except BaseException:
        response.close()
        raise


def parse_json(body: bytes) -> Any:
    """JSON or ``None``: deeply nested JSON (``RecursionError``) is as unreadable as broken JSON."""
    if not body:
        return None
    try:
        return json.loads(body)
    except (ValueError, RecursionError):
        return None
