"""pytest fixtures for DAG and client tests against a real emulator.

Enable with ``pytest_plugins = ["airflow_provider_zohorel.emulator.pytest_plugin"]`` in a
``conftest.py``. One emulator process serves the whole session (``zoho_emulator_server``);
``zoho_emulator`` resets it (state, configuration, faults, counters) before each test.
Override ``zoho_emulator_options`` to pass :class:`ZohoEmulator` keyword arguments; set
``ZOHO_EMULATOR_IN_THREAD=1`` to run it in a thread instead of a subprocess.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from airflow_provider_zohorel.emulator.server import ZohoEmulator, emulator_kwargs_from_env


@pytest.fixture(scope="session")
def zoho_emulator_options() -> dict[str, Any]:
    """Keyword arguments for the session's :class:`ZohoEmulator` (override in a conftest)."""
    return emulator_kwargs_from_env()


@pytest.fixture(scope="session")
def zoho_emulator_server(zoho_emulator_options: dict[str, Any]) -> Iterator[ZohoEmulator]:
    """One running emulator for the whole session (not reset between tests)."""
    with ZohoEmulator(**zoho_emulator_options) as emulator:
        yield emulator


@pytest.fixture
def zoho_emulator(zoho_emulator_server: ZohoEmulator) -> ZohoEmulator:
    """The session's emulator, reset to the empty state before this test."""
    zoho_emulator_server.admin.reset()
    return zoho_emulator_server


@pytest.fixture
def zoho_emulator_demo(zoho_emulator_server: ZohoEmulator) -> ZohoEmulator:
    """The session's emulator, reset and loaded with the bundled ``demo`` seed."""
    zoho_emulator_server.admin.reset(seed="demo")
    return zoho_emulator_server
