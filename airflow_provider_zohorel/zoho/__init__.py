"""The Airflow-free core: credentials, tokens, the HTTP client, the related-records calls, planning,
the parallel runner and the outcome policy. Importing it never imports Airflow."""

from airflow_provider_zohorel.zoho.client import ClientSettings, ZohoClient
from airflow_provider_zohorel.zoho.credentials import ZohoCredentials
from airflow_provider_zohorel.zoho.errors import (
    ConnectionConfigError,
    ZohoAuthError,
    ZohoConfigurationError,
    ZohoError,
    ZohoTransientError,
)
from airflow_provider_zohorel.zoho.planning import Batch, InvalidInput, Plan, build_plan
from airflow_provider_zohorel.zoho.policy import OutcomePolicy
from airflow_provider_zohorel.zoho.related_records_api import RelatedRecordsApi
from airflow_provider_zohorel.zoho.results import ItemResult
from airflow_provider_zohorel.zoho.retry import RetryPolicy
from airflow_provider_zohorel.zoho.runner import BatchRunner, Progress, RunReport
from airflow_provider_zohorel.zoho.summary import RunSummary
from airflow_provider_zohorel.zoho.token_cache import FileTokenCache, MemoryTokenCache, TokenCache

__all__ = [
    "Batch",
    "BatchRunner",
    "ClientSettings",
    "ConnectionConfigError",
    "FileTokenCache",
    "InvalidInput",
    "ItemResult",
    "MemoryTokenCache",
    "OutcomePolicy",
    "Plan",
    "Progress",
    "RelatedRecordsApi",
    "RetryPolicy",
    "RunReport",
    "RunSummary",
    "TokenCache",
    "ZohoAuthError",
    "ZohoClient",
    "ZohoConfigurationError",
    "ZohoCredentials",
    "ZohoError",
    "ZohoTransientError",
    "build_plan",
]
