"""Every request-level error of the reference page, with Zoho's envelope and HTTP status."""

from __future__ import annotations

import pytest
import requests


def _envelope(code, message, details=None):
    return {"code": code, "details": details or {}, "message": message, "status": "error"}


def _put_campaign(crm, world, **kwargs):
    return crm.put(f"Leads/{world.leads[0]}/Campaigns", {"data": [{"id": world.campaigns[0]}]}, **kwargs)


@pytest.mark.parametrize(
    ("module", "message"),
    [
        ("Widgets", "The module name given seems to be invalid"),
        ("leads", "The module name given seems to be invalid"),
        ("Documents", "The given module is not supported in API"),
        ("Projects", "The given module is not supported in API"),
    ],
)
def test_invalid_module(crm, module, message):
    response = crm.put(f"{module}/3652397000000000099/Campaigns", {"data": [{"id": "1"}]})
    assert response.status_code == 400
    assert response.json() == _envelope("INVALID_MODULE", message, {"resource_path_index": 0})


@pytest.mark.parametrize(("method", "query"), [("GET", "?fields=id"), ("DELETE", "?ids=1")])
def test_a_module_not_in_the_api_is_not_supported_for_v8_reads_and_delinks(crm, method, query):
    """NOT_SUPPORTED for GET and DELETE in v8 (spec getRelatedRecords/response-400-notsupported and
    delinkRelatedRecords' NotSupported example); a PUT and older versions say INVALID_MODULE."""
    path = f"Documents/3652397000000000099/Campaigns{query}"
    response = crm.call(method, path, version="v8")
    assert response.status_code == 400
    assert response.json() == _envelope(
        "NOT_SUPPORTED", "The given module is not supported in API", {"resource_path_index": 0}
    )
    assert crm.call(method, path, version="v7").json()["code"] == "INVALID_MODULE"


def test_module_without_tab_permission_is_invalid_module(emu, creds, crm, world):
    emu.admin.set_permissions(creds.user_id, modules_denied=["Leads"])
    response = _put_campaign(crm, world)
    assert response.status_code == 400
    assert response.json()["code"] == "INVALID_MODULE"


def test_related_module_without_tab_permission_is_an_invalid_relation(emu, creds, crm, world):
    emu.admin.set_permissions(creds.user_id, modules_denied=["Campaigns"])
    response = _put_campaign(crm, world)
    assert response.status_code == 400
    assert response.json()["details"] == {"resource_path_index": 2}


@pytest.mark.parametrize(
    "path",
    [
        "/crm/v9/Leads/1/Campaigns",
        "/crm/v1/Leads/1/Campaigns",
        "/crm/v2/Leads/1",
        "/crm/v2/Leads/1/Campaigns/2/extra",
        "/crm/v2//1/Campaigns",
        "/crm/v2",
        "/nothing/here",
    ],
)
def test_invalid_url_pattern(crm, path):
    response = crm.session.put(f"{crm.base_url}{path}", json={"data": []}, timeout=10)
    assert response.status_code == 404
    assert response.json() == _envelope(
        "INVALID_URL_PATTERN", "Please check if the URL trying to access is a correct one"
    )


def test_scope_mismatch_on_another_modules_scope(emu, session, world):
    creds = emu.admin.create_credentials(scopes=["ZohoCRM.modules.campaigns.UPDATE"])
    token = emu.admin.access_token(creds)
    headers = {"Authorization": f"Zoho-oauthtoken {token}"}
    # The scope checked is the URL's parent module's.
    denied = session.put(
        f"{emu.base_url}/crm/v2/Leads/{world.leads[0]}/Campaigns",
        json={"data": [{"id": world.campaigns[0]}]},
        headers=headers,
        timeout=10,
    )
    assert denied.status_code == 401
    assert denied.json() == _envelope("OAUTH_SCOPE_MISMATCH", "invalid oauth scope to access this URL")
    allowed = session.put(
        f"{emu.base_url}/crm/v2/Campaigns/{world.campaigns[0]}/Leads",
        json={"data": [{"id": world.leads[0]}]},
        headers=headers,
        timeout=10,
    )
    assert allowed.status_code == 200
    for path in ("users?type=CurrentUser", "org"):
        response = session.get(f"{emu.base_url}/crm/v2/{path}", headers=headers, timeout=10)
        assert response.status_code == 401
        assert response.json()["code"] == "OAUTH_SCOPE_MISMATCH"


@pytest.mark.parametrize("operation", ["ALL", "WRITE", "UPDATE", "all"])
def test_module_scopes_that_allow_updates(emu, session, world, operation):
    creds = emu.admin.create_credentials(scopes=[f"ZohoCRM.modules.pricebooks.{operation}"])
    token = emu.admin.access_token(creds)
    response = session.put(
        f"{emu.base_url}/crm/v2/Price_Books/{world.price_books[0]}/Products",
        json={"data": [{"id": world.products[0], "list_price": 1}]},
        headers={"Authorization": f"Zoho-oauthtoken {token}"},
        timeout=10,
    )
    assert response.status_code == 200


@pytest.mark.parametrize("header", [None, "", "Zoho-oauthtoken", "Token abc", "Bearer x"])
def test_missing_or_garbled_authorization_is_authentication_failure(emu, world, header):
    headers = {} if header is None else {"Authorization": header}
    response = requests.put(
        f"{emu.base_url}/crm/v2/Leads/{world.leads[0]}/Campaigns",
        json={"data": [{"id": world.campaigns[0]}]},
        headers=headers,
        timeout=10,
    )
    assert response.status_code == 401
    assert response.json() == _envelope("AUTHENTICATION_FAILURE", "Authentication failed")


def test_unknown_token_is_invalid_token_or_configured_code(emu, crm, world):
    bad = "1000.00000000000000000000000000000000.00000000000000000000000000000000"
    response = _put_campaign(crm, world, token=bad)
    assert response.status_code == 401
    assert response.json() == _envelope("INVALID_TOKEN", "invalid oauth token")
    emu.admin.patch_config(bad_token_code="AUTHENTICATION_FAILURE")
    assert _put_campaign(crm, world, token=bad).json()["code"] == "AUTHENTICATION_FAILURE"


def test_bearer_is_accepted_only_when_configured(emu, crm, world):
    path = f"{crm.base_url}/crm/v2/Leads/{world.leads[0]}/Campaigns"
    body = {"data": [{"id": world.campaigns[0]}]}
    headers = {"Authorization": f"Bearer {crm.token}"}
    assert crm.session.put(path, json=body, headers=headers, timeout=10).status_code == 401
    emu.admin.patch_config(accept_bearer=True)
    assert crm.session.put(path, json=body, headers=headers, timeout=10).status_code == 200


def test_no_permission(emu, creds, crm, world):
    emu.admin.set_permissions(creds.user_id, update_related=False)
    response = _put_campaign(crm, world)
    assert response.status_code == 403
    assert response.json() == _envelope("NO_PERMISSION", "Permission denied to update records")


def test_authorization_failed_is_400(emu, creds, crm, world):
    emu.admin.set_permissions(creds.user_id, related_privilege=False)
    response = _put_campaign(crm, world)
    assert response.status_code == 400
    assert response.json() == _envelope(
        "AUTHORIZATION_FAILED", "User does not have sufficient privilege to update related records data"
    )


@pytest.mark.parametrize("method", ["POST", "PATCH"])
def test_invalid_request_method(crm, world, method):
    for path in (
        f"Leads/{world.leads[0]}/Campaigns",
        f"Leads/{world.leads[0]}/Campaigns/{world.campaigns[0]}",
    ):
        response = crm.call(method, path, {"data": [{"id": world.campaigns[0]}]})
        assert response.status_code == 400
        assert response.json() == _envelope(
            "INVALID_REQUEST_METHOD", "The http request method type is not a valid one"
        )
    assert crm.call("PUT", "org").json()["code"] == "INVALID_REQUEST_METHOD"


@pytest.mark.parametrize(
    ("module", "attr", "related_list"),
    [
        ("Deals", "deals", "Contacts"),
        ("Leads", "leads", "Accounts"),
        ("Leads", "leads", "Gadgets"),
        ("Notes", None, "Leads"),
    ],
)
def test_unsupported_relation_is_invalid_data(emu, crm, world, module, attr, related_list):
    record = getattr(world, attr)[0] if attr else emu.admin.add_notes("Leads", world.leads[0], count=1)[0]
    response = crm.put(f"{module}/{record}/{related_list}", {"data": [{"id": "1"}]})
    assert response.status_code == 400
    assert response.json() == _envelope(
        "INVALID_DATA", "the relation name given seems to be invalid", {"resource_path_index": 2}
    )


def test_unsupported_relation_code_is_configurable(emu, crm, world):
    emu.admin.patch_config(unsupported_relation_code="INVALID_MODULE")
    response = crm.put(f"Deals/{world.deals[0]}/Contacts", {"data": [{"id": world.contacts[0]}]})
    assert response.status_code == 400
    assert response.json()["code"] == "INVALID_MODULE"
    assert response.json()["details"] == {"resource_path_index": 2}


def test_unknown_parent_record(emu, crm, world):
    path = "Leads/3652397999999999999/Campaigns"
    body = {"data": [{"id": world.campaigns[0]}]}
    response = crm.put(path, body)
    assert response.status_code == 400
    assert response.json() == _envelope(
        "INVALID_DATA", "the id given seems to be invalid", {"resource_path_index": 1}
    )
    # A record of another module is not a Lead either.
    assert crm.put(f"Leads/{world.contacts[0]}/Campaigns", body).json()["details"] == {
        "resource_path_index": 1
    }
    emu.admin.patch_config(unknown_parent_status=404)
    not_found = crm.put(path, body)
    assert not_found.status_code == 404
    assert not_found.json() == _envelope("INVALID_DATA", "The record does not exist")


def test_internal_error_envelope(emu, crm, world):
    emu.admin.set_faults(error_500_next=1)
    response = _put_campaign(crm, world)
    assert response.status_code == 500
    assert response.json() == _envelope("INTERNAL_ERROR", "Internal Server Error")


def test_no_permission_in_v8_names_the_missing_permission(emu, creds, crm, world):
    """v8 spec 403 examples: ``details.permissions`` (Deals are "Potentials" there)."""
    emu.admin.set_permissions(creds.user_id, update_related=False)
    response = crm.put(
        f"Deals/{world.deals[0]}/Products", {"data": [{"id": world.products[0]}]}, version="v8"
    )
    assert response.status_code == 403
    assert response.json() == _envelope(
        "NO_PERMISSION",
        "Permission denied to read related records",
        {"permissions": ["Crm_Implied_View_Potentials"]},
    )


@pytest.mark.parametrize(
    ("permission", "method", "suffix", "code", "message"),
    [
        ("read_related", "GET", "?fields=id", "NO_PERMISSION", "Permission denied to read related records"),
        ("delink_related", "DELETE", "?ids=1", "NO_PERMISSION", "Permission denied to delete records"),
    ],
)
def test_read_and_delink_permissions(emu, creds, crm, world, permission, method, suffix, code, message):
    emu.admin.set_permissions(creds.user_id, **{permission: False})
    response = crm.call(method, f"Leads/{world.leads[0]}/Campaigns{suffix}", version="v7")
    assert response.status_code == 403
    assert response.json() == _envelope(code, message)


def test_authorization_failed_wording_follows_the_operation(emu, creds, crm, world):
    emu.admin.set_permissions(creds.user_id, related_privilege=False)
    response = crm.call("DELETE", f"Leads/{world.leads[0]}/Campaigns?ids=1", version="v8")
    assert response.json() == _envelope(
        "AUTHORIZATION_FAILED", "User does not have sufficient privilege to delete related records data"
    )


def test_module_names_are_case_sensitive_unless_configured(emu, crm, world):
    """Zoho's docs give module API names with exact case and never say otherwise."""
    path = f"leads/{world.leads[0]}/campaigns"
    assert crm.put(path, {"data": [{"id": world.campaigns[0]}]}).json()["code"] == "INVALID_MODULE"
    emu.admin.patch_config(case_insensitive_modules=True)
    assert crm.put(path, {"data": [{"id": world.campaigns[0]}]}).status_code == 200


def test_v8_request_level_wording_follows_the_spec_examples(emu, crm, world):
    unknown_parent = crm.put("Leads/3652397999999999999/Campaigns", {"data": [{"id": "1"}]}, version="v8")
    assert unknown_parent.json() == _envelope(
        "INVALID_DATA", "the related id given seems to be invalid", {"resource_path_index": 1}
    )
    emu.admin.set_faults(error_500_next=1)
    assert _put_campaign(crm, world, version="v8").json() == _envelope(
        "INTERNAL_ERROR", "Unexpected and unhandled exception in Server"
    )
