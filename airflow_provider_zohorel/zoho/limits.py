"""Zoho's documented limits, each in one place: records per call and concurrent calls per edition.

Planning, the related-records calls, the hook and the operator all read them from here, so a
limit Zoho changes is changed once.
"""

from __future__ import annotations

from typing import Any

from airflow_provider_zohorel.zoho.values import InvalidValue, show_value

#: Related records per Update Related Records call (research/zoho-api.md 2.2: "up to 100").
MAX_BATCH = 100

#: Zoho's concurrency cap per edition (research/zoho-api.md 3.2); the default suits Standard.
EDITION_CONCURRENCY = {"free": 5, "standard": 10, "professional": 15, "enterprise": 20, "ultimate": 25}
DEFAULT_MAX_CONCURRENCY = EDITION_CONCURRENCY["standard"]


def check_batch_size(value: Any) -> int:
    """``value`` if it is a whole number of records Zoho accepts in one call (1 to 100)."""
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_BATCH:
        raise InvalidValue(f"batch_size must be an integer from 1 to {MAX_BATCH}, got {value!r}")
    return value


def parse_cap(value: Any) -> int:
    """A concurrency cap given as a whole number of calls (``10``, ``"10"``) or an edition name."""
    if isinstance(value, str):
        text = value.strip().lower()
        if text in EDITION_CONCURRENCY:
            return EDITION_CONCURRENCY[text]
        if text.isdigit():
            value = int(text)
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InvalidValue(
            f"the concurrency cap must be a whole number of calls (at least 1) or an edition "
            f"({', '.join(EDITION_CONCURRENCY)}), got {show_value(value)}"
        )
    return value
