"""The ``zoho_crm`` connection's fields, declared once.

Everything Airflow and the hook need about the connection is derived from the table below: the
provider info's ``conn-fields`` and ``ui-field-behaviour`` (Airflow 3.2+ builds the form from
them without importing the hook), the hook's ``get_connection_form_widgets`` and
``get_ui_field_behaviour`` (older Airflow with the FAB provider), and the hook's reading of the
extras. Adding an extra is one ``ExtraField`` entry; renaming one is its ``name``, with the old
name kept in ``aliases`` so existing connections still work.

This module imports no Airflow and no HTTP client: ``get_provider_info`` imports it at every
Airflow start-up.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from airflow_provider_zohorel.zoho.regions import API_VERSIONS, REGION_NAMES, REGIONS

CONN_TYPE = "zoho_crm"
HOOK_NAME = "Zoho CRM"
HOOK_CLASS = "airflow_provider_zohorel.hooks.zoho_crm.ZohoCRMHook"
HIDDEN_FIELDS = ("host", "port", "schema")
RELABELING = {"login": "Client ID", "password": "Client Secret"}
LOGIN_PLACEHOLDER = "1000.XXXXXXXXXXXXXXXXXXXXXXXXXXXXXX"


@dataclass(frozen=True)
class ExtraField:
    """One extra of the connection: how the form shows it and under which names the hook reads it."""

    name: str
    label: str
    description: str
    placeholder: str | None = None
    choices: tuple[str, ...] = ()
    choice_labels: Mapping[str, str] | None = None  # shown instead of the bare choice (values_display)
    default: str | None = None
    secret: bool = False  # a password widget, and registered with the secrets masker by the hook
    required: bool = False
    url: bool = False
    aliases: tuple[str, ...] = ()  # earlier names of the extra, still read

    def schema(self) -> dict[str, Any]:
        """The JSON schema of the field in ``conn-fields``.

        Every field may be null, the required one too: Airflow 3.3's form marks a non-null field's
        collapsed "Extra Fields" section red without saying why, so a required field says so in its
        label and the hook names it when it is missing. Choices list no ``None``: the 3.3 form
        would offer it as a literal "null" option (clearing the dropdown already leaves it unset).
        """
        schema: dict[str, Any] = {"type": ["string", "null"]}
        if self.secret:
            schema["format"] = "password"
        elif self.url:
            schema["format"] = "url"
        if self.choices:
            schema["enum"] = [*self.choices]
            if self.choice_labels:
                schema["values_display"] = {c: self.choice_labels.get(c, c) for c in self.choices}
        if self.default is not None:
            schema["default"] = self.default
        return schema


EXTRA_FIELDS: tuple[ExtraField, ...] = (
    ExtraField(
        "refresh_token",
        "Refresh Token (required)",
        "Required. The refresh token of a Self Client or server-based client (generated with "
        "access_type=offline), such as 1000.xxxxxxxx.xxxxxxxx. Access tokens are minted from it in "
        "memory.",
        placeholder="1000.xxxxxxxx.xxxxxxxx",
        secret=True,
        required=True,
    ),
    ExtraField(
        "region",
        "Data Centre (Region)",
        "Zoho data centre of the CRM org (the domain you sign in at): "
        + ", ".join(f"{region} ({accounts.split('//', 1)[1]})" for region, (accounts, _) in REGIONS.items())
        + ". Ignored when Accounts URL is set.",
        placeholder="us",
        choices=tuple(REGIONS),
        choice_labels={
            region: f"{REGION_NAMES[region]} ({accounts.split('//', 1)[1]})"
            for region, (accounts, _) in REGIONS.items()
        },
        default="us",
    ),
    ExtraField(
        "accounts_url",
        "Accounts URL",
        "Zoho Accounts server, such as https://accounts.zoho.eu: the server alone, no path. Overrides "
        "Region. Leave empty to use the Region's. http:// is accepted only for loopback hosts (the "
        "bundled emulator, such as http://127.0.0.1:8765).",
        placeholder="https://accounts.zoho.eu (overrides Region)",
        url=True,
    ),
    ExtraField(
        "mint_url",
        "Token URL",
        "Full URL where access tokens are minted, when it is not the Accounts URL's /oauth/v2/token: "
        "a Vertical Solutions portal mints at "
        "https://<solution>.zohoplatform.com/clientoauth/v2/<portal id>/token. Leave empty otherwise. "
        "Named mint_url, not token_url: Airflow masks every extra whose name contains 'token'.",
        placeholder="https://<solution>.zohoplatform.com/clientoauth/v2/<portal id>/token",
        url=True,
        aliases=("token_url",),
    ),
    ExtraField(
        "api_domain",
        "API Domain",
        "CRM API domain. Leave empty to use the api_domain of the token response; set it for "
        "Vertical Solutions (https://<org>.zohoplatform.com) and other custom domains.",
        placeholder="https://<org>.zohoplatform.com (only for custom domains)",
        url=True,
    ),
    ExtraField(
        "cache_backend",
        "Access Token Cache",
        "Where access tokens are shared: file (all task processes of this OS user on the machine, "
        "the default), memory (this process only), or a redis:// URL such as "
        "redis://redis-host:6379/0 (every worker of the deployment; needs the [redis] extra). "
        "Named cache_backend, not token_cache: Airflow masks every extra whose name contains "
        "'token', and token_cache is still read.",
        placeholder="file",
        default="file",
        aliases=("token_cache",),
    ),
    ExtraField(
        "concurrency_budget",
        "Concurrency Budget",
        "A redis:// URL such as redis://redis-host:6379/0, to share one budget of concurrent Zoho "
        "calls between every task and worker of the deployment (each call takes a slot, leased so "
        "a dead worker's slots come back; needs the [redis] extra). Empty: each task is bounded by "
        "its own max_concurrency only.",
        placeholder="redis://redis-host:6379/0",
    ),
    ExtraField(
        "concurrency_cap",
        "Concurrency Cap",
        "Size of the shared budget: your Zoho edition's concurrent-call cap, a number or an edition "
        "(free 5, standard 10, professional 15, enterprise 20, ultimate 25; default standard). Used "
        "with Concurrency Budget.",
        placeholder="standard",
        default="standard",
    ),
    ExtraField(
        "api_version",
        "API Version",
        f"CRM REST API version: {', '.join(API_VERSIONS)} (default {API_VERSIONS[0]}).",
        placeholder=API_VERSIONS[0],
        choices=API_VERSIONS,
        default=API_VERSIONS[0],
    ),
)


def read_extras(extra: Mapping[str, Any]) -> dict[str, Any]:
    """Each field's value from a connection's extras (``None`` when unset), by its name, then its
    aliases, then the ``extra__zoho_crm__<name>`` form older connection forms stored."""
    values: dict[str, Any] = {}
    for field in EXTRA_FIELDS:
        value = None
        for name in (field.name, *field.aliases):
            for key in (name, f"extra__{CONN_TYPE}__{name}"):
                if extra.get(key) not in (None, ""):
                    value = extra[key]
                    break
            if value is not None:
                break
        values[field.name] = value
    return values


def _placeholders() -> dict[str, str]:
    found = {"login": LOGIN_PLACEHOLDER}
    found.update({f.name: f.placeholder for f in EXTRA_FIELDS if f.placeholder is not None})
    return found


def provider_connection_type() -> dict[str, Any]:
    """The ``connection-types`` entry of the provider info."""
    return {
        "connection-type": CONN_TYPE,
        "hook-class-name": HOOK_CLASS,
        "hook-name": HOOK_NAME,
        "ui-field-behaviour": provider_ui_field_behaviour(),
        "conn-fields": provider_conn_fields(),
    }


def provider_conn_fields() -> dict[str, Any]:
    """``conn-fields`` of the provider info (Airflow 3.2+ connection form)."""
    return {
        f.name: {"label": f.label, "description": f.description, "schema": f.schema()} for f in EXTRA_FIELDS
    }


def provider_ui_field_behaviour() -> dict[str, Any]:
    """``ui-field-behaviour`` of the provider info (kebab-case keys)."""
    return {
        "hidden-fields": [*HIDDEN_FIELDS],
        "relabeling": dict(RELABELING),
        "placeholders": _placeholders(),
    }


def hook_ui_field_behaviour() -> dict[str, Any]:
    """The same behaviour as ``BaseHook.get_ui_field_behaviour`` returns it (before Airflow 3.2)."""
    return {key.replace("-", "_"): value for key, value in provider_ui_field_behaviour().items()}


def hook_form_widgets() -> dict[str, Any]:
    """wtforms fields for ``BaseHook.get_connection_form_widgets`` (before Airflow 3.2, with the FAB
    provider); empty where wtforms is not installed, as in a plain Airflow 3 install."""
    try:
        from flask_appbuilder.fieldwidgets import (  # type: ignore[import-not-found,unused-ignore]
            BS3PasswordFieldWidget,
            BS3TextFieldWidget,
        )
        from flask_babel import lazy_gettext  # type: ignore[import-not-found,unused-ignore]
        from wtforms import (  # type: ignore[import-not-found,import-untyped,unused-ignore]
            PasswordField,
            StringField,
        )
    except ImportError:
        return {}
    widgets: dict[str, Any] = {}
    for f in EXTRA_FIELDS:
        if f.secret:
            widgets[f.name] = PasswordField(
                lazy_gettext(f.label), widget=BS3PasswordFieldWidget(), description=f.description
            )
        else:
            widgets[f.name] = StringField(
                lazy_gettext(f.label), widget=BS3TextFieldWidget(), description=f.description
            )
    return widgets
