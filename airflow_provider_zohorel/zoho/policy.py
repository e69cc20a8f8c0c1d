"""From failed items to a verdict: succeed, soft-fail (task skipped) or fail.

Each Zoho code maps to ``fail``, ``soft_fail`` or ``ignore``. Ignored codes are still reported;
they just do not count. Counted failures within every threshold the user set are tolerated (the
run succeeds with a warning); beyond that the most severe policy among them decides.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from airflow_provider_zohorel.zoho.results import SUCCESS

FAIL, SOFT_FAIL, IGNORE = "fail", "soft_fail", "ignore"
SUCCESS_OUTCOME = "success"
POLICIES = (FAIL, SOFT_FAIL, IGNORE)
_SEVERITY = {IGNORE: 0, SOFT_FAIL: 1, FAIL: 2}

#: Defaults (the README's policy table). Anything not listed, and any code Zoho adds later, fails.
DEFAULT_ITEM_CODE_POLICY: dict[str, str] = {
    "INVALID_DATA": FAIL,  # unknown/deleted parent or related record: the data needs fixing
    "MANDATORY_NOT_FOUND": FAIL,  # e.g. a price book relation without list_price
    "DUPLICATE_DATA": IGNORE,  # Zoho already holds this relation
    "TOO_MANY_REQUESTS": FAIL,  # credits or concurrency exhausted after retries; a retry resumes
    "INTERNAL_ERROR": FAIL,
    "TIMEOUT": FAIL,
    "CONNECTION_ERROR": FAIL,
    "*": FAIL,
}


def check_item_code_policy(policy: Mapping[str, str] | None) -> dict[str, str]:
    """Merge the user's mapping over the defaults; refuse values other than fail/soft_fail/ignore."""
    merged = dict(DEFAULT_ITEM_CODE_POLICY)
    for code, value in (policy or {}).items():
        if not isinstance(code, str) or not code:
            raise ValueError(f"item_code_policy keys must be Zoho codes, got {code!r}")
        if value not in POLICIES:
            raise ValueError(
                f"item_code_policy[{code!r}] is {value!r}; expected one of {', '.join(POLICIES)}"
            )
        merged[code if code == "*" else code.upper()] = value
    return merged


@dataclass(frozen=True)
class Verdict:
    outcome: str  # "success" | "soft_fail" | "fail"
    counted_failures: int
    tolerated: bool
    reason: str


@dataclass(frozen=True)
class OutcomePolicy:
    item_code_policy: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_ITEM_CODE_POLICY))
    max_failed_items: int | None = None
    max_failed_ratio: float | None = None
    soft_fail: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "item_code_policy", check_item_code_policy(self.item_code_policy))
        if self.max_failed_items is not None and (
            isinstance(self.max_failed_items, bool)
            or not isinstance(self.max_failed_items, int)
            or self.max_failed_items < 0
        ):
            raise ValueError(
                f"max_failed_items must be a non-negative integer, got {self.max_failed_items!r}"
            )
        if self.max_failed_ratio is not None and not (
            isinstance(self.max_failed_ratio, (int, float)) and 0 <= self.max_failed_ratio <= 1
        ):
            raise ValueError(f"max_failed_ratio must be between 0 and 1, got {self.max_failed_ratio!r}")

    def policy_for(self, code: str) -> str:
        return self.item_code_policy.get(code, self.item_code_policy.get("*", FAIL))

    def decide(self, total: int, by_code: Mapping[str, int]) -> Verdict:
        counted = {c: n for c, n in by_code.items() if c != SUCCESS and n and self.policy_for(c) != IGNORE}
        failures = sum(counted.values())
        if not failures:
            return Verdict(SUCCESS_OUTCOME, 0, False, "every item succeeded or was ignored by policy")
        limits = []
        if self.max_failed_items is not None:
            limits.append(failures <= self.max_failed_items)
        if self.max_failed_ratio is not None:
            limits.append(total > 0 and failures / total <= self.max_failed_ratio)
        summary = ", ".join(f"{c}: {n}" for c, n in sorted(counted.items()))
        if limits and all(limits):
            return Verdict(
                SUCCESS_OUTCOME,
                failures,
                True,
                f"{failures} failed item(s) within max_failed_items={self.max_failed_items}, "
                f"max_failed_ratio={self.max_failed_ratio} ({summary})",
            )
        worst = max((self.policy_for(c) for c in counted), key=_SEVERITY.__getitem__)
        if worst == FAIL and self.soft_fail:
            worst = SOFT_FAIL
        return Verdict(worst, failures, False, f"{failures} of {total} item(s) failed ({summary})")
