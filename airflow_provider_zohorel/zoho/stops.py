"""Why a run ended before every item was sent, and what that means for the task: decided here only.

A run is refused before the first call when its arguments, connection, relation or input are wrong,
and stops part-way when Zoho answers something no retry of the call can fix. Either way the items
not sent are reported with the stop's code, the summary's ``stopped_by`` names it, and the outcome
policy turns it into a task state through the stop's kind.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any

from airflow_provider_zohorel.zoho.errors import (
    ConnectionConfigError,
    ZohoAuthError,
    ZohoAuthUnavailable,
    ZohoConfigurationError,
    ZohoError,
    ZohoTransientError,
    quote_body,
)
from airflow_provider_zohorel.zoho.external_ids import InvalidExternalIds
from airflow_provider_zohorel.zoho.planning import InvalidInput
from airflow_provider_zohorel.zoho.relation_catalog import UnsupportedRelation
from airflow_provider_zohorel.zoho.sync import DelinkGuardTripped, StateTableConflict
from airflow_provider_zohorel.zoho.values import InvalidValue


class InvalidArguments(ValueError):
    """The task's own arguments are wrong (both inputs, a batch size of 0, ...): a DAG bug."""


class StopKind(enum.Enum):
    #: Nothing can succeed until a person fixes the configuration or the input: no retry.
    CONFIGURATION = "configuration"
    #: Zoho Accounts throttled token creation or could not be reached, or a call before the first
    #: batch outlived its retries: a later retry can work.
    UNAVAILABLE = "unavailable"
    #: Zoho kept answering 429: the unsent items carry the code and the item policy decides.
    ITEMS = "items"
    #: Not an answer anyone expected (a bug, a database error): raised as is, with its traceback.
    UNEXPECTED = "unexpected"


@dataclass(frozen=True)
class Stop:
    kind: StopKind
    code: str  # Zoho's code, or ours (INVALID_INPUT, INVALID_ARGUMENTS, CLIENT_ERROR...)
    message: str  # one line: for the summary's stopped_by and the items not sent
    reason: str  # the task's error message
    error: BaseException | None = None

    @property
    def retry_can_help(self) -> bool:
        return self.kind in (StopKind.UNAVAILABLE, StopKind.UNEXPECTED)

    @property
    def decided_by_items(self) -> bool:
        return self.kind is StopKind.ITEMS

    def describe(self) -> dict[str, Any]:
        """The summary's ``stopped_by``."""
        return {"code": self.code, "message": self.message}

    @classmethod
    def throttled(cls, message: str) -> Stop:
        """The run stopped calling because a batch still got 429 after every retry."""
        text = quote_body(message)
        return cls(StopKind.ITEMS, "TOO_MANY_REQUESTS", text, f"Stopped: Zoho TOO_MANY_REQUESTS: {text}")

    @classmethod
    def of(cls, error: BaseException) -> Stop:
        """What an exception that ended the run (or refused to start it) means for the task."""
        if isinstance(error, ZohoAuthUnavailable):
            return cls._zoho(StopKind.UNAVAILABLE, error, "a later retry of the task can succeed")
        if isinstance(error, (ZohoConfigurationError, ZohoAuthError)):
            return cls._zoho(StopKind.CONFIGURATION, error, "not retried: fix the configuration")
        if isinstance(error, ZohoTransientError):
            # Items never raise it (each gets its code); a call before the first batch does, such
            # as validate_related_list's metadata read: Zoho is unavailable, a later retry can work.
            return cls._zoho(StopKind.UNAVAILABLE, error, "a later retry of the task can succeed")
        if isinstance(error, ZohoError):
            return cls(StopKind.ITEMS, error.code, error.zoho_message, f"Stopped: {error}", error)
        if isinstance(error, InvalidInput):
            return cls._refused("INVALID_INPUT", str(error), error)
        if isinstance(error, InvalidValue):
            return cls._refused("INVALID_INPUT", f"Invalid input, nothing was sent to Zoho: {error}", error)
        if isinstance(error, (InvalidArguments, InvalidExternalIds)):
            return cls._refused("INVALID_ARGUMENTS", str(error), error)
        if isinstance(error, ConnectionConfigError):
            return cls._refused("INVALID_CONNECTION", str(error), error)
        if isinstance(error, DelinkGuardTripped):
            return cls._refused("DELINK_GUARD", str(error), error)
        if isinstance(error, StateTableConflict):
            return cls._refused("STATE_TABLE_CONFLICT", str(error), error)
        if isinstance(error, UnsupportedRelation):
            return cls._refused("UNSUPPORTED_RELATION", str(error), error)
        name = type(error).__name__
        return cls(StopKind.UNEXPECTED, "CLIENT_ERROR", name, f"{name}: {error}", error)

    @classmethod
    def _zoho(cls, kind: StopKind, error: ZohoError, what_next: str) -> Stop:
        return cls(kind, error.code, error.zoho_message, f"Stopped: {error} ({what_next})", error)

    @classmethod
    def _refused(cls, code: str, reason: str, error: BaseException) -> Stop:
        return cls(StopKind.CONFIGURATION, code, quote_body(reason), reason, error)
