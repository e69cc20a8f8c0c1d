"""GET related records (pages, fields, If-Modified-Since, 204) and DELETE delink (ids, limits,
per-id results), as the v8 spec's getRelatedRecords and delinkRelatedRecords describe them."""

from __future__ import annotations

import email.utils

import pytest


@pytest.fixture
def members(emu, crm, world):
    """A campaign with 5 leads (Member_Status Sent), related through the API."""
    campaign = world.campaigns[0]
    body = {"data": [{"id": lead, "Member_Status": "Sent"} for lead in world.leads]}
    assert crm.put(f"Campaigns/{campaign}/Leads", body, version="v8").status_code == 200
    return campaign, world.leads


def test_get_returns_the_asked_fields_with_info(crm, members):
    campaign, leads = members
    response = crm.call("GET", f"Campaigns/{campaign}/Leads?fields=Member_Status,Last_Name", version="v8")
    assert response.status_code == 200
    body = response.json()
    assert body["data"][0] == {"id": max(leads), "Member_Status": "Sent", "Last_Name": None}
    assert [row["id"] for row in body["data"]] == sorted(leads, reverse=True)  # sort_by id, desc
    assert body["info"] == {
        "per_page": 200,
        "count": 5,
        "page": 1,
        "more_records": False,
        "next_page_token": None,
        "page_token_expiry": None,
        "previous_page_token": None,
    }


def test_fields_is_mandatory_in_v8_only(crm, members):
    campaign, _ = members
    missing = crm.call("GET", f"Campaigns/{campaign}/Leads", version="v8")
    assert missing.status_code == 400
    assert missing.json() == {
        "code": "REQUIRED_PARAM_MISSING",
        "details": {"param_name": "fields"},
        "message": "One of the expected parameter is missing",
        "status": "error",
    }
    older = crm.call("GET", f"Campaigns/{campaign}/Leads", version="v7")
    assert older.status_code == 200
    assert older.json()["data"][0]["Member_Status"] == "Sent"
    assert set(older.json()["info"]) == {"per_page", "count", "page", "more_records"}


def test_pages_and_more_records(crm, members):
    campaign, leads = members
    path = f"Campaigns/{campaign}/Leads?fields=id&sort_order=asc&per_page=2"
    pages = [crm.call("GET", f"{path}&page={page}", version="v8") for page in (1, 2, 3)]
    assert [[row["id"] for row in p.json()["data"]] for p in pages] == [leads[0:2], leads[2:4], leads[4:5]]
    assert [p.json()["info"]["more_records"] for p in pages] == [True, True, False]
    assert crm.call("GET", f"{path}&page=4", version="v8").status_code == 204


@pytest.mark.parametrize("per_page", ["201", "0", "x"])
def test_per_page_is_at_most_200(crm, members, per_page):
    campaign, _ = members
    response = crm.call("GET", f"Campaigns/{campaign}/Leads?fields=id&per_page={per_page}", version="v8")
    assert response.status_code == 400
    assert response.json()["details"] == {"param_name": "per_page"}


def test_no_related_records_is_204(crm, world):
    response = crm.call("GET", f"Campaigns/{world.campaigns[2]}/Leads?fields=id", version="v8")
    assert response.status_code == 204
    assert response.content == b""


def test_if_modified_since_keeps_records_modified_after_it(emu, crm, members):
    campaign, _ = members
    path = f"Campaigns/{campaign}/Leads?fields=Modified_Time"
    stamp = crm.call("GET", path, version="v8").json()["data"][0]["Modified_Time"]
    assert crm.call("GET", path, version="v8", headers={"If-Modified-Since": stamp}).status_code == 204
    newer = emu.admin.add_records("Leads", count=1)[0]
    crm.put(f"Campaigns/{campaign}/Leads", {"data": [{"id": newer}]}, version="v8")
    emu.admin.advance_clock(5)
    later = emu.admin.add_records("Leads", count=1)[0]
    crm.put(f"Campaigns/{campaign}/Leads", {"data": [{"id": later}]}, version="v8")
    rfc2822 = email.utils.formatdate(usegmt=True)  # RFC 2822, as the spec text asks
    since = crm.call("GET", path, version="v8", headers={"If-Modified-Since": rfc2822})
    assert [row["id"] for row in since.json()["data"]] == [later]
    bad = crm.call("GET", path, version="v8", headers={"If-Modified-Since": "yesterday"})
    assert bad.json()["details"] == {"param_name": "If-Modified-Since"}


def test_get_one_related_record(emu, crm, members):
    """One related record; 204 for a record that exists but is not in the list, 404 RecordNotFound
    for one that does not exist (v8 spec getRelatedRecord 204 and response-404-recordnotfound)."""
    campaign, leads = members
    one = crm.call("GET", f"Campaigns/{campaign}/Leads/{leads[1]}?fields=Member_Status", version="v8")
    assert one.json() == {"data": [{"id": leads[1], "Member_Status": "Sent"}]}
    unlinked = emu.admin.add_records("Leads", count=1)[0]
    not_in_list = crm.call("GET", f"Campaigns/{campaign}/Leads/{unlinked}?fields=id", version="v8")
    assert not_in_list.status_code == 204
    missing = crm.call("GET", f"Campaigns/{campaign}/Leads/123?fields=id", version="v8")
    assert (missing.status_code, missing.json()["message"]) == (404, "The record does not exist")


def test_delink_some_ids(emu, crm, members):
    campaign, leads = members
    response = crm.call(
        "DELETE", f"Campaigns/{campaign}/Leads?ids={leads[0]},{leads[1]},99999999", version="v8"
    )
    assert response.status_code == 207
    assert response.json() == {
        "data": [
            {
                "code": "SUCCESS",
                "details": {"id": leads[0]},
                "message": "relation removed",
                "status": "success",
            },
            {
                "code": "SUCCESS",
                "details": {"id": leads[1]},
                "message": "relation removed",
                "status": "success",
            },
            # delinkRelatedRecords 207 example
            {
                "code": "INVALID_DATA",
                "details": {"id": "99999999"},
                "message": "relation not found",
                "status": "error",
            },
        ]
    }
    assert len(emu.admin.relations_of(campaign)) == 3
    assert emu.admin.get_record(leads[0])["module"] == "Leads"  # the record itself stays
    assert emu.admin.counters()["relations_removed"] == 2


def test_delink_statuses_all_ok_and_all_failed(crm, members):
    campaign, leads = members
    ok = crm.call("DELETE", f"Campaigns/{campaign}/Leads?ids={leads[0]}", version="v8")
    assert ok.status_code == 200
    failed = crm.call("DELETE", f"Campaigns/{campaign}/Leads?ids={leads[0]}", version="v8")
    # delinkRelatedRecords 400 relationnotfound example: the per-id data, not a top-level error
    assert failed.status_code == 400
    assert failed.json()["data"][0]["message"] == "relation not found"
    assert crm.call("DELETE", f"Campaigns/{campaign}/Leads?ids={leads[0]}", version="v2").status_code == 202


def test_delink_request_errors(emu, crm, members):
    campaign, _ = members
    missing = crm.call("DELETE", f"Campaigns/{campaign}/Leads", version="v8")
    assert missing.json() == {
        "code": "MANDATORY_NOT_FOUND",
        "details": {"param_name": "ids"},
        "message": "One of the expected parameter is missing",
        "status": "error",
    }
    many = ",".join(str(10**18 + n) for n in range(101))
    limit = crm.call("DELETE", f"Campaigns/{campaign}/Leads?ids={many}", version="v8")
    assert limit.status_code == 400
    assert limit.json() == {
        "code": "LIMIT_EXCEEDED",
        "details": {"limit": "100", "param_name": "ids"},
        "message": "Limit Exceeded, You cannot give more than 100 record ids",
        "status": "error",
    }
    garbled = crm.call("DELETE", f"Campaigns/{campaign}/Leads?ids=abc", version="v8")
    assert (garbled.status_code, garbled.json()["code"]) == (400, "UNABLE_TO_PARSE_DATA_TYPE")


def test_delink_one(crm, members):
    campaign, leads = members
    ok = crm.call("DELETE", f"Campaigns/{campaign}/Leads/{leads[2]}", version="v8")
    assert ok.status_code == 200
    assert ok.json()["data"][0]["message"] == "relation removed"
    again = crm.call("DELETE", f"Campaigns/{campaign}/Leads/{leads[2]}", version="v8")
    assert again.status_code == 404
    assert again.json() == {
        "code": "INVALID_DATA",
        "details": {},
        "message": "The record does not exist",
        "status": "error",
    }


def test_delink_and_read_need_their_own_scopes(emu, world, session):
    creds = emu.admin.create_credentials(scopes=["ZohoCRM.modules.campaigns.UPDATE"])
    headers = {"Authorization": f"Zoho-oauthtoken {emu.admin.access_token(creds)}"}
    base = f"{emu.base_url}/crm/v8/Campaigns/{world.campaigns[0]}/Leads"
    for method, url in (("GET", f"{base}?fields=id"), ("DELETE", f"{base}?ids={world.leads[0]}")):
        response = session.request(method, url, headers=headers, timeout=10)
        assert response.json()["code"] == "OAUTH_SCOPE_MISMATCH", method
    creds = emu.admin.create_credentials(scopes=["ZohoCRM.modules.campaigns.READ", "ZohoCRM.modules.DELETE"])
    headers = {"Authorization": f"Zoho-oauthtoken {emu.admin.access_token(creds)}"}
    assert session.get(f"{base}?fields=id", headers=headers, timeout=10).status_code == 204
    assert session.delete(f"{base}?ids={world.leads[0]}", headers=headers, timeout=10).status_code == 400


def test_notes_list_reads_and_delinks_notes(emu, crm, world):
    lead = world.leads[0]
    notes = emu.admin.add_notes("Leads", lead, count=2, fields={"Note_Title": "t"})
    read = crm.call("GET", f"Leads/{lead}/Notes?fields=Note_Title&sort_order=asc", version="v8")
    assert read.json()["data"] == [{"id": notes[0], "Note_Title": "t"}, {"id": notes[1], "Note_Title": "t"}]
    gone = crm.call("DELETE", f"Leads/{lead}/Notes?ids={notes[0]}", version="v8")
    assert gone.status_code == 200
    assert [n["id"] for n in emu.admin.list_notes(lead)] == [notes[1]]
