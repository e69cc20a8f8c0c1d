"""Turning user values into what Zoho accepts, or into an error that names the value at fault.

Record ids stay strings end to end: Zoho ids have 18-19 digits, beyond the 2**53 that a float (or
JavaScript number) holds exactly, so a float id has already lost digits and is refused.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

_ID = re.compile(r"^[0-9]{1,25}$")
_FIELD = re.compile(r"^\$?[A-Za-z][A-Za-z0-9_]*$")
MAX_FIELD_NAME = 100
MAX_TEXT = 32_000


class InvalidValue(ValueError):
    """Raised with a message naming the field and value (the caller adds the row)."""


def show_value(value: Any, limit: int = 60) -> str:
    """A value for an error message, at most ``limit`` characters: one bad cell must not put
    megabytes into the log, the exception and the XCom ``input_errors``."""
    if isinstance(value, (str, bytes)) and len(value) > limit:
        value = value[:limit]  # repr of the head only: never build the repr of a huge value
    elif isinstance(value, (Mapping, list, tuple, set)) and len(value) > limit:
        return f"<{type(value).__name__} of {len(value)} items>"
    try:
        text = repr(value)
    except Exception:  # a hostile __repr__ must not replace the real error
        text = f"<{type(value).__name__}>"
    return text if len(text) <= limit else text[: limit - 3] + "..."


def normalize_id(value: Any, field: str) -> str:
    """A Zoho record id as a digit string: from ``str`` (trimmed), ``int`` or integral ``Decimal``."""
    if type(value) is str and value.isascii() and value.isdigit() and len(value) <= 25:
        return value  # the common case, without the regex
    if isinstance(value, bool) or value is None:
        raise InvalidValue(f"{field}: expected a record id, got {show_value(value)}")
    if isinstance(value, int):
        text = str(value)
    elif isinstance(value, str):
        text = value.strip()
    elif isinstance(value, Decimal):
        if not value.is_finite() or value != value.to_integral_value():
            raise InvalidValue(f"{field}: {show_value(value)} is not a whole-number record id")
        text = str(int(value))
    elif isinstance(value, float):
        raise InvalidValue(
            f"{field}: {show_value(value)} is a float; Zoho ids have up to 19 digits and floats keep only "
            "15-16, so the id may already be wrong. Pass ids as strings (or integers)."
        )
    else:
        raise InvalidValue(f"{field}: expected a record id (string or integer), got {type(value).__name__}")
    if not text:
        raise InvalidValue(f"{field}: the record id is empty")
    if not _ID.match(text):
        raise InvalidValue(f"{field}: {show_value(value)} is not a Zoho record id (digits only)")
    return text


def check_field_name(name: Any) -> str:
    if not isinstance(name, str) or not _FIELD.match(name) or len(name) > MAX_FIELD_NAME:
        raise InvalidValue(f"{show_value(name)} is not a valid Zoho field API name")
    return name


def to_json_value(value: Any, field: str, depth: int = 0) -> Any:
    """A relation field value as JSON: finite numbers, strings, booleans, null, and (for lookups such
    as a note's ``Parent_Id``) small objects and lists of those."""
    if value is None or isinstance(value, (bool, str)):
        if isinstance(value, str) and len(value) > MAX_TEXT:
            raise InvalidValue(f"{field}: text of {len(value)} characters exceeds {MAX_TEXT}")
        return value
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise InvalidValue(f"{field}: {show_value(value)} is not a finite number")
        return value
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise InvalidValue(f"{field}: {show_value(value)} is not a finite number")
        return int(value) if value == value.to_integral_value() else float(value)
    if depth < 3 and isinstance(value, Mapping):
        return {check_field_name(k): to_json_value(v, f"{field}.{k}", depth + 1) for k, v in value.items()}
    if depth < 3 and isinstance(value, (list, tuple)):
        return [to_json_value(v, f"{field}[{i}]", depth + 1) for i, v in enumerate(value)]
    raise InvalidValue(f"{field}: {type(value).__name__} value {show_value(value)} cannot be sent to Zoho")
