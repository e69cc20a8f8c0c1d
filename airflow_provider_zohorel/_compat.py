"""The few Airflow names whose import path moved between 3.0 and 3.3 (copied pattern, see
``version_compat.py`` in Airflow's own providers: no dependency on another provider for this)."""

from __future__ import annotations

from typing import Any

from airflow import __version__ as AIRFLOW_VERSION
from packaging.version import Version

_BASE = Version(Version(AIRFLOW_VERSION).base_version)
AIRFLOW_V_3_1_PLUS = Version("3.1.0") <= _BASE
AIRFLOW_V_3_3_PLUS = Version("3.3.0") <= _BASE


#: Airflow's ``[logging] min_length_masked_secret`` default: shorter values are never masked.
DEFAULT_MIN_MASKED_LENGTH = 5


def min_masked_length() -> int:
    """The shortest value Airflow's masker masks (it warns about, and skips, shorter ones)."""
    try:
        from airflow.sdk._shared.secrets_masker import _secrets_masker
    except ImportError:  # Airflow before 3.2 keeps the masker elsewhere: its default applies
        return DEFAULT_MIN_MASKED_LENGTH
    length = getattr(_secrets_masker(), "min_length_to_mask", DEFAULT_MIN_MASKED_LENGTH)
    return length if isinstance(length, int) else DEFAULT_MIN_MASKED_LENGTH


def mask_secret(secret: Any, name: str | None = None) -> None:
    """Register a value with Airflow's secrets masker (task process and supervisor).

    A string too short to mask is not registered: Airflow would skip it anyway, after logging
    "Skipping masking for a secret as it's too short" at the top of the task log.
    """
    if not secret or (isinstance(secret, str) and len(secret) < min_masked_length()):
        return
    try:
        from airflow.sdk.log import mask_secret as masker
    except ImportError:  # Airflow 3.0
        from airflow.sdk.execution_time.secrets_masker import mask_secret as masker  # type: ignore[no-redef]
    masker(secret, name)


try:
    from airflow.sdk import BaseHook
except ImportError:  # Airflow 3.0: the Task SDK gained BaseHook in 3.1
    from airflow.hooks.base import BaseHook  # type: ignore[attr-defined,no-redef,unused-ignore]  # noqa: TID251

try:
    from airflow.sdk.exceptions import AirflowException, AirflowFailException, AirflowSkipException
except ImportError:  # Airflow 3.0 keeps them in airflow.exceptions only
    from airflow.exceptions import (  # type: ignore[attr-defined,no-redef,unused-ignore]
        AirflowException,
        AirflowFailException,
        AirflowSkipException,
    )

__all__ = [
    "AIRFLOW_V_3_1_PLUS",
    "AIRFLOW_V_3_3_PLUS",
    "AirflowException",
    "AirflowFailException",
    "AirflowSkipException",
    "BaseHook",
    "mask_secret",
]
