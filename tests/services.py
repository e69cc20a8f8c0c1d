"""Redis and Postgres for the tests, without touching anything the suite did not create.

- Redis: a ``redis-server`` of this session's own (no persistence, a private directory, a Unix
  socket instead of a TCP port), so its databases may be emptied freely. Opt-in for a shared one:
  ``ZOHOREL_TEST_REDIS_URL=redis://host:port/N`` names a database the suite may empty.
- Postgres: a database of this session's own (``zohorel_tests_<random>``), created on the server of
  ``ZOHOREL_TEST_POSTGRES_ADMIN_URL`` (default: this machine's trust-auth Postgres on 127.0.0.1:5432,
  see the README) and dropped at the end; no other database, schema or table is touched.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

REDIS_ENV = "ZOHOREL_TEST_REDIS_URL"
POSTGRES_ENV = "ZOHOREL_TEST_POSTGRES_ADMIN_URL"
POSTGRES_DEFAULT_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"


@contextmanager
def private_redis() -> Iterator[str]:
    """The URL of db 0 of a ``redis-server`` started for this session on a Unix socket in a
    private directory (no TCP port: nothing to race for), or the opt-in shared URL."""
    given = os.environ.get(REDIS_ENV)
    if given:
        yield given
        return
    import redis

    binary = shutil.which("redis-server")
    if binary is None:
        raise RuntimeError(f"redis-server is not installed; install it or set {REDIS_ENV}")
    directory = Path(tempfile.mkdtemp(prefix="zohorel-tests-redis-"))
    sock = directory / "redis.sock"
    proc = subprocess.Popen(
        [
            *(binary, "--port", "0", "--unixsocket", str(sock), "--unixsocketperm", "700"),
            *("--save", "", "--appendonly", "no", "--dir", str(directory)),
            *("--logfile", str(directory / "redis.log")),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"unix://{sock}?db=0"
    try:
        client = redis.Redis.from_url(url)
        deadline = time.monotonic() + 30
        while True:
            try:
                client.ping()
                break
            except redis.ConnectionError as exc:
                if proc.poll() is not None or time.monotonic() > deadline:
                    log = (directory / "redis.log").read_text(errors="replace")
                    raise RuntimeError(f"redis-server did not start: {log}") from exc
                time.sleep(0.02)  # waiting for a server process to listen, with a deadline
        client.close()
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        shutil.rmtree(directory, ignore_errors=True)


@contextmanager
def private_postgres() -> Iterator[str]:
    """The URI of a Postgres database created for this session, dropped afterwards."""
    import psycopg
    from psycopg.conninfo import conninfo_to_dict

    admin = os.environ.get(POSTGRES_ENV, POSTGRES_DEFAULT_ADMIN)
    name = f"zohorel_tests_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    params = conninfo_to_dict(admin)
    params["dbname"] = name
    host, port, user = params.get("host", "127.0.0.1"), params.get("port", "5432"), params.get("user", "")
    password = params.get("password")
    auth = f"{user}:{password}@" if password else (f"{user}@" if user else "")
    try:
        yield f"postgresql://{auth}{host}:{port}/{name}"
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
