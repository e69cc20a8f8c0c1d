"""Optional recording of CRM exchanges: one JSON line per request and the answer it got.

Off unless the environment variable ``ZOHO_EMULATOR_RECORD`` names a file when the app is built;
then every ``/crm/...`` request is appended to it as ``{"method", "path", "query", "template",
"version", "status", "request", "request_text", "response", "user_agent", "external",
"injected"}``. A contract check (the
project's test suite holds its own JSON Schemas of Zoho's operations) reads the file afterwards;
the emulator itself checks nothing. Off, the app holds no recorder and pays one ``is None`` test
per request.

The file is opened ``O_APPEND`` and each exchange is written with one ``write``, so several
emulators (and a test runner writing its own marker lines) can share it. Only bodies and the
``User-Agent``/``X-EXTERNAL`` headers are written: never ``Authorization`` or a token.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import msgspec

from airflow_provider_zohorel.emulator.wire.asgi_io import Reply, Scope, header

#: Names the file to append exchanges to; unset or empty = no recording.
RECORD_ENV = "ZOHO_EMULATOR_RECORD"
#: A request body that is not JSON is kept as text (``request_text``), cut to this many characters.
MAX_RAW_BODY = 500

_encode = msgspec.json.Encoder().encode
_decode = msgspec.json.decode


class ExchangeRecorder:
    """Appends one JSON line per CRM exchange to a file."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> ExchangeRecorder | None:
        """A recorder for the file ``ZOHO_EMULATOR_RECORD`` names, or None when it is unset."""
        path = (os.environ if environ is None else environ).get(RECORD_ENV, "")
        return cls(path) if path else None

    def record(
        self,
        scope: Scope,
        body: bytes,
        template: str | None,
        version: str | None,
        reply: Reply,
    ) -> None:
        """Append one exchange (a dropped connection has status 0 and no response)."""
        query: bytes = scope.get("query_string", b"")
        entry: dict[str, Any] = {
            "method": scope["method"],
            "path": scope["path"],
            "query": query.decode("latin-1"),
            "template": template,
            "version": version,
            "status": reply.status,
            "request": None,
            "request_text": None,
            "response": _decode(reply.body) if reply.body else None,
            "user_agent": header(scope, b"user-agent"),
            "external": header(scope, b"x-external"),
            "injected": reply.injected,
        }
        if body.strip():
            try:
                entry["request"] = _decode(body)
            except msgspec.DecodeError:
                entry["request_text"] = body[:MAX_RAW_BODY].decode("utf-8", "replace")
        os.write(self._fd, _encode(entry) + b"\n")

    def close(self) -> None:
        """Close the file (an in-thread :class:`ZohoEmulator` does once its server has stopped)."""
        os.close(self._fd)
