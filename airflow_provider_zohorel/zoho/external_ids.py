"""External ids: the ``X-EXTERNAL`` header, and ids that are values of a module's external field.

Zoho's "Update Related Records Using External ID" pages (v2.1 to v8, e.g.
zoho.com/crm/developer/docs/api/v8/update-related-records-ext.html): the header is
``X-EXTERNAL: {Module}.{External_Field}``, two of them comma-separated when both sides are
external (``Contacts.External_Contact_ID,Deals.External_Deal_ID``). The URL then carries the
parent's external value instead of its record id, and a related module's external field replaces
``id`` in each item ("It is mandatory to include the external field in the request body when you
specify in the header"). v2 has no such page, so external ids need v2.1 or later.

External values are the user's own keys: they are sent as given (trimmed, URL-quoted in a path),
never checked as digits. Every related-records call (update here; get and delink reuse it) takes
the same :class:`ExternalIds`, resolved once per run.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from urllib.parse import quote

from airflow_provider_zohorel.zoho.values import InvalidValue, normalize_id, show_value

#: A module or field API name (v8 spec ``ParentRecordModule``/``RelatedList`` pattern, max 100).
API_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
MAX_API_NAME = 100
#: External fields are single-line text fields, which hold at most 255 characters (Kaizen #1,
#: "Fields in CRM API": single line, 255).
MAX_EXTERNAL_VALUE = 255
#: The first version with external ids (the ext pages exist from v2.1 to v8; v2 has none).
FIRST_EXTERNAL_VERSION = (2, 1)

HEADER = "X-EXTERNAL"


class InvalidExternalIds(ValueError):
    """The ``external`` argument cannot be an ``X-EXTERNAL`` value for this relation."""


def version_tuple(api_version: str) -> tuple[int, ...]:
    """``"v2.1"`` -> ``(2, 1)``; ``"v8"`` -> ``(8,)``."""
    return tuple(int(part) for part in api_version.lstrip("v").split("."))


def external_value(value: Any, where: str) -> str:
    """An external field value as sent: text (trimmed) or a whole number, at most 255 characters.

    Floats are refused for the reason record ids are (digits may already be lost); any other text
    is the user's key and is not checked further.
    """
    if type(value) is str and 0 < len(value) <= MAX_EXTERNAL_VALUE and value == value.strip():
        return value  # the common case
    if isinstance(value, bool) or value is None:
        raise InvalidValue(f"{where}: expected an external id value, got {show_value(value)}")
    if isinstance(value, int):
        text = str(value)
    elif isinstance(value, Decimal) and value.is_finite() and value == value.to_integral_value():
        text = str(int(value))
    elif isinstance(value, str):
        text = value.strip()
    elif isinstance(value, float):
        raise InvalidValue(
            f"{where}: {show_value(value)} is a float; pass external ids as text (or integers) "
            "so no digit is lost"
        )
    else:
        raise InvalidValue(f"{where}: expected an external id value (text), got {type(value).__name__}")
    if not text:
        raise InvalidValue(f"{where}: the external id is empty")
    if len(text) > MAX_EXTERNAL_VALUE:
        raise InvalidValue(
            f"{where}: external id of {len(text)} characters; an external field holds at most "
            f"{MAX_EXTERNAL_VALUE}"
        )
    return text


@dataclass(frozen=True)
class ExternalIds:
    """Which side of a relation is addressed by external values, and the header that says so.

    ``parent_field``: the parent module's external field (the URL's record part is its value);
    ``related_field``: the listed module's (each item carries it instead of ``id``).
    """

    header: str
    parent_field: str | None
    related_field: str | None

    @classmethod
    def parse(
        cls,
        value: Any,
        *,
        parent: str,
        holds: str | None,
        api_version: str,
        canonical: Callable[[str], str] = lambda name: name,
    ) -> ExternalIds:
        """Read ``"Module.Field"`` (or two of them, comma-separated) for ``parent``'s list holding
        ``holds`` (None: the catalog does not know which module the list holds, so a part that
        does not name the parent is taken for the related side)."""
        if not isinstance(value, str) or not value.strip():
            raise InvalidExternalIds(
                "external must be an X-EXTERNAL value such as 'Leads.External_Lead_ID', "
                f"got {show_value(value)}"
            )
        if version_tuple(api_version) < FIRST_EXTERNAL_VERSION:
            raise InvalidExternalIds(
                f"external ids need API version v2.1 or later (X-EXTERNAL exists from v2.1); the "
                f"connection uses {api_version}"
            )
        parts = [part.strip() for part in value.split(",")]
        if len(parts) > 2:
            raise InvalidExternalIds(
                f"external {show_value(value)} names {len(parts)} fields; at most two (the parent's and the "
                "related module's)"
            )
        parent_field = related_field = None
        rendered = []
        for part in parts:
            module, _, field_name = part.partition(".")
            if not (_is_api_name(module) and _is_api_name(field_name)):
                raise InvalidExternalIds(
                    f"external part {show_value(part)} is not 'Module.External_Field' (API names)"
                )
            module = canonical(module)
            if module.lower() == parent.lower() and parent_field is None:
                parent_field = field_name
            elif (holds is None or module.lower() == holds.lower()) and related_field is None:
                related_field = field_name
            else:
                sides = f"the parent module {parent}" + (
                    f" or the module the list holds ({holds})" if holds else ""
                )
                raise InvalidExternalIds(
                    f"external part {show_value(part)} names neither side of the relation once: it must name "
                    f"{sides}"
                )
            rendered.append(f"{module}.{field_name}")
        return cls(",".join(rendered), parent_field, related_field)

    @property
    def headers(self) -> dict[str, str]:
        return {HEADER: self.header}


def _is_api_name(name: str) -> bool:
    return bool(name) and len(name) <= MAX_API_NAME and API_NAME.match(name) is not None


def parent_ref(external: ExternalIds | None, value: Any, where: str) -> str:
    """The parent's reference as the URL carries it: a record id, or an external value."""
    if external is not None and external.parent_field is not None:
        return external_value(value, where)
    return normalize_id(value, where)


def related_ref(external: ExternalIds | None, value: Any, where: str) -> str:
    """A related record's reference: a record id, or a value of the related external field."""
    if external is not None and external.related_field is not None:
        return external_value(value, where)
    return normalize_id(value, where)


def path_part(ref: str) -> str:
    """A record reference as a URL path segment (external values may hold any character)."""
    return quote(ref, safe="")


def wire_item(external: ExternalIds | None, item: Mapping[str, Any]) -> dict[str, Any]:
    """An item as Zoho reads it: ``id`` renamed to the related external field when there is one."""
    if external is None or external.related_field is None:
        return dict(item)
    out = {external.related_field: item["id"]}
    out.update((k, v) for k, v in item.items() if k != "id")
    return out
