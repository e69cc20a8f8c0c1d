"""Helpers of the security suite (its fixtures are in conftest.py): the registry of every secret
handed out in this session and the scanner that looks for them. A module of its own, because every
test directory has a ``conftest`` and test modules cannot tell them apart by import."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from airflow_provider_zohorel.emulator import (
    DEMO_CLIENT_SECRET,
    DEMO_REFRESH_TOKEN,
    Credentials,
    ZohoEmulator,
)
from airflow_provider_zohorel.emulator import connection_json as emulator_connection_json

TESTS = Path(__file__).resolve().parents[1]
DAGS = TESTS / "dags"
AIRFLOW_HOME = Path(os.environ["AIRFLOW_HOME"])
#: Every DAG run's captured output in this session (the reliability suite writes here too).


@dataclass
class SecretRegistry:
    """Every secret this session handed to the code under test, and what the scans found."""

    values: set[str] = field(default_factory=lambda: {DEMO_CLIENT_SECRET, DEMO_REFRESH_TOKEN})
    scanned_texts: int = 0
    scanned_chars: int = 0
    found: list[str] = field(default_factory=list)

    def add(self, *secrets: str) -> None:
        self.values.update(s for s in secrets if s)

    def scan(self, where: str, text: str) -> list[str]:
        """Names of the secrets found in ``text`` (never the values, so a report cannot leak them)."""
        self.scanned_texts += 1
        self.scanned_chars += len(text)
        hits = [
            f"{where}: secret #{sorted(self.values).index(s)} ({len(s)} chars)"
            for s in self.values
            if s in text
        ]
        self.found += hits
        return hits


SECRETS = SecretRegistry()


def connection_json(base_url: str, credentials: Credentials, **extra: Any) -> str:
    return emulator_connection_json(base_url, credentials, **extra)


@dataclass
class SecureWorld:
    emulator: ZohoEmulator
    credentials: Credentials
    token_dir: Path

    @property
    def admin(self) -> Any:
        return self.emulator.admin
