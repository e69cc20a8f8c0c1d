"""Accounts server contract: token grants, HTTP-200 errors, mint throttle, live-token cap,
expiry, revocation (research sections 1.2-1.4)."""

from __future__ import annotations

import base64
import re

import pytest
import requests

from airflow_provider_zohorel.emulator.admin_client import secret_label

TOKEN_SHAPE = re.compile(r"^1000\.[0-9a-f]{32}\.[0-9a-f]{32}$")
THROTTLE_CONTINUOUS = "You have made too many requests continuously. Please try again after some time."
THROTTLE_REUSE = "Token creation throttle limit reached. Please reuse the valid tokens you currently have."


def test_refresh_grant_answers_zoho_shape(emu, creds, oauth):
    body = oauth.refresh(creds)
    assert set(body) == {"access_token", "api_domain", "token_type", "expires_in"}
    assert TOKEN_SHAPE.match(body["access_token"])
    assert body["api_domain"] == emu.base_url
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 3600


def test_legacy_expiry_shape_and_ttl_are_configurable(emu, creds, oauth):
    emu.admin.patch_config(legacy_expiry_shape=True, token_ttl_s=120)
    body = oauth.refresh(creds)
    assert body["expires_in_sec"] == 120
    assert body["expires_in"] == 120_000


def test_public_url_replaces_api_domain(emu, creds, oauth):
    emu.admin.patch_config(public_url="https://crm.example.test")
    assert oauth.refresh(creds)["api_domain"] == "https://crm.example.test"


def test_parameters_in_query_string_and_basic_auth(emu, creds):
    by_query = requests.post(
        f"{emu.base_url}/oauth/v2/token",
        params={
            "grant_type": "refresh_token",
            "client_id": creds.client_id,
            "client_secret": creds.client_secret,
            "refresh_token": creds.refresh_token,
        },
        timeout=10,
    )
    assert "access_token" in by_query.json()
    basic = base64.b64encode(f"{creds.client_id}:{creds.client_secret}".encode()).decode()
    by_basic = requests.post(
        f"{emu.base_url}/oauth/v2/token",
        data={"grant_type": "refresh_token", "refresh_token": creds.refresh_token},
        headers={"Authorization": f"Basic {basic}"},
        timeout=10,
    )
    assert "access_token" in by_basic.json()
    multipart = requests.post(
        f"{emu.base_url}/oauth/v2/token",
        files={
            "grant_type": (None, "refresh_token"),
            "client_id": (None, creds.client_id),
            "client_secret": (None, creds.client_secret),
            "refresh_token": (None, creds.refresh_token),
        },
        timeout=10,
    )
    assert "access_token" in multipart.json()


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({"client_id": "1000.NOSUCHCLIENT"}, "invalid_client"),
        ({"client_secret": "wrong"}, "invalid_client_secret"),
        ({"refresh_token": "1000.unknown.token"}, "invalid_code"),
        ({"grant_type": "password"}, "unsupported_grant_type"),
    ],
)
def test_token_errors_are_http_200(creds, oauth, change, error):
    params = {
        "grant_type": "refresh_token",
        "client_id": creds.client_id,
        "client_secret": creds.client_secret,
        "refresh_token": creds.refresh_token,
        **change,
    }
    assert oauth.token(**params) == {"error": error}


def test_refresh_token_of_another_client_is_invalid_code(emu, creds, oauth):
    other = emu.admin.create_credentials()
    body = oauth.token(
        grant_type="refresh_token",
        client_id=creds.client_id,
        client_secret=creds.client_secret,
        refresh_token=other.refresh_token,
    )
    assert body == {"error": "invalid_code"}


def test_authorization_code_is_single_use_and_returns_a_refresh_token(emu, creds, oauth, session):
    code = emu.admin.add_grant_code(creds.client_id)
    params = {
        "grant_type": "authorization_code",
        "client_id": creds.client_id,
        "client_secret": creds.client_secret,
        "redirect_uri": "http://localhost/cb",
        "code": code,
    }
    first = oauth.token(**params)
    assert TOKEN_SHAPE.match(first["access_token"])
    assert TOKEN_SHAPE.match(first["refresh_token"])
    assert oauth.token(**params) == {"error": "invalid_code"}
    again = oauth.token(
        grant_type="refresh_token",
        client_id=creds.client_id,
        client_secret=creds.client_secret,
        refresh_token=first["refresh_token"],
    )
    assert "access_token" in again


def test_client_credentials_needs_soid(emu, creds, oauth):
    base = {
        "grant_type": "client_credentials",
        "client_id": creds.client_id,
        "client_secret": creds.client_secret,
        "scope": "ZohoCRM.modules.ALL,ZohoCRM.org.READ",
    }
    assert oauth.token(**base) == {"error": "missing_org_info"}
    org_id = emu.admin.get_config()["org_id"]
    body = oauth.token(**base, soid=f"ZohoCRM.{org_id}")
    assert body["scope"] == "ZohoCRM.modules.ALL ZohoCRM.org.READ"
    assert "refresh_token" not in body


def test_eleventh_mint_in_window_is_access_denied(emu, creds, oauth):
    for _ in range(10):
        assert "access_token" in oauth.refresh(creds)
    assert oauth.refresh(creds) == {
        "error_description": THROTTLE_CONTINUOUS,
        "error": "Access Denied",
        "status": "failure",
    }
    counters = emu.admin.counters()
    assert counters["tokens_minted_by_refresh_token"][secret_label(creds.refresh_token)] == 10
    assert counters["token_mints_denied"] == 1
    # The window rolls: ten minutes later minting works again.
    emu.admin.advance_clock(601)
    assert "access_token" in oauth.refresh(creds)


def test_throttle_wording_and_limits_are_configurable(emu, creds, oauth):
    emu.admin.patch_config(mint_limit=2, throttle_wording="reuse")
    oauth.refresh(creds)
    oauth.refresh(creds)
    assert oauth.refresh(creds) == {"error_description": THROTTLE_REUSE, "error": "Access Denied"}


def test_sixteenth_token_evicts_the_oldest(emu, creds, oauth, crm, world):
    emu.admin.patch_config(mint_limit=None)
    tokens = [oauth.refresh(creds)["access_token"] for _ in range(16)]
    path = f"Leads/{world.leads[0]}/Campaigns"
    body = {"data": [{"id": world.campaigns[0]}]}
    evicted = crm.put(path, body, token=tokens[0])
    # "When the 16th token is requested, the oldest token is invalidated. When an invalid access
    # token is used, INVALID_OAUTHTOKEN exception will be thrown" (v8 token-validity page).
    assert evicted.status_code == 401
    assert evicted.json() == {
        "code": "INVALID_OAUTHTOKEN",
        "details": {},
        "message": "invalid oauth token",
        "status": "error",
    }
    for token in tokens[1:]:
        assert crm.put(path, body, token=token).status_code == 200
    assert emu.admin.counters()["live_tokens_by_refresh_token"][secret_label(creds.refresh_token)] == 15


def test_token_expires_after_ttl(emu, crm, world):
    path = f"Leads/{world.leads[0]}/Campaigns"
    body = {"data": [{"id": world.campaigns[0]}]}
    assert crm.put(path, body).status_code == 200
    emu.admin.advance_clock(3601)
    response = crm.put(path, body)
    assert response.status_code == 401
    assert response.json()["code"] == "INVALID_TOKEN"


def test_revocation_endpoint_kills_refresh_and_access_tokens(emu, creds, crm, oauth, world):
    response = requests.post(
        f"{emu.base_url}/oauth/v2/token/revoke", params={"token": creds.refresh_token}, timeout=10
    )
    assert response.status_code == 200
    assert response.json() == {"status": "success"}
    put = crm.put(f"Leads/{world.leads[0]}/Campaigns", {"data": [{"id": world.campaigns[0]}]})
    assert put.status_code == 401
    assert put.json()["code"] == "INVALID_TOKEN"
    assert oauth.refresh(creds) == {"error": "invalid_code"}


def test_token_endpoint_is_post_only(emu):
    assert requests.get(f"{emu.base_url}/oauth/v2/token", timeout=10).status_code == 405


def test_twenty_first_refresh_token_deletes_the_first(emu, creds, oauth):
    first_access = oauth.refresh(creds)["access_token"]
    for _ in range(20):
        emu.admin.add_refresh_token(creds.client_id)
    assert oauth.refresh(creds) == {"error": "invalid_code"}
    response = requests.get(
        f"{emu.base_url}/crm/v2/org", headers={"Authorization": f"Zoho-oauthtoken {first_access}"}, timeout=10
    )
    assert response.status_code == 401


def test_client_credentials_token_works_on_the_crm(emu, creds, oauth):
    org_id = emu.admin.get_config()["org_id"]
    body = oauth.token(
        grant_type="client_credentials",
        client_id=creds.client_id,
        client_secret=creds.client_secret,
        scope="ZohoCRM.org.READ",
        soid=f"ZohoCRM.{org_id}",
    )
    headers = {"Authorization": f"Zoho-oauthtoken {body['access_token']}"}
    assert (
        requests.get(f"{emu.base_url}/crm/v8/org", headers=headers, timeout=10).json()["org"][0]["id"]
        == org_id
    )
    users = requests.get(f"{emu.base_url}/crm/v8/users?type=CurrentUser", headers=headers, timeout=10)
    assert users.json()["code"] == "OAUTH_SCOPE_MISMATCH"


def test_vertical_solutions_portal_token_path(emu, creds):
    """``{Accounts_URL}/clientoauth/v2/{PORTAL_ID}/token`` mints as Zoho Accounts does (VS v6
    access-refresh docs); the counters name the portal, so a client test can check the path."""
    response = requests.post(
        f"{emu.base_url}/clientoauth/v2/zylkerportal/token",
        data={
            "grant_type": "refresh_token",
            "client_id": creds.client_id,
            "client_secret": creds.client_secret,
            "refresh_token": creds.refresh_token,
        },
        timeout=10,
    )
    assert response.status_code == 200
    assert TOKEN_SHAPE.match(response.json()["access_token"])
    assert emu.admin.counters()["requests"]["oauth.portal_token.zylkerportal"] == {"200": 1}
    assert requests.post(f"{emu.base_url}/clientoauth/v2/token", timeout=10).status_code == 404
