"""The operator's extra link: "Zoho CRM records", to the parent records in Zoho CRM's web UI.

Airflow 3 evaluates ``get_link`` in the worker when the task ends (``finalize``) and keeps the
result as an XCom that the UI shows as a button; the operator sets ``zoho_records_url`` during
``execute``, from the connection's data centre (see :mod:`airflow_provider_zohorel.zoho.web_links`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseOperatorLink

if TYPE_CHECKING:
    from airflow.sdk.types import TaskInstanceKey


class ZohoCRMRecordsLink(BaseOperatorLink):
    """The parent record's page (one parent) or the parent module's list (several)."""

    name = "Zoho CRM records"

    def get_link(self, operator: Any, *, ti_key: TaskInstanceKey) -> str:
        url = getattr(operator, "zoho_records_url", None)
        return url if isinstance(url, str) else ""
