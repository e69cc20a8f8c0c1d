"""The Airflow-free core: credentials, tokens, the HTTP client, the related-records calls, planning,
the parallel runner and the outcome policy. Importing it never imports Airflow.

The names below are loaded on first use, so that a light module of the core (``zoho.regions``,
read by ``get_provider_info``) can be imported without the HTTP client and its dependencies.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the same names for type checkers; tests/unit/zoho/test_package.py holds both equal
    from airflow_provider_zohorel.zoho.client import ClientSettings, ZohoClient
    from airflow_provider_zohorel.zoho.credentials import ZohoCredentials
    from airflow_provider_zohorel.zoho.errors import (
        ConnectionConfigError,
        ZohoAuthError,
        ZohoConfigurationError,
        ZohoError,
        ZohoTransientError,
    )
    from airflow_provider_zohorel.zoho.locked_items import LockedRetryPolicy
    from airflow_provider_zohorel.zoho.planning import Batch, InvalidInput, Plan, build_plan
    from airflow_provider_zohorel.zoho.policy import OutcomePolicy
    from airflow_provider_zohorel.zoho.related_records_api import RelatedRecordsApi
    from airflow_provider_zohorel.zoho.results import ItemResult
    from airflow_provider_zohorel.zoho.retry import RetryPolicy
    from airflow_provider_zohorel.zoho.runner import BatchRunner, Progress, RunReport
    from airflow_provider_zohorel.zoho.summary import RunSummary
    from airflow_provider_zohorel.zoho.token_cache import FileTokenCache, MemoryTokenCache, TokenCache

#: public name -> the core module that defines it
_HOMES = {
    "Batch": "planning",
    "BatchRunner": "runner",
    "ClientSettings": "client",
    "ConnectionConfigError": "errors",
    "FileTokenCache": "token_cache",
    "InvalidInput": "planning",
    "ItemResult": "results",
    "LockedRetryPolicy": "locked_items",
    "MemoryTokenCache": "token_cache",
    "OutcomePolicy": "policy",
    "Plan": "planning",
    "Progress": "runner",
    "RelatedRecordsApi": "related_records_api",
    "RetryPolicy": "retry",
    "RunReport": "runner",
    "RunSummary": "summary",
    "TokenCache": "token_cache",
    "ZohoAuthError": "errors",
    "ZohoClient": "client",
    "ZohoConfigurationError": "errors",
    "ZohoCredentials": "credentials",
    "ZohoError": "errors",
    "ZohoTransientError": "errors",
    "build_plan": "planning",
}

__all__ = sorted(_HOMES)


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{home}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_HOMES})
