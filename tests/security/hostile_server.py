"""A hostile HTTP server for the security suite: it answers every request with a script of bytes
and pauses (a redirect, a drip, a gzip bomb, deeply nested JSON), optionally over TLS under any
host name the test maps to loopback. Plain sockets, so a script controls every byte and pause."""

from __future__ import annotations

import datetime
import ipaddress
import socket
import ssl
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest


@dataclass
class Request:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


#: A script turns a request into what to send: bytes are sent, a float is a pause in seconds.
Script = Callable[[Request], Iterable[bytes | float]]


def response(status: int, body: bytes = b"", reason: str = "X", **headers: str) -> bytes:
    head = [f"HTTP/1.1 {status} {reason}", "Connection: close"]
    if "Content_Length" not in headers and "Transfer_Encoding" not in headers:
        head.append(f"Content-Length: {len(body)}")
    head += [f"{name.replace('_', '-')}: {value}" for name, value in headers.items()]
    return ("\r\n".join(head) + "\r\n\r\n").encode() + body


def json_response(body: Any, status: int = 200) -> bytes:
    import json

    return response(status, json.dumps(body).encode(), Content_Type="application/json")


@dataclass
class HostileServer:
    script: Script
    tls: ssl.SSLContext | None = None
    host_name: str = "127.0.0.1"
    requests: list[Request] = field(default_factory=list)
    stopped: threading.Event = field(default_factory=threading.Event)

    def __post_init__(self) -> None:
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(16)
        self._sock.settimeout(0.2)
        self.port = self._sock.getsockname()[1]
        self._threads: list[threading.Thread] = []

    @property
    def url(self) -> str:
        return f"{'https' if self.tls else 'http'}://{self.host_name}:{self.port}"

    def start(self) -> HostileServer:
        thread = threading.Thread(target=self._accept, daemon=True)
        thread.start()
        self._threads.append(thread)
        return self

    def stop(self) -> None:
        self.stopped.set()
        for thread in self._threads:
            thread.join(timeout=10)
        self._sock.close()

    def _accept(self) -> None:
        while not self.stopped.is_set():
            try:
                conn, _ = self._sock.accept()
            except (TimeoutError, OSError):
                continue
            thread = threading.Thread(target=self._serve, args=(conn,), daemon=True)
            thread.start()

    def _serve(self, conn: socket.socket) -> None:
        try:
            if self.tls is not None:
                conn = self.tls.wrap_socket(conn, server_side=True)
            conn.settimeout(10)
            request = _read_request(conn)
            if request is None:
                return
            self.requests.append(request)
            for step in self.script(request):
                if self.stopped.is_set():
                    return
                if isinstance(step, float):
                    if self.stopped.wait(step):
                        return
                else:
                    conn.sendall(step)
        except OSError:
            return  # the client hung up (what a deadline does): the script ends here
        finally:
            conn.close()


def _read_request(conn: socket.socket) -> Request | None:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            return None
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    method, path, _ = lines[0].split(" ", 2)
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    length = int(headers.get("content-length", "0"))
    while len(body) < length:
        chunk = conn.recv(65536)
        if not chunk:
            break
        body += chunk
    return Request(method, path, headers, body)


@pytest.fixture
def hostile() -> Iterator[Callable[..., HostileServer]]:
    """``hostile(script, tls=None, host_name="127.0.0.1")`` starts a server, stopped after the test."""
    servers: list[HostileServer] = []

    def start(script: Script, **kwargs: Any) -> HostileServer:
        server = HostileServer(script, **kwargs).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


def self_signed(directory: Path, *names: str) -> tuple[Path, Path]:
    """A CA-flagged self-signed certificate for localhost, 127.0.0.1 and ``names``."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0] if names else "localhost")])
    now = datetime.datetime.now(datetime.timezone.utc)
    alt = [x509.DNSName("localhost"), *(x509.DNSName(n) for n in names)]
    alt.append(x509.IPAddress(ipaddress.ip_address("127.0.0.1")))
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName(alt), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return cert_path, key_path


@pytest.fixture
def internal_host(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[str, ssl.SSLContext]:
    """``accounts.internal.test``: a host that is neither Zoho's nor loopback by name (an internal
    service a hostile connection could point at), served on loopback over trusted TLS."""
    name = "accounts.internal.test"
    cert, key = self_signed(tmp_path, name)
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(cert))
    real = socket.getaddrinfo

    def resolve(host: Any, *args: Any, **kwargs: Any) -> Any:
        return real("127.0.0.1" if host == name else host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", resolve)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    return name, context
