"""Apache Airflow provider for Zoho CRM's Update Related Records API.

Layers (see DESIGN.md): ``zoho/`` is the Airflow-free client core, ``hooks/`` and ``operators/``
are thin Airflow glue, ``emulator/`` is an independent local Zoho CRM for tests and demos.
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"


def get_provider_info() -> dict[str, Any]:
    """Describe the provider to Airflow's provider manager (entry point ``apache_airflow_provider``).

    ``conn-fields`` and ``ui-field-behaviour`` are the Airflow 3.2+ way to declare the connection
    form without importing the hook (and without wtforms, which a plain Airflow 3 install lacks);
    both come from ``hooks/connection_fields.py``, which imports neither Airflow nor the client.
    """
    from airflow_provider_zohorel.hooks.connection_fields import HOOK_NAME, provider_connection_type

    return {
        "package-name": "airflow-provider-zohorel",
        "name": "Zoho CRM related records",
        "description": "Relate Zoho CRM records (campaign members, deal products, price-book list prices, "
        "notes) through the Update Related Records API.",
        "integrations": [
            {
                "integration-name": HOOK_NAME,
                "external-doc-url": "https://www.zoho.com/crm/developer/docs/api/v8/update-related-records.html",
                "tags": ["service"],
            }
        ],
        "hooks": [
            {
                "integration-name": HOOK_NAME,
                "python-modules": ["airflow_provider_zohorel.hooks.zoho_crm"],
            }
        ],
        "operators": [
            {
                "integration-name": HOOK_NAME,
                "python-modules": ["airflow_provider_zohorel.operators.related_records"],
            }
        ],
        "connection-types": [provider_connection_type()],
        "extra-links": ["airflow_provider_zohorel.operators.links.ZohoCRMRecordsLink"],
    }
