"""The open related-list model, external ids and the single-record body against the emulator
(issue 10 points 2, 3 and 6), checked through what the emulator holds, not only through what the
client reports. The emulator follows Zoho's docs per version (its code cites them)."""

from __future__ import annotations

import logging

import pytest

from airflow_provider_zohorel.zoho.errors import ZohoConfigurationError
from airflow_provider_zohorel.zoho.related_records_api import UnknownRelatedList
from tests.integration.zoho_integration import CAMPAIGNS, LEADS, crm_requests, make_hook

pytestmark = pytest.mark.integration

CATALOG_LOG = "airflow_provider_zohorel.zoho.relation_catalog"


@pytest.fixture
def zoho(zoho_emulator_demo, monkeypatch):
    monkeypatch.setenv("AIRFLOW_CONN_ZOHO_CRM_DEFAULT", zoho_emulator_demo.connection_json())
    return zoho_emulator_demo


def use_version(zoho, monkeypatch, version: str) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_ZOHO_CRM_DEFAULT", zoho.connection_json(api_version=version))


def linked(zoho, record_id: str, module: str) -> dict[str, dict]:
    """{related id: link fields} of ``record_id``'s links to ``module`` records, as Zoho holds them."""
    return {r["id"]: r["fields"] for r in zoho.admin.relations_of(record_id, module)}


# -- any related list -------------------------------------------------------------------------


def test_a_custom_related_list(zoho, caplog):
    """The reference page's Deluge sample relates through "Related_List_Name_2"."""
    zoho.admin.add_related_list(
        "Leads",
        "Related_List_Name_2",
        "Contacts",
        linking_module="Leads_X_Contacts",
        fields={"Role_In_Deal": "text"},
    )
    contacts = zoho.admin.add_records("Contacts", count=2)
    hook = make_hook()
    with caplog.at_level(logging.WARNING, logger=CATALOG_LOG):
        results = hook.update_related_records(
            "Leads", LEADS[0], "Related_List_Name_2", [{"id": c, "Role_In_Deal": "Buyer"} for c in contacts]
        )
    assert [(r.code, r.action) for r in results] == [("SUCCESS", "added")] * 2
    assert linked(zoho, LEADS[0], "Contacts") == {c: {"Role_In_Deal": "Buyer"} for c in contacts}
    # the catalog does not know the list's fields: one warning naming the field, not one per item
    assert caplog.text.count("'Role_In_Deal'") == 1


def test_an_unknown_item_field_is_sent_not_refused(zoho):
    [result] = make_hook().update_related_records(
        "Campaigns", CAMPAIGNS[0], "Leads", [{"id": LEADS[0], "Custom_Field__c": "x"}]
    )
    assert result.code == "SUCCESS"
    assert linked(zoho, CAMPAIGNS[0], "Leads") == {LEADS[0]: {}}  # Zoho ignores what it does not know


@pytest.mark.parametrize("version", ["v3", "v8"])
def test_appointments_use_their_v3_api_names(zoho, monkeypatch, version):
    use_version(zoho, monkeypatch, version)
    appointment = zoho.admin.add_records("Appointments__s", count=1)[0]
    services = zoho.admin.add_records("Services__s", count=2)
    hook = make_hook()
    [forward] = hook.update_related_records(
        "Appointments__s", appointment, "Services__s", [{"id": services[0]}]
    )
    [backward] = hook.update_related_records(
        "Services__s", services[1], "Appointments__s", [{"id": appointment}]
    )
    assert (forward.code, backward.code) == ("SUCCESS", "SUCCESS")
    assert set(linked(zoho, appointment, "Services__s")) == set(services)


def test_appointments_by_its_pre_v3_name_fails_naming_the_right_one(zoho):
    """Sent as given (a custom module may be named Appointments); Zoho's INVALID_MODULE comes back
    with the v3 name, and nothing else is sent."""
    appointment = zoho.admin.add_records("Appointments__s", count=1)[0]
    service = zoho.admin.add_records("Services__s", count=1)[0]
    with pytest.raises(ZohoConfigurationError, match="INVALID_MODULE") as err:
        make_hook().update_related_records("Appointments", appointment, "Services__s", [{"id": service}])
    assert "'Appointments__s'" in str(err.value)
    assert crm_requests(zoho) == {"crm.related_records.bulk": {"400": 1}}


# -- notes on every record module ---------------------------------------------------------------


@pytest.mark.parametrize("module", ["Contacts", "Deals", "Accounts"])
def test_notes_of_any_record_module(zoho, module):
    parent = zoho.admin.add_records(module, count=1)[0]
    notes = zoho.admin.add_notes(module, parent, count=2)
    hook = make_hook()
    results = hook.update_related_records(
        module, parent, "Notes", [{"id": notes[0], "Note_Title": "Renamed"}, {"id": notes[1]}]
    )
    single = hook.update_related_record(module, parent, "Notes", notes[1], {"note_content": "Body"})
    assert [r.code for r in [*results, single]] == ["SUCCESS"] * 3
    held = {n["id"]: n for n in zoho.admin.list_notes(parent)}
    assert held[notes[0]]["Note_Title"] == "Renamed"
    assert held[notes[1]]["Note_Content"] == "Body"


# -- deal contact roles, both directions --------------------------------------------------------


def test_deal_contact_roles_in_bulk(zoho):
    """``PUT /Deals/{id}/Contact_Roles`` with ``{id, Contact_Role}`` (v8.0/deal_contact_roles.json)."""
    deal = zoho.admin.add_records("Deals", count=1)[0]
    contacts = zoho.admin.add_records("Contacts", count=2)
    role = zoho.admin.add_contact_role("Purchasing")
    results = make_hook().update_related_records(
        "Deals",
        deal,
        "Contact_Roles",
        [{"id": contacts[0], "Contact_Role": {"id": role}}, {"id": contacts[1], "Contact_Role": role}],
    )
    assert [(r.code, r.action) for r in results] == [("SUCCESS", "added")] * 2
    roles = {cid: fields["Contact_Role"]["name"] for cid, fields in linked(zoho, deal, "Contacts").items()}
    assert roles == dict.fromkeys(contacts, "Purchasing")


def test_contact_roles_from_the_contact_side(zoho):
    """``PUT /Contacts/{id}/Deals`` with ``Contact_Role`` answers "relation added"
    (v8 update-related-records-ext sample); the same link, seen from the deal."""
    deals = zoho.admin.add_records("Deals", count=2)
    contact = zoho.admin.add_records("Contacts", count=1)[0]
    role = zoho.admin.add_contact_role("Technical Buyer")
    hook = make_hook()
    results = hook.update_related_records(
        "Contacts", contact, "Deals", [{"id": d, "Contact_Role": int(role)} for d in deals]
    )
    assert [(r.code, r.action) for r in results] == [("SUCCESS", "added")] * 2
    for deal in deals:
        assert linked(zoho, deal, "Contacts")[contact]["Contact_Role"]["name"] == "Technical Buyer"
    again = hook.update_related_record("Contacts", contact, "Deals", deals[0], {"Contact_Role": role})
    assert (again.code, again.action) == ("SUCCESS", "updated")


# -- external ids -------------------------------------------------------------------------------


def test_external_ids(zoho):
    zoho.admin.add_records("Leads", count=1, external={"field": "External_Lead_ID", "values": ["lead-1"]})
    [result] = make_hook().update_related_records(
        "Leads", "lead-1", "Campaigns", [{"id": CAMPAIGNS[0]}], external="Leads.External_Lead_ID"
    )
    assert result.code == "SUCCESS"


def test_external_ids_on_both_sides_with_characters_a_url_must_quote(zoho):
    """The v8 ext page's example: contact and deal both by external value, with a Contact_Role."""
    [contact] = zoho.admin.add_records(
        "Contacts", count=1, external={"field": "External_Contact_ID", "values": ["ext contact #3"]}
    )
    deals = zoho.admin.add_records(
        "Deals", count=2, external={"field": "External_Deal_ID", "values": ["extdeal3", "extdeal+4"]}
    )
    role = zoho.admin.add_contact_role("Evaluator")
    hook = make_hook()
    header = "Contacts.External_Contact_ID,Deals.External_Deal_ID"
    results = hook.update_related_records(
        "Contacts",
        "ext contact #3",
        "Deals",
        [{"id": "extdeal3", "Contact_Role": role}, {"id": "extdeal+4", "Contact_Role": role}],
        external=header,
    )
    assert [(r.related_id, r.code) for r in results] == [("extdeal3", "SUCCESS"), ("extdeal+4", "SUCCESS")]
    single = hook.update_related_record(
        "Contacts", "ext contact #3", "Deals", "extdeal3", {"Contact_Role": role}, external=header
    )
    assert (single.code, single.action) == ("SUCCESS", "updated")
    assert set(linked(zoho, contact, "Deals")) == set(deals)


def test_an_external_value_zoho_does_not_know_fails_its_item(zoho):
    zoho.admin.add_records("Deals", count=1, external={"field": "External_Deal_ID", "values": ["d-1"]})
    contact = zoho.admin.add_records("Contacts", count=1)[0]
    results = make_hook().update_related_records(
        "Contacts", contact, "Deals", [{"id": "d-1"}, {"id": "d-404"}], external="Deals.External_Deal_ID"
    )
    assert [(r.related_id, r.code) for r in results] == [("d-1", "SUCCESS"), ("d-404", "INVALID_DATA")]


# -- validate_related_list ----------------------------------------------------------------------


def test_validate_related_list_fails_listing_the_valid_names(zoho):
    hook = make_hook(validate_related_list=True)
    with pytest.raises(UnknownRelatedList) as err:
        hook.update_related_records("Deals", "3652397000000624001", "Contacts", [{"id": LEADS[0]}])
    message = str(err.value)
    assert "Deals has no related list 'Contacts'" in message
    for name in ("Contact_Roles", "Products", "Notes"):
        assert name in message
    assert "Hint: a deal's contacts are its Contact_Roles list" in message
    assert crm_requests(zoho) == {"crm.settings.related_lists": {"200": 1}}  # no PUT was sent


def test_validate_related_list_reads_zoho_s_metadata_once_and_learns_the_list_s_module(zoho):
    zoho.admin.add_related_list("Leads", "Related_List_Name_2", "Contacts", linking_module="Leads_X_Contacts")
    contact = zoho.admin.add_records(
        "Contacts", count=1, external={"field": "Ext_Contact", "values": ["c-9"]}
    )[0]
    hook = make_hook(validate_related_list=True)
    for _ in range(3):
        [result] = hook.update_related_records(
            "Leads", LEADS[0], "related_list_name_2", [{"id": "c-9"}], external="Contacts.Ext_Contact"
        )
        assert result.code == "SUCCESS"
    assert crm_requests(zoho)["crm.settings.related_lists"] == {"200": 1}
    spec = hook.api.relation("Leads", "related_list_name_2", "Contacts.Ext_Contact")
    assert (spec.related, spec.holds) == ("Related_List_Name_2", "Contacts")  # Zoho's spelling
    assert set(linked(zoho, LEADS[0], "Contacts")) == {contact}
