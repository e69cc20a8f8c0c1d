"""External ids: ``X-EXTERNAL: {Module}.{field}`` puts external values where record ids go
(v8 update-related-records-ext.html; spec related_records.json external-id paths)."""

from __future__ import annotations

import pytest


@pytest.fixture
def ext(emu, world):
    """Contacts and deals with external ids (extcontact1.., extdeal1..)."""
    contacts = emu.admin.add_records(
        "Contacts", count=2, external={"field": "External_Contact_ID", "prefix": "extcontact"}
    )
    deals = emu.admin.add_records(
        "Deals", count=3, external={"field": "External_Deal_ID", "prefix": "extdeal"}
    )
    return contacts, deals


BOTH = {"X-EXTERNAL": "Contacts.External_Contact_ID,Deals.External_Deal_ID"}


def test_both_sides_external_as_the_docs_sample(emu, crm, ext):
    contacts, deals = ext
    role = crm.call("GET", "Contacts/roles", version="v8").json()["contact_roles"][0]["id"]
    body = {"data": [{"External_Deal_ID": "extdeal3", "Contact_Role": role}]}
    response = crm.put("Contacts/extcontact1/Deals", body, version="v8", headers=BOTH)
    assert response.status_code == 200
    assert response.json() == {
        "data": [
            {
                "code": "SUCCESS",
                "details": {"id": deals[2], "External_Deal_ID": "extdeal3"},
                "message": "relation added",
                "status": "success",
            }
        ]
    }
    assert emu.admin.relations_of(contacts[0])[0]["id"] == deals[2]


def test_parent_external_related_by_record_id(emu, crm, ext):
    _contacts, deals = ext
    headers = {"X-EXTERNAL": "Contacts.External_Contact_ID"}
    response = crm.put(
        "Contacts/extcontact2/Deals", {"data": [{"id": deals[0]}]}, version="v8", headers=headers
    )
    assert response.json()["data"][0]["details"] == {"id": deals[0]}
    unknown = crm.put("Contacts/nobody/Deals", {"data": [{"id": deals[0]}]}, version="v8", headers=headers)
    assert unknown.status_code == 400
    assert unknown.json()["details"] == {"resource_path_index": 1}


def test_related_external_missing_or_unknown_value_fails_the_item(crm, ext):
    contacts, _ = ext
    headers = {"X-EXTERNAL": "Deals.External_Deal_ID"}
    body = {"data": [{"id": "1"}, {"External_Deal_ID": "nosuchdeal"}, {"External_Deal_ID": "extdeal1"}]}
    response = crm.put(f"Contacts/{contacts[0]}/Deals", body, version="v8", headers=headers)
    assert response.status_code == 207
    missing, unknown, ok = response.json()["data"]
    assert missing == {
        "code": "MANDATORY_NOT_FOUND",
        "details": {"api_name": "External_Deal_ID", "json_path": "$.data[0].External_Deal_ID"},
        "message": "required field not found",
        "status": "error",
    }
    assert unknown["code"] == "INVALID_DATA"
    assert unknown["details"] == {"api_name": "External_Deal_ID", "json_path": "$.data[1].External_Deal_ID"}
    assert ok["status"] == "success"


def test_external_ids_in_get_delink_and_single_paths(crm, ext):
    _contacts, deals = ext
    crm.put(
        "Contacts/extcontact1/Deals", {"data": [{"External_Deal_ID": "extdeal1"}]}, version="v8", headers=BOTH
    )
    read = crm.call("GET", "Contacts/extcontact1/Deals?fields=External_Deal_ID", version="v8", headers=BOTH)
    assert read.json()["data"] == [{"id": deals[0], "External_Deal_ID": "extdeal1"}]
    single = crm.put("Contacts/extcontact1/Deals/extdeal2", {"data": [{}]}, version="v8", headers=BOTH)
    assert single.json()["data"][0]["details"] == {"id": deals[1], "External_Deal_ID": "extdeal2"}
    gone = crm.call("DELETE", "Contacts/extcontact1/Deals?ids=extdeal1,extdeal9", version="v8", headers=BOTH)
    assert gone.status_code == 207
    assert [item["message"] for item in gone.json()["data"]] == ["relation removed", "relation not found"]


def test_header_naming_no_external_field_is_refused(crm, ext):
    headers = {"X-EXTERNAL": "Contacts.Email"}
    response = crm.put("Contacts/extcontact1/Deals", {"data": [{"id": "1"}]}, version="v8", headers=headers)
    assert (response.status_code, response.json()["code"]) == (400, "INVALID_DATA")


def test_v2_has_no_external_ids(crm, ext):
    """The external-ID pages start at v2.1; v2 reads the path as record ids."""
    response = crm.put("Contacts/extcontact1/Deals", {"data": [{"id": "1"}]}, version="v2", headers=BOTH)
    assert response.json()["details"] == {"resource_path_index": 1}
