"""Raw ASGI plumbing: read a body, send a JSON reply, or drop the connection without one.

The emulator speaks ASGI directly (no framework) to keep the hot path short. Dropping a
connection needs the server's transport, which uvicorn exposes on the ``send`` callable's
request cycle; other servers get a 500 instead (documented in ``drop_connection``).
"""

from __future__ import annotations

import base64
import email.parser
import email.policy
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

import msgspec

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

JSON_CONTENT_TYPE = b"application/json;charset=UTF-8"

_encode = msgspec.json.Encoder().encode


@dataclass(slots=True)
class Reply:
    """An HTTP answer, or ``drop=True`` to close the connection without one."""

    status: int
    body: bytes = b""
    headers: list[tuple[bytes, bytes]] = field(default_factory=list)
    drop: bool = False
    #: A fault the test plan injected into this answer (``"auth_error"``: a 401 with a code of the
    #: test's choosing), so an exchange recording can tell it from the emulator's own answers.
    injected: str | None = None


def json_reply(status: int, payload: Any, headers: list[tuple[bytes, bytes]] | None = None) -> Reply:
    """A JSON reply."""
    return Reply(status, _encode(payload), headers or [])


DROP = Reply(0, drop=True)


def no_content() -> Reply:
    """204 No Content (nothing found: v8 spec getRelatedRecords 204)."""
    return Reply(204)


async def read_body(receive: Receive) -> bytes:
    """The whole request body."""
    message = await receive()
    body: bytes = message.get("body", b"")
    if not message.get("more_body", False):
        return body
    chunks = [body]
    while message.get("more_body", False):
        message = await receive()
        chunks.append(message.get("body", b""))
    return b"".join(chunks)


async def send_reply(send: Send, reply: Reply) -> None:
    """Send a reply with content-type and content-length (none for 204 No Content)."""
    if reply.status == 204:
        headers = list(reply.headers)
    else:
        headers = [
            (b"content-type", JSON_CONTENT_TYPE),
            (b"content-length", str(len(reply.body)).encode()),
            *reply.headers,
        ]
    await send({"type": "http.response.start", "status": reply.status, "headers": headers})
    await send({"type": "http.response.body", "body": reply.body})


async def drop_connection(send: Send, receive: Receive) -> None:
    """Close the client's connection without any response bytes.

    Works with uvicorn (httptools and h11 protocols), whose ``send`` is a bound method of a
    request cycle holding the transport. Elsewhere it falls back to an abrupt 500.
    """
    cycle = getattr(send, "__self__", None)
    transport = getattr(cycle, "transport", None)
    if transport is None:
        raise ConnectionAbortedError("cannot drop the connection on this server")
    transport.close()
    # Wait for the server to notice, so it does not complain that no response was started.
    while (await receive())["type"] != "http.disconnect":
        pass


def header(scope: Scope, name: bytes) -> str | None:
    """The first value of a request header (``name`` lower-case), or None."""
    for key, value in scope["headers"]:
        if key == name:
            text: str = value.decode("latin-1")
            return text
    return None


def query_params(scope: Scope) -> dict[str, str]:
    """Query-string parameters (last value wins)."""
    raw: bytes = scope.get("query_string", b"")
    return dict(parse_qsl(raw.decode("latin-1"), keep_blank_values=True)) if raw else {}


def form_params(scope: Scope, body: bytes) -> dict[str, str]:
    """Parameters of a urlencoded or multipart form body (empty for anything else)."""
    content_type = header(scope, b"content-type") or ""
    if not body:
        return {}
    if content_type.startswith("multipart/form-data"):
        parser = email.parser.BytesParser(policy=email.policy.HTTP)
        message = parser.parsebytes(b"Content-Type: " + content_type.encode("latin-1") + b"\r\n\r\n" + body)
        params: dict[str, str] = {}
        for part in message.iter_parts():
            name = part.get_param("name", header="content-disposition")
            payload = part.get_payload(decode=True)
            if isinstance(name, str) and isinstance(payload, bytes):
                params[name] = payload.decode("utf-8", "replace")
        return params
    if content_type.startswith("application/json"):
        return {}
    return dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))


def basic_auth(scope: Scope) -> tuple[str, str] | None:
    """(user, password) of an HTTP Basic ``Authorization`` header, or None."""
    value = header(scope, b"authorization")
    if not value or value[:6].lower() != "basic ":
        return None
    try:
        decoded = base64.b64decode(value[6:].strip(), validate=True).decode("utf-8")
    except ValueError:
        return None
    user, sep, password = decoded.partition(":")
    return (user, password) if sep else None


def base_url(scope: Scope) -> str:
    """The base URL the client used to reach us (scheme and Host header)."""
    host = header(scope, b"host")
    if not host:
        server = scope.get("server") or ("127.0.0.1", 80)
        host = f"{server[0]}:{server[1]}"
    return f"{scope.get('scheme', 'http')}://{host}"
