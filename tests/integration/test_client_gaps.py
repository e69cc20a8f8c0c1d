"""Where the client still differs from Zoho, shown against the emulator (issue 10).

Each test states what Zoho does, by the same source the emulator cites, and fails today because
the client does not yet follow it. They are ``xfail(strict=True)``: when the client catches up,
the test passes, strict xfail turns that into a failure, and the marker must go. The gaps of
points 2, 3 and 6 are closed: their tests live in test_open_relations.py.
"""

from __future__ import annotations

import pytest

from tests.integration.zoho_integration import CAMPAIGNS, LEADS, make_hook

pytestmark = pytest.mark.integration


@pytest.fixture
def zoho(zoho_emulator_demo, monkeypatch):
    monkeypatch.setenv("AIRFLOW_CONN_ZOHO_CRM_DEFAULT", zoho_emulator_demo.connection_json())
    return zoho_emulator_demo


def test_a_revoked_access_token_is_replaced_once(zoho):
    hook = make_hook()
    [first] = hook.update_related_records("Campaigns", CAMPAIGNS[0], "Leads", [{"id": LEADS[0]}])
    assert zoho.admin.revoke_access_tokens() == 1  # later calls with it: 401 INVALID_OAUTHTOKEN
    [second] = hook.update_related_records("Campaigns", CAMPAIGNS[0], "Leads", [{"id": LEADS[1]}])
    assert (first.code, second.code) == ("SUCCESS", "SUCCESS")
