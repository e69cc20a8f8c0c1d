"""Token mints: 32 task processes started together on one machine share one token.

Round 1: an empty token cache. Round 2: an hour later at Zoho (the emulator's clock moves past
the token's lifetime, so Zoho rejects the cached token with 401): every process must refresh,
and still only one mints. The peer: each process mints its own token; the emulator enforces
Zoho's throttle (10 mints per refresh token per 10 minutes) and counts the denials.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bench.common import ROOT, Row, fresh_token_cache, seed, verdict, zoho_connection

TOKEN_TTL = 3600


@dataclass(frozen=True)
class Config:
    processes: int = 32


def _spawn(mode: str, jobs: list[dict[str, Any]], env: dict[str, str]) -> list[dict[str, Any]]:
    done = subprocess.run(
        [sys.executable, "-m", "bench.tokens_child", json.dumps({"mode": mode, "jobs": jobs})],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode != 0 or not lines:
        raise RuntimeError(f"token child failed ({done.returncode}): {done.stderr[-2000:]}")
    results: list[dict[str, Any]] = json.loads(lines[-1])["results"]
    return results


def run(config: Config, say: Callable[[str], None]) -> list[Row]:
    from airflow_provider_zohorel.emulator import ZohoEmulator

    n = config.processes
    section = f"5. Token mints: {n} task processes started together on one machine"
    rows: list[Row] = []
    with ZohoEmulator(token_ttl=TOKEN_TTL) as emu:
        seeded = seed(emu, n, n)
        env = dict(os.environ)
        env["AIRFLOW_CONN_ZOHO_CRM_DEFAULT"] = zoho_connection(emu.base_url, seeded.creds)
        env["ZOHOREL_TOKEN_CACHE_DIR"] = str(fresh_token_cache("tokens"))
        jobs = [
            {"record_id": p, "id": lead, "Member_Status": "Active"}
            for p, lead in zip(seeded.parents, seeded.related, strict=True)
        ]
        for label, advance in (
            ("empty token cache", None),
            ("after expiry (Zoho clock +1 h: cached token rejected with 401)", TOKEN_TTL + 1),
        ):
            if advance is not None:
                emu.admin.advance_clock(advance)
            emu.admin.reset_counters()
            minted_before = int(emu.admin.counters()["tokens_minted"])  # mints are counted from here
            say(f"    operator processes, {label}")
            results = _spawn("operator", jobs, env)
            counters = emu.admin.counters()
            mints = int(counters["tokens_minted"]) - minted_before
            related = sum(1 for r in results if r.get("ok"))
            rejected = int(counters["requests"].get("crm.related_records.bulk", {}).get("401", 0))
            errors = sorted({str(r["error"]) for r in results if r.get("error")})
            rows.append(
                Row(
                    section,
                    f"operator, {label}: token mints ({related}/{n} tasks succeeded, {rejected} 401s"
                    + (f"; errors: {'; '.join(errors)[:200]}" if errors else "")
                    + ")",
                    str(mints),
                    "1",
                    verdict(mints == 1 and related == n),
                )
            )
    with ZohoEmulator(token_ttl=TOKEN_TTL) as emu:
        seeded = seed(emu, 1, 1)
        creds = seeded.creds
        job = {
            "accounts_url": emu.base_url,
            "client_id": creds.client_id,
            "client_secret": creds.client_secret,
            "refresh_token": creds.refresh_token,
        }
        say("    naive processes, each minting its own token")
        prior = emu.admin.counters()
        results = _spawn("naive", [job] * n, dict(os.environ))
        after = emu.admin.counters()
        granted = int(after["tokens_minted"]) - int(prior["tokens_minted"])
        denied = int(after["token_mints_denied"]) - int(prior["token_mints_denied"])
        failed = sum(1 for r in results if not r.get("ok"))
        rows.append(
            Row(
                section,
                "naive (each process mints its own): mints attempted / granted / denied by Zoho's "
                f"10-per-10-min throttle ({failed} of {n} tasks left without a token)",
                f"{granted + denied} / {granted} / {denied}",
                "(peer)",
            )
        )
    return rows
