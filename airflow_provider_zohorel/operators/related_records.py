"""UpdateRelatedRecordsOperator: rows in, every item related or accounted for, a task state out.

Airflow glue over :mod:`airflow_provider_zohorel.zoho`: resolve the input (XCom or SQL), plan,
run, and map the outcome to a task state. The run summary is the XCom ``return_value`` in every
outcome, also when the task then fails or is skipped.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, NoReturn

from airflow.sdk import BaseOperator

from airflow_provider_zohorel._compat import (
    AirflowException,
    AirflowFailException,
    AirflowSkipException,
    BaseHook,
)
from airflow_provider_zohorel.hooks.zoho_crm import ZohoCRMHook
from airflow_provider_zohorel.operators.failed_items import FailedItemsTable, check_table_name
from airflow_provider_zohorel.operators.inputs import DEFAULT_FETCH_SIZE, records_rows, sql_rows
from airflow_provider_zohorel.operators.resume import BatchStateStore
from airflow_provider_zohorel.zoho.errors import (
    ConnectionConfigError,
    ZohoAuthError,
    ZohoAuthUnavailable,
    ZohoConfigurationError,
    ZohoError,
)
from airflow_provider_zohorel.zoho.limits import DEFAULT_MAX_CONCURRENCY, MAX_BATCH, check_batch_size
from airflow_provider_zohorel.zoho.planning import Batch, InvalidInput, Plan, build_plan
from airflow_provider_zohorel.zoho.policy import FAIL, SOFT_FAIL, OutcomePolicy
from airflow_provider_zohorel.zoho.relation_catalog import RelationSpec, UnsupportedRelation
from airflow_provider_zohorel.zoho.results import ItemResult
from airflow_provider_zohorel.zoho.retry import RetryPolicy
from airflow_provider_zohorel.zoho.runner import BatchRunner, Progress, RunReport, describe_stop
from airflow_provider_zohorel.zoho.summary import RunSummary
from airflow_provider_zohorel.zoho.values import InvalidValue

if TYPE_CHECKING:
    from airflow.sdk import Context

LOG_FAILED_ITEMS = 10


class UpdateRelatedRecordsOperator(BaseOperator):
    """Relate records in Zoho CRM in parallel 100-record batches, with a per-item outcome policy.

    Input, exactly one of:

    :param records: list of dicts (usually an upstream task's output), or a JSON string. Each item
        names its parent by ``parent_id_key`` (or ``record_id=`` for all) and the related record by
        ``related_id_key``; every other key is a relation field sent as is (``Member_Status``,
        ``list_price``, ...).
    :param sql: a query (or ``.sql`` file) on ``sql_conn_id`` whose columns are the item keys;
        streamed, never held in memory or XCom.

    :param module: parent module API name (``Campaigns``, ``Leads``, ``Products``, ``Price_Books``...).
    :param related_list: related list API name (``Leads``, ``Products``, ``Notes``...).
    :param zoho_conn_id: the ``zoho_crm`` connection.
    :param sql_conn_id: any DbApiHook connection; also where ``failed_items_table`` is written.
    :param parameters: parameters for ``sql``.
    :param parent_id_key: item key of the parent record id (default ``record_id``).
    :param related_id_key: item key of the related record id (default ``id``).
    :param record_id: one parent record id for every item, instead of ``parent_id_key``.
    :param batch_size: records per PUT, 1 to 100 (Zoho's maximum, the default).
    :param max_concurrency: calls in flight at once; at most your edition's cap (Standard: 10).
    :param soft_fail: turn every ``fail`` verdict into ``soft_fail`` (the task ends skipped).
    :param max_failed_items: failed items tolerated (success with a warning) before the policy applies.
    :param max_failed_ratio: failed share (0..1) tolerated; with both set, both must hold.
    :param item_code_policy: Zoho code -> ``fail`` | ``soft_fail`` | ``ignore``, merged over the
        defaults (``"*"`` sets the default for unlisted codes).
    :param failed_items_table: table on ``sql_conn_id`` receiving every failed item.
    :param dry_run: validate and plan (items, parents, calls, credits) without calling Zoho.
    :param resume: skip batches an earlier try of this task instance finished (Airflow 3.3+).
    :param request_retry: retry budget of each call (attempts, backoff, deadline); what still
        fails is reported per item. Named apart from Airflow's own ``retry_policy`` (task retries).
    :param request_timeout: read timeout of each call, in seconds (connect timeout: 10 s).
    :param fetch_size: rows fetched per round trip when streaming ``sql``.
    :param progress_interval: seconds between progress lines in the task log.
    """

    template_fields: Sequence[str] = (
        "records",
        "sql",
        "parameters",
        "sql_conn_id",
        "zoho_conn_id",
        "module",
        "related_list",
        "record_id",
        "failed_items_table",
    )
    template_ext: Sequence[str] = (".sql",)
    template_fields_renderers = {"sql": "sql", "records": "json", "parameters": "json"}
    ui_color = "#e6f0ff"

    def __init__(
        self,
        *,
        module: str,
        related_list: str,
        zoho_conn_id: str = ZohoCRMHook.default_conn_name,
        records: Any = None,
        sql: str | None = None,
        sql_conn_id: str | None = None,
        parameters: Any = None,
        parent_id_key: str = "record_id",
        related_id_key: str = "id",
        record_id: Any = None,
        batch_size: int = MAX_BATCH,
        max_concurrency: int = DEFAULT_MAX_CONCURRENCY,
        soft_fail: bool = False,
        max_failed_items: int | None = None,
        max_failed_ratio: float | None = None,
        item_code_policy: Mapping[str, str] | None = None,
        failed_items_table: str | None = None,
        dry_run: bool = False,
        resume: bool = True,
        request_retry: RetryPolicy | None = None,
        request_timeout: float = 60.0,
        fetch_size: int = DEFAULT_FETCH_SIZE,
        progress_interval: float = 5.0,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.module = module
        self.related_list = related_list
        self.zoho_conn_id = zoho_conn_id
        self.records = records
        self.sql = sql
        self.sql_conn_id = sql_conn_id
        self.parameters = parameters
        self.parent_id_key = parent_id_key
        self.related_id_key = related_id_key
        self.record_id = record_id
        self.batch_size = batch_size
        self.max_concurrency = max_concurrency
        self.soft_fail = soft_fail
        self.max_failed_items = max_failed_items
        self.max_failed_ratio = max_failed_ratio
        self.item_code_policy = item_code_policy
        self.failed_items_table = failed_items_table
        self.plan_only = dry_run  # not self.dry_run: BaseOperator.dry_run() is a method
        self.resume = resume
        self.request_retry = request_retry
        self.request_timeout = request_timeout
        self.fetch_size = fetch_size
        self.progress_interval = progress_interval

    # -- validation (templates are rendered by now) -------------------------------------------

    def _configuration(self) -> OutcomePolicy:
        """Every check that needs no I/O; a failure here is a DAG bug, so no retries."""
        problems = []
        if (self.records is None) == (self.sql is None):
            problems.append("give exactly one input: records=... or sql=... (with sql_conn_id)")
        if self.sql is not None and not self.sql_conn_id:
            problems.append("sql needs sql_conn_id (the connection to run it on)")
        if self.failed_items_table is not None:
            if not self.sql_conn_id:
                problems.append("failed_items_table needs sql_conn_id (the connection to write it on)")
            try:
                check_table_name(self.failed_items_table)
            except ValueError as exc:
                problems.append(str(exc))
        try:
            check_batch_size(self.batch_size)
        except InvalidValue as exc:
            problems.append(str(exc))
        mc = self.max_concurrency
        if isinstance(mc, bool) or not isinstance(mc, int) or mc < 1:
            problems.append(f"max_concurrency must be a positive integer, got {mc!r}")
        if not isinstance(self.request_timeout, (int, float)) or self.request_timeout <= 0:
            problems.append(
                f"request_timeout must be a positive number of seconds, got {self.request_timeout!r}"
            )
        if not isinstance(self.fetch_size, int) or self.fetch_size < 1:
            problems.append(f"fetch_size must be a positive integer, got {self.fetch_size!r}")
        if self.parent_id_key == self.related_id_key and self.record_id is None:
            problems.append("parent_id_key and related_id_key must differ")
        policy = None
        try:
            policy = OutcomePolicy(
                item_code_policy=dict(self.item_code_policy or {}),
                max_failed_items=self.max_failed_items,
                max_failed_ratio=self.max_failed_ratio,
                soft_fail=bool(self.soft_fail),
            )
        except (ValueError, TypeError) as exc:
            problems.append(str(exc))
        if problems or policy is None:
            raise AirflowFailException("UpdateRelatedRecordsOperator: " + "; ".join(problems))
        return policy

    def _rows(self) -> tuple[Iterable[Any], str]:
        if self.records is not None:
            return records_rows(self.records), "records[{}]"
        assert self.sql is not None
        assert self.sql_conn_id is not None
        return sql_rows(self.sql_conn_id, self.sql, self.parameters, self.fetch_size), "sql row {}"

    # -- execute -------------------------------------------------------------------------------

    def execute(self, context: Context) -> dict[str, Any]:
        policy = self._configuration()
        hook = ZohoCRMHook(
            self.zoho_conn_id,
            max_concurrency=self.max_concurrency,
            read_timeout=self.request_timeout,
            retry=self.request_retry,
        )
        try:
            spec = hook.api.relation(self.module, self.related_list)
        except (UnsupportedRelation, ConnectionConfigError) as exc:
            raise AirflowFailException(str(exc)) from None

        summary = RunSummary()
        try:
            rows, label = self._rows()
            plan = build_plan(
                rows,
                spec=spec,
                parent_id_key=self.parent_id_key,
                related_id_key=self.related_id_key,
                record_id=self.record_id,
                batch_size=self.batch_size,
                label=label.format,
            )
        except InvalidInput as exc:
            self._finish_invalid(context, summary, exc)
        except InvalidValue as exc:
            self._push(context, summary.to_dict(api_calls=0, outcome=FAIL))
            raise AirflowFailException(f"Invalid input, nothing was sent to Zoho: {exc}") from None

        with contextlib.closing(plan):
            self.log.info(
                "Plan for %s: %d rows -> %d items (%d duplicates dropped) for %d parents in %d calls "
                "of up to %d (%d credits), %d in parallel",
                spec.label,
                plan.rows,
                plan.items,
                plan.duplicates,
                plan.parents,
                plan.calls,
                plan.batch_size,
                plan.calls,
                self.max_concurrency,
            )
            summary.extra.update(duplicates_dropped=plan.duplicates, parents=plan.parents)
            if self.plan_only:
                result = summary.to_dict(api_calls=0, outcome="success")
                result.update(total=plan.items, dry_run=True, plan=plan.describe())
                self.log.info("dry_run=True: nothing was sent to Zoho")
                return result
            if plan.items == 0:
                self.log.info("No input rows: nothing to relate; the task succeeds without calling Zoho.")
                return summary.to_dict(api_calls=0, outcome="success")
            report = self._run(context, hook, spec, plan, summary)

        return self._verdict(context, hook, summary, report, policy)

    def _run(
        self, context: Context, hook: ZohoCRMHook, spec: RelationSpec, plan: Plan, summary: RunSummary
    ) -> RunReport:
        store = context.get("task_state_store") if self.resume else None
        state = BatchStateStore(store) if store is not None else None
        if state is not None and state.previous_try:
            self.log.info("An earlier try of this task ran: batches it finished will not be sent again.")
        table = None
        if self.failed_items_table:
            assert self.sql_conn_id is not None
            ti = context["ti"]
            table = FailedItemsTable(
                BaseHook.get_connection(self.sql_conn_id).get_hook(),  # type: ignore[no-untyped-call,unused-ignore]
                self.failed_items_table,
                {
                    "dag_id": ti.dag_id,
                    "task_id": ti.task_id,
                    "run_id": ti.run_id,
                    "try_number": ti.try_number,
                    "module": spec.parent,
                    "related_list": spec.related,
                },
            )

        def on_batch(batch: Batch, results: list[ItemResult], resumed: int) -> None:
            failures = summary.record(batch.parent_id, results, batch.row, resumed=resumed)
            if state is not None:
                state.record(batch, results)
            if table is not None and failures:
                table.add(failures)

        def on_progress(progress: Progress) -> None:
            self.log.info("Zoho progress: %s", progress.line())

        runner = BatchRunner(
            hook.api,
            max_concurrency=self.max_concurrency,
            progress=on_progress,
            progress_interval=self.progress_interval,
        )
        try:
            report = runner.run(plan, on_batch, resume=state.done if state is not None else None)
        finally:
            if table is not None:
                table.flush()
                summary.extra["failed_items_table"] = {"table": table.table, "rows_written": table.written}
        summary.extra["resumed_batches"] = report.batches_resumed
        summary.extra["seconds"] = round(report.elapsed, 3)  # time spent relating, after planning
        if report.batches_not_sent:
            summary.extra["batches_not_sent"] = report.batches_not_sent
        return report

    def _verdict(
        self,
        context: Context,
        hook: ZohoCRMHook,
        summary: RunSummary,
        report: RunReport,
        policy: OutcomePolicy,
    ) -> dict[str, Any]:
        api_calls = hook.client.stats.calls
        summary.extra["client"] = hook.client.stats.as_dict()
        self._log_table(summary)
        stopped = report.stopped_by
        if stopped is not None:
            summary.extra["stopped_by"] = describe_stop(stopped)
        if isinstance(stopped, ZohoAuthUnavailable):
            self._push(context, summary.to_dict(api_calls=api_calls, outcome=FAIL))
            raise AirflowException(f"Stopped: {stopped} (a later retry of the task can succeed)")
        if isinstance(stopped, (ZohoConfigurationError, ZohoAuthError)):
            self._push(context, summary.to_dict(api_calls=api_calls, outcome=FAIL))
            raise AirflowFailException(f"Stopped: {stopped} (not retried: fix the configuration)")
        if stopped is not None and not isinstance(stopped, ZohoError):
            self._push(context, summary.to_dict(api_calls=api_calls, outcome=FAIL))
            raise stopped
        verdict = policy.decide(summary.total, summary.by_code)
        result = summary.to_dict(api_calls=api_calls, outcome=verdict.outcome)
        if verdict.tolerated:
            self.log.warning("Tolerated: %s", verdict.reason)
        if verdict.outcome == SOFT_FAIL:
            self._push(context, result)
            raise AirflowSkipException(f"Soft fail: {verdict.reason}")
        if verdict.outcome == FAIL:
            self._push(context, result)
            raise AirflowException(f"Failed: {verdict.reason}")
        return result

    def _finish_invalid(self, context: Context, summary: RunSummary, exc: InvalidInput) -> NoReturn:
        result = summary.to_dict(api_calls=0, outcome=FAIL)
        result.update(
            total=exc.total_rows,
            failed=exc.total_rows,
            by_code={"INVALID_INPUT": exc.invalid_rows, "NOT_SENT": exc.total_rows - exc.invalid_rows},
            input_errors=exc.errors,
        )
        self._push(context, result)
        raise AirflowFailException(str(exc)) from None

    def _push(self, context: Context, summary: dict[str, Any]) -> None:
        if self.do_xcom_push:
            context["ti"].xcom_push(key="return_value", value=summary)

    def _log_table(self, summary: RunSummary) -> None:
        lines = [f"{'code':<28}{'items':>10}"]
        lines += [f"{code:<28}{count:>10}" for code, count in sorted(summary.by_code.items())]
        lines.append(
            f"total {summary.total}: succeeded {summary.succeeded} (added {summary.added}, updated "
            f"{summary.updated}, resumed {summary.resumed}), failed {summary.failed}"
        )
        for item in summary.failed_items[:LOG_FAILED_ITEMS]:
            lines.append(
                f"  failed {item['row']}: {item['record_id']} -> {item['id']}: "
                f"{item['code']} {item['message']}"
            )
        if summary.failed > LOG_FAILED_ITEMS:
            lines.append(f"  ... and {summary.failed - LOG_FAILED_ITEMS} more failed items")
        self.log.info("Zoho Update Related Records summary:\n%s", "\n".join(lines))
