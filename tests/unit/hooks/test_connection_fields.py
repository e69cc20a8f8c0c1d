"""The connection's fields are declared once: provider info, both connection-form APIs and the
hook's reading of the extras all come from the same table, and so does the README's table."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
import types
from pathlib import Path

import pytest

from airflow_provider_zohorel import get_provider_info
from airflow_provider_zohorel.hooks import connection_fields
from airflow_provider_zohorel.hooks.connection_fields import EXTRA_FIELDS, read_extras
from airflow_provider_zohorel.hooks.zoho_crm import ZohoCRMHook
from airflow_provider_zohorel.zoho.regions import API_VERSIONS, REGIONS

README = Path(__file__).resolve().parents[3] / "README.md"
NAMES = [f.name for f in EXTRA_FIELDS]


def _connection_type() -> dict:
    (conn,) = get_provider_info()["connection-types"]
    return conn


def test_provider_info_declares_every_field_of_the_table_and_nothing_else():
    fields = _connection_type()["conn-fields"]
    assert list(fields) == NAMES
    for field in EXTRA_FIELDS:
        assert fields[field.name]["label"] == field.label
        assert fields[field.name]["description"] == field.description


def test_regions_and_api_versions_come_from_the_core_with_no_null_option():
    """A ``None`` in an enum is a literal "null" option in Airflow 3.3's dropdowns."""
    fields = _connection_type()["conn-fields"]
    assert fields["region"]["schema"]["enum"] == [*REGIONS]
    assert fields["api_version"]["schema"]["enum"] == [*API_VERSIONS]
    assert fields["api_version"]["schema"]["default"] == API_VERSIONS[0] == "v2"
    for region, (accounts, _api) in REGIONS.items():
        assert f"{region} ({accounts.removeprefix('https://')})" in fields["region"]["description"]


def test_regions_are_shown_by_name_and_sign_in_domain():
    shown = _connection_type()["conn-fields"]["region"]["schema"]["values_display"]
    assert list(shown) == list(REGIONS)
    assert shown["eu"] == "Europe (accounts.zoho.eu)"
    assert shown["ca"] == "Canada (accounts.zohocloud.ca)"
    assert all(label != code for code, label in shown.items())


def test_no_field_is_required_by_its_schema_and_the_required_one_says_so():
    """A non-null field turns 3.3's collapsed "Extra Fields" section red with no visible reason."""
    fields = _connection_type()["conn-fields"]
    assert all(f["schema"]["type"] == ["string", "null"] for f in fields.values())
    required = [f for f in EXTRA_FIELDS if f.required]
    assert [f.name for f in required] == ["refresh_token"]
    assert all("(required)" in f.label and f.description.startswith("Required.") for f in required)


def test_every_placeholder_example_is_also_in_the_description():
    """Airflow 3.3's form does not show the extras' placeholders; the description is shown."""
    for field in EXTRA_FIELDS:
        if field.placeholder is not None:
            example = field.placeholder.split(" (", 1)[0]
            assert example in field.description, field.name


def test_only_secret_fields_are_password_fields():
    fields = _connection_type()["conn-fields"]
    secret = {name for name, f in fields.items() if f["schema"].get("format") == "password"}
    assert secret == {f.name for f in EXTRA_FIELDS if f.secret} == {"refresh_token"}


def test_the_hook_s_field_behaviour_is_the_provider_info_s():
    provider = _connection_type()["ui-field-behaviour"]
    hook = ZohoCRMHook.get_ui_field_behaviour()
    assert hook == {
        "hidden_fields": provider["hidden-fields"],
        "relabeling": provider["relabeling"],
        "placeholders": provider["placeholders"],
    }
    assert hook["hidden_fields"] == ["host", "port", "schema"]
    assert set(hook["placeholders"]) <= {"login", *NAMES}


def _fake_wtforms(monkeypatch: pytest.MonkeyPatch) -> None:
    """Stand-ins for wtforms, flask_babel and flask_appbuilder (FAB is not installed here)."""

    class Field:
        def __init__(self, label, widget=None, description=""):
            self.label, self.widget, self.description = label, widget, description

    wtforms = types.SimpleNamespace(
        StringField=type("StringField", (Field,), {}), PasswordField=type("PasswordField", (Field,), {})
    )
    widgets = types.SimpleNamespace(
        BS3TextFieldWidget=type("BS3TextFieldWidget", (), {}),
        BS3PasswordFieldWidget=type("BS3PasswordFieldWidget", (), {}),
    )
    monkeypatch.setitem(sys.modules, "wtforms", wtforms)
    monkeypatch.setitem(sys.modules, "flask_babel", types.SimpleNamespace(lazy_gettext=str))
    monkeypatch.setitem(sys.modules, "flask_appbuilder", types.ModuleType("flask_appbuilder"))
    monkeypatch.setitem(sys.modules, "flask_appbuilder.fieldwidgets", widgets)


def test_the_older_connection_form_shows_every_field_with_a_password_widget_for_secrets(monkeypatch):
    _fake_wtforms(monkeypatch)
    widgets = ZohoCRMHook.get_connection_form_widgets()
    assert list(widgets) == NAMES  # cache_backend included (it was missing before)
    for field in EXTRA_FIELDS:
        widget = widgets[field.name]
        assert type(widget).__name__ == ("PasswordField" if field.secret else "StringField")
        assert widget.label == field.label


def test_without_wtforms_the_older_form_is_empty_rather_than_an_error(monkeypatch):
    monkeypatch.setitem(sys.modules, "wtforms", None)  # "import wtforms" raises ImportError
    assert ZohoCRMHook.get_connection_form_widgets() == {}


def test_extras_are_read_by_name_then_by_legacy_prefix():
    values = read_extras(
        {
            "refresh_token": "1000.r",
            "extra__zoho_crm__region": "eu",
            "api_version": "",
            "extra__zoho_crm__api_version": "v8",
            "accounts_url": None,
            "unrelated": "ignored",
        }
    )
    assert values == {
        "refresh_token": "1000.r",
        "region": "eu",
        "accounts_url": None,
        "mint_url": None,
        "api_domain": None,
        "cache_backend": None,
        "concurrency_budget": None,
        "concurrency_cap": None,
        "api_version": "v8",
    }


def test_mint_url_is_also_read_as_token_url():
    """The issue and Zoho's docs say "token URL"; Airflow masks an extra of that name, so the field
    is mint_url and token_url is its alias."""
    portal = "https://zylkercorp.zohoplatform.com/clientoauth/v2/12345678/token"
    assert read_extras({"token_url": portal})["mint_url"] == portal
    assert read_extras({"mint_url": portal, "token_url": "ignored"})["mint_url"] == portal


def test_no_plain_extra_has_a_name_airflow_masks():
    """DESIGN.md: a plain extra named like a secret is shown as *** in the form and in every log."""
    sensitive = ("token", "secret", "password", "passwd", "api_key", "apikey", "private_key", "authorization")
    plain = [f.name for f in EXTRA_FIELDS if not f.secret and any(w in f.name for w in sensitive)]
    assert plain == []


def test_airflow_s_own_masker_hides_no_plain_extra_and_every_secret_one():
    """The same check through Airflow's masker, whichever words its version treats as secret."""
    masker = pytest.importorskip("airflow.sdk._shared.secrets_masker")
    hidden = {f.name for f in EXTRA_FIELDS if masker.should_hide_value_for_key(f.name)}
    assert hidden == {f.name for f in EXTRA_FIELDS if f.secret}
    assert masker.should_hide_value_for_key("token_cache")  # why the extra was renamed


def test_the_cache_backend_is_also_read_as_token_cache():
    """Its earlier name, which Airflow masks (the form showed *** and saved the literal ***)."""
    assert read_extras({"token_cache": "memory"})["cache_backend"] == "memory"
    assert read_extras({"token_cache": "memory", "cache_backend": "file"})["cache_backend"] == "file"
    assert read_extras({"extra__zoho_crm__token_cache": "memory"})["cache_backend"] == "memory"


def test_a_renamed_field_still_reads_its_old_name(monkeypatch):
    renamed = tuple(
        dataclasses.replace(f, name="cache", aliases=("cache_backend",)) if f.name == "cache_backend" else f
        for f in EXTRA_FIELDS
    )
    monkeypatch.setattr(connection_fields, "EXTRA_FIELDS", renamed)
    assert connection_fields.read_extras({"cache_backend": "memory"})["cache"] == "memory"
    assert connection_fields.read_extras({"cache_backend": "memory", "cache": "file"})["cache"] == "file"


def test_the_readme_connection_table_lists_every_field_region_and_version():
    text = README.read_text()
    table = text[text.index("| Field | Where | Meaning |") :]
    table = table[: table.index("\n\n")]
    for field in EXTRA_FIELDS:
        assert f"extra `{field.name}`" in table, field.name
    region_row = next(line for line in table.splitlines() if "extra `region`" in line)
    for region in REGIONS:
        assert f"`{region}`" in region_row
    version_row = next(line for line in table.splitlines() if "extra `api_version`" in line)
    assert f"`{API_VERSIONS[0]}` (default)" in version_row
    assert f"`{API_VERSIONS[-1]}`" in version_row


def test_get_provider_info_imports_neither_airflow_nor_the_http_client():
    """Airflow calls it in every process at start-up, before any hook is used."""
    code = (
        "import sys, airflow_provider_zohorel as p; p.get_provider_info(); "
        "heavy = sorted(m for m in sys.modules if m.split('.')[0] in ('airflow', 'requests', 'pendulum') "
        "               or m.startswith('airflow_provider_zohorel.zoho.client')); "
        "print(heavy); sys.exit(1 if heavy else 0)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
