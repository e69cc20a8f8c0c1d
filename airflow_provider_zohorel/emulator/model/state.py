"""Everything the emulator knows, in one object: configuration, clock, users, OAuth, records,
links, org metadata (related lists), faults, limits and counters.

A reset replaces the whole object (``fresh()``) rather than emptying it: a request still in
flight during the reset (sleeping in injected latency, say) keeps the state it started with, so
it can neither leak into the next test's relations and counters nor unbalance its in-flight count.
"""

from __future__ import annotations

from typing import Any

from airflow_provider_zohorel.emulator.model.accounts import Accounts
from airflow_provider_zohorel.emulator.model.clock import Clock
from airflow_provider_zohorel.emulator.model.config import EmulatorConfig
from airflow_provider_zohorel.emulator.model.counters import Counters
from airflow_provider_zohorel.emulator.model.faults import FaultPlan
from airflow_provider_zohorel.emulator.model.limits import ConcurrencyGate, CreditBudget
from airflow_provider_zohorel.emulator.model.links import LinkStore
from airflow_provider_zohorel.emulator.model.metadata import Metadata
from airflow_provider_zohorel.emulator.model.records import RecordStore
from airflow_provider_zohorel.emulator.model.users import User, UserDirectory

#: Id of the administrator created for clients seeded without a user.
DEFAULT_ADMIN_ID = "4150868000000000001"


class EmulatorState:
    """The whole mutable state of one emulator."""

    def __init__(self, config: EmulatorConfig | None = None) -> None:
        #: The configuration a reset returns to (the CLI's flags and start seed, or defaults).
        self.startup_config = config or EmulatorConfig()
        self.config = self.startup_config
        #: Replaced by a reset: requests it still holds (``hold_after_requests``) are let go.
        self.retired = False
        self.clock = Clock()
        self.counters = Counters()
        self.gate = ConcurrencyGate()
        self.faults = FaultPlan()
        self.users = UserDirectory()
        self.accounts = Accounts(self.clock, lambda: self.config, self.faults.deny_next_mint)
        self.records = RecordStore()
        self.links = LinkStore()
        #: Related lists (default and seeded), contact roles and external fields of the org.
        self.metadata = Metadata.default(self.config.org_id)
        self.credits = CreditBudget()

    def fresh(self) -> EmulatorState:
        """A new, empty state with the same startup configuration (what a reset installs)."""
        self.retired = True
        return EmulatorState(self.startup_config)

    def reset_counters(self) -> None:
        """Zero the counters only (state and configuration stay)."""
        self.counters.reset()
        self.accounts.reset_counters()
        self.gate.peak = self.gate.total
        self.credits.spent_total = 0
        self.faults.injected.clear()

    def default_admin(self) -> User:
        """The administrator used for clients seeded without a user (created on first use)."""
        return self.users.get(DEFAULT_ADMIN_ID) or self.users.upsert(
            DEFAULT_ADMIN_ID, email="admin@zylker.example", full_name="Emulated Admin"
        )

    def counters_snapshot(self) -> dict[str, Any]:
        """Counters plus token, limit and fault figures, for the admin API."""
        now = self.clock.now()
        config = self.config
        result = self.counters.snapshot()
        result.update(self.accounts.stats())
        result["in_flight"] = self.gate.total
        result["peak_in_flight"] = self.gate.peak
        result["credits_used"] = self.credits.spent_total
        result["credits_in_window"] = self.credits.in_window(now, config.credit_window_s)
        result["credit_limit"] = config.credit_limit
        result["faults_injected"] = dict(self.faults.injected)
        result["relations"] = self.links.count
        return result
