"""Zoho CRM's web UI for a connection: the data centre's crm. host, a Vertical Solutions org's own
domain, the emulator itself; record pages by the UI's tab name."""

from __future__ import annotations

import pytest

from airflow_provider_zohorel.zoho.credentials import ZohoCredentials
from airflow_provider_zohorel.zoho.regions import REGIONS
from airflow_provider_zohorel.zoho.web_links import records_url, web_base


def creds(**fields: str) -> ZohoCredentials:
    return ZohoCredentials(
        client_id="1000.C", client_secret="s3cret-value", refresh_token="1000.r.t", **fields
    )


@pytest.mark.parametrize(
    ("region", "expected"),
    [
        ("us", "https://crm.zoho.com"),
        ("eu", "https://crm.zoho.eu"),
        ("in", "https://crm.zoho.in"),
        ("au", "https://crm.zoho.com.au"),
        ("jp", "https://crm.zoho.jp"),
        ("cn", "https://crm.zoho.com.cn"),
        ("ca", "https://crm.zohocloud.ca"),
        ("sa", "https://crm.zoho.sa"),
    ],
)
def test_each_data_centre_s_web_ui(region, expected):
    assert web_base(creds(accounts_url=REGIONS[region][0])) == expected


def test_every_region_is_covered():
    assert all(web_base(creds(accounts_url=accounts)) for accounts, _ in REGIONS.values())


def test_a_vertical_solutions_org_is_linked_on_its_own_domain():
    portal = creds(
        mint_url="https://zylkercorp.zohoplatform.com/clientoauth/v2/12345678/token",
        api_domain="https://zylkercorp.zohoplatform.com",
    )
    assert web_base(portal) == "https://zylkercorp.zohoplatform.com"


def test_the_emulator_is_linked_as_itself_and_an_unknown_server_not_at_all():
    assert web_base(creds(accounts_url="http://127.0.0.1:8765")) == "http://127.0.0.1:8765"
    assert web_base(creds(accounts_url="https://login.example.com")) is None


def test_record_pages_use_the_web_ui_s_tab_names():
    base = "https://crm.zoho.eu"
    assert records_url(base, "Campaigns", "3652397000000327001") == (
        "https://crm.zoho.eu/crm/tab/Campaigns/3652397000000327001"
    )
    assert records_url(base, "Deals", "1") == "https://crm.zoho.eu/crm/tab/Potentials/1"
    assert records_url(base, "Price_Books") == "https://crm.zoho.eu/crm/tab/PriceBooks"
    assert records_url(base, "Leads", "a/b?c") == "https://crm.zoho.eu/crm/tab/Leads/a%2Fb%3Fc"
