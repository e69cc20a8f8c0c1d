"""`make demo`: run example DAG 1 (zoho_campaign_members) against the bundled Zoho emulator.

Starts the emulator with its `demo` seed on a free port, points a `zoho_crm_default` connection
(an AIRFLOW_CONN_* variable) at it, runs the DAG with `airflow dags test` on an embedded SQLite
metadata database in .airflow-demo/, then prints the run summary (the operator's XCom) and what
the emulator now holds. Nothing outside this checkout is touched.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HOME = ROOT / ".airflow-demo"
DAG_ID = "zoho_campaign_members"
TASK_ID = "add_leads_to_campaigns"

os.environ.update(
    AIRFLOW_HOME=str(HOME),
    AIRFLOW__DATABASE__SQL_ALCHEMY_CONN=f"sqlite:///{HOME / 'airflow.db'}",
    AIRFLOW__CORE__DAGS_FOLDER=str(ROOT / "dags_examples"),
    AIRFLOW__CORE__LOAD_EXAMPLES="False",
    ZOHOREL_TOKEN_CACHE_DIR=str(HOME / "token-cache"),
    AIRFLOW_CONN_WAREHOUSE=json.dumps({"conn_type": "sqlite", "host": str(HOME / "warehouse.db")}),
)
HOME.mkdir(exist_ok=True)


def airflow(*args: str, quiet: bool = False) -> None:
    out = subprocess.DEVNULL if quiet else None
    subprocess.run(["airflow", *args], check=True, stdout=out, stderr=subprocess.STDOUT if quiet else None)


def summary_of_last_run() -> dict:
    from airflow.models.dagrun import DagRun
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session

    with create_session() as session:
        run = session.query(DagRun).filter(DagRun.dag_id == DAG_ID).order_by(DagRun.id.desc()).first()
        row = (
            session.query(XComModel)
            .filter_by(dag_id=DAG_ID, run_id=run.run_id, task_id=TASK_ID, key="return_value")
            .one()
        )
        return {"run_id": run.run_id, "state": str(run.state), "summary": row.value}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--verbose", action="store_true", help="show the whole Airflow task log")
    args = parser.parse_args()

    from airflow_provider_zohorel.emulator import ZohoEmulator

    print("==> migrating the demo metadata database (.airflow-demo/airflow.db)", flush=True)
    airflow("db", "migrate", quiet=True)
    with ZohoEmulator(seed="demo") as emulator:
        print(f"==> Zoho CRM emulator listening on {emulator.base_url} (seed: demo)", flush=True)
        os.environ.update(emulator.connection_env())
        print(f"==> airflow dags test {DAG_ID}", flush=True)
        airflow("dags", "test", DAG_ID, quiet=not args.verbose)
        result = summary_of_last_run()
        counters = emulator.admin.counters()
        members = emulator.admin.relations_of("3652397000000327001", "Leads")
    print(f"\n==> DAG run {result['run_id']}: {result['state']}")
    print("==> run summary (XCom return_value of add_leads_to_campaigns):")
    print(json.dumps(result["summary"], indent=2))
    print(
        f"==> the emulator now holds {len(members)} leads in campaign 3652397000000327001; "
        f"token mints: {counters.get('tokens_minted')}"
    )
    return 0 if result["state"] == "success" else 1


if __name__ == "__main__":
    sys.exit(main())
