"""Ids stay exact strings; anything that could have lost digits is refused with the value named."""

from __future__ import annotations

import math
from decimal import Decimal

import pytest

from airflow_provider_zohorel.zoho.values import InvalidValue, normalize_id, to_json_value

BIG = 3652397000001829002  # > 2**53: a float cannot hold it


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("3652397000001829002", "3652397000001829002"),
        ("  3652397000001829002 ", "3652397000001829002"),
        (BIG, "3652397000001829002"),
        (2**63 - 1, str(2**63 - 1)),
        (Decimal("3652397000001829002"), "3652397000001829002"),
        (35240336189014, "35240336189014"),
    ],
)
def test_ids_are_normalised_to_exact_digit_strings(value, expected):
    assert normalize_id(value, "id") == expected


@pytest.mark.parametrize(
    ("value", "needle"),
    [
        (float(BIG), "is a float"),
        (1.0, "is a float"),
        (math.nan, "is a float"),
        (None, "expected a record id"),
        (True, "expected a record id"),
        ("", "empty"),
        ("   ", "empty"),
        ("36523970000018290O2", "digits only"),
        ("-5", "digits only"),
        ({"id": "1"}, "dict"),
        (["1"], "list"),
        (Decimal("1.5"), "whole-number"),
        (Decimal("NaN"), "whole-number"),
        ("1" * 26, "digits only"),
    ],
)
def test_bad_ids_are_refused_with_the_field_and_value(value, needle):
    with pytest.raises(InvalidValue, match=r"^lead_id") as err:
        normalize_id(value, "lead_id")
    assert needle in str(err.value)


def test_json_values_convert_decimals_and_refuse_non_finite():
    assert to_json_value(Decimal("50.56"), "list_price") == 50.56
    assert to_json_value(Decimal("100"), "list_price") == 100
    assert to_json_value({"id": "1", "name": "x"}, "Parent_Id") == {"id": "1", "name": "x"}
    for bad in (math.inf, math.nan, Decimal("Infinity"), object(), b"bytes"):
        with pytest.raises(InvalidValue, match="list_price"):
            to_json_value(bad, "list_price")


def test_unicode_is_kept_and_huge_text_refused():
    assert to_json_value("Plänung ✓ 計画", "Member_Status") == "Plänung ✓ 計画"
    with pytest.raises(InvalidValue, match="exceeds"):
        to_json_value("x" * 40_000, "Note_Content")
