"""A real api-server (with scheduler and dag-processor) on SQLite in a private AIRFLOW_HOME, the
emulator, and Debian's chromium driven by Playwright for Python (its own browser download cannot
work on these machines: ``executable_path`` points at the system browser).

Without Playwright or chromium the tests skip and say what to install; ``make browser`` (CI) sets
``ZOHOREL_REQUIRE_BROWSER=1``, which turns that skip into a failure.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_zohorel.emulator import ZohoEmulator
from tests.deployment.deployment_support import AirflowDeployment, deployment_env, free_port, launch

REPO = Path(__file__).resolve().parents[2]


def _missing(what: str) -> None:
    message = (
        f"browser test: {what}. Install it (as root: apt-get install -y chromium; "
        "pip install -r constraints/tools/browser.txt) or run `make browser`, which does."
    )
    if os.environ.get("ZOHOREL_REQUIRE_BROWSER") == "1":
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(scope="session")
def chromium_path() -> str:
    path = os.environ.get("ZOHOREL_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None:
        _missing("no chromium on PATH (Debian's chromium package)")
    return str(path)


@pytest.fixture(scope="session")
def browser(chromium_path: str) -> Iterator[Any]:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _missing("Playwright for Python is not installed")
    with sync_playwright() as playwright:
        # --no-sandbox: CI runs as root, where chromium's sandbox refuses to start.
        launched = playwright.chromium.launch(executable_path=chromium_path, args=["--no-sandbox"])
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture(scope="session")
def ui_zoho() -> Iterator[ZohoEmulator]:
    with ZohoEmulator(seed="demo") as emulator:
        yield emulator


@pytest.fixture(scope="session")
def ui_airflow(
    tmp_path_factory: pytest.TempPathFactory, ui_zoho: ZohoEmulator
) -> Iterator[AirflowDeployment]:
    """api-server + scheduler + dag-processor on SQLite, with no Zoho connection: the test adds it
    through the form. A free port is picked; if another process takes it first, start again."""
    for attempt in range(3):
        root = tmp_path_factory.mktemp("airflow-ui")
        port = free_port()
        env = deployment_env(root, f"sqlite:///{root / 'airflow.db'}", port, ui_zoho.base_url)
        env.pop("AIRFLOW_CONN_ZOHO_CRM_DEFAULT")  # an env connection would shadow the one saved in the form
        deployment = AirflowDeployment(
            home=root / "home",
            logs=root / "process-logs",
            env=env,
            base_url=f"http://127.0.0.1:{port}",
            token_cache=root / "token-cache",
        )
        try:
            try:
                launch(deployment, port)
            except AssertionError:
                api_log = deployment.logs / "api-server.log"
                if (
                    attempt < 2
                    and api_log.exists()
                    and "address already in use" in api_log.read_text().lower()
                ):
                    continue
                raise
            yield deployment
            return
        finally:
            deployment.stop()


@pytest.fixture(scope="session")
def screenshots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where screenshots go: docs/ with ZOHOREL_UPDATE_SCREENSHOTS=1 (the README shows them),
    else a temporary folder."""
    if os.environ.get("ZOHOREL_UPDATE_SCREENSHOTS") == "1":
        return REPO / "docs"
    return tmp_path_factory.mktemp("screenshots")
