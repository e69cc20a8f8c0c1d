"""Fixtures for the security suite: fresh, unique credentials per test (so a leak is findable by
plain search), a spy that records every access token minted in this process, real DAG runs with
their output kept, a guard against resolving remote names, and the closing figures (secrets scanned
for, occurrences found)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_zohorel.emulator import ZohoEmulator
from tests.dag_runs import DagResult, keep_output, run_dag_test
from tests.security.hostile_server import hostile, internal_host  # noqa: F401 (fixtures)
from tests.security.sec_support import DAGS, SECRETS, SecureWorld, connection_json


@pytest.fixture(autouse=True)
def record_minted_tokens(monkeypatch: pytest.MonkeyPatch) -> None:
    """Register every access token minted in this process as a secret (a spy; behaviour unchanged)."""
    from airflow_provider_zohorel.zoho.oauth import TokenMinter

    mint = TokenMinter.mint

    def spy(self: TokenMinter) -> Any:
        token = mint(self)
        SECRETS.add(token.value)
        return token

    monkeypatch.setattr(TokenMinter, "mint", spy)


@pytest.fixture
def world(zoho_emulator_demo: ZohoEmulator, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> SecureWorld:
    """A new user, client and refresh token (random secrets) behind ``zoho_crm_default``."""
    credentials = zoho_emulator_demo.admin.create_credentials()
    SECRETS.add(credentials.client_secret, credentials.refresh_token)
    monkeypatch.setenv(
        "AIRFLOW_CONN_ZOHO_CRM_DEFAULT", connection_json(zoho_emulator_demo.base_url, credentials)
    )
    token_dir = tmp_path / "tokens"
    monkeypatch.setenv("ZOHOREL_TOKEN_CACHE_DIR", str(token_dir))
    return SecureWorld(zoho_emulator_demo, credentials, token_dir)


@pytest.fixture
def run_dag(airflow_db: None, capfd: pytest.CaptureFixture[str]) -> Callable[..., DagResult]:
    """``run_dag(dag_id, conf)`` with dag.test(); returns states, XComs and the run's full output."""

    def run(dag_id: str, conf: dict[str, Any]) -> DagResult:
        capfd.readouterr()
        try:
            result = run_dag_test(dag_id, DAGS, conf)
        finally:
            out, err = capfd.readouterr()
            keep_output(f"security-{dag_id}", out + err)
        result.output = out + err
        return result

    return run


@pytest.fixture
def no_remote_network(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Refuse to resolve any host but loopback, and list the names something tried to resolve: a
    test of "refused before connecting" must not depend on the name not resolving."""
    import socket

    tried: list[str] = []
    real = socket.getaddrinfo

    def guarded(host: Any, *args: Any, **kwargs: Any) -> Any:
        name = host.decode() if isinstance(host, bytes) else str(host)
        if name not in ("127.0.0.1", "localhost", "::1"):
            tried.append(name)
            raise socket.gaierror(f"blocked by the test: {name}")
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", guarded)
    return tried


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if SECRETS.scanned_texts:
        terminalreporter.write_sep("-", "zohorel security: secrets scan")
        terminalreporter.write_line(
            f"secrets scanned for: {len(SECRETS.values)}, texts scanned: {SECRETS.scanned_texts} "
            f"({SECRETS.scanned_chars} characters), secrets found: {len(SECRETS.found)}"
        )
        for hit in SECRETS.found:
            terminalreporter.write_line(f"  found {hit}")
