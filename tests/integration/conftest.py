"""Fixtures for proving ZohoCRMHook against the real emulator over HTTP.

Every test gets its own token cache directory, so a token minted by one test can never make
another test pass (or fail); connections are env-var connections, as users define them.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_zohorel.emulator import ZohoEmulator
from tests.integration.zoho_integration import conn_json


@pytest.fixture(autouse=True)
def token_cache_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh, not yet existing file-cache directory for this test (the hook creates it 0700)."""
    directory = tmp_path / "token-cache"
    monkeypatch.setenv("ZOHOREL_TOKEN_CACHE_DIR", str(directory))
    return directory


SetConn = Callable[..., str]


@pytest.fixture
def set_conn(monkeypatch: pytest.MonkeyPatch) -> SetConn:
    """``set_conn(conn_id, base_url, **fields)`` defines an env-var connection; returns its id."""

    def define(conn_id: str, base_url: str | None, **fields: Any) -> str:
        monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", conn_json(base_url, **fields))
        return conn_id

    return define


@pytest.fixture
def zoho(zoho_emulator_demo: ZohoEmulator, set_conn: SetConn) -> ZohoEmulator:
    """The demo-seeded emulator, with ``zoho_crm_default`` pointing at it (API v8)."""
    set_conn("zoho_crm_default", zoho_emulator_demo.base_url)
    return zoho_emulator_demo
