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


class FaultPlan:
    """The live fault plan; ``next_fault`` is called once per admitted CRM request."""

    def __init__(self) -> None:
        self.settings = FaultSettings()
        self.failing_ids: frozenset[str] = frozenset()
        self._rng: random.Random | None = None
        self.injected: dict[str, int] = {}

    def update(self, changes: dict[str, Any]) -> FaultSettings:
        """Merge ``changes`` into the plan (validated); a new ``random`` block re-seeds it."""
        merged: dict[str, Any] = msgspec.to_builtins(self.settings)
        merged.update(changes)
        settings = msgspec.convert(merged, FaultSettings)
        self.settings = settings
        self.failing_ids = frozenset(str(i) for i in settings.failing_ids)
        if "random" in changes:
            self._rng = None if settings.random is None else random.Random(settings.random.seed)
        return settings

    def clear(self) -> None:
        """No faults."""
        self.settings = FaultSettings()
        self.failing_ids = frozenset()
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

    def deny_next_mint(self) -> bool:
        """True (and consumed) when the next token mint must be denied."""
        if self.settings.deny_mints_next:
            self.settings.deny_mints_next -= 1
            self.injected["deny_mint"] = self.injected.get("deny_mint", 0) + 1
            return True
        return False
