"""The open related-list model: any API name is accepted and sent as given; what the catalog knows
(the module a list holds, junction field kinds, mandatory fields) converts and validates; an
unknown field is sent with one warning per field per run; a name Zoho is known to refuse is warned
about, never refused."""

from __future__ import annotations

import logging

import pytest

from airflow_provider_zohorel.zoho.external_ids import InvalidExternalIds
from airflow_provider_zohorel.zoho.relation_catalog import (
    UnsupportedRelation,
    canonical_module,
    resolve_relation,
)
from airflow_provider_zohorel.zoho.values import InvalidValue

SUPPORTED = [
    ("Campaigns", "Leads"),
    ("Campaigns", "Contacts"),
    ("Products", "Leads"),
    ("Products", "Accounts"),
    ("Products", "Contacts"),
    ("Products", "Deals"),
    ("Products", "Price_Books"),
]
CATALOG_LOG = "airflow_provider_zohorel.zoho.relation_catalog"


@pytest.mark.parametrize(("a", "b"), SUPPORTED)
def test_every_reference_relation_is_known_from_both_sides(a, b):
    assert (resolve_relation(a, b).label, resolve_relation(a, b).known, resolve_relation(a, b).holds) == (
        f"{a} -> {b}",
        True,
        b,
    )
    assert (resolve_relation(b, a).known, resolve_relation(b, a).holds) == (True, a)


@pytest.mark.parametrize(
    ("name", "canonical"),
    [
        ("potentials", "Deals"),
        ("Potentials", "Deals"),
        ("deals", "Deals"),
        ("pricebooks", "Price_Books"),
        ("Price Books", "Price_Books"),
        ("price_books", "Price_Books"),
        ("notes", "Notes"),
        ("appointments__s", "Appointments__s"),
        ("Custom_Module_1", "Custom_Module_1"),  # unknown API names are sent as given
        ("Appointments", "Appointments"),  # not mapped: a custom module may carry the bare name
    ],
)
def test_module_names_are_canonicalised_only_when_known(name, canonical):
    assert canonical_module(name) == canonical


@pytest.mark.parametrize(
    ("module", "related_list", "holds"),
    [
        ("Leads", "Related_List_Name_2", None),  # the reference page's Deluge sample
        ("Leads", "Accounts", None),  # not a documented relation: Zoho decides, not the client
        ("Deals", "Contact_Roles", "Contacts"),
        ("Contacts", "Deals", "Deals"),
        ("Accounts", "Notes", "Notes"),
        ("Custom_Module_1", "Linked_Widgets", None),
        ("Appointments__s", "Services__s", "Services__s"),
    ],
)
def test_any_related_list_api_name_is_accepted_and_sent_as_given(module, related_list, holds):
    spec = resolve_relation(module, related_list, "v8")
    assert (spec.parent, spec.related, spec.holds) == (module, related_list, holds)


@pytest.mark.parametrize(
    ("module", "related_list", "fragment"),
    [
        ("Leads", "Related List", "related_list 'Related List' is not a Zoho API name"),
        ("Leads", "Campaigns/../x", "is not a Zoho API name"),
        ("Leads", "x" * 101, "at most 100 characters"),
        ("Leads", "", "related_list is empty"),
        ("1Leads", "Campaigns", "module '1Leads' is not a Zoho API name"),
    ],
)
def test_only_names_that_cannot_be_api_names_are_refused(module, related_list, fragment):
    with pytest.raises(UnsupportedRelation, match=fragment):
        resolve_relation(module, related_list)


@pytest.mark.parametrize(
    ("module", "related_list", "version", "fragment"),
    [
        ("Deals", "Contacts", "v8", "Contact_Roles"),
        ("Appointments", "Services__s", "v8", "'Appointments' is named 'Appointments__s'"),
        ("Services__s", "Appointments", "v3", "'Appointments' is named 'Appointments__s'"),
        ("Appointments__s", "Services__s", "v2.1", "exists from API v3 on"),
    ],
)
def test_names_zoho_is_known_to_refuse_are_warned_about_not_refused(
    caplog, module, related_list, version, fragment
):
    with caplog.at_level(logging.WARNING, logger=CATALOG_LOG):
        spec = resolve_relation(module, related_list, version)
    assert (spec.parent, spec.related) == (module, related_list)
    assert fragment in caplog.text


def test_a_refused_name_gets_the_catalog_s_hint():
    assert "Appointments__s" in resolve_relation("Appointments", "Services__s", "v8").hint(0, "v8")
    assert "Contact_Roles" in resolve_relation("Deals", "Contacts", "v8").hint(2, "v8")
    generic = resolve_relation("Leads", "Widgets", "v8").hint(2, "v8")
    assert "settings/related_lists?module=Leads" in generic
    assert "validate_related_list=True" in generic
    assert resolve_relation("Leads", "Campaigns", "v8").hint(1, "v8") is None


def test_known_fields_are_checked_and_converted():
    campaign = resolve_relation("Campaigns", "Leads")
    assert campaign.check_fields({"Member_Status": "Active"}, "row 0") == {"Member_Status": "Active"}
    with pytest.raises(InvalidValue, match="row 0: field 'Member_Status' must be text"):
        campaign.check_fields({"Member_Status": 5}, "row 0")
    books = resolve_relation("Price_Books", "Products")
    assert books.check_fields({"list_price": "50.56"}, "r") == {"list_price": 50.56}
    with pytest.raises(InvalidValue, match="row 9: the Price_Books -> Products relation requires list_price"):
        books.check_fields({}, "row 9")
    with pytest.raises(InvalidValue, match="must be a number"):
        books.check_fields({"list_price": "cheap"}, "row 9")


@pytest.mark.parametrize(
    ("related", "field", "value"),
    [
        (("Campaigns", "Leads"), "Member_Status", 12.5),
        (("Campaigns", "Leads"), "Member_Status", ["x" * 1000] * 5000),
        (("Price_Books", "Products"), "list_price", "not a number " * 500_000),
        (("Price_Books", "Products"), "list_price", {str(i): i for i in range(100_000)}),
        (("Campaigns", "Leads"), "N" * 1_000_000, "Active"),
    ],
    ids=["small", "huge list", "huge string", "huge dict", "huge field name"],
)
def test_one_bad_cell_gives_a_bounded_error(related, field, value):
    """The message goes into the log, the exception and the XCom input_errors: at most a few
    hundred characters, whatever the cell holds."""
    spec = resolve_relation(*related)
    with pytest.raises(InvalidValue) as err:
        spec.check_fields({field: value}, "records[0]")
    assert len(str(err.value)) < 400
    assert "records[0]" in str(err.value)


def test_contact_roles_are_converted_to_the_shape_each_direction_takes():
    """A contact's Deals list takes a role id (v8 update-related-records-ext sample); a deal's
    Contact_Roles list takes {"id"[, "name"]}, mandatory (v8.0/deal_contact_roles.json)."""
    to_deals = resolve_relation("Contacts", "Deals", "v8")
    assert to_deals.check_fields({"Contact_Role": 111111000000026002}, "r") == {
        "Contact_Role": "111111000000026002"
    }
    assert to_deals.check_fields({"Contact_Role": {"id": "12"}}, "r") == {"Contact_Role": "12"}
    roles = resolve_relation("Deals", "Contact_Roles", "v8")
    assert roles.check_fields({"Contact_Role": "12"}, "r") == {"Contact_Role": {"id": "12"}}
    assert roles.check_fields({"Contact_Role": {"id": 12, "name": "Buyer"}}, "r") == {
        "Contact_Role": {"id": "12", "name": "Buyer"}
    }
    assert roles.canonical_field("contact_role") == "Contact_Role"
    with pytest.raises(InvalidValue, match="requires Contact_Role"):
        roles.check_fields({}, "records[2]")
    with pytest.raises(InvalidValue, match=r"records\[2\]: field 'Contact_Role' must be a contact role id"):
        roles.check_fields({"Contact_Role": "Purchasing"}, "records[2]")


def test_an_unknown_field_is_sent_as_given_and_warned_about_once_per_run(caplog):
    spec = resolve_relation("Campaigns", "Leads")
    with caplog.at_level(logging.WARNING, logger=CATALOG_LOG):
        for row in range(3):
            fields = spec.check_fields({"Member_Status": "Active", "Custom_Field__c": row}, f"row {row}")
            assert fields == {"Member_Status": "Active", "Custom_Field__c": row}
        spec.check_fields({"Other_Field": True}, "row 3")
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len([w for w in warnings if "'Custom_Field__c'" in w]) == 1
    assert len([w for w in warnings if "'Other_Field'" in w]) == 1
    assert "known fields: Member_Status" in warnings[0]
    assert "Did you mean" not in warnings[0]
    # a new run (a new resolution) warns again
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger=CATALOG_LOG):
        resolve_relation("Campaigns", "Leads").check_fields({"Custom_Field__c": 1}, "row 0")
    assert "'Custom_Field__c'" in caplog.text


def test_a_likely_typo_of_a_known_field_is_warned_with_the_known_name(caplog):
    with caplog.at_level(logging.WARNING, logger=CATALOG_LOG):
        fields = resolve_relation("Campaigns", "Leads").check_fields({"Member_Statu": "Sent"}, "row 0")
    assert fields == {"Member_Statu": "Sent"}  # sent anyway: Zoho decides
    assert "Field 'Member_Statu' is not a field the provider knows" in caplog.text
    assert "Did you mean 'Member_Status'?" in caplog.text


def test_a_field_name_that_cannot_be_a_zoho_field_is_refused_naming_the_row():
    spec = resolve_relation("Leads", "Related_List_Name_2")
    with pytest.raises(
        InvalidValue, match=r"records\[4\]: 'member status' is not a valid Zoho field API name"
    ):
        spec.check_fields({"member status": "x"}, "records[4]")
    with pytest.raises(InvalidValue, match=r"records\[4\]: field 'Blob'.*cannot be sent"):
        spec.check_fields({"Blob": object()}, "records[4]")


def test_notes_are_known_on_every_record_module():
    for module in ("Leads", "Contacts", "Deals", "Accounts", "Custom_Module_1"):
        spec = resolve_relation(module, "notes")
        assert (spec.related, spec.holds, spec.known) == ("Notes", "Notes", True)
        assert spec.check_fields({"Note_Title": "t"}, "r") == {"Note_Title": "t"}
        assert spec.canonical_field("note_title") == "Note_Title"


@pytest.mark.parametrize(
    ("module", "related_list", "external", "parent_field", "related_field"),
    [
        ("Leads", "Campaigns", "Leads.External_Lead_ID", "External_Lead_ID", None),
        ("leads", "Campaigns", "leads.External_Lead_ID", "External_Lead_ID", None),
        ("Contacts", "Deals", "Deals.External_Deal_ID", None, "External_Deal_ID"),
        (
            "Contacts",
            "Deals",
            "Contacts.External_Contact_ID, Deals.External_Deal_ID",
            "External_Contact_ID",
            "External_Deal_ID",
        ),
        # a list the catalog does not know: a part not naming the parent is the related side
        ("Leads", "Related_List_Name_2", "Contacts.Ext_Id", None, "Ext_Id"),
    ],
)
def test_external_names_the_sides_given_by_external_values(
    module, related_list, external, parent_field, related_field
):
    spec = resolve_relation(module, related_list, "v8", external=external)
    assert spec.external is not None
    assert (spec.external.parent_field, spec.external.related_field) == (parent_field, related_field)
    assert spec.external.headers == {"X-EXTERNAL": spec.external.header}
    assert " " not in spec.external.header


@pytest.mark.parametrize(
    ("external", "version", "fragment"),
    [
        ("Leads.External_Lead_ID", "v2", "need API version v2.1 or later"),
        ("Leads", "v8", "is not 'Module.External_Field'"),
        ("Leads.Ext id", "v8", "is not 'Module.External_Field'"),
        ("Accounts.Ext", "v8", "names neither side of the relation once"),
        ("Leads.A,Leads.B", "v8", "names neither side"),
        ("Leads.A,Campaigns.B,Leads.C", "v8", "at most two"),
        ("", "v8", "must be an X-EXTERNAL value"),
    ],
)
def test_an_external_value_that_cannot_work_is_refused_before_any_call(external, version, fragment):
    with pytest.raises(InvalidExternalIds, match=fragment):
        resolve_relation("Leads", "Campaigns", version, external=external)
