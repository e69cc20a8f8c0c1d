"""From a run's summary and its stop to a verdict: succeed, soft-fail (task skipped) or fail, and
whether an Airflow retry of the task can change that.

A stop that no item decides (configuration, input, an unavailable accounts server, a bug) decides
by itself; what each stop means is :mod:`airflow_provider_zohorel.zoho.stops`. Otherwise each Zoho
code maps to ``fail``, ``soft_fail`` or ``ignore``. Ignored codes are still reported; they just do
not count. Counted failures within every threshold the user set are tolerated (the run succeeds
with a warning); beyond that the most severe policy among them decides.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from airflow_provider_zohorel.zoho.results import SUCCESS
from airflow_provider_zohorel.zoho.stops import Stop, StopKind
from airflow_provider_zohorel.zoho.summary import RunSummary

FAIL, SOFT_FAIL, IGNORE = "fail", "soft_fail", "ignore"
SUCCESS_OUTCOME = "success"
POLICIES = (FAIL, SOFT_FAIL, IGNORE)
_SEVERITY = {IGNORE: 0, SOFT_FAIL: 1, FAIL: 2}

#: Defaults (the README's policy table), each with its source. A code with no documented meaning
#: gets ``fail``: a default that hides failures needs a source saying they are harmless.
DEFAULT_ITEM_CODE_POLICY: dict[str, str] = {
    # "the id given seems to be invalid" / "the related id given seems to be invalid": the record
    # does not exist or cannot be related, the data needs fixing (v8 spec updateRelatedRecords
    # RelationNotFoundBulk example; update-related-records v7 docs, Possible Errors).
    "INVALID_DATA": FAIL,
    # "required field not found", e.g. list_price for price books (v8 spec MandatoryNotFoundBulk).
    "MANDATORY_NOT_FOUND": FAIL,
    # In the spec's item code enum (BulkOperationResponse) with no example and no documented
    # meaning for related records (research 6): nothing says Zoho holds the relation, so it fails.
    "DUPLICATE_DATA": FAIL,
    # "wait for Zia Vision to complete the image processing" (help.zoho.com community, "The New
    # Error Codes in CRM API - RECORD_LOCKED and NOT_APPROVED"): retried within the run (bounded,
    # zoho/locked_items.py); still locked after that, it fails, and a task retry resends it.
    "RECORD_LOCKED": FAIL,
    # 429: "API requests for the 24 hour period is exceeded or the concurrency limit ... is
    # exceeded" (v8 status-codes docs); retried per call first; a task retry resumes.
    "TOO_MANY_REQUESTS": FAIL,
    # 500: "Retry the request after a brief delay" (v8 spec updateRelatedRecords 500); retried
    # per call first.
    "INTERNAL_ERROR": FAIL,
    # The client's own codes, no Zoho source: no answer within the budget, or the connection
    # dropped. The change may or may not have been applied (the item's message says which).
    "TIMEOUT": FAIL,
    "CONNECTION_ERROR": FAIL,
    # Anything else, including codes Zoho adds later: fail loudly rather than pass silently.
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
    """The task's outcome, and the message that goes with it (its error, or a warning)."""

    outcome: str  # "success" | "soft_fail" | "fail"
    retry_can_help: bool  # a failed task: whether an Airflow retry can change the outcome
    reason: str
    counted_failures: int = 0
    tolerated: bool = False
    stopped_by: Stop | None = None

    @property
    def unexpected(self) -> BaseException | None:
        """A failure no one foresaw (a bug, a database error): raised as is, with its traceback."""
        stop = self.stopped_by
        return stop.error if stop is not None and stop.kind is StopKind.UNEXPECTED else None


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

    def decide(self, summary: RunSummary, stopped_by: Stop | None = None) -> Verdict:
        """The verdict on a run: its stop decides if it had one no item decides, else its items."""
        if stopped_by is not None and not stopped_by.decided_by_items:
            return Verdict(FAIL, stopped_by.retry_can_help, stopped_by.reason, stopped_by=stopped_by)
        total, by_code = summary.total, summary.by_code
        counted = {c: n for c, n in by_code.items() if c != SUCCESS and n and self.policy_for(c) != IGNORE}
        failures = sum(counted.values())
        if not failures:
            reason = "every item succeeded or was ignored by policy"
            return Verdict(SUCCESS_OUTCOME, False, reason, stopped_by=stopped_by)
        limits = []
        if self.max_failed_items is not None:
            limits.append(failures <= self.max_failed_items)
        if self.max_failed_ratio is not None:
            limits.append(total > 0 and failures / total <= self.max_failed_ratio)
        codes = ", ".join(f"{c}: {n}" for c, n in sorted(counted.items()))
        if limits and all(limits):
            reason = (
                f"Tolerated: {failures} failed item(s) within max_failed_items={self.max_failed_items}, "
                f"max_failed_ratio={self.max_failed_ratio} ({codes})"
            )
            return Verdict(SUCCESS_OUTCOME, False, reason, failures, tolerated=True, stopped_by=stopped_by)
        worst = max((self.policy_for(c) for c in counted), key=_SEVERITY.__getitem__)
        if worst == FAIL and self.soft_fail:
            worst = SOFT_FAIL
        failed = f"{failures} of {total} item(s) failed ({codes})"
        if worst == SOFT_FAIL:
            return Verdict(SOFT_FAIL, False, f"Soft fail: {failed}", failures, stopped_by=stopped_by)
        # a retry of the task resends only what failed (resume), so it can help
        return Verdict(FAIL, True, f"Failed: {failed}", failures, stopped_by=stopped_by)
