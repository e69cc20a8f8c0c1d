"""Where a person sees records in Zoho CRM's web UI, for the operator's extra link.

The web UI lives on the data centre's ``crm.`` host, the sibling of its ``accounts.`` host
(``accounts.zoho.eu`` -> ``https://crm.zoho.eu``), and shows a record at
``/crm/tab/{tab}/{record id}`` and a module's list at ``/crm/tab/{tab}``. ``tab`` is the module's
``module_name`` in Zoho's modules metadata, which is the API name except for a few standard modules
renamed since (zoho/crm-oas v8.0, getModules example: ``api_name`` ``Price_Books``, ``module_name``
``PriceBooks``; Deals were Potentials). A Vertical Solutions org serves its UI on its own domain,
the connection's ``api_domain`` (``https://<org>.zohoplatform.com``); the bundled emulator (a
loopback accounts URL) is linked to as itself.

Airflow-free: the operator computes the URL in the task, where the connection is at hand.
"""

from __future__ import annotations

from urllib.parse import quote

from airflow_provider_zohorel.zoho.credentials import ZohoCredentials
from airflow_provider_zohorel.zoho.regions import host_of, is_loopback

#: API name -> the web UI's tab name, where they differ (module_name in the modules metadata).
TAB_NAMES = {
    "Deals": "Potentials",
    "Price_Books": "PriceBooks",
    "Sales_Orders": "SalesOrders",
    "Purchase_Orders": "PurchaseOrders",
}
_VERTICAL_SUFFIXES = (".zohoplatform.com", ".zohoplatform.eu")


def web_base(credentials: ZohoCredentials) -> str | None:
    """The CRM web UI's base URL for this connection, or ``None`` when it cannot be told."""
    api_domain = credentials.api_domain
    if api_domain and host_of(api_domain).endswith(_VERTICAL_SUFFIXES):
        return api_domain
    accounts = credentials.accounts_url
    host = host_of(accounts)
    if is_loopback(host):
        return accounts  # the emulator
    if host.startswith("accounts."):
        return "https://crm." + host.removeprefix("accounts.")
    return None


def records_url(base: str, module: str, record_id: str | None = None) -> str:
    """A record's page, or the module's list when ``record_id`` is ``None`` (several parents)."""
    url = f"{base}/crm/tab/{quote(TAB_NAMES.get(module, module), safe='')}"
    return f"{url}/{quote(record_id, safe='')}" if record_id is not None else url
