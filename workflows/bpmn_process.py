"""BpmnProcess: one Temporal workflow that runs any deployed BPMN process.

Started with a :class:`~workflows.contracts.ProcessInput` (process id, spec SHA-256, variables).

- Query ``state``: status (running / incident / completed), active and completed element ids,
  variables, pending user tasks, the open incident and running activities.
- Query ``user_tasks``: the pending user tasks with assignment, form schema and context.
- Update ``complete_user_task`` (:class:`CompleteUserTask`): the validator refuses an unknown task
  or form data that does not fit the form (errors per field) before anything reaches history;
  it, and the validators of ``retry`` and ``migrate``, first refuse an Update without a valid proof
  of the API's checks (``ProofRefused``, see :mod:`workflows.update_proof`);
  completing a task that was already completed returns ``already_completed`` (idempotent by id).
- Update ``retry`` (:class:`RetryIncident`): after an incident, patch variables and try again.
- Signal ``child_finished`` (:class:`ChildFinished`): a called instance ended (sent by the child
  itself, so that a parent run that continued as new while the child ran gets its result). Such a
  run also awaits the child through the activity ``processes.child_outcome``: a child terminated or
  timed out from outside (no signal) becomes an incident at the call activity; whichever report
  comes first is taken, the other ignored.

Service tasks run as activities named by their task type (see :mod:`workflows.activity_options`),
with the Spiff task id as activity id, so an activity can derive an idempotency key from
``activity.info()``. Timers are durable Temporal timers. Engine errors become incidents that wait
for a retry instead of failing the workflow task forever.

The workflow runs outside Temporal's sandbox (``sandboxed=False``): the sandbox re-imports and
re-compiles this module for every new instance (~8 ms of worker CPU each, measured with
bench/engine.py), while everything the interpreter calls (SpiffWorkflow, :mod:`bpmn`) had to pass
through it anyway. Determinism comes from construction instead: SpiffWorkflow's clock and ids are
routed to Temporal's APIs (:mod:`bpmn.clock`), diagram scripts run in a restricted engine, and the
replay tests (tests/replay) replay stored histories under the current code.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from dataclasses import asdict
from datetime import datetime, timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError, ChildWorkflowError
from temporalio.workflow import ParentClosePolicy

with workflow.unsafe.imports_passed_through():
    import bpmn.clock as clock
    import bpmn.diagram_limits as diagram_limits
    import bpmn.engine as engine
    import bpmn.payload_size as payload_size
    import bpmn.spec_cache as spec_cache
    import workflows.activity_options as activity_options
    import workflows.instance_status as instance_status
    import workflows.update_proof as update_proof
    from workflows.contracts import (
        ACTING_INPUT,
        CHILD_FINISHED_SIGNAL,
        CHILD_INCIDENT_SIGNAL,
        CHILD_OUTCOME_ACTIVITY,
        COMPLETE_USER_TASK_UPDATE,
        LATEST_VERSION_ACTIVITY,
        MESSAGE_SIGNAL,
        MIGRATE_UPDATE,
        MIGRATION_CHECK_QUERY,
        RETRY_UPDATE,
        SIGNAL_SIGNAL,
        STATE_QUERY,
        USER_TASKS_QUERY,
        WORKFLOW_NAME,
        CarriedState,
        ChildFinished,
        ChildIncident,
        CompleteUserTask,
        MessageDelivery,
        MigrateRequest,
        ProcessInput,
        ProcessResult,
        RetryIncident,
        child_workflow_id,
    )

TIMER_SLACK = timedelta(milliseconds=5)  # Spiff fires on a strict "<": wake just after the deadline
INBOX_PATCH = "inbox-activities-1"
# Call activities whose child outlives a continue-as-new of the parent: the child is started with
# parent close policy ABANDON, and reports its end with a signal the next run waits for.
CHILD_CARRY_PATCH = "call-activity-continue-as-new-1"
CHILD_REPORTS_END_PATCH = "child-reports-end-1"
RELISTEN_PATCH = "event-subprocess-relisten-1"
# A later run also awaits a carried child's outcome through the client (processes.child_outcome): a
# child terminated or timed out from outside becomes an incident at the call activity, not a hang.
CHILD_WATCH_PATCH = "carried-child-watch-1"
CHILD_WATCH_TIMEOUT = timedelta(days=365)  # restarted (retry policy) if a child runs longer
CHILD_WATCH_HEARTBEAT = timedelta(seconds=60)
BACKGROUND_GRACE = timedelta(minutes=5)
# Engine steps charged by work (bpmn.diagram_limits): over the budget a step stops between two tasks
# and the workflow task ends (a short durable timer) before the next part; histories from before
# the marker replay without pauses.
WORK_BUDGET_PATCH = "engine-work-budget-1"
YIELD = 0.001
SIZE_INCIDENT = "data too large"  # its retry patches the data everywhere (ProcessRun.patch_data)
INBOX_RETRY = RetryPolicy(initial_interval=timedelta(seconds=1), maximum_interval=timedelta(seconds=60),
                          maximum_attempts=0)


@workflow.defn(name=WORKFLOW_NAME, sandboxed=False)
class BpmnProcess:
    @workflow.init
    def __init__(self, input: ProcessInput) -> None:
        clock.install()
        self._input = input
        self._status = "running"
        self._incident: dict[str, Any] | None = None
        self._retry: RetryIncident | None = None
        self._outcomes: list[tuple[str, Any, BaseException | None]] = []
        self._running: dict[str, tuple[str, asyncio.Task[Any]]] = {}
        self._attempt: dict[str, int] = {}
        self._completed_user_tasks: dict[str, str] = {}
        self._completed_by: dict[str, str | None] = {}
        self._completed_data: dict[str, dict[str, Any]] = {}  # data and reason, until the inbox row is closed
        self._inbox_enabled: bool | None = None  # decided at the first user task (a patch marker)
        self._inbox_open: dict[str, str] = {}
        self._background: set[asyncio.Task[Any]] = set()
        self._messages: list[MessageDelivery] = []  # received, not yet caught by a waiting task
        self._seen_messages: set[str] = set()
        self._subscriptions: set[tuple[str, str | None]] = set()
        self._signals: list[MessageDelivery] = []  # BPMN signals received, not yet caught
        self._signal_subscriptions: set[str] = set()
        self._wake = False
        self._run: engine.ProcessRun | None = None
        self._runs = 1
        self._migration: MigrateRequest | None = None
        self._children: dict[str, str] = {}  # child workflow id -> call activity element id
        self._child_incidents: dict[str, dict[str, Any]] = {}  # child workflow id -> its open incident
        self._child_started: dict[str, str] = {}  # call activity task id -> child id (a next run may wait for it)
        self._child_results: dict[str, ChildFinished] = {}  # child workflow id -> how it ended (its signal)
        self._carried_children: dict[str, list[str]] = {}  # from the previous run: task id -> [child id, element]
        self._settled_children: set[str] = set()  # carried children whose outcome this run took
        self._status_enabled: bool | None = None  # decided at the first wait (a patch marker)
        self._published: tuple[bool, list[str]] | None = None  # what the list shows (instance_status)
        try:
            with workflow.unsafe.sandbox_unrestricted():
                bundle = spec_cache.bundle_for(input.spec_sha256)
            if input.carried is None:
                self._run = engine.ProcessRun.start(bundle, dict(input.variables))
                self._budget(self._run)
                if input.start_message is not None:
                    self._seen_messages.add(input.start_message.message_id)
                    self._run.deliver_start_message(input.start_message.name, dict(input.start_message.variables))
                if input.timer_start:
                    self._run.fire_timer_start()
            else:
                self._resume(input.carried, bundle)
        except spec_cache.SpecUnavailable as exc:
            self._incident = {"element_id": None, "message": str(exc), "kind": "spec"}
            self._status = "incident"
        except engine.EngineIncident as exc:
            self._incident = {"element_id": exc.element_id, "message": exc.message, "kind": _kind(exc)}
            self._status = "incident"

    # -- continue-as-new -------------------------------------------------------------------
    def _resume(self, carried: CarriedState, bundle: Any) -> None:
        self._run = engine.ProcessRun.restore(carried.state_json, carried.completed, bundle, relisten=False)
        self._budget(self._run)
        if workflow.patched(RELISTEN_PATCH):  # before it, event subprocess timers stopped at a continue-as-new
            self._run.relisten()
        self._completed_user_tasks = dict(carried.completed_user_tasks)
        self._completed_by = dict(carried.completed_by)
        self._seen_messages = set(carried.seen_messages)
        self._subscriptions = {(str(name), key) for name, key in carried.subscriptions}
        self._inbox_open = dict(carried.inbox_open)
        self._inbox_enabled = carried.inbox_enabled
        self._attempt = dict(carried.attempts)
        self._runs = carried.runs
        self._signal_subscriptions = set(carried.signal_subscriptions)
        self._carried_children = {task_id: list(entry) for task_id, entry in carried.children.items()}
        for child_id, element_id in self._carried_children.values():
            self._children[child_id] = element_id

    @staticmethod
    def _budget(run: engine.ProcessRun) -> None:
        run.work_budget = diagram_limits.configured_diagram_limits().step_work
        run.payload_limit = payload_size.configured_payload_limit()
        run.may_pause = lambda: workflow.patched(WORK_BUDGET_PATCH)

    def _quiet(self) -> bool:
        """Nothing in flight but child instances the next run can wait for (started, not yet ended)."""
        carried = all(task_id in self._child_started and self._child_started[task_id] not in self._child_results
                      for task_id in self._running)
        return (carried and not self._outcomes and not self._messages and not self._signals
                and self._retry is None)

    def _history_full(self) -> bool:
        info = workflow.info()
        return info.get_current_history_length() >= self._input.history_limit or info.is_continue_as_new_suggested()

    async def _continue_as_new(self, run: engine.ProcessRun) -> None:
        await workflow.wait_condition(workflow.all_handlers_finished)
        await workflow.wait_condition(lambda: not self._background)
        state_json = run.serialize()
        limit = payload_size.configured_payload_limit()
        if len(state_json.encode("utf-8")) > limit:  # the next run's input would be refused by Temporal
            self._raise_incident(run.completed[-1] if run.completed else None,
                                 f"the instance's state takes {len(state_json.encode('utf-8')):,} bytes, more than "
                                 f"{payload_size.PAYLOAD_SETTING} ({limit:,}): it cannot continue as new; "
                                 f"{_largest(run)}", SIZE_INCIDENT)
            return
        carried = CarriedState(
            state_json=state_json,
            completed=list(run.completed),
            completed_user_tasks=dict(self._completed_user_tasks),
            completed_by=dict(self._completed_by),
            seen_messages=sorted(self._seen_messages),
            subscriptions=[[name, key] for name, key in sorted(self._subscriptions, key=str)],
            inbox_open=dict(self._inbox_open),
            inbox_enabled=self._inbox_enabled,
            attempts=dict(self._attempt),
            runs=self._runs + 1,
            signal_subscriptions=sorted(self._signal_subscriptions),
            children={task_id: [self._child_started[task_id], element_id]
                      for task_id, (element_id, _task) in sorted(self._running.items())},
        )
        target = self._input
        if self._migration is not None:
            target = dataclasses.replace(target, spec_sha256=self._migration.spec_sha256,
                                         version=self._migration.version)
            workflow.logger.info("migrating to %s (version %s)", self._migration.spec_sha256, self._migration.version)
        workflow.continue_as_new(dataclasses.replace(target, carried=carried))

    # -- main loop -------------------------------------------------------------------------
    @workflow.run
    async def run(self, input: ProcessInput) -> ProcessResult:
        try:
            return await self._run_process(input)
        except asyncio.CancelledError:
            # Children that may outlive a continue-as-new are not ended by Temporal with the parent.
            for child_id in sorted(self._child_started.values()):
                with contextlib.suppress(Exception):
                    await workflow.get_external_workflow_handle(child_id).cancel()
            raise

    async def _run_process(self, input: ProcessInput) -> ProcessResult:
        if self._incident is not None:
            self._report_to_parent(self._incident)
        for task_id, (child_id, element_id) in sorted(self._carried_children.items()):
            self._wait_for_carried_child(task_id, child_id, element_id)
        while self._run is None:
            self._publish_status()
            await workflow.wait_condition(lambda: self._retry is not None)
            self._retry = None
            try:
                with workflow.unsafe.sandbox_unrestricted():
                    bundle = spec_cache.bundle_for(input.spec_sha256)
                self._run = engine.ProcessRun.start(bundle, dict(input.variables))
                self._budget(self._run)
                self._clear_incident()
            except spec_cache.SpecUnavailable as exc:
                self._raise_incident(None, str(exc), "spec")
        run = self._run
        while True:
            try:
                self._step(run)
            except engine.EngineIncident as exc:
                self._raise_incident(exc.element_id, exc.message, _kind(exc))
            if run.is_completed and self._incident is None:
                break
            if not run.pending_work or self._incident is not None:  # not between two chunks of one step
                self._publish_status()
            if self._incident is not None:
                await workflow.wait_condition(lambda: self._retry is not None)
                continue
            if self._quiet() and (self._history_full() or self._migration is not None):
                await self._continue_as_new(run)
            deadline = run.next_timer()
            timeout = None
            if deadline is not None:
                timeout = max((deadline - workflow.now() + TIMER_SLACK).total_seconds(), 0.001)
            if run.pending_work:  # the engine stopped at its work budget: end this workflow task, go on
                timeout = YIELD
            with contextlib.suppress(TimeoutError):
                await workflow.wait_condition(lambda: self._wake, timeout=timeout)
            self._wake = False
        await workflow.wait_condition(workflow.all_handlers_finished)
        # Inbox rows and mailbox subscriptions are closed before the instance ends.
        with contextlib.suppress(TimeoutError):
            await workflow.wait_condition(lambda: not self._background, timeout=BACKGROUND_GRACE)
        uncaught = run.uncaught_error() if workflow.info().parent is not None else None
        if uncaught is not None:  # a called process ended with a business error: the call activity's
            self._status = "failed"
            details = {"code": uncaught.code, **uncaught.variables}
            await self._report_end(ChildFinished(workflow.info().workflow_id,
                                                 error={"message": uncaught.message, "details": details}))
            raise ApplicationError(uncaught.message, details, type="BpmnError", non_retryable=True)
        final = payload_size.shrunk(run.variables(), payload_size.configured_payload_limit())
        await self._report_end(ChildFinished(workflow.info().workflow_id, variables=final))
        self._status = "completed"
        return ProcessResult(
            process_id=input.process_id,
            status="completed",
            variables=final,
            completed=list(run.completed),
        )

    def _step(self, run: engine.ProcessRun) -> None:
        run.new_budget()
        if self._retry is None and self._incident is not None and self._incident.get("kind") == SIZE_INCIDENT:
            return  # raised by a completion (an update): nothing more runs until the retry
        if self._retry is not None:
            retry, self._retry = self._retry, None
            too_large = self._incident is not None and self._incident.get("kind") == SIZE_INCIDENT
            self._clear_incident()
            if too_large:  # the smaller values replace the large ones wherever the instance holds them
                run.patch_data(retry.variables)
            else:
                run.retry_failed(retry.variables)
        while self._outcomes:
            task_id, result, error = self._outcomes[0]
            self._outcomes.pop(0)
            element_id = self._running.pop(task_id, ("?", None))[0]
            if error is not None:
                business = _business_error(error)
                if business is not None and run.raise_error(task_id, *business) is not None:
                    continue
                raise engine.EngineIncident(element_id, _failure_message(error))
            if run.is_ready(task_id):
                run.complete_service_task(task_id, result)
        run.advance()
        self._check_payload(run)
        self._match_messages(run)
        self._match_signals(run)
        self._sync_inbox(run)
        ready = run.ready_service_calls()
        children = run.ready_child_calls()
        if self._quiet() and (self._history_full() or self._migration is not None):
            return  # start the next steps in a fresh run (continue-as-new, or on the new version)
        ready_ids = {call.task_id for call in ready} | {call.task_id for call in children}
        for call in ready:
            if call.task_id not in self._running:
                self._start_activity(call)
        for child in children:
            if child.task_id not in self._running:
                self._start_child(child)
        for task_id, (_element, handle) in list(self._running.items()):
            if task_id not in ready_ids:  # interrupted by a boundary event
                handle.cancel()
                del self._running[task_id]

    def _check_payload(self, run: engine.ProcessRun) -> None:
        """Process data that would not fit a Temporal payload (the state query, activity inputs, the
        result) is an incident at the element that last completed, not a workflow task failing for
        ever (PayloadsTooLarge); a retry with smaller values (``--var name=null``) goes on."""
        limit = payload_size.configured_payload_limit()
        size = payload_size.json_bytes(run.variables())
        if size > limit:
            raise engine.EngineIncident(run.completed[-1] if run.completed else None,
                                        f"the process data takes {size:,} bytes as JSON, more than "
                                        f"{payload_size.PAYLOAD_SETTING} ({limit:,}); {_largest(run)}")

    def _start_activity(self, call: engine.ServiceCall) -> None:
        plan = activity_options.plan_activity(call, workflow.info().task_queue)
        attempt = self._attempt.get(call.task_id, 0)
        self._attempt[call.task_id] = attempt + 1
        activity_id = call.task_id if attempt == 0 else f"{call.task_id}:retry{attempt}"
        inputs = {**call.inputs, ACTING_INPUT: self._acting(call.task_id)}  # after the diagram's: it cannot set it
        if plan.local:
            coro = workflow.execute_local_activity(
                plan.name, inputs, activity_id=activity_id,
                start_to_close_timeout=plan.start_to_close, retry_policy=plan.retry_policy,
            )
        else:
            coro = workflow.execute_activity(
                plan.name, inputs, activity_id=activity_id, task_queue=plan.task_queue,
                start_to_close_timeout=plan.start_to_close, heartbeat_timeout=plan.heartbeat,
                retry_policy=plan.retry_policy,
            )
        task = asyncio.ensure_future(self._await_activity(call.task_id, coro))
        self._running[call.task_id] = (call.element_id, task)

    def _acting(self, task_id: str) -> dict[str, str | None]:
        """Who the service task ``task_id`` acts for, from this workflow's own records (issue J.3): the
        user who completed the nearest user task before it on its path (the API's token, carried by
        the completion update), else whoever started the instance (the API's token, in the start input)."""
        person = None
        if self._run is not None and self._completed_by:
            before = self._run.preceding_task(task_id, self._completed_by)
            person = self._completed_by.get(before) if before is not None else None
        return {"person": person or self._input.started_by, "started_by": self._input.started_by}

    # -- call activities -------------------------------------------------------------------
    def _start_child(self, call: engine.ChildCall) -> None:
        attempt = self._attempt.get(call.task_id, 0)
        self._attempt[call.task_id] = attempt + 1
        child_id = child_workflow_id(workflow.info().workflow_id, call.task_id, attempt)
        self._children[child_id] = call.element_id
        carry = workflow.patched(CHILD_CARRY_PATCH)
        task = asyncio.ensure_future(self._await_activity(call.task_id, self._run_child(call, child_id, carry)))
        self._running[call.task_id] = (call.element_id, task)

    async def _run_child(self, call: engine.ChildCall, child_id: str, carry: bool = False) -> dict[str, Any]:
        """Resolve the called process's latest version (recorded: a replay starts the same one),
        run it as a child BpmnProcess and return its variables. With ``carry`` the child outlives a
        continue-as-new of this run (parent close policy ABANDON): once it started, this run may
        continue as new, and the next one waits for the child's ``child_finished`` signal."""
        resolved = await workflow.execute_local_activity(
            LATEST_VERSION_ACTIVITY, call.process_id, activity_id=f"{call.task_id}:version",
            start_to_close_timeout=timedelta(seconds=30),
            retry_policy=RetryPolicy(maximum_attempts=5, non_retryable_error_types=["ProcessNotDeployed"]),
        )
        try:
            handle = await workflow.start_child_workflow(
                WORKFLOW_NAME,
                ProcessInput(process_id=call.process_id, spec_sha256=resolved["spec_sha256"],
                             version=resolved.get("version"), variables=dict(call.variables),
                             business_key=self._input.business_key, started_by=self._input.started_by),
                id=child_id, task_queue=workflow.info().task_queue,
                memo={"process_id": call.process_id, "version": resolved.get("version")},
                parent_close_policy=ParentClosePolicy.ABANDON if carry else ParentClosePolicy.TERMINATE,
            )
            if carry:
                self._child_started[call.task_id] = child_id
                self._wake = True  # the run may continue as new now
            result = await handle
        finally:
            self._child_incidents.pop(child_id, None)
            self._child_started.pop(call.task_id, None)
            self._child_results.pop(child_id, None)
        variables = result.get("variables") if isinstance(result, dict) else getattr(result, "variables", None)
        return dict(variables or {})

    def _wait_for_carried_child(self, task_id: str, child_id: str, element_id: str) -> None:
        """A child started by a previous run of this instance: wait for its ``child_finished`` signal."""
        self._child_started[task_id] = child_id
        task = asyncio.ensure_future(self._await_activity(task_id, self._carried_child(task_id, child_id)))
        self._running[task_id] = (element_id, task)

    async def _carried_child(self, task_id: str, child_id: str) -> dict[str, Any]:
        watch: asyncio.Task[Any] | None = None
        if workflow.patched(CHILD_WATCH_PATCH):  # a child ended from outside sends no child_finished
            watch = asyncio.ensure_future(workflow.execute_activity(
                CHILD_OUTCOME_ACTIVITY, child_id, activity_id=f"{task_id}:outcome",
                start_to_close_timeout=CHILD_WATCH_TIMEOUT, heartbeat_timeout=CHILD_WATCH_HEARTBEAT,
                retry_policy=INBOX_RETRY,
            ))
            watch.add_done_callback(lambda done: done.cancelled() or done.exception())  # retrieved here
        try:
            await workflow.wait_condition(
                lambda: child_id in self._child_results or (watch is not None and watch.done()))
        except asyncio.CancelledError:  # the call activity was interrupted: so is its child
            with contextlib.suppress(Exception):
                await workflow.get_external_workflow_handle(child_id).cancel()
            raise
        finally:
            if watch is not None and not watch.done():
                watch.cancel()  # the child's own report came first: the same outcome, taken once
        self._settled_children.add(child_id)
        self._child_started.pop(task_id, None)
        self._child_incidents.pop(child_id, None)
        finished = self._child_results.pop(child_id, None)
        if finished is None:
            assert watch is not None
            finished = _watched_outcome(child_id, watch)  # raises when it ended without a result
        if finished.error is not None:
            error = finished.error
            cause = ApplicationError(str(error.get("message")), error.get("details") or {}, type="BpmnError",
                                     non_retryable=True)
            raise ApplicationError(f"called instance {child_id} ended with a business error",
                                   type="ChildFailed", non_retryable=True) from cause
        return dict(finished.variables or {})

    @workflow.signal(name=CHILD_FINISHED_SIGNAL)
    def child_finished(self, report: ChildFinished) -> None:
        if report.workflow_id not in self._children or report.workflow_id in self._settled_children:
            return  # not ours, or its outcome was already taken (from the outcome activity)
        self._child_results[report.workflow_id] = report
        self._wake = True

    async def _report_end(self, report: ChildFinished) -> None:
        """A called instance tells its parent how it ended (the parent may have continued as new)."""
        parent = workflow.info().parent
        if parent is None or not workflow.patched(CHILD_REPORTS_END_PATCH):
            return
        with contextlib.suppress(Exception):  # the parent ended meanwhile
            await workflow.get_external_workflow_handle(parent.workflow_id).signal(CHILD_FINISHED_SIGNAL, report)

    @workflow.signal(name=CHILD_INCIDENT_SIGNAL)
    def child_incident(self, report: ChildIncident) -> None:
        if report.workflow_id not in self._children:
            return
        if report.incident is None:
            self._child_incidents.pop(report.workflow_id, None)
        else:
            self._child_incidents[report.workflow_id] = dict(report.incident)
        if self._status_enabled:  # publish it (histories from before the patch did not wake here)
            self._wake = True

    def _report_to_parent(self, incident: dict[str, Any] | None) -> None:
        """A called process tells its parent when an incident opens or closes (shown at the call activity)."""
        parent = workflow.info().parent
        if parent is None:
            return
        handle = workflow.get_external_workflow_handle(parent.workflow_id)
        report = ChildIncident(workflow.info().workflow_id, incident)

        async def send() -> None:
            with contextlib.suppress(Exception):  # the parent ended meanwhile
                await handle.signal(CHILD_INCIDENT_SIGNAL, report)

        task = asyncio.ensure_future(send())
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    def _shown_incident(self) -> dict[str, Any] | None:
        if self._incident is not None or not self._child_incidents:
            return self._incident
        child_id, incident = sorted(self._child_incidents.items())[0]
        return {"element_id": self._children.get(child_id), "kind": "child", "child_workflow_id": child_id,
                "message": f"called instance {child_id}: [{incident.get('element_id')}] {incident.get('message')}"
                           " (retry that instance)", "at": incident.get("at")}

    async def _await_activity(self, task_id: str, coro: Any) -> None:
        try:
            result = await coro
        except asyncio.CancelledError:
            return
        except (ActivityError, ChildWorkflowError, ApplicationError) as exc:
            self._outcomes.append((task_id, None, exc))
        else:
            self._outcomes.append((task_id, result, None))
        self._wake = True

    # -- messages --------------------------------------------------------------------------
    @workflow.signal(name=MESSAGE_SIGNAL)
    def deliver_message(self, message: MessageDelivery) -> None:
        if message.message_id in self._seen_messages:
            return  # delivered twice (a retried publisher or mailbox): caught once
        self._seen_messages.add(message.message_id)
        self._messages.append(message)
        self._wake = True

    def _match_messages(self, run: engine.ProcessRun) -> None:
        """Let waiting tasks catch received messages; keep the rest until their time-to-live ends;
        publish what the process threw; keep the mailbox subscriptions in step with the waits."""
        now = workflow.now()
        self._messages = [m for m in self._messages
                          if datetime.fromisoformat(m.published_at) + timedelta(seconds=m.ttl_seconds) > now]
        progressed = True
        while progressed:
            progressed = False
            for message in list(self._messages):
                wait = next((w for w in run.message_waits()
                             if w.name == message.name and (w.key is None or w.key == message.key)), None)
                if wait is not None:
                    self._messages.remove(message)
                    run.deliver_message(wait.task_id, message.variables, wait.name)
                    progressed = True
        for thrown in run.thrown_messages():
            self._in_background("messages.publish", {"name": thrown.name, "key": thrown.key,
                                                     "variables": thrown.variables,
                                                     ACTING_INPUT: {"person": self._input.started_by,
                                                                    "started_by": self._input.started_by}})
        wanted = {(w.name, w.key) for w in run.message_waits()}
        workflow_id = workflow.info().workflow_id
        for name, key in sorted(wanted - self._subscriptions, key=str):
            self._in_background("messages.subscribe", {"name": name, "key": key, "workflow_id": workflow_id})
        for name, key in sorted(self._subscriptions - wanted, key=str):
            self._in_background("messages.unsubscribe", {"name": name, "key": key, "workflow_id": workflow_id})
        self._subscriptions = wanted

    # -- signals ---------------------------------------------------------------------------
    @workflow.signal(name=SIGNAL_SIGNAL)
    def deliver_signal(self, signal: MessageDelivery) -> None:
        if signal.message_id in self._seen_messages:
            return
        self._seen_messages.add(signal.message_id)
        self._signals.append(signal)
        self._wake = True

    def _match_signals(self, run: engine.ProcessRun) -> None:
        """Received signals reach every task waiting for them now (or none: signals are not kept);
        signals the process threw are broadcast; the signal boards know what the instance waits for."""
        while self._signals:
            signal = self._signals.pop(0)
            run.deliver_signal(signal.name, signal.variables)
        for thrown in run.thrown_signals():
            self._in_background("signals.broadcast", {"name": thrown.name, "variables": thrown.variables})
        wanted = run.signal_waits()
        workflow_id = workflow.info().workflow_id
        for name in sorted(wanted - self._signal_subscriptions):
            self._in_background("signals.subscribe", {"name": name, "workflow_id": workflow_id})
        for name in sorted(self._signal_subscriptions - wanted):
            self._in_background("signals.unsubscribe", {"name": name, "workflow_id": workflow_id})
        self._signal_subscriptions = wanted

    # -- inbox -----------------------------------------------------------------------------
    def _sync_inbox(self, run: engine.ProcessRun) -> None:
        """Open inbox rows for new user tasks, close those that left (completed or cancelled).

        Runs in the background with unlimited retries: the process never waits for the inbox.
        """
        pending = run.pending_user_tasks()
        if not pending and not self._inbox_open:
            return
        if self._inbox_enabled is None:
            self._inbox_enabled = workflow.patched(INBOX_PATCH)
        if not self._inbox_enabled:
            return
        pending_ids = {view.task_id for view in pending}
        new = [asdict(view) for view in pending if view.task_id not in self._inbox_open]
        if new:
            self._inbox_open.update({t["task_id"]: t["element_id"] for t in new})
            info = workflow.info()
            self._in_background("inbox.open_tasks", {
                "workflow_id": info.workflow_id, "run_id": info.run_id, "process_id": self._input.process_id,
                "version": self._input.version, "business_key": self._input.business_key, "tasks": new,
                "started_by": self._input.started_by,
            })
        for task_id in [t for t in self._inbox_open if t not in pending_ids]:
            element_id = self._inbox_open.pop(task_id)
            completed = task_id in self._completed_user_tasks
            self._in_background("inbox.close_task", {
                "workflow_id": workflow.info().workflow_id, "task_id": task_id, "element_id": element_id,
                "outcome": "completed" if completed else "cancelled", "user": self._completed_by.get(task_id),
                **self._completed_data.pop(task_id, {}),
            })

    def _in_background(self, activity_name: str, argument: dict[str, Any]) -> None:
        task = asyncio.ensure_future(workflow.execute_activity(
            activity_name, argument, start_to_close_timeout=timedelta(seconds=30), retry_policy=INBOX_RETRY,
        ))
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    # -- what the instance list shows (workflows.instance_status) ---------------------------
    def _publish_status(self) -> None:
        """Upsert the open incident and current elements when they changed (before each wait)."""
        elements: set[str] = set()
        if self._run is not None:
            with contextlib.suppress(engine.EngineIncident):
                elements = set(self._run.active_elements())
        incident = self._shown_incident()
        if incident is not None and incident.get("element_id"):
            elements.add(str(incident["element_id"]))  # a failed step holds its token (not "active" to Spiff)
        shown = (incident is not None, sorted(elements))
        if shown == self._published:
            return
        if self._status_enabled is None:
            self._status_enabled = workflow.patched(instance_status.STATUS_PATCH)
        if not self._status_enabled:
            return
        updates = instance_status.status_updates(*shown)
        if self._published is None:
            updates = instance_status.identity_updates(self._input.process_id, self._input.version,
                                                       self._input.business_key, self._input.started_by) + updates
        workflow.upsert_search_attributes(updates)
        self._published = shown

    # -- incidents -------------------------------------------------------------------------
    def _raise_incident(self, element_id: str | None, message: str, kind: str) -> None:
        self._status = "incident"
        self._incident = {
            "element_id": element_id,
            "message": message,
            "kind": kind,
            "at": workflow.now().isoformat(),
        }
        workflow.logger.warning("incident at %s: %s", element_id, message)
        self._report_to_parent(self._incident)

    def _clear_incident(self) -> None:
        if self._incident is not None:
            self._report_to_parent(None)
        self._incident = None
        self._status = "running"

    @workflow.update(name=RETRY_UPDATE)
    def retry(self, request: RetryIncident) -> dict[str, Any]:
        self._retry = request
        self._wake = True
        return {"status": "retrying"}

    @retry.validator
    def _validate_retry(self, request: RetryIncident) -> None:
        _check_proof(request)
        if self._incident is None and self._child_incidents:
            child_id = sorted(self._child_incidents)[0]
            raise ApplicationError(f"the incident is in the called instance {child_id}: retry that instance",
                                   {"child_workflow_id": child_id}, type="ChildIncident")
        if self._incident is None:
            raise ApplicationError("the instance has no open incident to retry", type="NoIncident")

    # -- migration -------------------------------------------------------------------------
    def _migration_problems(self, spec_sha256: str) -> list[str]:
        if self._run is None:
            return ["the instance has not started"]
        try:
            with workflow.unsafe.sandbox_unrestricted():
                bundle = spec_cache.bundle_for(spec_sha256)
        except spec_cache.SpecUnavailable as exc:
            return [str(exc)]
        if bundle.process_id != self._input.process_id:
            return [f"spec {spec_sha256[:12]} is process '{bundle.process_id}', not '{self._input.process_id}'"]
        return self._run.migration_problems(bundle)

    @workflow.query(name=MIGRATION_CHECK_QUERY)
    def migration_check(self, spec_sha256: str) -> list[str]:
        return self._migration_problems(spec_sha256)

    @workflow.update(name=MIGRATE_UPDATE)
    def migrate(self, request: MigrateRequest) -> dict[str, Any]:
        self._migration = request
        self._wake = True
        return {"status": "migrating", "to": request.spec_sha256, "version": request.version}

    @migrate.validator
    def _validate_migrate(self, request: MigrateRequest) -> None:
        _check_proof(request)
        if request.spec_sha256 == self._input.spec_sha256:
            raise ApplicationError("the instance already runs on this version", type="AlreadyOnVersion")
        if self._migration is not None:
            raise ApplicationError("a migration of this instance is already under way", type="MigrationPending")
        problems = self._migration_problems(request.spec_sha256)
        if problems:
            raise ApplicationError("unsafe: " + "; ".join(problems), {"problems": problems}, type="MigrationUnsafe")

    # -- user tasks ------------------------------------------------------------------------
    @workflow.update(name=COMPLETE_USER_TASK_UPDATE)
    def complete_user_task(self, request: CompleteUserTask) -> dict[str, Any]:
        if request.task_id in self._completed_user_tasks:
            return {"status": "already_completed", "element_id": self._completed_user_tasks[request.task_id]}
        assert self._run is not None
        result: dict[str, Any] = {"status": "completed"}
        try:
            element_id = self._run.complete_user_task(request.task_id, dict(request.data))
        except engine.EngineIncident as exc:
            element_id = exc.element_id or "?"
            self._raise_incident(exc.element_id, exc.message, _kind(exc))
            result["incident"] = self._incident
        self._completed_user_tasks[request.task_id] = element_id
        self._completed_by[request.task_id] = request.user
        self._completed_data[request.task_id] = {"data": dict(request.data), "reason": request.reason}
        if request.completed_at:
            self._completed_data[request.task_id]["completed_at"] = request.completed_at
        result["element_id"] = element_id
        self._wake = True
        return result

    @complete_user_task.validator
    def _validate_complete(self, request: CompleteUserTask) -> None:
        _check_proof(request)
        if request.task_id in self._completed_user_tasks:
            return
        if self._run is None:
            raise ApplicationError("the instance has not started: see its incident", type="UnknownTask")
        try:
            self._run.validate_user_task(request.task_id, request.data)
            _check_signature(request, self._run.user_task_signature(request.task_id))
        except engine.UnknownTask as exc:
            raise ApplicationError(str(exc), type="UnknownTask") from None
        except engine.FormInvalid as exc:
            raise ApplicationError(str(exc), {"element_id": exc.element_id, "errors": exc.errors},
                                   type="FormInvalid") from None
        except engine.EngineIncident as exc:
            raise ApplicationError(str(exc), type="EngineIncident") from None

    # -- queries ---------------------------------------------------------------------------
    @workflow.query(name=USER_TASKS_QUERY)
    def user_tasks(self) -> list[dict[str, Any]]:
        if self._run is None:
            return []
        try:
            return [asdict(view) for view in self._run.pending_user_tasks()]
        except engine.EngineIncident:
            return []

    @workflow.query(name=STATE_QUERY)
    def state(self) -> dict[str, Any]:
        run = self._run
        return {
            "process_id": self._input.process_id,
            "version": self._input.version,
            "spec_sha256": self._input.spec_sha256,
            "business_key": self._input.business_key,
            "status": "incident" if self._status == "running" and self._child_incidents else self._status,
            "active": run.active_elements() if run else [],
            "completed": list(run.completed) if run else [],
            # large values marked, so that the answer fits a payload (the query never fails on size)
            "variables": payload_size.shrunk(run.variables() if run else dict(self._input.variables),
                                             payload_size.configured_payload_limit() // 2),
            "user_tasks": self.user_tasks(),
            "incident": self._shown_incident(),
            "running_activities": sorted(element for element, _ in self._running.values()),
            "completed_user_tasks": dict(self._completed_user_tasks),
            "runs": self._runs,
        }


def _check_proof(request: CompleteUserTask | RetryIncident | MigrateRequest) -> None:
    """Refuse an Update acting for a person unless it proves the API's checks (issue J.10). Runs in
    validators only: never on replay, so histories from before proofs, or from another key, replay."""
    info = workflow.info()
    try:
        update_proof.check(request, namespace=info.namespace, workflow_id=info.workflow_id, now=workflow.now())
    except update_proof.ProofRefused as exc:
        raise ApplicationError(str(exc), type="ProofRefused") from None


def _check_signature(request: CompleteUserTask, meaning: str | None) -> None:
    """Refuse the completion of a task marked for an e-signature (issue J.3) unless it carries the
    attestation the API (or ``mom complete --password-stdin``) sets after checking the password: the
    meaning and the signer, who must be the completing user. The proof covers the attestation
    (:mod:`workflows.update_proof`), so only a key holder can add it. Validators only: never on replay."""
    if meaning is None:
        return
    attested = request.signature or {}
    if attested.get("meaning") != meaning or not request.user or attested.get("signed_by") != request.user:
        raise ApplicationError(
            f"task {request.task_id} needs an electronic signature ({meaning}) by {request.user!r}: complete it "
            "in the inbox or through the REST API with the password, or with 'mom complete --password-stdin'",
            {"errors": {"password": f"required: completing this task signs it as '{meaning}'"}},
            type="SignatureRequired")


def _watched_outcome(child_id: str, watch: asyncio.Task[Any]) -> ChildFinished:
    """The child's end as the outcome activity saw it; an end without a result (terminated, timed
    out, cancelled) becomes an incident at the call activity."""
    try:
        outcome = watch.result()
    except ActivityError as exc:  # cannot happen with unlimited retries; an incident all the same
        raise ApplicationError(f"the outcome of called instance {child_id} is unknown: {_failure_message(exc)}",
                               type="ChildLost", non_retryable=True) from None
    if outcome.get("status") == "completed":
        return ChildFinished(child_id, variables=dict(outcome.get("variables") or {}))
    if outcome.get("status") == "failed" and outcome.get("error"):
        return ChildFinished(child_id, error=dict(outcome["error"]))
    raise ApplicationError(str(outcome.get("message") or f"called instance {child_id} ended without a result"),
                           {"child_workflow_id": child_id, "status": outcome.get("status")},
                           type="ChildLost", non_retryable=True)


def _kind(exc: engine.EngineIncident) -> str:
    return SIZE_INCIDENT if isinstance(exc, engine.DataTooLarge) else "engine"


def _largest(run: engine.ProcessRun) -> str:
    largest = payload_size.largest_values(run.variables())[:3]
    names = ", ".join(f"{name} ({size:,} bytes)" for name, size in largest)
    return f"largest variables: {names}; retry with smaller values (e.g. --var {largest[0][0]}=null)" if largest else ""


def _failure_message(error: BaseException) -> str:
    cause = error.__cause__
    while isinstance(cause, ActivityError) and cause.__cause__ is not None:
        cause = cause.__cause__
    detail = f"{type(cause).__name__}: {cause}" if cause is not None else str(error)
    if isinstance(error, ActivityError):
        return f"activity '{error.activity_type}' failed after its retries: {detail}"
    if isinstance(error, ChildWorkflowError):
        return f"called instance {error.workflow_id} failed: {detail}"
    return detail


def _business_error(error: BaseException) -> tuple[str, str, dict[str, Any]] | None:
    """(code, message, variables) of an activity that failed with a business error (type BpmnError)."""
    cause = error.__cause__
    if not isinstance(cause, ApplicationError) or cause.type != "BpmnError":
        return None
    details = cause.details[0] if cause.details and isinstance(cause.details[0], dict) else {}
    code = str(details.get("code") or cause.message)
    variables = {k: v for k, v in details.items() if k not in ("code",)}
    return code, cause.message, variables
