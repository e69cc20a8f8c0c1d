"""The shared budget's arguments and key, without Redis (its behaviour against a real Redis and
the emulator: tests/integration/test_concurrency_budget.py)."""

from __future__ import annotations

import pytest

from airflow_provider_zohorel.zoho.concurrency_budget import RedisConcurrencyBudget, budget_name


class NoRedis:
    def register_script(self, script):
        return script


@pytest.mark.parametrize("cap", [0, -1, 2.5, True, "10", None])
def test_a_cap_that_is_not_a_whole_number_of_calls_is_refused(cap):
    with pytest.raises(ValueError, match="at least 1"):
        RedisConcurrencyBudget(NoRedis(), cap, "x")


def test_one_budget_per_zoho_client_keyed_by_a_digest():
    us = budget_name("1000.CLIENT", "https://accounts.zoho.com")
    assert us == budget_name("1000.CLIENT", "https://accounts.zoho.com")
    assert us != budget_name("1000.OTHER", "https://accounts.zoho.com")
    assert us != budget_name("1000.CLIENT", "https://accounts.zoho.eu")
    assert "CLIENT" not in us
    assert len(us) == 24
    assert RedisConcurrencyBudget(NoRedis(), 10, us).key == "zohorel:budget:" + us
