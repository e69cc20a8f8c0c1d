"""Related lists have API names of their own: the metadata endpoints, custom, linking-module and
renamed lists, deal contact roles in both directions, and notes on every record module."""

from __future__ import annotations

import pytest


def _ok(related_id, message="relation added"):
    return {"code": "SUCCESS", "details": {"id": related_id}, "message": message, "status": "success"}


def _lists(crm, module, version="v8"):
    response = crm.call("GET", f"settings/related_lists?module={module}", version=version)
    assert response.status_code == 200, response.text
    return {rl["api_name"]: rl for rl in response.json()["related_lists"]}


def test_related_lists_metadata_in_the_v8_shape(crm):
    lists = _lists(crm, "Deals")
    assert {"Products", "Contact_Roles", "Notes"} <= set(lists)
    assert "Contacts" not in lists  # contact roles, not a Contacts list (research 2.2)
    roles = lists["Contact_Roles"]
    required = {
        "id", "sequence_number", "display_label", "api_name", "name", "action", "href", "type",
        "customize_sort", "customize_fields", "customize_display_label", "status",
    }  # fmt: skip
    assert required <= set(roles)  # v8.0/related_lists.json RelatedList "required"
    assert roles["module"]["api_name"] == "Contacts"
    assert roles["module"]["id"].isdigit()
    assert roles["href"] == "Deals/{ENTITYID}/Contact_Roles"
    assert (roles["type"], roles["status"]) == ("default", "visible")
    assert roles["id"].isdigit()
    assert roles["sequence_number"].isdigit()


def test_related_lists_metadata_before_v3_names_the_module_as_a_string(crm):
    lists = _lists(crm, "Leads", version="v2.1")
    assert lists["Campaigns"]["module"] == "Campaigns"
    assert "status" not in lists["Campaigns"]


def test_related_lists_errors_and_scope(emu, crm):
    missing = crm.call("GET", "settings/related_lists", version="v8")
    assert missing.status_code == 400
    assert missing.json() == {
        "code": "REQUIRED_PARAM_MISSING",
        "details": {"param": "module"},
        "message": "One of the expected parameter is missing",
        "status": "error",
    }
    unknown = crm.call("GET", "settings/related_lists?module=Widgets", version="v8")
    assert (unknown.status_code, unknown.json()["code"]) == (400, "INVALID_MODULE")
    assert crm.call("GET", "settings/related_lists?module=Leads&status=user_hidden").status_code == 204
    narrow = emu.admin.create_credentials(scopes=["ZohoCRM.modules.ALL"])
    token = emu.admin.access_token(narrow)
    denied = crm.call("GET", "settings/related_lists?module=Leads", token=token)
    assert (denied.status_code, denied.json()["code"]) == (401, "OAUTH_SCOPE_MISMATCH")


def test_fields_metadata_lists_api_names_types_and_external_fields(emu, crm):
    emu.admin.add_records("Leads", count=2, external={"field": "External_Lead_ID", "prefix": "ext"})
    response = crm.call("GET", "settings/fields?module=Leads", version="v8")
    assert response.status_code == 200
    fields = {f["api_name"]: f for f in response.json()["fields"]}
    assert fields["Last_Name"]["system_mandatory"] is True
    assert fields["Last_Name"]["data_type"] == "text"
    assert fields["External_Lead_ID"]["external"] == {
        "show": True,
        "type": "org",
        "allow_multiple_config": False,
    }
    assert fields["Modified_Time"]["data_type"] == "datetime"
    # length is an int32 of every field (v8.0/fields.json); the Fields Meta Data docs' sample
    # gives Modified_Time 120 and ordinary fields "external": null.
    assert (fields["Modified_Time"]["length"], fields["Last_Name"]["external"]) == (120, None)
    assert crm.call("GET", "settings/fields?module=Gadgets").json()["code"] == "INVALID_MODULE"
    missing = crm.call("GET", "settings/fields", version="v8")
    assert (missing.status_code, missing.json()["details"]) == (400, {"param_name": "module"})


def test_contact_roles_from_the_contact_side(emu, crm, world):
    """PUT /Contacts/{id}/Deals with Contact_Role as a role id answers "relation added" (v8
    update-related-records-ext sample); the deal's Contact_Roles list then shows the role."""
    roles = crm.call("GET", "Contacts/roles", version="v8").json()["contact_roles"]
    role = roles[0]
    contact, deal = world.contacts[0], world.deals[0]
    response = crm.put(
        f"Contacts/{contact}/Deals", {"data": [{"id": deal, "Contact_Role": role["id"]}]}, version="v8"
    )
    assert response.status_code == 200
    assert response.json() == {"data": [_ok(deal)]}
    read = crm.call("GET", f"Deals/{deal}/Contact_Roles?fields=Contact_Role", version="v8")
    assert read.json()["data"] == [{"id": contact, "Contact_Role": {"id": role["id"], "name": role["name"]}}]


def test_contact_roles_in_bulk_from_the_deal_side(emu, crm, world):
    """PUT /Deals/{id}/Contact_Roles with up to 100 {id, Contact_Role} answers "relation added"
    or "relation updated" per contact; Contact_Role is required (v8.0/deal_contact_roles.json)."""
    role_id = emu.admin.add_contact_role("Purchasing")
    deal = world.deals[0]
    c1, c2, c3 = world.contacts
    crm.put(f"Contacts/{c1}/Deals", {"data": [{"id": deal}]}, version="v8")
    body = {
        "data": [
            {"id": c1, "Contact_Role": {"id": role_id, "name": "Purchasing"}},
            {"id": c2, "Contact_Role": {"id": role_id}},
            {"id": c3},
            {"id": world.leads[0], "Contact_Role": {"id": role_id}},
            {"id": c3, "Contact_Role": "999"},
        ]
    }
    response = crm.put(f"Deals/{deal}/Contact_Roles", body, version="v8")
    assert response.status_code == 207
    first, second, third, fourth, fifth = response.json()["data"]
    assert first == _ok(c1, "relation updated")
    assert second == _ok(c2)
    assert third == {
        "code": "MANDATORY_NOT_FOUND",
        "details": {"api_name": "Contact_Role", "json_path": "$.data[2].Contact_Role"},
        "message": "required field not found",
        "status": "error",
    }
    assert fourth["details"] == {"api_name": "id", "json_path": "$.data[3].id"}
    assert fifth["details"]["api_name"] == "Contact_Role"
    stored = {r["id"]: r["fields"] for r in emu.admin.relations_of(deal)}
    assert stored[c1] == {"Contact_Role": {"id": role_id, "name": "Purchasing"}}


def test_bulk_contact_roles_are_limited_to_100(emu, crm, world):
    contacts = emu.admin.add_records("Contacts", count=101)
    body = {"data": [{"id": c, "Contact_Role": "1"} for c in contacts]}
    response = crm.put(f"Deals/{world.deals[0]}/Contact_Roles", body, version="v8")
    assert (response.status_code, response.json()["code"]) == (400, "LIMIT_EXCEEDED")


def test_custom_linking_module_list_works_both_ways_and_appears_in_metadata(emu, crm, world):
    """The seed's Deluge sample names a list "Related_List_Name_2": any list the module's
    metadata names can be related, read and delinked."""
    emu.admin.add_related_list(
        "Leads",
        "Related_List_Name_2",
        "Contacts",
        linking_module="Leads_X_Contacts",
        reverse_api_name="Leads_Linked",
        fields={"Role__c": "text"},
    )
    lead, contact = world.leads[0], world.contacts[0]
    response = crm.put(
        f"Leads/{lead}/Related_List_Name_2", {"data": [{"id": contact, "Role__c": "Champion"}]}, version="v8"
    )
    assert response.json() == {"data": [_ok(contact)]}
    back = crm.put(f"Contacts/{contact}/Leads_Linked", {"data": [{"id": lead}]}, version="v8")
    assert back.json()["data"][0]["message"] == "relation updated"
    metadata = _lists(crm, "Leads")["Related_List_Name_2"]
    assert (metadata["type"], metadata["linkingmodule"], metadata["connectedmodule"]) == (
        "multiselectlookup",
        "Leads_X_Contacts",
        "Contacts",
    )
    read = crm.call("GET", f"Contacts/{contact}/Leads_Linked?fields=Role__c", version="v8")
    assert read.json()["data"] == [{"id": lead, "Role__c": "Champion"}]
    gone = crm.call("DELETE", f"Leads/{lead}/Related_List_Name_2?ids={contact}", version="v8")
    assert gone.json()["data"][0]["message"] == "relation removed"


def test_renamed_list_shares_the_links_of_the_default_one(emu, crm, world):
    emu.admin.add_related_list(
        "Leads",
        "Marketing_Campaigns",
        "Campaigns",
        relation="Campaigns-Leads",
        fields={"Member_Status": "text"},
    )
    lead, campaign = world.leads[0], world.campaigns[0]
    crm.put(f"Leads/{lead}/Marketing_Campaigns", {"data": [{"id": campaign, "Member_Status": "Sent"}]})
    again = crm.put(f"Leads/{lead}/Campaigns", {"data": [{"id": campaign}]})
    assert again.json()["data"][0]["message"] == "relation updated"


def test_custom_lists_are_seedable(emu):
    seed = {
        "records": [{"module": "Accounts", "ids": ["100"]}, {"module": "Vendors", "ids": ["200"]}],
        "related_lists": [{"module": "Accounts", "api_name": "Suppliers", "related_module": "Vendors"}],
        "relations": [{"module": "Accounts", "id": "100", "related_list": "Suppliers", "related_id": "200"}],
    }
    emu.admin.load_seed(seed)
    assert emu.admin.relations_of("100")[0]["id"] == "200"


def test_unknown_list_is_the_invalid_relation_name(crm, world):
    response = crm.put(f"Leads/{world.leads[0]}/Related_List_Name_9", {"data": [{"id": "1"}]}, version="v8")
    assert response.status_code == 400
    assert response.json()["details"] == {"resource_path_index": 2}


@pytest.mark.parametrize(
    ("module", "attr"), [("Deals", "deals"), ("Accounts", "accounts"), ("Services__s", "services")]
)
def test_notes_update_on_every_record_module(emu, crm, world, module, attr):
    parent = getattr(world, attr)[0]
    note = emu.admin.add_notes(module, parent, count=1)[0]
    body = {"data": [{"id": note, "Note_Title": "t", "$se_module": module}]}
    response = crm.put(f"{module}/{parent}/Notes", body, version="v8")
    assert response.status_code == 200, response.text
    assert response.json()["data"][0]["message"] == "record updated"


def test_notes_need_the_notes_scope(emu, world, session):
    """``ZohoCRM.modules.notes.*`` (v8 notes docs); the parent module's own scope is not enough."""
    note = emu.admin.add_notes("Leads", world.leads[0], count=1)[0]
    body = {"data": [{"id": note, "Note_Title": "x"}]}
    url = f"{emu.base_url}/crm/v8/Leads/{world.leads[0]}/Notes"
    for scope, status in (("ZohoCRM.modules.leads.ALL", 401), ("ZohoCRM.modules.notes.UPDATE", 200)):
        token = emu.admin.access_token(emu.admin.create_credentials(scopes=[scope]))
        response = session.put(
            url, json=body, headers={"Authorization": f"Zoho-oauthtoken {token}"}, timeout=10
        )
        assert response.status_code == status, (scope, response.text)
