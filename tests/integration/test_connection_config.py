"""Connection handling through ZohoCRMHook with env-var connections, as users define them.

Regions, field validation and the legacy ``extra__zoho_crm__`` names are checked through the hook
(the unit tests check ZohoCredentials alone); ``api_domain`` is proven against the emulator by
making its token response name a host where nothing listens.
"""

from __future__ import annotations

import json

import pytest

from airflow_provider_zohorel.emulator import DEMO_CLIENT_SECRET, DEMO_REFRESH_TOKEN
from airflow_provider_zohorel.zoho.errors import ConnectionConfigError
from airflow_provider_zohorel.zoho.token_cache import MemoryTokenCache
from tests.integration.zoho_integration import (
    CAMPAIGNS,
    LEADS,
    make_hook,
    token_requests,
    total_crm_requests,
)

pytestmark = pytest.mark.integration

#: research/zoho-api.md 1.1, written out again here so a typo in regions.py cannot pass.
EXPECTED_ACCOUNTS = {
    "us": "https://accounts.zoho.com",
    "eu": "https://accounts.zoho.eu",
    "in": "https://accounts.zoho.in",
    "au": "https://accounts.zoho.com.au",
    "jp": "https://accounts.zoho.jp",
    "cn": "https://accounts.zoho.com.cn",
    "ca": "https://accounts.zohocloud.ca",
    "sa": "https://accounts.zoho.sa",
}

#: Nothing listens here (loopback, so the http:// rule allows it; port 9 is "discard", closed).
DEAD_HOST = "http://127.0.0.2:9"


@pytest.mark.parametrize(("region", "accounts"), sorted(EXPECTED_ACCOUNTS.items()))
def test_every_region_maps_to_its_accounts_url(set_conn, region, accounts):
    set_conn("zoho_region", None, region=region.upper())  # region names are case-insensitive
    hook = make_hook("zoho_region")
    assert hook.credentials.accounts_url == accounts
    assert hook.client.minter.token_url == f"{accounts}/oauth/v2/token"


def test_region_defaults_to_us_and_accounts_url_overrides_region(set_conn):
    set_conn("zoho_plain", None)
    assert make_hook("zoho_plain").credentials.accounts_url == "https://accounts.zoho.com"
    set_conn("zoho_both", "https://accounts.zoho.in/", region="eu")
    assert make_hook("zoho_both").credentials.accounts_url == "https://accounts.zoho.in"


@pytest.mark.parametrize(
    ("fields", "names"),
    [
        ({"refresh_token": None}, "extra 'refresh_token'"),
        ({"refresh_token": "   "}, "extra 'refresh_token'"),
        ({"password": None}, "password (Client Secret)"),
        ({"login": None}, "login (Client ID)"),
        ({"region": "mars", "accounts_url": None}, "'region' is 'mars'"),
        ({"accounts_url": "http://accounts.zoho.com"}, "'accounts_url' uses http://"),
        ({"api_domain": "http://crm.example.com"}, "'api_domain' uses http://"),
        ({"api_version": "v9"}, "'api_version' is 'v9'"),
        ({"api_version": "2"}, "'api_version' is '2'"),
    ],
)
def test_a_bad_field_gives_one_clear_error_naming_it(zoho_emulator, set_conn, fields, names):
    fields = dict(fields)
    base_url = fields.pop("accounts_url", zoho_emulator.base_url)
    set_conn("zoho_bad", base_url, **fields)
    hook = make_hook("zoho_bad")
    with pytest.raises(ConnectionConfigError) as err:
        hook.get_access_token()
    message = str(err.value)
    assert names in message
    assert "'zoho_bad'" in message  # which connection
    assert DEMO_CLIENT_SECRET not in message
    assert DEMO_REFRESH_TOKEN not in message
    ok, text = make_hook("zoho_bad").test_connection()
    # The test's message is the same without the id: the UI tests under a random temporary id.
    assert (ok, text) == (False, message.removeprefix("Connection 'zoho_bad': "))
    # Refused before any request: nothing reached accounts or CRM.
    assert token_requests(zoho_emulator) == 0
    assert total_crm_requests(zoho_emulator) == 0


def test_legacy_prefixed_extras_are_read(zoho_emulator_demo, monkeypatch):
    base = zoho_emulator_demo.base_url
    legacy = {
        "extra__zoho_crm__refresh_token": DEMO_REFRESH_TOKEN,
        "extra__zoho_crm__accounts_url": base,
        "extra__zoho_crm__api_version": "v2",
    }
    monkeypatch.setenv(
        "AIRFLOW_CONN_ZOHO_LEGACY",
        json.dumps(
            {
                "conn_type": "zoho_crm",
                "login": "1000.ZOHORELDEMOCLIENT000000000000",
                "password": DEMO_CLIENT_SECRET,
                "extra": legacy,
            }
        ),
    )
    hook = make_hook("zoho_legacy")
    assert (hook.credentials.accounts_url, hook.credentials.api_version) == (base, "v2")
    [result] = hook.update_related_records("Campaigns", CAMPAIGNS[0], "Leads", [{"id": LEADS[0]}])
    assert (result.code, result.action) == ("SUCCESS", "added")
    assert zoho_emulator_demo.admin.counters()["requests"]["crm.related_records.bulk"] == {"200": 1}


def test_configured_api_domain_overrides_the_token_response(zoho_emulator_demo, set_conn):
    admin = zoho_emulator_demo.admin
    admin.patch_config(public_url=DEAD_HOST)  # token responses now name a host nobody serves
    base = zoho_emulator_demo.base_url

    # Control: without api_domain the client follows the token response and cannot connect.
    # (Each hook has a private token cache here: the shared cache is the next test's subject.)
    set_conn("zoho_follow", base)
    follow = make_hook("zoho_follow", token_cache=MemoryTokenCache())
    assert follow.client.tokens.get().api_domain == DEAD_HOST
    [lost] = follow.update_related_records("Campaigns", CAMPAIGNS[0], "Leads", [{"id": LEADS[0]}])
    assert lost.code == "CONNECTION_ERROR"
    assert total_crm_requests(zoho_emulator_demo) == 0

    set_conn("zoho_custom", base, api_domain=base)
    custom = make_hook("zoho_custom", token_cache=MemoryTokenCache())
    [result] = custom.update_related_records("Campaigns", CAMPAIGNS[0], "Leads", [{"id": LEADS[0]}])
    assert result.code == "SUCCESS"
    assert custom.client.tokens.get().api_domain == base
    assert admin.counters()["requests"]["crm.related_records.bulk"] == {"200": 1}
    assert [r["id"] for r in admin.relations_of(CAMPAIGNS[0], "Leads")] == [LEADS[0]]


def test_configured_api_domain_wins_over_a_token_shared_through_the_cache(zoho_emulator_demo, set_conn):
    """A token cached by a connection without api_domain (e.g. before the user set it) carries the
    token response's domain; the configured api_domain must still decide where requests go."""
    admin = zoho_emulator_demo.admin
    admin.patch_config(public_url=DEAD_HOST)
    base = zoho_emulator_demo.base_url
    set_conn("zoho_before", base)
    make_hook("zoho_before").get_access_token()  # cached, api_domain = DEAD_HOST
    set_conn("zoho_after", base, api_domain=base)  # same client and refresh token: same cache entry
    hook = make_hook("zoho_after")
    [result] = hook.update_related_records("Campaigns", CAMPAIGNS[0], "Leads", [{"id": LEADS[1]}])
    assert result.code == "SUCCESS"
    assert admin.counters()["tokens_minted"] == 1  # the shared token was used, not re-minted
    assert hook.client.stats.network_errors == 0  # no attempt went to the token response's host


@pytest.mark.parametrize("name", ["mint_url", "token_url"])
def test_a_mint_url_from_the_connection_mints_there(zoho_emulator_demo, set_conn, name):
    """A Vertical Solutions portal mints at its own path; here the emulator's token path, given in
    full, with an accounts_url that nothing answers: every token must come from mint_url."""
    base = zoho_emulator_demo.base_url
    set_conn("zoho_portal", DEAD_HOST, **{name: f"{base}/oauth/v2/token"})
    hook = make_hook("zoho_portal", token_cache=MemoryTokenCache())
    assert hook.client.minter.token_url == f"{base}/oauth/v2/token"
    [result] = hook.update_related_records("Campaigns", CAMPAIGNS[0], "Leads", [{"id": LEADS[2]}])
    assert result.code == "SUCCESS"
    assert token_requests(zoho_emulator_demo) == 1
