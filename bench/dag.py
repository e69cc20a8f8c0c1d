"""End to end: the example DAG ``zoho_campaign_members`` through ``airflow dags test``.

A private AIRFLOW_HOME with SQLite, ``airflow db migrate`` first (timed, not counted), then the
DAG run as a subprocess against the emulator's demo seed. Its wall time splits into the Zoho work
(the summary's ``seconds``, read from the XCom table of the metadata database) and everything else
Airflow does: CLI start-up, DAG parsing, the run's bookkeeping, the upstream task.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.common import ROOT, Row, fmt_s, verdict, workdir

DAG_ID = "zoho_campaign_members"
TASK_ID = "add_leads_to_campaigns"


@dataclass(frozen=True)
class Config:
    timeout: float = 600.0


def _airflow(args: list[str], env: dict[str, str], timeout: float) -> float:
    started = time.perf_counter()
    done = subprocess.run(
        [str(Path(sys.executable).with_name("airflow")), *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"airflow {' '.join(args)} failed: {(done.stdout + done.stderr)[-2000:]}")
    return time.perf_counter() - started


def _summary(db: Path) -> dict[str, Any]:
    with sqlite3.connect(db) as conn:
        row = conn.execute(
            "SELECT value FROM xcom WHERE dag_id = ? AND task_id = ? AND key = 'return_value'",
            (DAG_ID, TASK_ID),
        ).fetchone()
    if row is None:
        raise RuntimeError("no return_value XCom for the task")
    value = row[0]
    summary: dict[str, Any] = json.loads(value if isinstance(value, str) else bytes(value).decode())
    return summary


def run(config: Config, say: Callable[[str], None]) -> list[Row]:
    from airflow_provider_zohorel.emulator import ZohoEmulator

    section = f"6. End to end: `airflow dags test {DAG_ID}` (SQLite, subprocess)"
    home = Path(tempfile.mkdtemp(prefix="dag-home-", dir=workdir()))
    db = home / "airflow.db"
    env = dict(os.environ)
    env.update(
        AIRFLOW_HOME=str(home),
        AIRFLOW__DATABASE__SQL_ALCHEMY_CONN=f"sqlite:///{db}",
        AIRFLOW__CORE__DAGS_FOLDER=str(ROOT / "dags_examples"),
        AIRFLOW__CORE__LOAD_EXAMPLES="False",
        ZOHOREL_TOKEN_CACHE_DIR=str(home / "token-cache"),
        AIRFLOW_CONN_WAREHOUSE=json.dumps({"conn_type": "sqlite", "host": str(home / "warehouse.db")}),
    )
    env.pop("AIRFLOW__LOGGING__LOGGING_LEVEL", None)
    say("    airflow db migrate (not counted)")
    migrate = _airflow(["db", "migrate"], env, config.timeout)
    with ZohoEmulator(seed="demo") as emu:
        env.update(emu.connection_env())
        say(f"    airflow dags test {DAG_ID}")
        wall = _airflow(["dags", "test", DAG_ID], env, config.timeout)
        calls = int(emu.admin.counters()["crm_requests"])
    summary = _summary(db)
    zoho = float(summary.get("seconds", 0.0))
    ok = summary.get("outcome") == "success" and summary.get("failed") == 0
    return [
        Row(section, "`airflow db migrate` (once, not counted)", fmt_s(migrate)),
        Row(
            section,
            f"`airflow dags test` wall ({summary.get('succeeded')} items in {calls} calls, outcome "
            f"{summary.get('outcome')})",
            fmt_s(wall),
            "success",
            verdict(ok),
        ),
        Row(section, "  Zoho work (summary seconds)", f"{fmt_s(zoho)} ({100 * zoho / wall:.1f}%)"),
        Row(
            section,
            "  Airflow overhead (the rest)",
            f"{fmt_s(wall - zoho)} ({100 * (wall - zoho) / wall:.1f}%)",
        ),
    ]
