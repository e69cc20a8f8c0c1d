"""The sending window as Zoho saw it: the emulator, with a clock on its CRM requests.

Efficiency is measured over the window a client keeps Zoho busy: from the arrival of its first CRM
request to the end of its last answer, on the server's wall clock (``time.time()``, so it lines up
with Airflow's task start and end dates). The emulator has no such clock of its own, and the
benchmark must not rely on the client's account of itself, so this module runs the unmodified
emulator (its own CLI, in its own process) with one ASGI middleware in front that timestamps CRM
requests and answers ``GET /__bench__/window``.

``python -m bench.window [emulator options]`` runs it; :func:`windowed_emulator` starts it for a
benchmark and hands back the same ``base_url`` / ``admin`` pair as ``ZohoEmulator``.
"""

from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Awaitable, Callable, Iterator, MutableMapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import IO, Any

import requests

WINDOW_PATH = "/__bench__/window"

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


class SendingWindow:
    """ASGI middleware: wall-clock time of the first CRM request and of the end of the last answer."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.reset()

    def reset(self) -> None:
        self.first_request: float | None = None
        self.last_answer: float | None = None
        self.requests = 0
        self.answers = 0

    def figures(self) -> dict[str, Any]:
        return {
            "first_request": self.first_request,
            "last_answer": self.last_answer,
            "requests": self.requests,
            "answers": self.answers,
        }

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope["path"]
        if path == WINDOW_PATH:
            if scope["method"] == "DELETE":
                self.reset()
            await _json(send, self.figures())
            return
        if not path.startswith("/crm/"):
            await self.app(scope, receive, send)
            return
        now = time.time()
        if self.first_request is None:
            self.first_request = now
        self.requests += 1

        async def timed_send(message: Message) -> None:
            await send(message)
            if message["type"] == "http.response.body" and not message.get("more_body", False):
                self.last_answer = time.time()
                self.answers += 1

        await self.app(scope, receive, timed_send)


async def _json(send: Send, body: dict[str, Any]) -> None:
    data = json.dumps(body).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(data)).encode())]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": data})


def main(argv: list[str]) -> int:
    """The emulator's own CLI, with :class:`SendingWindow` wrapped around its app."""
    from airflow_provider_zohorel.emulator import cli

    build_server = cli.build_server

    def windowed(app: Any, on_ready: Callable[[], None], **kwargs: Any) -> Any:
        return build_server(SendingWindow(app), on_ready, **kwargs)

    cli.build_server = windowed  # type: ignore[assignment]
    return cli.main(argv)


# --- the benchmark's handle ---------------------------------------------------------------------


@dataclass(frozen=True)
class Window:
    """One sending window, on the emulator's wall clock."""

    first_request: float
    last_answer: float
    requests: int

    @property
    def seconds(self) -> float:
        return self.last_answer - self.first_request


class WindowedEmulator:
    """A running emulator process: ``base_url``, ``admin``, ``pid``, and its sending window."""

    def __init__(self, base_url: str, process: subprocess.Popen[bytes]) -> None:
        from airflow_provider_zohorel.emulator import EmulatorAdmin

        self.base_url = base_url
        self.process = process
        self.admin = EmulatorAdmin(base_url)

    @property
    def pid(self) -> int:
        return self.process.pid

    def window(self) -> Window:
        figures = requests.get(self.base_url + WINDOW_PATH, timeout=30).json()
        if figures["first_request"] is None or figures["last_answer"] is None:
            raise RuntimeError("the emulator saw no CRM request")
        return Window(figures["first_request"], figures["last_answer"], figures["requests"])

    def reset_window(self) -> None:
        requests.delete(self.base_url + WINDOW_PATH, timeout=30)


@contextmanager
def windowed_emulator(*args: str, startup_timeout: float = 60.0) -> Iterator[WindowedEmulator]:
    """``python -m bench.window --port 0 ARGS...`` until the block ends."""
    from airflow_provider_zohorel.emulator.cli import READY_PREFIX

    stderr: IO[bytes] = tempfile.TemporaryFile()  # noqa: SIM115 (closed below)
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(
        [sys.executable, "-m", "bench.window", "--host", "127.0.0.1", "--port", "0", *args],
        stdout=subprocess.PIPE,
        stderr=stderr,
        stdin=subprocess.DEVNULL,
        env=env,
    )
    emulator: WindowedEmulator | None = None
    try:
        lines: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=_pump, args=(process.stdout, lines), daemon=True).start()
        while emulator is None:
            line = lines.get(timeout=startup_timeout)
            if line is None:
                stderr.seek(0)
                raise RuntimeError(f"emulator exited: {stderr.read().decode(errors='replace')[-2000:]}")
            if line.startswith(READY_PREFIX):
                emulator = WindowedEmulator(line[len(READY_PREFIX) :].strip(), process)
        yield emulator
    finally:
        if emulator is not None:
            emulator.admin.close()
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        stderr.close()


def _pump(stream: IO[bytes] | None, lines: queue.Queue[str | None]) -> None:
    if stream is not None:
        for raw in iter(stream.readline, b""):
            lines.put(raw.decode("utf-8", "replace"))
    lines.put(None)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
