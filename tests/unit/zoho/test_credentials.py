"""Connection fields: every missing or malformed one gets one clear error that names it."""

from __future__ import annotations

import pytest

from airflow_provider_zohorel.zoho.credentials import ZohoCredentials
from airflow_provider_zohorel.zoho.errors import ConnectionConfigError
from airflow_provider_zohorel.zoho.regions import REGIONS


def build(**extra):
    base = {"refresh_token": "1000.r"}
    base.update(extra)
    login = base.pop("login", "1000.C")
    password = base.pop("password", "s3cret")
    return ZohoCredentials.from_fields(client_id=login, client_secret=password, extra=base)


@pytest.mark.parametrize("region", list(REGIONS))
def test_each_region_maps_to_its_accounts_server(region):
    assert build(region=region).accounts_url == REGIONS[region][0]


def test_defaults_are_us_and_v2():
    creds = build()
    assert (creds.accounts_url, creds.api_domain, creds.api_version) == (
        "https://accounts.zoho.com",
        None,
        "v2",
    )


def test_accounts_url_overrides_region_and_api_domain_is_kept():
    creds = build(
        region="eu", accounts_url="https://accounts.zoho.in/", api_domain="https://acme.zohoplatform.com"
    )
    assert creds.accounts_url == "https://accounts.zoho.in"
    assert creds.api_domain == "https://acme.zohoplatform.com"


@pytest.mark.parametrize(
    ("fields", "needle"),
    [
        ({"login": ""}, "login (Client ID)"),
        ({"password": None}, "password (Client Secret)"),
        ({"refresh_token": ""}, "extra 'refresh_token'"),
        ({"region": "mars"}, "'region' is 'mars'"),
        ({"api_version": "v9"}, "'api_version' is 'v9'"),
        ({"accounts_url": "http://accounts.zoho.com"}, "http:// for the non-loopback host"),
        ({"api_domain": "ftp://x"}, "'api_domain' is 'ftp://x'"),
        ({"api_domain": "https://user:pw@x.com"}, "without credentials"),
        ({"refresh_token": 12345}, "must be a string"),
    ],
)
def test_bad_fields_are_named(fields, needle):
    with pytest.raises(ConnectionConfigError) as err:
        build(**fields)
    assert needle in str(err.value)
    assert "s3cret" not in str(err.value)


@pytest.mark.parametrize("url", ["http://127.0.0.1:8765", "http://localhost:1", "http://[::1]:9"])
def test_http_is_allowed_for_loopback_only(url):
    assert build(accounts_url=url).accounts_url == url


def test_all_versions_accepted():
    for version in ("v2", "v2.1", "v3", "v4", "v5", "v6", "v7", "v8", "V8"):
        assert build(api_version=version).api_version == version.lower()


@pytest.mark.parametrize(
    ("url", "hint"),
    [
        ("https://accounts.zoho.eu/oauth/v2/token", "remove '/oauth/v2/token'"),
        ("https://accounts.zoho.eu/oauth/v2", "remove '/oauth/v2'"),
        ("https://accounts.zoho.eu/some/prefix", "the server alone"),
    ],
)
def test_an_accounts_url_with_a_path_is_refused_with_a_hint(url, hint):
    """Pasted with the token path, the client used to call .../oauth/v2/token/oauth/v2/token."""
    with pytest.raises(ConnectionConfigError, match="accounts_url") as err:
        build(accounts_url=url)
    assert hint in str(err.value)
    assert "mint_url" in str(err.value)


def test_a_trailing_slash_is_not_a_path():
    assert build(accounts_url="https://accounts.zoho.eu/").accounts_url == "https://accounts.zoho.eu"


@pytest.mark.parametrize("name", ["mint_url", "token_url"])
def test_mint_url_sets_the_token_endpoint(name):
    portal = "https://zylkercorp.zohoplatform.com/clientoauth/v2/12345678/token"
    creds = build(**{name: portal})
    assert creds.token_endpoint == portal
    assert creds.cache_key != build().cache_key  # another endpoint mints other tokens


def test_the_token_endpoint_defaults_to_the_accounts_token_path():
    assert build(region="eu").token_endpoint == "https://accounts.zoho.eu/oauth/v2/token"


@pytest.mark.parametrize(
    ("url", "needle"),
    [
        ("http://zylkercorp.zohoplatform.com/clientoauth/v2/1/token", "http://"),
        ("https://zylkercorp.zohoplatform.com", "full token URL"),
        ("https://zylkercorp.zohoplatform.com/clientoauth/v2/1/token?x=1", "bare base URL"),
        ("https://user:pw@zylkercorp.zohoplatform.com/t", "without credentials"),
    ],
)
def test_a_bad_mint_url_is_refused(url, needle):
    with pytest.raises(ConnectionConfigError, match="mint_url") as err:
        build(mint_url=url)
    assert needle in str(err.value)
