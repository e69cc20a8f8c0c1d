"""Fault injection: what the next CRM requests (and token mints) should suffer.

Counters ("the next N requests ...") are consumed one per admitted CRM request, in a fixed order
(error_500, drop_before, drop_after, slow), then the seeded random plan is drawn once per request,
so a sequential client sees the same faults on every replay with the same seed.
"""

from __future__ import annotations

import random
from typing import Annotated, Any, Literal

import msgspec

FaultKind = Literal["error_500", "drop_before", "drop_after", "slow"]
RandomKind = Literal["error_500", "drop_before", "drop_after"]

Count = Annotated[int, msgspec.Meta(ge=0)]
Probability = Annotated[float, msgspec.Meta(ge=0, le=1)]


class RandomFaults(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Each admitted CRM request fails with ``probability``, its kind drawn from ``kinds``."""

    probability: Probability
    seed: int = 0
    kinds: list[RandomKind] = msgspec.field(
        default_factory=lambda: ["error_500", "drop_before", "drop_after"]
    )


class FaultSettings(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """The fault plan as the admin API reads and writes it."""

    #: Next N CRM requests answer 500 INTERNAL_ERROR without applying anything.
    error_500_next: Count = 0
    #: Next N CRM requests lose their connection before anything is applied.
    drop_before_next: Count = 0
    #: Next N CRM requests are applied, then lose their connection (a lost response).
    drop_after_next: Count = 0
    #: Next N CRM requests answer after ``slow_ms`` (meant to exceed a client timeout).
    slow_next: Count = 0
    slow_ms: Annotated[float, msgspec.Meta(ge=0)] = 0.0
    #: Slow requests are applied first (True) or not applied and answered 500 (False).
    slow_apply: bool = True
    #: Seeded random faults; None = off.
    random: RandomFaults | None = None
    #: Related ids that fail per item with INVALID_DATA, as if they did not exist.
    failing_ids: list[str] = msgspec.field(default_factory=list)
    #: Next N token mints answer "Access Denied" (HTTP 200), as the mint throttle does.
    deny_mints_next: Count = 0
    #: Next N CRM requests answer 401 with ``auth_error_code``, whatever their token, so a client
    #: test can drive each 401 code Zoho sends (INVALID_TOKEN, INVALID_OAUTHTOKEN,
    #: AUTHENTICATION_FAILURE, OAUTH_SCOPE_MISMATCH: research 1.6, v8 token-validity page) or
    #: one Zoho may add later. The token itself stays valid.
    auth_errors_next: Count = 0
    auth_error_code: str = "INVALID_TOKEN"
    #: Message of the injected 401; None = Zoho's wording for known codes.
    auth_error_message: str | None = None
    #: Every Nth authenticated CRM request has its access token revoked first, so it (and every
    #: later call with that token) is answered 401 INVALID_OAUTHTOKEN. 0 = off.
    revoke_access_token_every: Count = 0
    #: Related ids answered per item RECORD_LOCKED ("locked while Zia image processing holds the
    #: record ... wait and retry": help.zoho.com community "The New Error Codes in CRM API -
    #: RECORD_LOCKED and NOT_APPROVED"), each for ``lock_attempts`` attempts (0 = until cleared).
    locked_ids: list[str] = msgspec.field(default_factory=list)
    lock_attempts: Count = 1


class FaultPlan:
    """The live fault plan; ``next_fault`` is called once per admitted CRM request."""

    def __init__(self) -> None:
        self.settings = FaultSettings()
        self.failing_ids: frozenset[str] = frozenset()
        #: Locked related id -> attempts it still answers RECORD_LOCKED (0 = until cleared).
        self.locks: dict[str, int] = {}
        self._rng: random.Random | None = None
        self._authenticated = 0
        self.injected: dict[str, int] = {}

    def update(self, changes: dict[str, Any]) -> FaultSettings:
        """Merge ``changes`` into the plan (validated); a new ``random`` block re-seeds it."""
        merged: dict[str, Any] = msgspec.to_builtins(self.settings)
        merged.update(changes)
        settings = msgspec.convert(merged, FaultSettings)
        self.settings = settings
        self.failing_ids = frozenset(str(i) for i in settings.failing_ids)
        if "locked_ids" in changes or "lock_attempts" in changes:
            self.locks = {str(i): settings.lock_attempts for i in settings.locked_ids}
        if "revoke_access_token_every" in changes:
            self._authenticated = 0
        if "random" in changes:
            self._rng = None if settings.random is None else random.Random(settings.random.seed)
        return settings

    def clear(self) -> None:
        """No faults."""
        self.settings = FaultSettings()
        self.failing_ids = frozenset()
        self.locks = {}
        self._authenticated = 0
        self._rng = None

    def to_dict(self) -> dict[str, Any]:
        """Admin-API view."""
        result: dict[str, Any] = msgspec.to_builtins(self.settings)
        return result

    def next_fault(self) -> FaultKind | None:
        """The fault for the request being admitted now, consuming counters and random draws."""
        s = self.settings
        kind: FaultKind | None = None
        if s.error_500_next:
            s.error_500_next -= 1
            kind = "error_500"
        elif s.drop_before_next:
            s.drop_before_next -= 1
            kind = "drop_before"
        elif s.drop_after_next:
            s.drop_after_next -= 1
            kind = "drop_after"
        elif s.slow_next:
            s.slow_next -= 1
            kind = "slow"
        elif self._rng is not None and s.random is not None:
            rng = self._rng
            if rng.random() < s.random.probability and s.random.kinds:
                kind = rng.choice(s.random.kinds)
        if kind is not None:
            self.injected[kind] = self.injected.get(kind, 0) + 1
        return kind

    def next_auth_error(self) -> tuple[str, str | None] | None:
        """(code, message) of an injected 401 for the CRM request arriving now, if any."""
        s = self.settings
        if not s.auth_errors_next:
            return None
        s.auth_errors_next -= 1
        self._count("auth_error")
        return s.auth_error_code, s.auth_error_message

    def revoke_this_token(self) -> bool:
        """True when the authenticated request arriving now must lose its access token."""
        every = self.settings.revoke_access_token_every
        if not every:
            return False
        self._authenticated += 1
        if self._authenticated % every:
            return False
        self._count("revoke_access_token")
        return True

    def is_locked(self, record_id: str) -> bool:
        """True (and one attempt consumed) when ``record_id`` is locked for this attempt."""
        left = self.locks.get(record_id)
        if left is None:
            return False
        if left == 1:
            del self.locks[record_id]
        elif left > 1:
            self.locks[record_id] = left - 1
        self._count("record_locked")
        return True

    def _count(self, kind: str) -> None:
        self.injected[kind] = self.injected.get(kind, 0) + 1

    def deny_next_mint(self) -> bool:
        """True (and consumed) when the next token mint must be denied."""
        if self.settings.deny_mints_next:
            self.settings.deny_mints_next -= 1
            self.injected["deny_mint"] = self.injected.get("deny_mint", 0) + 1
            return True
        return False
