"""401s a client meets in production, each with Zoho's code: evicted, revoked and expired
tokens, injected codes, and an org that answers only on its own API domain."""

from __future__ import annotations

import pytest
import requests


def _envelope(code, message):
    return {"code": code, "details": {}, "message": message, "status": "error"}


@pytest.fixture
def put(crm, world):
    """PUT one campaign to the first lead with a given token (the crm fixture's by default)."""
    path = f"Leads/{world.leads[0]}/Campaigns"
    body = {"data": [{"id": world.campaigns[0]}]}

    def call(token=None, **kwargs):
        return crm.put(path, body, token=token, version="v8", **kwargs)

    return call


def test_a_revoked_access_token_answers_invalid_oauthtoken_and_the_refresh_token_still_mints(
    emu, creds, oauth, put, crm
):
    assert put().status_code == 200
    assert emu.admin.revoke_access_token(crm.token) is True
    revoked = put()
    assert revoked.status_code == 401
    assert revoked.json() == _envelope("INVALID_OAUTHTOKEN", "invalid oauth token")
    fresh = oauth.refresh(creds)["access_token"]
    assert put(token=fresh).status_code == 200


def test_revoking_all_access_tokens_keeps_the_refresh_token(emu, creds, oauth, put):
    other = oauth.refresh(creds)["access_token"]
    assert emu.admin.revoke_access_tokens(creds.refresh_token) == 2
    assert put().json()["code"] == "INVALID_OAUTHTOKEN"
    assert put(token=other).json()["code"] == "INVALID_OAUTHTOKEN"
    assert put(token=oauth.refresh(creds)["access_token"]).status_code == 200


def test_tokens_of_a_revoked_refresh_token_answer_invalid_token(emu, creds, put):
    assert emu.admin.revoke_refresh_token(creds.refresh_token)
    response = put()
    assert response.status_code == 401
    assert response.json() == _envelope("INVALID_TOKEN", "invalid oauth token")


def test_every_nth_call_revokes_its_token(emu, creds, oauth, put):
    """``revoke_access_token_every``: the Nth authenticated call loses its token first, so it and
    every later call with that token answer INVALID_OAUTHTOKEN; a fresh token works again."""
    emu.admin.set_faults(revoke_access_token_every=3)
    assert [put().status_code for _ in range(2)] == [200, 200]
    assert put().json()["code"] == "INVALID_OAUTHTOKEN"
    assert put().json()["code"] == "INVALID_OAUTHTOKEN"
    token = oauth.refresh(creds)["access_token"]
    assert [put(token=token).status_code for _ in range(3)] == [200, 200, 401]  # calls 4, 5, 6
    assert emu.admin.counters()["faults_injected"]["revoke_access_token"] == 2


@pytest.mark.parametrize(
    ("code", "message"),
    [
        ("INVALID_TOKEN", "invalid oauth token"),
        ("INVALID_OAUTHTOKEN", "invalid oauth token"),
        ("AUTHENTICATION_FAILURE", "Authentication failed"),
        ("OAUTH_SCOPE_MISMATCH", "invalid oauth scope to access this URL"),
        ("SOME_FUTURE_TOKEN_CODE", "invalid oauth token"),
    ],
)
def test_injected_401_codes_then_the_token_works_again(emu, put, code, message):
    emu.admin.fail_auth(2, code)
    for _ in range(2):
        response = put()
        assert response.status_code == 401
        assert response.json() == _envelope(code, message)
    assert put().status_code == 200
    assert emu.admin.counters()["relations_added"] == 1


def test_injected_401_message_is_configurable(emu, put):
    emu.admin.fail_auth(1, "INVALID_OAUTHTOKEN", "Access token is invalid or expired")
    assert put().json()["message"] == "Access token is invalid or expired"


def test_org_on_its_own_api_domain_refuses_calls_to_another_host(emu, put, crm):
    """A Vertical Solutions org answers on its own domain; a token used at another domain's API
    is refused with INVALID_OAUTHTOKEN (Accounts FAQ on INVALID_OAUTHTOKEN, point 1)."""
    port = emu.port
    emu.admin.patch_config(org_api_domain=f"http://localhost:{port}")
    other_host = put()  # the crm fixture calls 127.0.0.1
    assert other_host.status_code == 401
    assert other_host.json()["code"] == "INVALID_OAUTHTOKEN"
    own = requests.put(
        f"http://localhost:{port}{other_host.request.path_url}",
        json={"data": [{"id": "1"}]},
        headers={"Authorization": f"Zoho-oauthtoken {crm.token}"},
        timeout=10,
    )
    assert own.status_code == 400  # past authentication: the item fails, the call does not
    assert own.json()["data"][0]["code"] == "INVALID_DATA"
