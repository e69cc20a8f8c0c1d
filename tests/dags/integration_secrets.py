"""A DAG whose tasks use ZohoCRMHook the way user code does, for tests/integration/test_secrets.py.

The tasks log around every hook call (never a credential), return what they learnt and push one
extra XCom; the test then searches all of it for the connection's secrets and every access token
the emulator minted. ``expire_tokens_url`` (conf, optional) is test scaffolding: it makes the
emulator expire the access token between two calls, so the hook's refresh path runs mid-task.
"""

from __future__ import annotations

import logging
from typing import Any

import pendulum
import requests
from airflow.sdk import DAG, task

from airflow_provider_zohorel.hooks.zoho_crm import ZohoCRMHook
from airflow_provider_zohorel.zoho.errors import ZohoAuthError
from airflow_provider_zohorel.zoho.retry import RetryPolicy

log = logging.getLogger(__name__)
RETRY = RetryPolicy(max_attempts=3, base_delay=0.01, max_delay=0.05, deadline=10)
MARKER = "zohorel-secrets-check"

with DAG(
    "integration_secrets",
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    tags=["integration"],
):

    @task
    def relate_with_hook(**context: Any) -> dict[str, Any]:
        conf = context["dag_run"].conf
        hook = ZohoCRMHook("zoho_crm_default", retry=RETRY)
        log.info("%s: relating %d leads to campaign %s", MARKER, len(conf["leads"]), conf["campaign"])
        first = hook.update_related_records(
            "Campaigns", conf["campaign"], "Leads", [{"id": lead} for lead in conf["leads"][:2]]
        )
        log.info("%s: first batch %s", MARKER, [(r.related_id, r.code) for r in first])
        if conf.get("expire_tokens_url"):
            requests.post(conf["expire_tokens_url"], json={}, timeout=10).raise_for_status()
        second = hook.update_related_records(
            "Campaigns", conf["campaign"], "Leads", [{"id": lead} for lead in conf["leads"][2:]]
        )
        log.info("%s: second batch %s", MARKER, [(r.related_id, r.code) for r in second])
        ok, message = hook.test_connection()
        log.info("%s: test_connection -> %s %s", MARKER, ok, message)
        context["ti"].xcom_push(key="client_stats", value=hook.client.stats.as_dict())
        return {
            "codes": [r.code for r in [*first, *second]],
            "test_connection": [ok, message],
            "api_domain": hook.client.tokens.get().api_domain,
        }

    @task
    def wrong_secret() -> dict[str, Any]:
        hook = ZohoCRMHook("zoho_wrong_secret", retry=RETRY)
        log.info("%s: trying a connection with a wrong secret", MARKER)
        try:
            hook.get_access_token()
        except ZohoAuthError as exc:
            log.warning("%s: refused as expected: %s", MARKER, exc)
            return {"error": str(exc), "code": exc.code, "test_connection": list(hook.test_connection())}
        raise AssertionError("a wrong secret minted a token")

    relate_with_hook() >> wrong_secret()
