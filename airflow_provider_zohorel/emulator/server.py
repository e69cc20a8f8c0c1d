"""``ZohoEmulator``: start an emulator for tests and scripts, and always stop it.

By default the emulator runs as a subprocess (``python -m airflow_provider_zohorel.emulator``,
given the settings as one JSON argument); the handle waits for its ready line, so there is no
polling and no sleep. With
``in_thread=True`` it runs on a uvicorn server in a background thread of this process, which is
cheaper to start but shares this interpreter's GIL with the code under test.

Example::

    with ZohoEmulator(seed="demo") as emu:
        requests.post(f"{emu.base_url}/oauth/v2/token", data={...})
        emu.admin.counters()
"""

from __future__ import annotations

import os
import queue
import subprocess
import sys
import tempfile
import threading
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import IO, Any

from airflow_provider_zohorel.emulator import airflow_connection as airflow_conn
from airflow_provider_zohorel.emulator.admin_client import Credentials, EmulatorAdmin
from airflow_provider_zohorel.emulator.airflow_connection import DEFAULT_API_VERSION
from airflow_provider_zohorel.emulator.app import EmulatorApp
from airflow_provider_zohorel.emulator.cli import READY_PREFIX
from airflow_provider_zohorel.emulator.model.config import EmulatorConfig, patched
from airflow_provider_zohorel.emulator.model.seed import SeedError
from airflow_provider_zohorel.emulator.serving import (
    EmulatorExposureWarning,
    ReadyServer,
    bind_socket,
    build_server,
    exposure_warning,
    host_for_url,
)
from airflow_provider_zohorel.emulator.settings import (
    ADMIN_TOKEN_ENV,
    EmulatorSettings,
    admin_guard,
    build_state,
    settings_to_json,
)


class EmulatorStartError(RuntimeError):
    """The emulator did not become ready in time (the message quotes its stderr)."""


class ZohoEmulator:
    """A running emulator: ``base_url``, ``admin`` (an :class:`EmulatorAdmin`), ``stop()``."""

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        seed: str | Path | Sequence[str | Path] | None = None,
        latency_ms: float | None = None,
        jitter_ms: float | None = None,
        concurrency: int | None = None,
        credits: int | None = None,
        token_ttl: int | None = None,
        public_url: str | None = None,
        config: Mapping[str, Any] | None = None,
        log_level: str = "warning",
        in_thread: bool = False,
        startup_timeout: float = 30.0,
        stop_timeout: float = 5.0,
        python: str = sys.executable,
        env: dict[str, str] | None = None,
        admin_token: str | None = None,
        seed_dir: str | Path | None = None,
        allowed_hosts: Sequence[str] = (),
    ) -> None:
        seeds = [seed] if isinstance(seed, (str, Path)) else list(seed or [])
        changes: dict[str, Any] = dict(config or {})
        for key, value in (
            ("latency_ms", latency_ms),
            ("jitter_ms", jitter_ms),
            ("concurrency_limit", concurrency),
            ("credit_limit", credits),
            ("token_ttl_s", token_ttl),
            ("public_url", public_url),
        ):
            if value is not None:
                changes[key] = value
        #: What the emulator starts with (``config`` holds any ``EmulatorConfig`` field).
        self.settings = EmulatorSettings(
            host=host,
            port=port,
            config=patched(EmulatorConfig(), changes),
            seeds=[str(item) for item in seeds],
            log_level=log_level,
            seed_dir=str(seed_dir) if seed_dir is not None else None,
            allowed_hosts=list(allowed_hosts),
            admin_token=admin_token,
        )
        self.in_thread = in_thread
        self.startup_timeout = startup_timeout
        self.stop_timeout = stop_timeout
        self._python = python
        self._env = env
        self._process: subprocess.Popen[bytes] | None = None
        self._stderr: IO[bytes] | None = None
        self._server: ReadyServer | None = None
        self._thread: threading.Thread | None = None
        self._base_url: str | None = None
        self._admin: EmulatorAdmin | None = None
        #: In-thread mode only: the live state (handy for white-box assertions).
        self.app: EmulatorApp | None = None

    # --- public handle --------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        """``http://host:port`` of the running emulator (accounts and CRM share it)."""
        if self._base_url is None:
            raise RuntimeError("the emulator is not running")
        return self._base_url

    @property
    def admin(self) -> EmulatorAdmin:
        """The admin-API client."""
        if self._admin is None:
            raise RuntimeError("the emulator is not running")
        return self._admin

    @property
    def port(self) -> int:
        """The TCP port."""
        return int(self.base_url.rsplit(":", 1)[1])

    @property
    def pid(self) -> int | None:
        """Process id of the subprocess (None in-thread)."""
        return self._process.pid if self._process is not None else None

    # --- the Airflow connection that points here ---------------------------------------------

    def connection(
        self,
        credentials: Credentials | None = None,
        *,
        api_version: str | None = DEFAULT_API_VERSION,
        **extra: Any,
    ) -> dict[str, Any]:
        """This emulator's Airflow connection (JSON form); demo credentials unless given."""
        return airflow_conn.connection(self.base_url, credentials, api_version=api_version, **extra)

    def connection_json(
        self,
        credentials: Credentials | None = None,
        *,
        api_version: str | None = DEFAULT_API_VERSION,
        **extra: Any,
    ) -> str:
        """:meth:`connection` as JSON, the value of an ``AIRFLOW_CONN_*`` variable."""
        return airflow_conn.connection_json(self.base_url, credentials, api_version=api_version, **extra)

    def connection_env(
        self,
        conn_id: str = airflow_conn.DEFAULT_CONN_ID,
        credentials: Credentials | None = None,
        *,
        api_version: str | None = DEFAULT_API_VERSION,
        **extra: Any,
    ) -> dict[str, str]:
        """``{"AIRFLOW_CONN_<ID>": json}``, to merge into an environment or ``monkeypatch.setenv``."""
        value = airflow_conn.connection_json(self.base_url, credentials, api_version=api_version, **extra)
        return {airflow_conn.env_var_name(conn_id): value}

    def __enter__(self) -> ZohoEmulator:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def start(self) -> ZohoEmulator:
        """Start and wait until the server accepts connections."""
        if self._base_url is not None:
            return self
        try:
            url = self._start_thread() if self.in_thread else self._start_process()
        except BaseException:
            self.stop()
            raise
        self._base_url = url
        self._admin = EmulatorAdmin(url, token=self._admin_token())
        warning = exposure_warning(self.settings.host, self._admin_token() is not None)
        if warning is not None:
            warnings.warn(warning, EmulatorExposureWarning, stacklevel=2)
        return self

    def _admin_token(self) -> str | None:
        """The admin token the emulator was started with (settings, else the environment)."""
        environ = os.environ if self._env is None else self._env
        return self.settings.admin_token or environ.get(ADMIN_TOKEN_ENV) or None

    def stop(self) -> None:
        """Stop the server (terminate, then kill after ``stop_timeout``); safe to call twice."""
        if self._admin is not None:
            self._admin.close()
            self._admin = None
        self._base_url = None
        if self._process is not None:
            process, self._process = self._process, None
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(self.stop_timeout)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
            if process.stdout is not None:
                process.stdout.close()
        if self._stderr is not None:
            self._stderr.close()
            self._stderr = None
        if self._server is not None and self._thread is not None:
            self._server.should_exit = True
            self._thread.join(self.stop_timeout)
            if self._thread.is_alive():
                self._server.force_exit = True
                self._thread.join(self.stop_timeout)
        self._server = None
        self._thread = None
        if self.app is not None and self.app.recorder is not None:
            # After the server thread is gone, so no request can still be writing.
            self.app.recorder.close()
            self.app.recorder = None

    # --- subprocess mode ------------------------------------------------------------------------

    def _start_process(self) -> str:
        self._stderr = tempfile.TemporaryFile()  # noqa: SIM115 (closed in stop())
        env = dict(os.environ if self._env is None else self._env)
        env.setdefault("PYTHONUNBUFFERED", "1")
        if self.settings.admin_token:
            env[ADMIN_TOKEN_ENV] = self.settings.admin_token  # never on the command line
        process = subprocess.Popen(
            [
                self._python,
                "-m",
                "airflow_provider_zohorel.emulator",
                "--settings-json",
                settings_to_json(self.settings),
            ],
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            stdin=subprocess.DEVNULL,
            env=env,
        )
        self._process = process
        lines: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=_pump_lines, args=(process.stdout, lines), daemon=True).start()
        try:
            while True:
                line = lines.get(timeout=self.startup_timeout)
                if line is None:
                    raise EmulatorStartError(f"emulator exited before it was ready: {self._stderr_tail()}")
                if line.startswith(READY_PREFIX):
                    return line[len(READY_PREFIX) :].strip()
        except queue.Empty:
            raise EmulatorStartError(
                f"emulator not ready after {self.startup_timeout}s: {self._stderr_tail()}"
            ) from None

    def _stderr_tail(self) -> str:
        if self._stderr is None:
            return ""
        self._stderr.seek(0)
        return self._stderr.read().decode("utf-8", "replace")[-4000:]

    # --- thread mode ----------------------------------------------------------------------------

    def _start_thread(self) -> str:
        settings = self.settings
        try:
            guard = admin_guard(settings, os.environ if self._env is None else self._env)
            self.app = EmulatorApp(build_state(settings), guard=guard, seed_dir=settings.seed_dir)
        except (SeedError, ValueError) as exc:
            raise EmulatorStartError(str(exc)) from exc
        sock = bind_socket(settings.host, settings.port)
        url = f"http://{host_for_url(settings.host)}:{sock.getsockname()[1]}"
        ready = threading.Event()
        failure: list[BaseException] = []
        server = build_server(self.app, ready.set, log_level=settings.log_level.lower())
        self._server = server

        def run() -> None:
            try:
                server.run(sockets=[sock])
            except BaseException as exc:  # surfaced to the starting thread
                failure.append(exc)
            finally:
                sock.close()
                ready.set()

        self._thread = threading.Thread(target=run, name="zoho-emulator", daemon=True)
        self._thread.start()
        if not ready.wait(self.startup_timeout) or failure or not server.started:
            raise EmulatorStartError(f"in-thread emulator did not start: {failure!r}")
        return url


def _pump_lines(stream: IO[bytes] | None, lines: queue.Queue[str | None]) -> None:
    """Forward the child's stdout lines (and EOF as None); keeps the pipe drained."""
    if stream is None:
        lines.put(None)
        return
    try:
        for raw in iter(stream.readline, b""):
            lines.put(raw.decode("utf-8", "replace"))
    except (OSError, ValueError):
        pass
    lines.put(None)


def emulator_kwargs_from_env(environ: dict[str, str] | None = None) -> dict[str, Any]:
    """Options for the pytest plugin from ``ZOHO_EMULATOR_IN_THREAD=1`` (others may follow)."""
    env = os.environ if environ is None else environ
    return {"in_thread": env.get("ZOHO_EMULATOR_IN_THREAD", "") in {"1", "true", "yes"}}
