"""Apache Airflow provider for Zoho CRM's Update Related Records API.

Layers (see DESIGN.md): ``zoho/`` is the Airflow-free client core, ``hooks/`` and ``operators/``
are thin Airflow glue, ``emulator/`` is an independent local Zoho CRM for tests and demos.
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"

_REGIONS = ["us", "eu", "in", "au", "jp", "cn", "ca", "sa"]


def get_provider_info() -> dict[str, Any]:
    """Describe the provider to Airflow's provider manager (entry point ``apache_airflow_provider``).

    ``conn-fields`` and ``ui-field-behaviour`` are the Airflow 3.2+ way to declare the connection
    form without importing the hook (and without wtforms, which a plain Airflow 3 install lacks).
    """
    return {
        "package-name": "airflow-provider-zohorel",
        "name": "Zoho CRM related records",
        "description": "Relate Zoho CRM records (campaign members, deal products, price-book list prices, "
        "notes) through the Update Related Records API.",
        "integrations": [
            {
                "integration-name": "Zoho CRM",
                "external-doc-url": "https://www.zoho.com/crm/developer/docs/api/v8/update-related-records.html",
                "tags": ["service"],
            }
        ],
        "hooks": [
            {
                "integration-name": "Zoho CRM",
                "python-modules": ["airflow_provider_zohorel.hooks.zoho_crm"],
            }
        ],
        "operators": [
            {
                "integration-name": "Zoho CRM",
                "python-modules": ["airflow_provider_zohorel.operators.related_records"],
            }
        ],
        "connection-types": [
            {
                "connection-type": "zoho_crm",
                "hook-class-name": "airflow_provider_zohorel.hooks.zoho_crm.ZohoCRMHook",
                "hook-name": "Zoho CRM",
                "ui-field-behaviour": {
                    "hidden-fields": ["host", "port", "schema"],
                    "relabeling": {"login": "Client ID", "password": "Client Secret"},
                    "placeholders": {
                        "login": "1000.XXXXXXXXXXXXXXXXXXXXXXXXXXXXXX",
                        "refresh_token": "1000.xxxxxxxx.xxxxxxxx",
                        "region": "us",
                        "accounts_url": "https://accounts.zoho.eu (overrides Region)",
                        "api_domain": "https://<org>.zohoplatform.com (only for custom domains)",
                        "api_version": "v2",
                    },
                },
                "conn-fields": {
                    "refresh_token": {
                        "label": "Refresh Token",
                        "description": "Refresh token of a Self Client or server-based client "
                        "(access_type=offline). Access tokens are minted from it in memory.",
                        "schema": {"type": "string", "format": "password"},
                    },
                    "region": {
                        "label": "Data Centre (Region)",
                        "description": "Zoho data centre of the CRM org: us (zoho.com), eu, in, au, jp, "
                        "cn, ca (zohocloud.ca), sa. Ignored when Accounts URL is set.",
                        "schema": {"type": ["string", "null"], "enum": [*_REGIONS, None], "default": "us"},
                    },
                    "accounts_url": {
                        "label": "Accounts URL",
                        "description": "Zoho Accounts server, e.g. https://accounts.zoho.eu. Overrides "
                        "Region. http:// is accepted only for loopback hosts (the bundled emulator).",
                        "schema": {"type": ["string", "null"], "format": "url"},
                    },
                    "api_domain": {
                        "label": "API Domain",
                        "description": "CRM API domain. Leave empty to use the api_domain of the token "
                        "response; required for Vertical Solutions (https://<org>.zohoplatform.com).",
                        "schema": {"type": ["string", "null"], "format": "url"},
                    },
                    "token_cache": {
                        "label": "Token Cache",
                        "description": "Where access tokens are shared: file (all task processes of "
                        "this OS user on the machine, the default), memory (this process only), or a "
                        "redis:// URL (every worker of the deployment; needs the [redis] extra).",
                        "schema": {"type": ["string", "null"], "default": "file"},
                    },
                    "api_version": {
                        "label": "API Version",
                        "description": "CRM REST API version: v2, v2.1, v3 ... v8.",
                        "schema": {
                            "type": ["string", "null"],
                            "enum": ["v2", "v2.1", "v3", "v4", "v5", "v6", "v7", "v8", None],
                            "default": "v2",
                        },
                    },
                },
            }
        ],
    }
