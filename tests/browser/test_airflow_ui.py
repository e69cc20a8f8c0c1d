"""What a new user sees, in a real browser: Admin > Connections > Add with type Zoho CRM shows every
field under its label with nothing pre-filled as a mask, saves a connection to the emulator that
the REST API's test accepts, and example 1's summary shows in the task's XCom view."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from airflow_provider_zohorel.emulator import (
    DEMO_CLIENT_ID,
    DEMO_CLIENT_SECRET,
    DEMO_REFRESH_TOKEN,
    ZohoEmulator,
)
from airflow_provider_zohorel.hooks.connection_fields import EXTRA_FIELDS, RELABELING
from airflow_provider_zohorel.zoho.regions import REGION_NAMES
from tests.deployment.deployment_support import AirflowDeployment

pytestmark = pytest.mark.browser

CONN_ID = "zoho_crm_default"
DAG_ID, TASK_ID = "zoho_campaign_members", "add_leads_to_campaigns"
TIMEOUT_MS = 30_000


def _login(page: Any, airflow: AirflowDeployment, next_path: str) -> None:
    password = json.loads((airflow.home / "simple_auth_manager_passwords.json.generated").read_text())[
        "admin"
    ]
    page.goto(f"{airflow.base_url}/auth/login?next={quote(next_path)}")
    page.fill("input[name=username]", "admin")
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_url(f"**{next_path}", timeout=TIMEOUT_MS)


def _labels(page: Any) -> list[str]:
    """The visible field labels of the open dialog, in order."""
    texts = page.locator("[role=dialog] label:visible").all_inner_texts()
    return [text.replace("*", "").strip() for text in texts if text.strip()]


def _masked_inputs(page: Any) -> list[str]:
    return page.eval_on_selector_all(
        "[role=dialog] input, [role=dialog] textarea",
        "els => els.filter(e => (e.value || '').includes('***')).map(e => e.name || e.id)",
    )


def _pick(page: Any, hidden_input: str, text: str) -> None:
    """Choose ``text`` in the dropdown whose value input is ``hidden_input``."""
    combo = page.locator(f"input[name={hidden_input}]").locator("xpath=..").get_by_role("combobox")
    combo.click()
    combo.fill(text)
    page.get_by_role("option", name=text, exact=True).click()


def test_the_connection_form_then_example_1_in_the_task_view(
    browser: Any, ui_airflow: AirflowDeployment, ui_zoho: ZohoEmulator, screenshots: Path
) -> None:
    page = browser.new_page(viewport={"width": 1280, "height": 1400})
    page.set_default_timeout(TIMEOUT_MS)
    _login(page, ui_airflow, "/connections")

    # Admin > Connections > Add, type Zoho CRM.
    page.get_by_role("button", name="Add Connection").click()
    page.fill("input[name=connection_id]", CONN_ID)
    conn_type = page.locator("[role=dialog]").get_by_role("combobox").first
    conn_type.click()
    conn_type.fill("Zoho CRM")
    page.get_by_role("option", name="Zoho CRM", exact=True).click()

    # Standard fields: relabelled, host/port/schema hidden, nothing pre-filled with a mask.
    page.locator("input[name=login]").wait_for()
    assert _labels(page) == [
        "Connection ID",
        "Connection Type",
        "Description",
        RELABELING["login"],
        RELABELING["password"],
    ]
    for hidden in ("host", "port", "schema"):
        assert page.locator(f"[role=dialog] input[name={hidden}]").count() == 0, hidden
    assert _masked_inputs(page) == []
    page.fill("input[name=login]", DEMO_CLIENT_ID)
    page.fill("input[name=password]", DEMO_CLIENT_SECRET)

    # Extra fields: every one under its label, in the table's order; none shows *** (the earlier
    # token_cache field did); regions by name, no "null" option.
    page.get_by_text("Extra Fields", exact=True).click()
    page.locator("#element_refresh_token").wait_for()
    expected = [field.label for field in EXTRA_FIELDS]
    assert _labels(page)[-len(expected) :] == expected
    assert _masked_inputs(page) == []
    assert page.locator("input[name=element_cache_backend]").input_value() == "file"
    region = page.locator("input[name=element_region]").locator("xpath=..").get_by_role("combobox")
    region.click()
    offered = page.get_by_role("option").all_inner_texts()
    page.get_by_role(
        "option", name=offered[0], exact=True
    ).click()  # keep the default (Escape closes the dialog)
    assert offered == [f"{REGION_NAMES[code]} ({host})" for code, host in _region_hosts()]
    assert "null" not in offered
    page.screenshot(path=str(screenshots / "connection-form.png"), full_page=True)

    page.fill("#element_refresh_token", DEMO_REFRESH_TOKEN)
    page.fill("#element_accounts_url", ui_zoho.base_url)
    _pick(page, "element_api_version", "v8")
    page.get_by_role("button", name="Save").click()
    page.get_by_text("Connection has been successfully created").wait_for()

    # Saved as typed (the API shows the secret extra as *** but stores it: the test below mints).
    saved = ui_airflow.api("GET", f"/connections/{CONN_ID}")
    extra = json.loads(saved["extra"])
    assert (saved["conn_type"], saved["login"]) == ("zoho_crm", DEMO_CLIENT_ID)
    assert (extra["accounts_url"], extra["api_version"], extra["cache_backend"], extra["region"]) == (
        ui_zoho.base_url,
        "v8",
        "file",
        "us",
    )
    assert "token_cache" not in extra

    # Test it through the REST API (the list's Test button sends port 0 on Airflow 3.3.2).
    tested = ui_airflow.api(
        "POST", "/connections/test", json={"connection_id": CONN_ID, "conn_type": "zoho_crm"}
    )
    assert tested == {
        "status": True,
        "message": f"Connected to Zoho CRM at {ui_zoho.base_url} (API v8) as demo.admin@zylker.example.",
    }

    # Example 1 with the saved connection, then its summary in the task's XCom view.
    run_id = ui_airflow.trigger(DAG_ID)
    assert ui_airflow.wait_run(DAG_ID, run_id)["state"] == "success"
    page.goto(f"{ui_airflow.base_url}/dags/{DAG_ID}/runs/{quote(run_id)}/tasks/{TASK_ID}/xcom")
    page.get_by_test_id("expand-all-button").click()
    page.get_by_text('"total"').first.wait_for()
    view = page.inner_text("body").replace("\xa0", " ")  # the JSON view indents with no-break spaces
    for shown in ('"total": 59', '"succeeded": 59', '"failed": 0', '"api_calls": 2', '"outcome": "success"'):
        assert shown in view, shown
    assert f"{ui_zoho.base_url}/crm/tab/Campaigns" in view  # the Zoho CRM records link
    page.screenshot(path=str(screenshots / "task-xcom-summary.png"), full_page=True)
    assert len(ui_zoho.admin.relations_of("3652397000000327001", "Leads")) == 49
    page.close()


def _region_hosts() -> list[tuple[str, str]]:
    from airflow_provider_zohorel.zoho.regions import REGIONS

    return [(code, accounts.removeprefix("https://")) for code, (accounts, _api) in REGIONS.items()]
