"""Update Related Records contract: relations in both directions, junction fields, item errors,
body errors and the two status regimes (research sections 2.1-2.5)."""

from __future__ import annotations

import pytest


def _ok(related_id, message="relation added"):
    return {"code": "SUCCESS", "details": {"id": related_id}, "message": message, "status": "success"}


def test_reference_page_sample_relates_campaigns_to_a_lead(crm, world):
    c1, c2 = world.campaigns[:2]
    body = {"data": [{"id": c1, "Member_Status": "Active"}, {"id": c2, "Member_Status": "Planning"}]}
    response = crm.put(f"Leads/{world.leads[0]}/Campaigns", body)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    assert response.json() == {"data": [_ok(c1), _ok(c2)]}


def test_repeat_is_relation_updated_even_with_identical_fields(crm, world):
    body = {"data": [{"id": world.campaigns[0], "Member_Status": "Active"}]}
    path = f"Leads/{world.leads[0]}/Campaigns"
    assert crm.put(path, body).json()["data"][0]["message"] == "relation added"
    assert crm.put(path, body).json()["data"][0]["message"] == "relation updated"


def test_relation_is_symmetric_and_junction_fields_are_readable(emu, crm, world):
    lead, campaign = world.leads[0], world.campaigns[0]
    crm.put(f"Leads/{lead}/Campaigns", {"data": [{"id": campaign, "Member_Status": "Sent"}]})
    # The same link, addressed from the other side: an update, not a second link.
    response = crm.put(f"Campaigns/{campaign}/Leads", {"data": [{"id": lead, "Member_Status": "Opened"}]})
    assert response.json()["data"][0]["message"] == "relation updated"
    expected = [
        {
            "relation": "Campaigns-Leads",
            "module": "Campaigns",
            "id": campaign,
            "fields": {"Member_Status": "Opened"},
        }
    ]
    assert emu.admin.relations_of(lead) == expected
    assert emu.admin.relations_of(campaign)[0]["id"] == lead
    rows = emu.admin.export_relations()
    assert len(rows) == 1
    assert (rows[0].first_module, rows[0].first_id, rows[0].second_id) == ("Campaigns", campaign, lead)


def test_fields_not_sent_are_kept_on_update(emu, crm, world):
    path = f"Products/{world.products[0]}/Leads"
    crm.put(path, {"data": [{"id": world.leads[0], "list_price": 10.5}]})
    crm.put(path, {"data": [{"id": world.leads[0]}]})
    assert emu.admin.relations_of(world.leads[0])[0]["fields"] == {"list_price": 10.5}


@pytest.mark.parametrize(
    ("parent", "related_list", "child"),
    [
        ("campaigns", "Contacts", "contacts"),
        ("products", "Leads", "leads"),
        ("products", "Accounts", "accounts"),
        ("products", "Contacts", "contacts"),
        ("products", "Deals", "deals"),
        ("products", "Potentials", "deals"),
        ("deals", "Products", "products"),
        ("accounts", "Products", "products"),
        ("contacts", "Campaigns", "campaigns"),
    ],
)
def test_every_documented_relation(crm, world, parent, related_list, child):
    module = {"campaigns": "Campaigns", "products": "Products", "deals": "Deals", "accounts": "Accounts"}.get(
        parent, parent.capitalize()
    )
    related_id = getattr(world, child)[0]
    response = crm.put(f"{module}/{getattr(world, parent)[0]}/{related_list}", {"data": [{"id": related_id}]})
    assert response.status_code == 200, response.text
    assert response.json() == {"data": [_ok(related_id)]}


def test_potentials_alias_addresses_deal_records(emu, crm, world):
    deal, product = world.deals[0], world.products[0]
    assert crm.put(f"Potentials/{deal}/Products", {"data": [{"id": product}]}).status_code == 200
    again = crm.put(f"Deals/{deal}/Products", {"data": [{"id": product}]})
    assert again.json()["data"][0]["message"] == "relation updated"
    assert emu.admin.relations_of(deal)[0]["relation"] == "Products-Deals"


def test_price_book_needs_list_price(emu, crm, world):
    pb, product = world.price_books[0], world.products[0]
    response = crm.put(f"Price_Books/{pb}/Products", {"data": [{"id": product}]}, version="v2")
    assert response.status_code == 202
    assert response.json()["data"][0] == {
        "code": "MANDATORY_NOT_FOUND",
        "details": {"api_name": "list_price", "json_path": "$.data[0].list_price"},
        "message": "required field not found",
        "status": "error",
    }
    ok = crm.put(f"Products/{product}/Price_Books", {"data": [{"id": pb, "list_price": 50.56}]})
    assert ok.status_code == 200
    assert emu.admin.relations_of(pb)[0]["fields"] == {"list_price": 50.56}


def test_unknown_item_fields_are_not_refused(emu, crm, world):
    """Items allow additional properties (v8 spec updateRelatedRecords requestBody
    ``additionalProperties: true``): a field the list does not know is ignored, not refused."""
    body = {"data": [{"id": world.campaigns[0], "list_price": 3, "Custom_Field__c": "x"}]}
    response = crm.put(f"Leads/{world.leads[0]}/Campaigns", body, version="v8")
    assert response.status_code == 200
    assert response.json() == {"data": [_ok(world.campaigns[0])]}
    assert emu.admin.relations_of(world.leads[0])[0]["fields"] == {}
    # The older, stricter reading stays available as a setting.
    emu.admin.patch_config(strict_fields=True)
    strict = crm.put(f"Leads/{world.leads[0]}/Campaigns", body)
    assert strict.status_code == 202
    assert strict.json()["data"][0] == {
        "code": "INVALID_DATA",
        "details": {"api_name": "list_price", "json_path": "$.data[0].list_price"},
        "message": "invalid data",
        "status": "error",
    }


def test_unknown_related_id_and_missing_id_are_item_errors(crm, world):
    body = {"data": [{"id": "999999999999999999"}, {"Member_Status": "Sent"}, {"id": world.leads[0]}]}
    response = crm.put(f"Campaigns/{world.campaigns[0]}/Leads", body, version="v8")
    assert response.status_code == 207
    first, second, third = response.json()["data"]
    # v8: the spec's relationnotfoundbulk example shape.
    assert first == {
        "code": "INVALID_DATA",
        "details": {"api_name": "id", "json_path": "$.data[0].id"},
        "message": "the id given seems to be invalid",
        "status": "error",
    }
    assert second == {
        "code": "MANDATORY_NOT_FOUND",
        "details": {"api_name": "id", "json_path": "$.data[1].id"},
        "message": "required field not found",
        "status": "error",
    }
    assert third == _ok(world.leads[0])


def test_unknown_related_id_before_v8_keeps_the_older_docs_shape(crm, world):
    body = {"data": [{"id": "999999999999999999"}]}
    response = crm.put(f"Campaigns/{world.campaigns[0]}/Leads", body, version="v7")
    assert response.status_code == 400
    assert response.json()["data"][0] == {
        "code": "INVALID_DATA",
        "details": {"id": "999999999999999999"},
        "message": "the related id given seems to be invalid",
        "status": "error",
    }


def test_related_id_of_another_module_is_invalid(crm, world):
    response = crm.put(f"Leads/{world.leads[0]}/Campaigns", {"data": [{"id": world.contacts[0]}]})
    assert response.json()["data"][0]["message"] == "the related id given seems to be invalid"


def test_integer_ids_are_accepted_like_bigint(crm, world):
    body = f'{{"data":[{{"id":{world.campaigns[0]}}}]}}'
    response = crm.put(f"Leads/{world.leads[0]}/Campaigns", data=body)
    assert response.json() == {"data": [_ok(world.campaigns[0])]}


@pytest.mark.parametrize(
    ("version", "partial", "all_failed"),
    [("v2", 202, 202), ("v2.1", 202, 202), ("v3", 207, 400), ("v8", 207, 400)],
)
def test_status_regimes_by_version(crm, world, version, partial, all_failed):
    path = f"Leads/{world.leads[0]}/Campaigns"
    good, bad = {"id": world.campaigns[0]}, {"id": "1"}
    assert crm.put(path, {"data": [good]}, version=version).status_code == 200
    assert crm.put(path, {"data": [good, bad]}, version=version).status_code == partial
    failed = crm.put(path, {"data": [bad, bad]}, version=version)
    assert failed.status_code == all_failed
    assert [item["code"] for item in failed.json()["data"]] == ["INVALID_DATA", "INVALID_DATA"]


def test_more_than_100_items_is_limit_exceeded(emu, crm, world):
    leads = emu.admin.add_records("Leads", count=101)
    path = f"Campaigns/{world.campaigns[0]}/Leads"
    response = crm.put(path, {"data": [{"id": i} for i in leads]})
    assert response.status_code == 400
    assert response.json() == {
        "code": "LIMIT_EXCEEDED",
        "details": {"limit": "100", "param_name": "data"},
        "message": "Limit Exceeded, You cannot give more than 100 records",
        "status": "error",
    }
    ok = crm.put(path, {"data": [{"id": i} for i in leads[:100]]})
    assert ok.status_code == 200
    assert len(ok.json()["data"]) == 100
    assert emu.admin.summary()["relations"] == 100


@pytest.mark.parametrize(
    ("payload", "code"),
    [
        ({"data": []}, "MANDATORY_NOT_FOUND"),
        ({}, "MANDATORY_NOT_FOUND"),
        ({"data": {"id": "1"}}, "INVALID_DATA"),
        ("not json", "INVALID_DATA"),
        ("", "MANDATORY_NOT_FOUND"),
    ],
)
def test_body_errors_are_request_level(crm, world, payload, code):
    path = f"Leads/{world.leads[0]}/Campaigns"
    response = crm.put(path, data=payload) if isinstance(payload, str) else crm.put(path, payload)
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == code
    assert body["status"] == "error"
    assert set(body) == {"code", "details", "message", "status"}


def test_single_record_form_before_v8_takes_a_body_without_id(emu, crm, world):
    pb, product = world.price_books[0], world.products[0]
    response = crm.put(
        f"Products/{product}/Price_Books/{pb}", {"data": [{"list_price": 100.56}]}, version="v7"
    )
    assert response.status_code == 200
    assert response.json() == {"data": [_ok(pb)]}
    assert emu.admin.relations_of(product)[0]["fields"] == {"list_price": 100.56}
    two = crm.put(f"Products/{product}/Price_Books/{pb}", {"data": [{"list_price": 1}, {"list_price": 2}]})
    assert two.status_code == 400
    assert two.json()["code"] == "LIMIT_EXCEEDED"
    unknown = crm.put(f"Products/{product}/Price_Books/123", {"data": [{"list_price": 1}]}, version="v7")
    assert unknown.status_code == 400
    assert unknown.json()["data"][0]["details"] == {"id": "123"}


def test_single_record_form_in_v8_requires_id_in_the_body(emu, crm, world):
    """The v8 spec's updateSpecificRelatedRecord body: ``data`` of exactly one item, ``id``
    required; an unknown related record is 404 RecordNotFound."""
    pb, product = world.price_books[0], world.products[0]
    path = f"Products/{product}/Price_Books/{pb}"
    without_id = crm.put(path, {"data": [{"list_price": 100.56}]}, version="v8")
    assert without_id.status_code == 400
    assert without_id.json()["data"][0] == {
        "code": "MANDATORY_NOT_FOUND",
        "details": {"api_name": "id", "json_path": "$.data[0].id"},
        "message": "required field not found",
        "status": "error",
    }
    with_id = crm.put(path, {"data": [{"id": pb, "list_price": 100.56}]}, version="v8")
    assert with_id.status_code == 200
    assert with_id.json() == {"data": [_ok(pb)]}
    other = crm.put(path, {"data": [{"id": world.price_books[1], "list_price": 1}]}, version="v8")
    assert other.json()["data"][0]["details"] == {"api_name": "id", "json_path": "$.data[0].id"}
    unknown = crm.put(
        f"Products/{product}/Price_Books/123", {"data": [{"id": "123", "list_price": 1}]}, version="v8"
    )
    assert unknown.status_code == 404
    assert unknown.json() == {
        "code": "INVALID_DATA",
        "details": {},
        "message": "The record does not exist",
        "status": "error",
    }


def test_appointments_and_services_have_their_v3_api_names(crm, world):
    """``Appointments__s``/``Services__s`` from v3 on (v3 change log); the names without the
    suffix are unknown modules, and v2/v2.1 have neither."""
    appointment, service = world.appointments[0], world.services[0]
    body = {"data": [{"id": service}]}
    assert crm.put(f"Appointments__s/{appointment}/Services__s", body, version="v3").status_code == 200
    back = crm.put(f"Services__s/{service}/Appointments__s", {"data": [{"id": appointment}]}, version="v8")
    assert back.json()["data"][0]["message"] == "relation updated"
    old_name = crm.put(f"Appointments/{appointment}/Services__s", body, version="v8")
    assert old_name.status_code == 400
    assert old_name.json() == {
        "code": "INVALID_MODULE",
        "details": {"resource_path_index": 0},
        "message": "The module name given seems to be invalid",
        "status": "error",
    }
    old_list = crm.put(f"Appointments__s/{appointment}/Services", body, version="v8")
    assert old_list.json()["details"] == {"resource_path_index": 2}
    before_v3 = crm.put(f"Appointments__s/{appointment}/Services__s", body, version="v2.1")
    assert before_v3.json()["code"] == "INVALID_MODULE"
    old_related = crm.put(
        f"Leads/{world.leads[0]}/Appointments__s", {"data": [{"id": appointment}]}, version="v2"
    )
    assert old_related.json()["code"] == "INVALID_DATA"


def test_notes_of_a_lead_are_updated(emu, crm, world):
    lead = world.leads[0]
    notes = emu.admin.add_notes("Leads", lead, count=2, fields={"Note_Title": "t", "Note_Content": "c"})
    body = {
        "data": [
            {
                "Parent_Id": {"name": "Lead_changed", "id": lead},
                "id": notes[0],
                "Note_Title": "asd",
                "Note_Content": "asd",
                "$se_module": "Leads",
            }
        ]
    }
    response = crm.put(f"Leads/{lead}/notes", body)
    assert response.status_code == 200
    assert response.json() == {"data": [_ok(notes[0], "record updated")]}
    single = crm.put(f"Leads/{lead}/Notes/{notes[1]}", {"data": [{"Note_Content": "new"}]})
    assert single.json() == {"data": [_ok(notes[1], "record updated")]}
    stored = {n["id"]: n for n in emu.admin.list_notes(lead)}
    assert (stored[notes[0]]["Note_Title"], stored[notes[0]]["Note_Content"]) == ("asd", "asd")
    assert (stored[notes[1]]["Note_Title"], stored[notes[1]]["Note_Content"]) == ("t", "new")


def test_note_of_another_parent_or_unknown_is_item_invalid_data(emu, crm, world):
    other = emu.admin.add_notes("Leads", world.leads[1], count=1)[0]
    response = crm.put(f"Leads/{world.leads[0]}/Notes", {"data": [{"id": other}, {"id": "42"}]})
    assert response.status_code == 202
    assert [item["details"] for item in response.json()["data"]] == [{"id": other}, {"id": "42"}]
    assert [item["message"] for item in response.json()["data"]] == [
        "the related id given seems to be invalid"
    ] * 2


def test_users_and_org_for_connection_tests(crm, creds):
    users = crm.call("GET", "users?type=CurrentUser", version="v8")
    assert users.status_code == 200
    assert users.json()["users"][0]["id"] == creds.user_id
    org = crm.call("GET", "org")
    assert org.status_code == 200
    assert org.json()["org"][0]["id"]
