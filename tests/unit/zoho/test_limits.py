"""Zoho's limits, each defined once: the batch-size rule every caller applies, and the edition caps
that the defaults and the README quote."""

from __future__ import annotations

from pathlib import Path

import pytest

from airflow_provider_zohorel.zoho.client import ClientSettings
from airflow_provider_zohorel.zoho.limits import (
    DEFAULT_MAX_CONCURRENCY,
    EDITION_CONCURRENCY,
    MAX_BATCH,
    check_batch_size,
    parse_cap,
)
from airflow_provider_zohorel.zoho.planning import build_plan
from airflow_provider_zohorel.zoho.relation_catalog import resolve_relation
from airflow_provider_zohorel.zoho.values import InvalidValue

README = Path(__file__).resolve().parents[3] / "README.md"


@pytest.mark.parametrize("size", [1, 37, MAX_BATCH])
def test_a_batch_size_from_1_to_100_is_accepted(size):
    assert check_batch_size(size) == size


@pytest.mark.parametrize("size", [0, -1, MAX_BATCH + 1, 1.5, 100.0, True, "100", None])
def test_any_other_batch_size_is_refused_with_the_range(size):
    with pytest.raises(InvalidValue, match=f"from 1 to {MAX_BATCH}, got {size!r}"):
        check_batch_size(size)


def test_planning_applies_the_same_rule():
    spec = resolve_relation("Campaigns", "Leads")
    with pytest.raises(InvalidValue, match=f"from 1 to {MAX_BATCH}, got 101"):
        build_plan([], spec=spec, batch_size=MAX_BATCH + 1)


def test_the_default_concurrency_is_the_standard_edition_cap():
    assert DEFAULT_MAX_CONCURRENCY == EDITION_CONCURRENCY["standard"] == 10
    assert ClientSettings().max_concurrency == DEFAULT_MAX_CONCURRENCY


def test_the_readme_quotes_every_edition_cap():
    row = next(line for line in README.read_text().splitlines() if line.startswith("| `max_concurrency`"))
    assert f"| `{DEFAULT_MAX_CONCURRENCY}` |" in row
    for edition, cap in EDITION_CONCURRENCY.items():
        assert f"{edition.capitalize()} {cap}" in row


@pytest.mark.parametrize(
    ("value", "cap"), [(10, 10), ("25", 25), ("standard", 10), (" Ultimate ", 25), ("free", 5), (1, 1)]
)
def test_a_concurrency_cap_is_a_number_or_an_edition(value, cap):
    assert parse_cap(value) == cap


@pytest.mark.parametrize("value", [0, -3, "0", "gold", 2.5, True, None, "x" * 500])
def test_any_other_concurrency_cap_is_refused_with_the_choices(value):
    with pytest.raises(InvalidValue, match=r"whole number of calls.*free, standard") as raised:
        parse_cap(value)
    assert len(str(raised.value)) < 250  # a huge value is not quoted in full
