"""The few Airflow names whose import path moved between 3.0 and 3.3 (copied pattern, see
``version_compat.py`` in Airflow's own providers: no dependency on another provider for this)."""

from __future__ import annotations

from typing import Any

from airflow import __version__ as AIRFLOW_VERSION
from packaging.version import Version

_BASE = Version(Version(AIRFLOW_VERSION).base_version)
AIRFLOW_V_3_1_PLUS = Version("3.1.0") <= _BASE
AIRFLOW_V_3_3_PLUS = Version("3.3.0") <= _BASE


def mask_secret(secret: Any, name: str | None = None) -> None:
    """Register a value with Airflow's secrets masker (task process and supervisor)."""
    if not secret:
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
