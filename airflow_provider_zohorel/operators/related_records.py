"""UpdateRelatedRecordsOperator: rows in, every item related or accounted for, a task state out.

Airflow glue over :mod:`airflow_provider_zohorel.zoho`, one way through ``execute``: validate the
arguments, read the input, plan, run, decide (the outcome policy turns the summary and the stop,
if any, into a verdict), and finish: push the summary, then return it or raise the verdict's
exception. The summary is the XCom ``return_value`` at every exit, also when the task fails before
the first call or is skipped.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseOperator

from airflow_provider_zohorel._compat import (
    AirflowException,
    AirflowFailException,
    AirflowSkipException,
    BaseHook,
)
from airflow_provider_zohorel.hooks.zoho_crm import ZohoCRMHook
from airflow_provider_zohorel.operators.failed_items import FailedItemsTable, check_table_name
from airflow_provider_zohorel.operators.inputs import DEFAULT_FETCH_SIZE, RecordsInput, SqlInput
from airflow_provider_zohorel.operators.links import ZohoCRMRecordsLink
from airflow_provider_zohorel.operators.resume import BatchStateStore, task_channel
from airflow_provider_zohorel.operators.state_table import StateTable, fields_hash
from airflow_provider_zohorel.zoho.limits import DEFAULT_MAX_CONCURRENCY, MAX_BATCH, check_batch_size
from airflow_provider_zohorel.zoho.locked_items import LockedRetryPolicy
from airflow_provider_zohorel.zoho.planning import (
    NULL_FIELDS,
    Batch,
    InvalidInput,
    Plan,
    RowSource,
    build_plan,
)
from airflow_provider_zohorel.zoho.policy import SOFT_FAIL, SUCCESS_OUTCOME, OutcomePolicy, Verdict
from airflow_provider_zohorel.zoho.relation_catalog import RelationSpec
from airflow_provider_zohorel.zoho.results import ItemResult
from airflow_provider_zohorel.zoho.retry import RetryPolicy
from airflow_provider_zohorel.zoho.runner import BatchRunner, Progress
from airflow_provider_zohorel.zoho.stops import InvalidArguments, Stop
from airflow_provider_zohorel.zoho.summary import RunSummary
from airflow_provider_zohorel.zoho.sync import (
    DEFAULT_MAX_DELINK_RATIO,
    MIRROR,
    MODES,
    DelinkGuardTripped,
    DelinkPlan,
    check_guard,
    read_delinks,
    state_delinks,
)
from airflow_provider_zohorel.zoho.values import InvalidValue
from airflow_provider_zohorel.zoho.web_links import records_url, web_base

if TYPE_CHECKING:
    from airflow.sdk import Context

LOG_FAILED_ITEMS = 10
#: What the rows this task writes to its Task State Store (the UI's tab of that name) are.
STATE_STORE_NOTE = (
    "Resume: finished batches are recorded in this task's Task State Store under the keys "
    "zohorel/done/0, zohorel/done/1, ...; each value maps a hash of one batch (parent, related ids, "
    "field values) to what Zoho answered per item, run-length coded (a = added, u = updated, "
    "- = not related), so a retry or Clear skips what an earlier try related."
)


class UpdateRelatedRecordsOperator(BaseOperator):
    """Relate records in Zoho CRM in parallel 100-record batches, with a per-item outcome policy.

    Input, exactly one of:

    :param records: list of dicts (usually an upstream task's output), a JSON string, or a table
        such as a pandas DataFrame (read row by row). Each item
        names its parent by ``parent_id_key`` (or ``record_id=`` for all) and the related record by
        ``related_id_key``; every other key is a relation field sent as is (``Member_Status``,
        ``list_price``, ...).
    :param sql: a query (or ``.sql`` file) on ``sql_conn_id`` whose columns are the item keys;
        streamed, never held in memory or XCom.

    :param module: parent module API name (``Campaigns``, ``Leads``, ``Products``, ``Price_Books``...).
    :param related_list: any related list API name (``Leads``, ``Products``, ``Notes``,
        ``Contact_Roles``, a custom list...); what the provider knows about a list checks and
        converts its fields, and a list it does not know is sent as given.
    :param external: the ``X-EXTERNAL`` header value (``"Leads.External_Lead_ID"``, or two
        comma-separated): the ids of the sides it names are external values, sent as given.
    :param validate_related_list: check ``related_list`` against Zoho's metadata once before the
        first call, and fail listing the valid names if it is not one of them.
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
    :param locked_retry: how items Zoho answers ``RECORD_LOCKED`` are waited for and re-sent
        within the run (a :class:`~airflow_provider_zohorel.zoho.locked_items.LockedRetryPolicy`;
        default: 3 re-sends, waits from 2 s doubling up to 15 s, 60 s in all per run).
    :param mode: ``upsert`` (default: add and update relations) or ``mirror``: every parent the
        input names ends holding exactly what the input lists for it, what else it holds in
        ``related_list`` is delinked. Parents absent from the input are never touched.
    :param max_delink_ratio: the deletion guard (mirror): a run that would delink more than this
        share (0..1) of the relations its parents hold fails before any call that writes, saying
        how many; ``dry_run=True`` lists them.
    :param state_table: a table on ``sql_conn_id`` (created if missing) holding, per relation, a
        hash of the fields Zoho acknowledged: only new or changed relations are sent, and mirror
        mode delinks what left the input without reading Zoho back.
    :param full_refresh: ignore ``state_table`` for this run (send everything, read Zoho back in
        mirror mode) and rebuild it, e.g. after Zoho was edited by hand.
    :param null_fields: ``send`` (default) NULL field values as ``null``, which clears the field
        in Zoho, or ``omit`` them, which leaves what Zoho holds.
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
        "external",
        "state_table",
    )
    template_ext: Sequence[str] = (".sql",)
    template_fields_renderers = {"sql": "sql", "records": "json", "parameters": "json"}
    ui_color = "#e6f0ff"
    operator_extra_links = (ZohoCRMRecordsLink(),)

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
        external: str | None = None,
        validate_related_list: bool = False,
        locked_retry: LockedRetryPolicy | None = None,
        mode: str = "upsert",
        max_delink_ratio: float = DEFAULT_MAX_DELINK_RATIO,
        state_table: str | None = None,
        full_refresh: bool = False,
        null_fields: str = "send",
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.module = module
        self.related_list = related_list
        self.zoho_conn_id = zoho_conn_id
        self.records = records
        # Told apart from "not given" because an upstream output may render to None (see inputs).
        self._records_given = records is not None
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
        self.external = external
        self.validate_related_list = validate_related_list
        self.locked_retry = locked_retry
        self.mode = mode
        self.max_delink_ratio = max_delink_ratio
        self.state_table = state_table
        self.full_refresh = full_refresh
        self.null_fields = null_fields
        #: The parent records in Zoho CRM's web UI, set while running (the "Zoho CRM records" link).
        self.zoho_records_url: str | None = None
        self._zoho_hook: ZohoCRMHook | None = None  # the run's hook, for OpenLineage after it

    # -- execute: validate -> read input -> plan -> run -> decide -> finish -------------------------

    def execute(self, context: Context) -> dict[str, Any]:
        summary = RunSummary()
        policy = OutcomePolicy()  # decides a refusal until the task's own policy is validated
        stopped_by: Stop | None
        try:
            policy = self._validate()
            source = self._row_source()
            summary.row_name = source.row_name
            stopped_by = self._relate(context, source, summary)
        except Exception as exc:  # every exit goes through _finish, so the summary is always pushed
            stopped_by = Stop.of(exc)
        return self._finish(context, summary, policy.decide(summary, stopped_by))

    def _validate(self) -> OutcomePolicy:
        """Every check that needs no I/O (templates are rendered by now); a failure is a DAG bug."""
        problems = []
        records_given = self._records_given or self.records is not None
        if records_given == (self.sql is not None):
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
        if self.external is not None and (not isinstance(self.external, str) or not self.external.strip()):
            problems.append(
                "external must be an X-EXTERNAL value such as 'Leads.External_Lead_ID', "
                f"got {self.external!r}"
            )
        if self.locked_retry is not None and not isinstance(self.locked_retry, LockedRetryPolicy):
            problems.append(
                f"locked_retry must be a LockedRetryPolicy, got {type(self.locked_retry).__name__}"
            )
        if self.mode not in MODES:
            problems.append(f"mode must be one of {', '.join(MODES)}, got {self.mode!r}")
        if self.state_table is not None:
            if not self.sql_conn_id:
                problems.append("state_table needs sql_conn_id (the connection it lives on)")
            try:
                check_table_name(self.state_table)
            except ValueError as exc:
                problems.append(str(exc).replace("failed_items_table", "state_table"))
        if self.full_refresh and not self.state_table:
            problems.append("full_refresh=True needs a state_table (it rebuilds it)")
        if self.null_fields not in NULL_FIELDS:
            problems.append(f"null_fields must be one of {', '.join(NULL_FIELDS)}, got {self.null_fields!r}")
        ratio = self.max_delink_ratio
        if isinstance(ratio, bool) or not isinstance(ratio, (int, float)) or not 0 <= ratio <= 1:
            problems.append(f"max_delink_ratio must be a number from 0 to 1, got {ratio!r}")
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
        problems += self._extra_problems()
        if problems or policy is None:
            raise InvalidArguments(f"{type(self).__name__}: " + "; ".join(problems))
        return policy

    def _extra_problems(self) -> list[str]:
        """A subclass's own argument checks."""
        return []

    def _row_source(self) -> RowSource:
        if self.sql is None:
            return RecordsInput(self.records)
        assert self.sql_conn_id is not None  # _validate
        return SqlInput(self.sql_conn_id, self.sql, self.parameters, self.fetch_size)

    def _relate(self, context: Context, source: RowSource, summary: RunSummary) -> Stop | None:
        """Plan and run; returns why the run stopped early, if it did."""
        hook = ZohoCRMHook(
            self.zoho_conn_id,
            max_concurrency=self.max_concurrency,
            read_timeout=self.request_timeout,
            retry=self.request_retry,
            validate_related_list=bool(self.validate_related_list),
        )
        self._zoho_hook = hook
        spec = hook.api.relation(self.module, self.related_list, self.external)
        planning_started = time.perf_counter()
        try:
            plan = build_plan(
                source,
                spec=spec,
                parent_id_key=self.parent_id_key,
                related_id_key=self.related_id_key,
                record_id=self.record_id,
                batch_size=self.batch_size,
                null_fields=self.null_fields,
            )
        except InvalidInput as exc:
            summary.refuse_input(exc.total_rows, exc.invalid_rows, exc.errors)
            raise
        with contextlib.closing(plan), contextlib.ExitStack() as cleanup:
            self._set_records_url(hook, spec, plan.parents, None)
            sync_state = self._state_table(context, spec)
            if sync_state is not None:
                cleanup.callback(sync_state.close)
            delinks = self._sync_step(hook, plan, sync_state)
            self.log.info(
                "Plan for %s%s: %d rows -> %d items (%d duplicates dropped) for %d parents in %d calls "
                "of up to %d (%d credits), %d in parallel",
                spec.label,
                f" (X-EXTERNAL: {spec.external.header})" if spec.external is not None else "",
                plan.rows,
                plan.items,
                plan.duplicates,
                plan.parents,
                plan.calls,
                plan.batch_size,
                plan.calls,
                self.max_concurrency,
            )
            summary.planned(plan, dry_run=self.plan_only, seconds=time.perf_counter() - planning_started)
            if sync_state is not None:
                summary.state_table = sync_state.describe()
            if self.plan_only:
                self.log.info("dry_run=True: nothing was sent to Zoho")
                return None
            if delinks is not None:
                try:
                    check_guard(delinks, self.max_delink_ratio)
                except DelinkGuardTripped:
                    summary.plan = plan.describe()
                    raise
            if sync_state is not None and self.full_refresh:
                sync_state.clear()  # rebuilt from this run's acknowledged answers
            if plan.all_items == 0:
                self.log.info("Nothing to relate or delink; the task succeeds without writing to Zoho.")
                return None
            try:
                return self._run(context, hook, spec, plan, summary, sync_state)
            finally:
                if sync_state is not None:
                    sync_state.flush()
                    summary.state_table = sync_state.describe()

    def _state_table(self, context: Context, spec: RelationSpec) -> StateTable | None:
        if not self.state_table:
            return None
        assert self.sql_conn_id is not None  # _validate
        ti = context["ti"]
        owner = f"{ti.dag_id}.{ti.task_id}"
        map_index = getattr(ti, "map_index", -1)
        if isinstance(map_index, int) and map_index >= 0:
            owner += f"[{map_index}]"
        hook = BaseHook.get_connection(self.sql_conn_id).get_hook()  # type: ignore[no-untyped-call,unused-ignore]
        return StateTable(hook, self.state_table, owner, spec)

    def _sync_step(self, hook: ZohoCRMHook, plan: Plan, state: StateTable | None) -> DelinkPlan | None:
        """What Zoho already holds: with a state table, items it acknowledged as they are are not
        sent again; in mirror mode, what the input's parents hold beyond the input is delinked
        (known from the state table, or read back)."""
        known = None
        if state is not None:
            state.check_owners(parent for parent, _ in plan.parent_groups())
            if self.full_refresh:
                self.log.info(
                    "full_refresh=True: state table %s ignored and rebuilt by this run", state.table
                )
            else:
                known = state.load()
                self.log.info("State table %s: %d relation(s) acknowledged earlier", state.table, len(known))
                if not known:  # a first run: what Zoho holds is not known yet, read it back
                    known = None
        delinks = None
        if self.mode == MIRROR:
            if known is not None:
                delinks = state_delinks(plan, known, batch_size=self.batch_size)
            else:
                delinks = read_delinks(
                    hook.api, plan, max_concurrency=self.max_concurrency, batch_size=self.batch_size
                )
            self.log.info(
                "Mirror: the %d parent(s) of the input hold %d relation(s) in %s (per %s, %d GET "
                "call(s)); %d of them are not in the input and will be delinked in %d call(s) "
                "(%.1f%%, max_delink_ratio=%g)",
                plan.parents,
                delinks.held,
                plan.spec.label,
                delinks.source,
                delinks.reads,
                delinks.items,
                delinks.calls,
                100 * delinks.ratio,
                self.max_delink_ratio,
            )
        if known is not None:
            plan.keep_only(
                lambda parent, related, fields: known.get((parent, related)) != fields_hash(fields)
            )
            self.log.info("%d item(s) unchanged since Zoho acknowledged them: not sent", plan.unchanged)
        plan.follow_up = delinks
        return delinks

    def _run(
        self,
        context: Context,
        hook: ZohoCRMHook,
        spec: RelationSpec,
        plan: Plan,
        summary: RunSummary,
        sync_state: StateTable | None = None,
    ) -> Stop | None:
        store = context.get("task_state_store") if self.resume else None
        state = BatchStateStore(store) if store is not None else None
        if state is not None:
            self.log.info("%s", STATE_STORE_NOTE)
        if state is not None and state.previous_try:
            self.log.info("An earlier try of this task ran: batches it finished will not be sent again.")
        table = self._failed_items_table(context, spec)

        first_parent: list[str] = []

        def on_batch(batch: Batch, results: list[ItemResult], resumed: int) -> None:
            if not first_parent:
                first_parent.append(batch.parent_id)
                self._set_records_url(hook, spec, plan.parents, batch.parent_id)
            failures = summary.record(batch, results, resumed=resumed)
            if sync_state is not None:
                sync_state.record(batch, results)
            if state is not None:
                state.record(batch, results, resumed)
            if table is not None and failures:
                with task_channel(state):  # the table's connection look-up uses Airflow's task channel
                    table.add(failures)

        def on_progress(progress: Progress) -> None:
            self.log.info("Zoho progress: %s", progress.line())

        runner = BatchRunner(
            hook.api,
            max_concurrency=self.max_concurrency,
            progress=on_progress,
            progress_interval=self.progress_interval,
            locked_retry=self.locked_retry,
        )
        bookkeeping = None
        try:
            report = runner.run(plan, on_batch, resume=state.done if state is not None else None)
        finally:
            if state is not None:  # the last write, after the last answer: off the sending window
                cost = state.close()
                bookkeeping = cost.as_dict()
                self.log.info("Resume bookkeeping (task_state_store): %s", cost.line())
            if table is not None:
                table.flush()
        written = {"table": table.table, "rows_written": table.written} if table is not None else None
        summary.ran(report, hook.client.stats, written, bookkeeping)
        self._log_table(summary)
        return report.stopped_by

    def get_openlineage_facets_on_complete(self, task_instance: Any) -> Any:
        """Inputs: the tables of ``sql=`` (the OpenLineage provider's SQL parser); output: the
        related list in the Zoho org (see :mod:`airflow_provider_zohorel.operators.lineage`)."""
        from airflow_provider_zohorel.operators.lineage import operator_lineage, org_id_of

        api_domain = org_id = None
        hook = self._zoho_hook
        if hook is not None:
            try:
                api_domain = hook.credentials.api_domain or hook.client.tokens.get().api_domain
                org_id = org_id_of(hook.client)
            except Exception as exc:  # lineage never fails the task
                self.log.debug("OpenLineage: Zoho API domain unknown (%s)", type(exc).__name__)
        return operator_lineage(
            sql=self.sql,
            sql_conn_id=self.sql_conn_id,
            module=self.module,
            related_list=self.related_list,
            api_domain=api_domain,
            org_id=org_id,
        )

    def _set_records_url(
        self, hook: ZohoCRMHook, spec: RelationSpec, parents: int, parent_id: str | None
    ) -> None:
        """The one parent's page in Zoho CRM, else the parent module's list (also when parents are
        given by external values, which are not record ids)."""
        base = web_base(hook.credentials)
        if base is None:
            return
        one = parent_id if parent_id is not None else self.record_id
        by_id = spec.external is None or spec.external.parent_field is None
        record = str(one) if parents == 1 and one is not None and by_id else None
        self.zoho_records_url = records_url(base, spec.parent, record)

    def _failed_items_table(self, context: Context, spec: RelationSpec) -> FailedItemsTable | None:
        if not self.failed_items_table:
            return None
        assert self.sql_conn_id is not None  # _validate
        ti = context["ti"]
        return FailedItemsTable(
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

    def _finish(self, context: Context, summary: RunSummary, verdict: Verdict) -> dict[str, Any]:
        """The one exit: the summary is returned (Airflow pushes it) or pushed, then the verdict's
        exception raised."""
        summary.conclude(verdict.outcome, verdict.stopped_by)
        result = summary.to_dict()
        if verdict.outcome == SUCCESS_OUTCOME:
            if verdict.tolerated:
                self.log.warning("%s", verdict.reason)
            return result
        # A plain line first: Airflow 3.3 shows the exception's message only inside the collapsed
        # "Post Execute" group of the task log.
        if verdict.outcome == SOFT_FAIL:
            self.log.warning("Verdict: the task is skipped (soft fail): %s", verdict.reason)
        elif verdict.unexpected is None:
            again = "a retry can help" if verdict.retry_can_help else "a retry would not help"
            self.log.error("Verdict: the task fails (%s): %s", again, verdict.reason)
        else:
            self.log.error("Verdict: the task fails on an unexpected error: %s", verdict.reason)
        if self.do_xcom_push:
            context["ti"].xcom_push(key="return_value", value=result)
        if verdict.outcome == SOFT_FAIL:
            raise AirflowSkipException(verdict.reason)
        if verdict.unexpected is not None:
            raise verdict.unexpected
        if verdict.retry_can_help:
            raise AirflowException(verdict.reason)
        raise AirflowFailException(verdict.reason)

    def _log_table(self, summary: RunSummary) -> None:
        calls = summary.batches - summary.resumed_batches - summary.batches_not_sent
        lines = []
        if summary.resumed:
            lines.append(
                f"{calls} call(s) sent by this try; {summary.resumed} of {summary.total} items were "
                "already related by an earlier try and not sent again"
                + (" (all of them: nothing to do)" if summary.resumed == summary.total else "")
            )
        lines.append(f"{'code':<28}{'items':>10}")
        lines += [f"{code:<28}{count:>10}" for code, count in sorted(summary.by_code.items())]
        sent_now = summary.succeeded - summary.resumed
        lines.append(
            f"total {summary.total}: succeeded {summary.succeeded} (related by this try "
            f"{sent_now}, already related by an earlier try {summary.resumed}; added "
            f"{summary.added}, updated {summary.updated} in all), failed {summary.failed}"
            if summary.resumed
            else f"total {summary.total}: succeeded {summary.succeeded} (added {summary.added}, "
            f"updated {summary.updated}), failed {summary.failed}"
        )
        if summary.delinked or summary.delink_failed or summary.unchanged:
            lines.append(
                f"sync: delinked {summary.delinked}, failed to delink {summary.delink_failed}, "
                f"unchanged (not sent, per the state table) {summary.unchanged}"
            )
        for item in summary.failed_items[:LOG_FAILED_ITEMS]:
            lines.append(
                f"  failed {item['row']}: {item['record_id']} -> {item['id']}: "
                f"{item['code']} {item['message']}"
            )
        if summary.failed > LOG_FAILED_ITEMS:
            lines.append(f"  ... and {summary.failed - LOG_FAILED_ITEMS} more failed items")
        self.log.info("Zoho Update Related Records summary:\n%s", "\n".join(lines))


class DelinkRelatedRecordsOperator(UpdateRelatedRecordsOperator):
    """Remove the relations the input lists: ``DELETE /{module}/{id}/{list}?ids=...`` in calls of
    at most 100 ids per parent, in parallel.

    The same input (``records`` or ``sql``, ``parent_id_key``/``related_id_key``/``record_id``;
    other keys are ignored), outcome policy, resume, ``dry_run`` and summary as
    :class:`UpdateRelatedRecordsOperator`: the rows become the delinks of a plan with nothing to
    relate. ``delinked`` counts the relations Zoho no longer holds (an id Zoho answers "relation
    not found" for was not related: it counts as delinked too); each failure is an item of
    ``failed_items`` with Zoho's code and its input row. The sync parameters (``mode``,
    ``state_table``, ``full_refresh``, ``max_delink_ratio``, ``null_fields``) do not apply.
    """

    ui_color = "#ffe6e6"

    def _extra_problems(self) -> list[str]:
        given = [
            name
            for name, value in (
                ("mode", self.mode != "upsert"),
                ("state_table", self.state_table is not None),
                ("full_refresh", bool(self.full_refresh)),
            )
            if value
        ]
        return [f"{', '.join(given)} do(es) not apply to delinking the rows given"] if given else []

    def _sync_step(self, hook: ZohoCRMHook, plan: Plan, state: StateTable | None) -> DelinkPlan | None:
        """Every item of the plan becomes a delink; nothing is related."""
        delinks = DelinkPlan(plan.spec, self.batch_size, source="input")
        for parent, related, row in plan.items_with_rows():
            delinks.by_parent.setdefault(parent, []).append(related)
            delinks.rows[(parent, related)] = row
        delinks.held = delinks.items
        plan.keep_only(lambda parent, related, fields: False)
        plan.unchanged = 0  # not sent because they are delinked, not because Zoho holds them
        plan.follow_up = delinks
        self.log.info(
            "Delink: %d relation(s) of %d parent(s) in %d call(s)", delinks.items, plan.parents, delinks.calls
        )
        return None  # no guard: the input names every delink
