"""The supported relations (reference page) and their fields; anything else is refused up front."""

from __future__ import annotations

import pytest

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


@pytest.mark.parametrize(("a", "b"), SUPPORTED)
def test_every_reference_relation_resolves_from_both_sides(a, b):
    assert resolve_relation(a, b).label == f"{a} -> {b}"
    assert resolve_relation(b, a).label == f"{b} -> {a}"


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
    ],
)
def test_module_names_are_canonicalised(name, canonical):
    assert canonical_module(name) == canonical


def test_unsupported_pairs_and_unknown_modules_are_explained():
    with pytest.raises(UnsupportedRelation, match="Contact Roles API"):
        resolve_relation("Deals", "Contacts")
    with pytest.raises(UnsupportedRelation, match="Leads relates to: Campaigns, Notes, Products"):
        resolve_relation("Leads", "Accounts")
    with pytest.raises(UnsupportedRelation, match="'Documents' is not a module"):
        resolve_relation("Documents", "Leads")


def test_appointments_services_need_v3():
    assert resolve_relation("Appointments", "Services", "v3").label == "Appointments -> Services"
    with pytest.raises(UnsupportedRelation, match="v3 or later"):
        resolve_relation("Services", "Appointments", "v2.1")


def test_fields_are_checked_per_relation():
    campaign = resolve_relation("Campaigns", "Leads")
    assert campaign.check_fields({"Member_Status": "Active"}, "row 0") == {"Member_Status": "Active"}
    with pytest.raises(
        InvalidValue, match=r"row 3: field 'list_price' is not a field of the Campaigns -> Leads"
    ):
        campaign.check_fields({"list_price": 1}, "row 3")
    with pytest.raises(InvalidValue, match="must be text"):
        campaign.check_fields({"Member_Status": 5}, "row 0")
    books = resolve_relation("Price_Books", "Products")
    assert books.check_fields({"list_price": "50.56"}, "r") == {"list_price": 50.56}
    with pytest.raises(InvalidValue, match="requires list_price"):
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
