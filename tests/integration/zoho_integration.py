"""Shared helpers of the integration tests (a uniquely named module, so test files can import it)."""

from __future__ import annotations

import json
from typing import Any

from airflow_provider_zohorel.emulator import (
    DEMO_CLIENT_ID,
    DEMO_CLIENT_SECRET,
    DEMO_REFRESH_TOKEN,
    ZohoEmulator,
    connection,
)
from airflow_provider_zohorel.hooks.zoho_crm import ZohoCRMHook
from airflow_provider_zohorel.zoho.retry import RetryPolicy

#: Short budgets so retries do not make the suite slow (never asserted as timings).
FAST_RETRY = RetryPolicy(max_attempts=3, base_delay=0.01, max_delay=0.05, deadline=10)

#: Demo seed records (airflow_provider_zohorel/emulator/seeds/demo.json).
CAMPAIGNS = ["3652397000000327001", "3652397000001854001", "3652397000002000001"]
LEADS = ["3652397000001829002", *(f"36523970000018290{n:02d}" for n in range(3, 51))]
UNKNOWN_LEAD = "3652397000001829999"
NOTE_PARENT_LEAD = "3652397000001829002"
NOTES = [f"365239700000800000{n}" for n in range(1, 6)]


def conn_json(
    base_url: str | None,
    *,
    login: str | None = DEMO_CLIENT_ID,
    password: str | None = DEMO_CLIENT_SECRET,
    refresh_token: str | None = DEMO_REFRESH_TOKEN,
    api_version: str | None = "v8",
    **extra: Any,
) -> str:
    """An ``AIRFLOW_CONN_*`` value in JSON form; ``None`` leaves a field out."""
    doc = connection(base_url, api_version=api_version, refresh_token=refresh_token, **extra)
    for key, value in (("login", login), ("password", password)):
        if value is None:
            del doc[key]
        else:
            doc[key] = value
    return json.dumps(doc)


def make_hook(conn_id: str = "zoho_crm_default", **kwargs: Any) -> ZohoCRMHook:
    kwargs.setdefault("retry", FAST_RETRY)
    return ZohoCRMHook(conn_id, **kwargs)


def token_requests(emulator: ZohoEmulator) -> int:
    """Every answered POST /oauth/v2/token, whatever it said (all token answers are HTTP 200)."""
    return sum(emulator.admin.counters()["requests"].get("oauth.token", {}).values())


def crm_requests(emulator: ZohoEmulator) -> dict[str, dict[str, int]]:
    """CRM requests by endpoint and status (including ones refused before authentication)."""
    counters: dict[str, dict[str, int]] = emulator.admin.counters()["requests"]
    return {k: v for k, v in counters.items() if k.startswith("crm.")}


def total_crm_requests(emulator: ZohoEmulator) -> int:
    return sum(sum(by_status.values()) for by_status in crm_requests(emulator).values())
