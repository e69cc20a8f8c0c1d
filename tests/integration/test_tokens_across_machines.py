"""Tokens across worker machines without a shared cache: each machine (its own file cache) mints
its own token, Zoho keeps 15 live tokens per refresh token, so the 16th machine's mint silently
evicts the first machine's token; that machine's next call is answered INVALID_OAUTHTOKEN, and the
client mints again and succeeds (what README "Scaling out" says). With the Redis cache the whole
cluster mints once: tests/integration/test_redis_token_cache.py and tests/deployment/test_celery.py.
"""

from __future__ import annotations

import pytest

from airflow_provider_zohorel.zoho.token_cache import FileTokenCache
from tests.integration.zoho_integration import CAMPAIGNS, LEADS, make_hook

pytestmark = pytest.mark.integration

MACHINES = 16  # one more than Zoho's 15 live tokens per refresh token


def test_the_sixteenth_machine_evicts_the_first_ones_token_which_then_refreshes(zoho, tmp_path):
    zoho.admin.patch_config(mint_limit=None)  # the mint throttle is another limit; this is eviction
    machines = [make_hook(token_cache=FileTokenCache(tmp_path / f"machine-{m}")) for m in range(MACHINES)]
    for machine, lead in zip(machines, LEADS, strict=False):
        [result] = machine.update_related_records("Campaigns", CAMPAIGNS[0], "Leads", [{"id": lead}])
        assert result.code == "SUCCESS"
    counters = zoho.admin.counters()
    assert (counters["tokens_minted"], counters["live_tokens"]) == (MACHINES, 15)

    first = machines[0]
    [again] = first.update_related_records("Campaigns", CAMPAIGNS[1], "Leads", [{"id": LEADS[0]}])
    assert again.code == "SUCCESS"
    assert first.client.stats.token_refreshes == 1  # one 401, one new token, then the call went through
    requests = zoho.admin.counters()["requests"]
    assert (
        sum(n for key, by in requests.items() if key.startswith("crm.") for s, n in by.items() if s == "401")
        == 1
    )
    assert zoho.admin.counters()["tokens_minted"] == MACHINES + 1
