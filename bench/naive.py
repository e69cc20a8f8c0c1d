"""The peer: what people write today, and what the official Zoho Python SDK does.

Plain ``requests``: mint an access token, group the rows by parent, cut each group into chunks of
100, and send one PUT after another, waiting for each answer. No validation, no retries, no
per-item accounting beyond counting the ``SUCCESS`` codes. It keeps one HTTP session (keep-alive),
which is the kindest reading of the peer.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import requests

BATCH = 100


def mint_token(
    session: requests.Session, accounts_url: str, client_id: str, client_secret: str, refresh_token: str
) -> dict[str, Any]:
    """``POST /oauth/v2/token`` with the refresh token; Zoho's answer (``access_token`` or ``error``)."""
    response = session.post(
        f"{accounts_url}/oauth/v2/token",
        data={
            "grant_type": "refresh_token",
            "client_id": client_id,
            "client_secret": client_secret,
            "refresh_token": refresh_token,
        },
        timeout=60,
    )
    body: dict[str, Any] = response.json()
    return body


@dataclass(frozen=True)
class NaiveResult:
    calls: int
    succeeded: int
    wall: float
    cpu: float


class NaiveClient:
    """One PUT at a time: ``PUT /crm/v8/{module}/{parent}/{related_list}`` with up to 100 items."""

    def __init__(
        self, accounts_url: str, client_id: str, client_secret: str, refresh_token: str, version: str = "v8"
    ) -> None:
        self.accounts_url = accounts_url
        self.client_id = client_id
        self.client_secret = client_secret
        self.refresh_token = refresh_token
        self.version = version

    def run(
        self, rows: Iterable[Mapping[str, Any]], module: str, related_list: str, parent_key: str = "record_id"
    ) -> NaiveResult:
        cpu0, wall0 = time.process_time(), time.perf_counter()
        calls = succeeded = 0
        with requests.Session() as session:
            token = mint_token(
                session, self.accounts_url, self.client_id, self.client_secret, self.refresh_token
            )
            headers = {"Authorization": f"Zoho-oauthtoken {token['access_token']}"}
            base = f"{token['api_domain']}/crm/{self.version}/{module}"
            groups: dict[Any, list[dict[str, Any]]] = defaultdict(list)
            for row in rows:
                groups[row[parent_key]].append({k: v for k, v in row.items() if k != parent_key})
            for parent, items in groups.items():
                for start in range(0, len(items), BATCH):
                    response = session.put(
                        f"{base}/{parent}/{related_list}",
                        json={"data": items[start : start + BATCH]},
                        headers=headers,
                        timeout=60,
                    )
                    calls += 1
                    body = response.json()
                    succeeded += sum(1 for item in body.get("data", ()) if item.get("code") == "SUCCESS")
        return NaiveResult(calls, succeeded, time.perf_counter() - wall0, time.process_time() - cpu0)
