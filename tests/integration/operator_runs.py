"""Running UpdateRelatedRecordsOperator.execute as a worker runs it, against the emulator."""

from __future__ import annotations

from typing import Any

from airflow_provider_zohorel.emulator import ZohoEmulator
from airflow_provider_zohorel.operators.related_records import UpdateRelatedRecordsOperator
from tests.integration.zoho_integration import FAST_RETRY


class FakeTI:
    """What execute reads of a task instance; ``pushed`` holds the XComs it pushed."""

    def __init__(self, dag_id: str = "d", task_id: str = "t") -> None:
        self.dag_id, self.task_id, self.run_id, self.try_number = dag_id, task_id, "r", 1
        self.pushed: dict[str, Any] = {}

    def xcom_push(self, key: str, value: Any) -> None:
        self.pushed[key] = value


def execute(
    *, dag_id: str = "d", task_id: str = "t", cls: type[Any] = UpdateRelatedRecordsOperator, **kwargs: Any
) -> tuple[dict[str, Any], BaseException | None]:
    """(the summary, returned or pushed; the exception the task ended with, if any)."""
    kwargs.setdefault("module", "Campaigns")
    kwargs.setdefault("related_list", "Leads")
    kwargs.setdefault("request_retry", FAST_RETRY)
    op = cls(task_id=task_id, **kwargs)
    ti = FakeTI(dag_id, task_id)
    try:
        return op.execute({"ti": ti}), None  # type: ignore[arg-type]
    except Exception as exc:
        return ti.pushed["return_value"], exc


def members(campaign: str, leads: list[str], status: str | None = "Active") -> list[dict[str, Any]]:
    return [{"record_id": campaign, "id": lead, "Member_Status": status} for lead in leads]


def held(zoho: ZohoEmulator, campaign: str) -> dict[str, Any]:
    """What the emulator holds for a campaign: {lead id: Member_Status}."""
    return {r["id"]: r["fields"].get("Member_Status") for r in zoho.admin.relations_of(campaign, "Leads")}
