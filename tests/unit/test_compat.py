"""What the provider hands to Airflow's secrets masker: never a value too short to mask, which
would only open every task log with "Skipping masking for a secret as it's too short"."""

from __future__ import annotations

import pytest

from airflow_provider_zohorel import _compat

masker = pytest.importorskip("airflow.sdk._shared.secrets_masker")


@pytest.fixture
def warned(monkeypatch: pytest.MonkeyPatch):
    """Airflow's once-per-process flag, set exactly when it logs the too-short warning."""
    monkeypatch.setattr(masker.SecretsMasker, "_has_warned_short_secret", False)
    return lambda: masker.SecretsMasker._has_warned_short_secret


def test_a_value_too_short_to_mask_is_not_registered(warned):
    _compat.mask_secret("file")
    assert not warned()
    masker.mask_secret("file")  # Airflow's own call, for contrast: the check can fail
    assert warned()


def test_a_value_long_enough_is_registered_and_masked(warned):
    _compat.mask_secret("zohorel-compat-secret-4711")
    assert not warned()
    assert "zohorel-compat-secret-4711" not in str(masker.redact("x zohorel-compat-secret-4711 y"))


def test_the_hook_registers_nothing_too_short(warned, monkeypatch):
    """Every value the hook itself registers, for a connection with a short client secret and short
    plain extras (the connection is handed over as is: reading it is Airflow's part, below)."""
    import types

    from airflow_provider_zohorel.hooks.zoho_crm import ZohoCRMHook

    extra = {
        "refresh_token": "1000.compat.refresh",
        "region": "eu",
        "api_version": "v8",
        "cache_backend": "file",
    }
    conn = types.SimpleNamespace(conn_type="zoho_crm", login="1000.C", password="abc", extra_dejson=extra)
    hook = ZohoCRMHook("zoho_compat")
    monkeypatch.setattr(hook, "get_connection", lambda conn_id: conn)
    hook.credentials  # noqa: B018
    hook._choose_token_cache()
    assert not warned()


def test_airflow_itself_warns_when_it_reads_a_short_extra_value(warned):
    """Why a task log may still open with the warning: Airflow's ``extra_dejson`` registers every
    extra value by key, and checks the length before the key, so ``"region": "eu"`` is enough."""
    from airflow.sdk import Connection

    Connection(conn_id="zoho_short", conn_type="zoho_crm", extra='{"region": "eu"}').extra_dejson  # noqa: B018
    assert warned()
