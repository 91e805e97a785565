"""One running process: a SpiffWorkflow ``BpmnWorkflow`` behind a small, plant-shaped interface.

The engine knows nothing of Temporal. It advances the diagram as far as it can go alone
(gateways, scripts, events), then says what it waits for: service calls (activities), user
tasks (people), or timers. The Temporal workflow (:mod:`workflows.bpmn_process`) drives it; the
same object runs in-process for tests and ``mom lint``-style checks.

Engine errors (a bad expression, a missing variable) surface as :class:`EngineIncident` naming
the element, never as a crash: the caller shows the incident and retries after the data is fixed.
"""

from __future__ import annotations

import contextlib
import copy
import json
from collections.abc import Callable, Container
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, TypeVar
from uuid import UUID

from SpiffWorkflow.bpmn.specs.event_definitions.conditional import ConditionalEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.item_aware_event import ErrorEventDefinition, SignalEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.message import MessageEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.multiple import MultipleEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.timer import CycleTimerEventDefinition, TimerEventDefinition
from SpiffWorkflow.bpmn.specs.mixins.events.intermediate_event import BoundaryEvent
from SpiffWorkflow.bpmn.specs.mixins.events.start_event import StartEvent
from SpiffWorkflow.bpmn.util import BpmnEvent
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.exceptions import WorkflowException
from SpiffWorkflow.spiff.specs.defaults import UserTask
from SpiffWorkflow.util.task import TaskState

from bpmn import compensation
from bpmn.clock import current_time
from bpmn.extensions import TaskExtensions, job_headers
from bpmn.forms import validate_form_data
from bpmn.parser import PlantCallActivity, PlantEventSubprocess, PlantServiceTask, call_extensions, task_extensions
from bpmn.payload_size import PAYLOAD_SETTING, json_bytes, largest_values
from bpmn.script_engine import restricted_script_engine
from bpmn.spec_bundle import SpecBundle, serializer

T = TypeVar("T")
ACTIVE_STATES = TaskState.READY | TaskState.WAITING | TaskState.STARTED
FINISHED_STATES = (TaskState.COMPLETED, TaskState.CANCELLED)
COMPACT_AT_DEPTH = 300
TIMER_EVENT_TYPES = {"DurationTimerEventDefinition", "TimeDateEventDefinition", "CycleTimerEventDefinition",
                     "TimerEventDefinition"}


class EngineIncident(Exception):
    """The process cannot go on until someone fixes data or the diagram; names the element."""

    def __init__(self, element_id: str | None, message: str):
        self.element_id = element_id
        self.message = message
        super().__init__(f"[{element_id}] {message}" if element_id else message)


class DataTooLarge(EngineIncident):
    """The process data would not fit a Temporal payload (``MOM_MAX_PAYLOAD_BYTES``)."""


class UnknownTask(LookupError):
    pass


class _Pause(Exception):
    """Raised between two engine tasks when the work budget of this workflow task is spent."""


class FormInvalid(ValueError):
    def __init__(self, element_id: str, errors: dict[str, str]):
        self.element_id = element_id
        self.errors = errors
        details = "; ".join(f"{k}: {v}" for k, v in errors.items())
        super().__init__(f"form of user task '{element_id}' is not valid: {details}")


@dataclass
class ServiceCall:
    task_id: str
    element_id: str
    task_type: str
    inputs: dict[str, Any]
    headers: dict[str, str]
    retries: int | None


@dataclass
class ChildCall:
    """A call activity ready to start its child process: the called process id and its variables."""

    task_id: str
    element_id: str
    process_id: str
    variables: dict[str, Any]


@dataclass(frozen=True)
class UncaughtError:
    """A business error thrown by an error end event that nothing in the process caught."""

    element_id: str
    code: str
    message: str
    variables: dict[str, Any]


@dataclass(frozen=True)
class MessageWait:
    """A task waiting for a message: its name and the correlation key it was opened with."""

    task_id: str
    element_id: str
    name: str
    key: str | None


@dataclass(frozen=True)
class ThrownMessage:
    name: str
    key: str | None
    variables: dict[str, Any]


@dataclass(frozen=True)
class ThrownSignal:
    name: str
    variables: dict[str, Any]


@dataclass
class UserTaskView:
    task_id: str
    element_id: str
    name: str
    lane: str | None = None
    assignee: str | None = None
    candidate_groups: list[str] = field(default_factory=list)
    candidate_users: list[str] = field(default_factory=list)
    due_date: str | None = None
    priority: int | None = None
    form_key: str | None = None
    form_schema: dict[str, Any] | None = None
    documentation: str | None = None
    context: dict[str, Any] = field(default_factory=dict)
    signature: str | None = None  # the task header "signature": completing it needs an e-signature with this meaning


def plain_json(value: Any) -> Any:
    """Task data as plain JSON values (dates and other objects become strings)."""
    return json.loads(json.dumps(value, default=str))


def _as_list(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [v.strip() for v in value.split(",") if v.strip()]
    return [str(v) for v in value]


class ProcessRun:
    def __init__(self, workflow: BpmnWorkflow, completed: list[str] | None = None,
                 message_keys: dict[str, str | None] | None = None):
        self.workflow = workflow
        self.completed: list[str] = list(completed or [])
        self.message_keys: dict[str, str | None] = dict(message_keys or {})
        self._last_data: dict[str, Any] = {}
        self._thrown_signals: list[ThrownSignal] = []
        self._listens: bool | None = None  # whether the process has event subprocesses
        self._compensates: bool | None = None  # whether it has compensation handlers or throw events
        # Work budget (see advance): units = tasks in the tree at each engine task completed
        self.work_budget: int | None = None
        self.may_pause: Callable[[], bool] = lambda: True
        self.spent = 0
        self.pending_work = False
        # Process data over this many bytes of JSON (a payload Temporal would refuse) is an incident at
        # the task that brought it (a script, a completion, an activity result, a message)
        self.payload_limit: int | None = None

    # -- lifecycle -------------------------------------------------------------------------
    @classmethod
    def start(cls, bundle: SpecBundle, variables: dict[str, Any]) -> ProcessRun:
        workflow = BpmnWorkflow(
            bundle.spec, bundle.subprocess_specs, script_engine=restricted_script_engine()
        )
        for task in workflow.get_tasks(state=TaskState.READY):
            task.data.update(variables)
        run = cls(workflow, message_keys=bundle.messages)
        run._last_data = dict(variables)
        return run

    @classmethod
    def restore(cls, state_json: str, completed: list[str], bundle: SpecBundle | None = None,
                relisten: bool = True) -> ProcessRun:
        """Restore a serialized run; with ``bundle`` its specs replace the ones stored in the state
        (the spec of the version the instance runs on now, e.g. after a migration). ``relisten``:
        see :meth:`relisten` (the workflow decides it behind a patch marker)."""
        if bundle is not None:
            document = json.loads(state_json)
            registry = serializer().registry
            document["spec"] = registry.convert(bundle.spec)
            document["subprocess_specs"] = {k: registry.convert(v) for k, v in bundle.subprocess_specs.items()}
            state_json = json.dumps(document)
        workflow = serializer().deserialize_json(state_json)
        workflow.script_engine = restricted_script_engine()
        run = cls(workflow, completed, bundle.messages if bundle is not None else None)
        if relisten:
            run.relisten()
        return run

    def migration_problems(self, bundle: SpecBundle) -> list[str]:
        """Why this run cannot move to ``bundle``'s spec: tasks in flight whose element is gone."""
        problems = []
        known = set(bundle.spec.task_specs)
        for sub in bundle.subprocess_specs.values():
            known |= set(sub.task_specs)
        for task in self.workflow.get_tasks(state=TaskState.NOT_FINISHED_MASK):
            if task.task_spec.name not in known:
                problems.append(f"element '{task.task_spec.bpmn_id or task.task_spec.name}' is "
                                f"{TaskState.get_name(task.state)} here but not in the new version")
        return sorted(set(problems))

    def serialize(self) -> str:
        return str(serializer().serialize_json(self.workflow))

    @property
    def is_completed(self) -> bool:
        return bool(self.workflow.is_completed())

    # -- advancing -------------------------------------------------------------------------
    def _guard(self, action: Callable[[], T], element_id: str | None = None) -> T:
        try:
            return action()
        except EngineIncident:
            raise
        except WorkflowException as exc:
            task = getattr(exc, "task", None)
            spec = getattr(exc, "task_spec", None) or getattr(task, "task_spec", None)
            where = getattr(spec, "bpmn_id", None) or element_id
            raise EngineIncident(where, _describe(exc)) from None
        except Exception as exc:
            raise EngineIncident(element_id, f"{type(exc).__name__}: {exc}") from exc

    def _did_complete(self, task: Any) -> None:
        bpmn_id = getattr(task.task_spec, "bpmn_id", None)
        if bpmn_id is not None:
            self.completed.append(bpmn_id)
            self._last_data = task.data
            if self._has_compensation():
                compensation.record(task)
            if self.payload_limit is not None and _brings_data(task.task_spec):
                self._check_size(task.data, bpmn_id, self.payload_limit)
        if len(self.completed) % 50 == 0 and task.workflow is self.workflow and self._depth(task) > COMPACT_AT_DEPTH:
            self.compact()

    @staticmethod
    def _check_size(data: dict[str, Any], element_id: str, limit: int) -> None:
        size = json_bytes(data)
        if size > limit:
            largest = ", ".join(f"{name} ({n:,} bytes)" for name, n in largest_values(data)[:3])
            first = largest_values(data)[0][0]
            raise DataTooLarge(element_id, f"the process data takes {size:,} bytes as JSON, more than "
                                             f"{PAYLOAD_SETTING} ({limit:,}); largest variables: {largest}; "
                                             f"retry with smaller values (e.g. --var {first}=null)")

    def new_budget(self) -> None:
        """Start counting the work of a new workflow task."""
        self.spent = 0

    def _did_complete_engine_task(self, task: Any) -> None:
        self._did_complete(task)
        if self.work_budget is None:
            return
        # SpiffWorkflow looks through the task tree after every completion (waiting tasks, joins):
        # the work of one completion grows with the tree, so it is charged by the tree's size
        # and again for every waiting task and every join still to come (each looks through the tree
        # for its inputs: a parallel split of n branches costs n^2 tree walks)
        tree = len(self.workflow.tasks) + (len(task.workflow.tasks) if task.workflow is not self.workflow else 0)
        waiting = sum(1 for t in self.workflow.tasks.values()
                      if t._state == TaskState.WAITING or (t._state < TaskState.COMPLETED
                                                           and len(t.task_spec.inputs) > 1))
        self.spent += tree * (1 + waiting // 8)  # measured: a join's walk costs about 1/8 of a completion's
        if self.spent > self.work_budget and self.may_pause():
            raise _Pause

    def advance(self) -> None:
        """Run everything the engine can do alone: due timers, gateways, scripts, events.

        With a ``work_budget`` it stops between two engine tasks once the budget is spent and sets
        ``pending_work``: the caller lets the workflow task end (Temporal's deadlock detector allows
        2 s without yielding) and calls again, which goes on where it stopped (the tasks left READY)."""

        def step() -> None:
            try:
                self.workflow.refresh_timers()
                self.workflow.do_engine_steps(did_complete_task=self._did_complete_engine_task)
                while self._compensate() or self._check_conditions() or self._close_idle_listeners():
                    self.workflow.do_engine_steps(did_complete_task=self._did_complete_engine_task)
            except _Pause:
                self.pending_work = True
            else:
                self.pending_work = False

        self._guard(step)

    def _has_compensation(self) -> bool:
        if self._compensates is None:
            self._compensates = compensation.has_compensation(
                [self.workflow.spec, *self.workflow.subprocess_specs.values()])
        return self._compensates

    def _compensate(self) -> bool:
        """Compensation throw events start their next handler, or complete after the last one."""
        return self._has_compensation() and compensation.advance(self.workflow, self._did_complete)

    def _close_idle_listeners(self) -> bool:
        """Event subprocesses listen while the rest of their scope runs: when only untriggered
        listeners (and the scope's end join) are left, cancel them so that the scope can end."""
        if self._listens is None:
            specs = [self.workflow.spec, *self.workflow.subprocess_specs.values()]
            self._listens = any(isinstance(t, PlantEventSubprocess) for s in specs for t in s.task_specs.values())
        if not self._listens:
            return False
        closed = False
        for workflow in [self.workflow, *self.workflow.subprocesses.values()]:
            listeners, others, joins = [], [], []
            for task in workflow.get_tasks(state=TaskState.NOT_FINISHED_MASK):
                if task.workflow is not workflow:
                    continue
                if PlantEventSubprocess.is_listening(task):
                    listeners.append(task)
                elif task.task_spec.name in (workflow.spec.end.name, "End"):
                    joins.append(task)
                elif not task.has_state(TaskState.PREDICTED_MASK):
                    others.append(task)
            if listeners and not others:
                for task in listeners:
                    task.cancel()
                for task in joins:  # the end join waiting for the listeners (theirs were dropped)
                    if task.state == TaskState.WAITING and task.id in workflow.tasks:
                        task.task_spec._update(task)
                closed = True
        return closed

    def _check_conditions(self) -> bool:
        """Conditional event subprocesses: after every step of the engine (a task completed, a
        message, signal or timer caught, a retry) each listening condition is evaluated against the
        current data of its scope; it fires when it becomes true (true when the scope starts counts).
        A missing variable counts as false. Returns whether one fired."""
        if getattr(self, "_conditional", None) is None:
            specs = [self.workflow.spec, *self.workflow.subprocess_specs.values()]
            self._conditional = any(isinstance(t, PlantEventSubprocess)
                                    and isinstance(t.event_definition, ConditionalEventDefinition)
                                    for s in specs for t in s.task_specs.values())
        fired = False
        for task in self.workflow.get_tasks(state=TaskState.WAITING) if self._conditional else []:
            definition = getattr(task.task_spec, "event_definition", None)
            if not isinstance(definition, ConditionalEventDefinition) or not PlantEventSubprocess.is_listening(task):
                continue
            element_id = str(task.task_spec.bpmn_id or task.task_spec.name)
            scope = _scope_data(task.workflow, task)
            try:
                now = bool(self.workflow.script_engine.environment.evaluate(definition.expression, scope))
            except NameError:
                now = False
            except Exception as exc:
                raise EngineIncident(element_id, f"condition {definition.expression!r}: "
                                                 f"{type(exc).__name__}: {exc}") from None
            was = bool(task._get_internal_data("condition_true", False))
            task._set_internal_data(condition_true=now)
            if now and not was:
                task.data.update(copy.deepcopy(scope))
                task._set_internal_data(event_fired=True)
                self._guard(lambda t=task: t.task_spec._update(t), element_id)  # type: ignore[misc]
                fired = True
        return fired

    def relisten(self) -> None:
        """Event subprocess listeners are no catching events: SpiffWorkflow's deserializer does not put
        them back into the event manager. Without this, after a restore (continue-as-new, migration)
        their timers never fired and errors, escalations and signals thrown inside never reached them."""
        manager = self.workflow.event_manager
        for task in self.workflow.get_tasks(state=TaskState.WAITING):
            if PlantEventSubprocess.is_listening(task) and task.id not in manager.tasks:
                manager.add_task(task)

    @staticmethod
    def _depth(task: Any) -> int:
        depth = 0
        while task.parent is not None:
            depth, task = depth + 1, task.parent
        return depth

    def compact(self) -> int:
        """Cut the finished, linear history above the part of the task tree still in flight.

        A loop grows SpiffWorkflow's task tree one level per iteration, and its iterator stops at
        depth 1000: past ~500 iterations ``is_completed()`` would say True while the end event never
        ran. The completed element ids are kept by this class; the tree needs only the tasks in
        flight and the branch point above them, whose data carries the process variables.
        Returns the number of tasks removed.
        """
        root = self.workflow.task_tree
        node = root.children[0] if len(root.children) == 1 else None
        chain: list[Any] = []
        while node is not None and node.state in FINISHED_STATES:
            alive = [c for c in node.children if c.state != TaskState.CANCELLED]
            if len(alive) != 1:
                break
            chain.append(node)
            node = alive[0]
        if node is None or len(chain) < 2:
            return 0
        keep = chain[0]  # the Start task stays directly under the root
        removed = 0
        for task in [keep, *chain[1:]]:
            for child in task.children:
                if child is not None and child.state == TaskState.CANCELLED:
                    removed += self._drop_subtree(child)
        for task in chain[1:]:
            self.workflow.tasks.pop(task.id, None)
            removed += 1
        keep._children = [node.id]
        node._parent = keep.id
        if self.workflow.last_task is not None and self.workflow.last_task.id not in self.workflow.tasks:
            self.workflow.last_task = node
        return removed

    def _drop_subtree(self, task: Any) -> int:
        count = 0
        stack = [task]
        while stack:
            current = stack.pop()
            stack.extend(c for c in current.children if c is not None)
            self.workflow.tasks.pop(current.id, None)
            count += 1
        return count

    def retry_failed(self, variables: dict[str, Any] | None = None) -> None:
        """Put tasks that failed back to READY (with corrected variables) and advance again."""
        # With a finished state alone SpiffWorkflow's iterator skips the children of started tasks
        # (a compensation handler under its throw event, a multi-instance instance): look through them.
        failed = [t for t in self.workflow.get_tasks(state=TaskState.ERROR | TaskState.DEFINITE_MASK)
                  if t.state == TaskState.ERROR]
        for task in failed:
            task.data.update(variables or {})
            task._set_state(TaskState.READY)
        if not failed and variables:
            for task in self.workflow.get_tasks(state=TaskState.READY):
                task.data.update(variables)
        self.advance()

    def patch_data(self, variables: dict[str, Any]) -> None:
        """After data grew too large: ``variables`` replace their values in every task still to run
        or waiting (and in what the last completed task left), then the engine goes on."""
        for task in self.workflow.get_tasks(state=TaskState.NOT_FINISHED_MASK):
            task.data.update(variables)
            if task.parent is not None and task.parent.state in FINISHED_STATES:
                task.parent.data.update(variables)  # a task becoming ready copies its parent's data
        self._last_data = {**self._last_data, **variables}
        self.advance()

    # -- service tasks ---------------------------------------------------------------------
    def ready_service_calls(self) -> list[ServiceCall]:
        calls = []
        for task in self.workflow.get_tasks(state=TaskState.READY, manual=True):
            if isinstance(task.task_spec, PlantServiceTask):
                calls.append(self._service_call(task))
        return calls

    def preceding_task(self, task_id: str, among: Container[str]) -> str | None:
        """The nearest task before ``task_id`` on its path (its ancestors in the task tree) whose id
        is in ``among`` (e.g. the user tasks someone completed); None when there is none."""
        node = self._find(task_id)
        node = node.parent if node is not None else None
        while node is not None:
            if str(node.id) in among:
                return str(node.id)
            node = node.parent
        return None

    def _service_call(self, task: Any) -> ServiceCall:
        ext = task_extensions(task.task_spec)
        element_id = task.task_spec.bpmn_id
        if ext.inputs:
            inputs = {m.target: self._evaluate(task, m.source, element_id) for m in ext.inputs}
        else:
            inputs = dict(task.data)
        inputs = {**job_headers(ext.headers), **inputs}  # custom headers reach the job; inputs win
        return ServiceCall(
            task_id=str(task.id),
            element_id=element_id,
            task_type=str(ext.task_type),
            inputs=plain_json(inputs),
            headers=dict(ext.headers),
            retries=ext.retries,
        )

    def _evaluate(self, task: Any, expression: str, element_id: str, extra: dict[str, Any] | None = None) -> Any:
        def evaluate() -> Any:
            # the job result (or form data) wins over process variables of the same name
            return self.workflow.script_engine.environment.evaluate(expression, {**task.data, **(extra or {})})

        try:
            return evaluate()
        except NameError as exc:
            raise EngineIncident(element_id, f"expression {expression!r}: {exc} (missing variable?)") from None
        except Exception as exc:
            raise EngineIncident(element_id, f"expression {expression!r}: {type(exc).__name__}: {exc}") from None

    # -- call activities -------------------------------------------------------------------
    def ready_child_calls(self) -> list[ChildCall]:
        """Call activities waiting for their child process. The child gets the input mappings of
        the call activity when it has some, else all variables of the call activity."""
        calls = []
        for task in self.workflow.get_tasks(state=TaskState.READY, manual=True):
            if not isinstance(task.task_spec, PlantCallActivity):
                continue
            ext = task_extensions(task.task_spec)
            element_id = task.task_spec.bpmn_id
            if ext.inputs:
                variables = {m.target: self._evaluate(task, m.source, element_id) for m in ext.inputs}
            else:
                variables = dict(task.data)
            process_id = str(call_extensions(task.task_spec).get("process_id"))
            calls.append(ChildCall(str(task.id), element_id, process_id, plain_json(variables)))
        return calls

    def complete_call_activity(self, task_id: str, variables: dict[str, Any]) -> None:
        """The child process ended with ``variables``: apply the output mappings (only they
        come back), or else all child variables unless ``propagateAllChildVariables="false"``."""
        task = self._ready_task(task_id, PlantCallActivity)
        ext = task_extensions(task.task_spec)
        element_id = task.task_spec.bpmn_id
        if ext.outputs:
            for mapping in ext.outputs:
                task.data[mapping.target] = self._evaluate(task, mapping.source, element_id, variables)
        elif call_extensions(task.task_spec).get("propagate_all", True):
            task.data.update(variables)
        self._guard(task.run, element_id)
        self._did_complete(task)
        self.advance()

    def uncaught_error(self) -> UncaughtError | None:
        """The error end event whose error nothing caught (the process ended through it), if any."""
        for task in self.workflow.get_tasks(state=TaskState.COMPLETED):
            spec = task.task_spec
            if (isinstance(spec, PlantEventSubprocess) and task.workflow is self.workflow
                    and isinstance(spec.event_definition, ErrorEventDefinition)):
                return None  # an error event subprocess of the process caught it
        for task in self.workflow.get_tasks(state=TaskState.COMPLETED):
            spec = task.task_spec
            definition = getattr(spec, "event_definition", None)
            if not isinstance(definition, ErrorEventDefinition) or isinstance(spec, BoundaryEvent):
                continue
            if task.workflow is not self.workflow or type(spec).__name__ != "EndEvent":
                continue
            code = str(getattr(definition, "code", None) or definition.name or "")
            return UncaughtError(str(spec.bpmn_id), code, str(definition.name or code), plain_json(task.data))
        return None

    def complete_service_task(self, task_id: str, result: Any) -> None:
        found = self._find(task_id)
        if found is not None and isinstance(found.task_spec, PlantCallActivity):
            self.complete_call_activity(task_id, result if isinstance(result, dict) else {})
            return
        task = self._ready_task(task_id, PlantServiceTask)
        ext = task_extensions(task.task_spec)
        element_id = task.task_spec.bpmn_id
        self._store_result(task, ext, element_id, result)
        self._guard(task.run, element_id)
        self._did_complete(task)
        self.advance()

    def _store_result(self, task: Any, ext: TaskExtensions, element_id: str, result: Any) -> None:
        if ext.outputs:
            scope = result if isinstance(result, dict) else {"result": result}
            for mapping in ext.outputs:
                task.data[mapping.target] = self._evaluate(task, mapping.source, element_id, scope)
        elif ext.result_variable:
            task.data[ext.result_variable] = result
        elif isinstance(result, dict):
            task.data.update(result)
        elif result is not None:
            task.data[f"{element_id}_result"] = result

    def raise_error(self, task_id: str, code: str, message: str, variables: dict[str, Any] | None = None) -> str | None:
        """A business error from the work of task ``task_id``: the nearest error boundary event that
        catches ``code`` (on the task, then on its enclosing subprocesses) takes over. Returns the
        element id of that boundary event, or None when nothing catches it."""
        task = self._find(task_id)
        while task is not None:
            for sibling in (task.parent.children if task.parent is not None else []):
                spec = sibling.task_spec
                definition = getattr(spec, "event_definition", None)
                if (sibling is task or sibling.state != TaskState.WAITING or not isinstance(spec, BoundaryEvent)
                        or not isinstance(definition, ErrorEventDefinition)):
                    continue
                thrown = copy.copy(definition)
                thrown.code = code
                if definition != thrown:
                    continue
                sibling.data.update({**(variables or {}), "error_code": code, "error_message": message})
                element_id = str(spec.bpmn_id)
                self._guard(lambda b=sibling, d=thrown: _catch(b, d), element_id)  # type: ignore[misc]
                self.advance()
                return element_id
            for listener in task.workflow.get_tasks(state=TaskState.WAITING):  # error event subprocesses
                spec = listener.task_spec
                definition = getattr(spec, "event_definition", None)
                if (listener.workflow is not task.workflow or not PlantEventSubprocess.is_listening(listener)
                        or not isinstance(definition, ErrorEventDefinition)):
                    continue
                thrown = copy.copy(definition)
                thrown.code = code
                if definition != thrown:
                    continue
                payload = {**task.data, **(variables or {}), "error_code": code, "error_message": message}
                element_id = str(spec.bpmn_id)
                self._guard(lambda b=listener, d=thrown, p=payload: _catch_payload(b, d, p), element_id)  # type: ignore[misc]
                self.advance()
                return element_id
            parent_id = getattr(task.workflow, "parent_task_id", None)
            task = self.workflow.get_task_from_id(parent_id) if parent_id is not None else None
        return None

    def is_ready(self, task_id: str) -> bool:
        task = self._find(task_id)
        return task is not None and task.state == TaskState.READY

    # -- user tasks ------------------------------------------------------------------------
    def pending_user_tasks(self) -> list[UserTaskView]:
        views = []
        for task in self.workflow.get_tasks(state=TaskState.READY, manual=True):
            if isinstance(task.task_spec, UserTask):
                views.append(self._user_task_view(task))
        return views

    def _user_task_view(self, task: Any) -> UserTaskView:
        spec = task.task_spec
        ext = task_extensions(spec)
        element_id = spec.bpmn_id

        def value(expression: str | None) -> Any:
            return None if expression is None else self._evaluate(task, expression, element_id)

        context = {m.target: value(m.source) for m in ext.inputs} if ext.inputs else {}
        priority = value(ext.priority)
        due = value(ext.due_date)
        return UserTaskView(
            task_id=str(task.id),
            element_id=element_id,
            name=spec.bpmn_name or element_id,
            lane=spec.lane,
            assignee=value(ext.assignee),
            candidate_groups=_as_list(value(ext.candidate_groups)),
            candidate_users=_as_list(value(ext.candidate_users)),
            due_date=due.isoformat() if isinstance(due, datetime) else due,
            priority=int(priority) if priority is not None else None,
            form_key=ext.form_key,
            form_schema=ext.form_schema,
            documentation=spec.documentation,
            context=plain_json(context),
            signature=(ext.headers.get("signature") or "").strip() or None,
        )

    def user_task_signature(self, task_id: str) -> str | None:
        """The meaning of the e-signature completing this ready user task needs (its header
        ``signature``), or None; UnknownTask when it is not ready."""
        task = self._ready_task(task_id, UserTask)
        return (task_extensions(task.task_spec).headers.get("signature") or "").strip() or None

    def validate_user_task(self, task_id: str, data: Any, *, only_form_fields: bool = True) -> None:
        """Raise UnknownTask or FormInvalid; changes nothing. ``only_form_fields``: refuse fields the
        form does not have (see :mod:`bpmn.forms`)."""
        task = self._ready_task(task_id, UserTask)
        errors = validate_form_data(task_extensions(task.task_spec).form_schema, data,
                                    only_form_fields=only_form_fields)
        if errors:
            raise FormInvalid(task.task_spec.bpmn_id, errors)

    def complete_user_task(self, task_id: str, data: dict[str, Any]) -> str:
        # Fields outside the form are refused by the update's validator (never run on replay); here,
        # inside the handler, data accepted before that rule must replay as it ran.
        self.validate_user_task(task_id, data, only_form_fields=False)
        task = self._ready_task(task_id, UserTask)
        spec = task.task_spec
        ext = task_extensions(spec)
        if spec.variable:
            task.data[spec.variable] = data
        elif ext.outputs:
            for mapping in ext.outputs:
                task.data[mapping.target] = self._evaluate(task, mapping.source, spec.bpmn_id, data)
        else:
            task.data.update(data)
        self._guard(task.run, spec.bpmn_id)
        self._did_complete(task)
        self.advance()
        return str(spec.bpmn_id)

    # -- messages --------------------------------------------------------------------------
    def _correlation_key(self, name: str, data: dict[str, Any], element_id: str) -> str | None:
        expression = self.message_keys.get(name)
        if not expression:
            return None
        try:
            value = self.workflow.script_engine.environment.evaluate(expression, dict(data))
        except Exception as exc:
            raise EngineIncident(element_id, f"correlation key {expression!r} of message '{name}': "
                                             f"{type(exc).__name__}: {exc}") from None
        return None if value is None else str(value)

    def message_waits(self) -> list[MessageWait]:
        waits = []
        for task in self.workflow.get_tasks(state=TaskState.WAITING):
            for definition in _message_definitions(getattr(task.task_spec, "event_definition", None)):
                element_id = task.task_spec.bpmn_id or task.task_spec.name
                key = self._correlation_key(definition.name, task.data, element_id)
                waits.append(MessageWait(str(task.id), element_id, definition.name, key))
        return waits

    def deliver_message(self, task_id: str, variables: dict[str, Any], name: str | None = None) -> str:
        """Let the waiting task ``task_id`` catch its message (``name``, for an event-based gateway
        that waits for several) with ``variables`` as payload."""
        task = self._find(task_id)
        definitions = _message_definitions(getattr(task.task_spec, "event_definition", None)) if task else []
        definition = next((d for d in definitions if name is None or d.name == name), None)
        if task is None or task.state != TaskState.WAITING or definition is None:
            raise UnknownTask(f"no task waiting for a message with id {task_id}")
        element_id = str(task.task_spec.bpmn_id or task.task_spec.name)

        def catch() -> None:
            task.data.update(variables)  # zeebe semantics: message variables join the process data
            # Spiff correlation properties are read from the payload: it sees the process data too.
            task.task_spec.catch(task, BpmnEvent(definition, payload=dict(task.data)))
            task.task_spec._update(task)

        self._guard(catch, element_id)
        self.advance()
        return element_id

    def deliver_start_message(self, name: str, variables: dict[str, Any]) -> str:
        """The message ``name`` that started this instance reaches its message start event."""
        self.advance()
        for task in self.workflow.get_tasks(state=TaskState.WAITING):
            definition = getattr(task.task_spec, "event_definition", None)
            if (isinstance(task.task_spec, StartEvent) and isinstance(definition, MessageEventDefinition)
                    and definition.name == name):
                return self.deliver_message(str(task.id), variables, name)
        raise EngineIncident(None, f"the process has no message start event for message '{name}'")

    def fire_timer_start(self) -> str:
        """The timer start event fires now (the instance was started by a schedule, which waited)."""
        self.advance()
        past = (current_time() - timedelta(seconds=1)).isoformat()
        for task in self.workflow.get_tasks(state=TaskState.WAITING):
            definition = getattr(task.task_spec, "event_definition", None)
            if isinstance(task.task_spec, StartEvent) and isinstance(definition, TimerEventDefinition):
                if isinstance(definition, CycleTimerEventDefinition):  # one round, then the start completes
                    task._set_internal_data(event_value={"cycles": 1, "next": past, "duration": 0.0})
                else:
                    task._set_internal_data(event_value=past)
                self.advance()
                return str(task.task_spec.bpmn_id)
        raise EngineIncident(None, "the process has no timer start event")

    def thrown_messages(self) -> list[ThrownMessage]:
        """Messages thrown by the process that no task of its own caught (to be published)."""
        thrown = []
        for event in self.workflow.get_events():
            definition = event.event_definition
            if isinstance(definition, SignalEventDefinition):
                # Signals carry no data of the thrower by default: other instances are not its scope.
                self._thrown_signals.append(ThrownSignal(definition.name, {}))
            elif isinstance(definition, MessageEventDefinition):
                # Without a payload expression the message carries the thrower's data.
                payload = dict(event.payload or self._last_data)
                key = self._correlation_key(definition.name, payload, definition.name)
                thrown.append(ThrownMessage(definition.name, key, plain_json(payload)))
        return thrown

    # -- signals ---------------------------------------------------------------------------
    def signal_waits(self) -> set[str]:
        """Names of the signals some task waits for (catch events, boundary events, event gateways)."""
        names: set[str] = set()
        for task in self.workflow.get_tasks(state=TaskState.WAITING):
            names.update(d.name for d in _signal_definitions(getattr(task.task_spec, "event_definition", None)))
        return names

    def deliver_signal(self, name: str, variables: dict[str, Any]) -> list[str]:
        """Every task waiting for signal ``name`` catches it; returns their element ids."""
        caught = []
        for task in self.workflow.get_tasks(state=TaskState.WAITING):
            definition = next((d for d in _signal_definitions(getattr(task.task_spec, "event_definition", None))
                               if d.name == name), None)
            if definition is None or task.state != TaskState.WAITING:
                continue
            element_id = str(task.task_spec.bpmn_id or task.task_spec.name)

            def catch(task: Any = task, definition: Any = definition) -> None:
                task.data.update(variables)
                task.task_spec.catch(task, BpmnEvent(definition, payload=dict(variables)))
                task.task_spec._update(task)

            self._guard(catch, element_id)
            caught.append(element_id)
        if caught:
            self.advance()
        return caught

    def thrown_signals(self) -> list[ThrownSignal]:
        """Signals thrown by the process that no task of its own caught (to be broadcast); call
        after :meth:`thrown_messages`, which collects them."""
        thrown, self._thrown_signals = self._thrown_signals, []
        return thrown

    # -- timers ----------------------------------------------------------------------------
    def next_timer(self) -> datetime | None:
        deadlines = []
        for event in self.workflow.waiting_events():
            if event.event_type in TIMER_EVENT_TYPES and isinstance(event.value, str):
                try:
                    deadlines.append(datetime.fromisoformat(str(event.value)))
                except ValueError:
                    continue
        # An event-based gateway waits for a timer among other events: its deadline is on the gateway.
        for task in self.workflow.get_tasks(state=TaskState.WAITING):
            definition = getattr(task.task_spec, "event_definition", None)
            if isinstance(definition, MultipleEventDefinition) and any(
                    isinstance(d, TimerEventDefinition) for d in definition.event_definitions):
                value = task._get_internal_data("event_value")
                if isinstance(value, dict):
                    value = value.get("next")
                if isinstance(value, str):
                    with contextlib.suppress(ValueError):
                        deadlines.append(datetime.fromisoformat(value))
        return min(deadlines) if deadlines else None

    # -- state -----------------------------------------------------------------------------
    def active_elements(self) -> list[str]:
        return [
            t.task_spec.bpmn_id
            for t in self.workflow.get_tasks(state=ACTIVE_STATES)
            if getattr(t.task_spec, "bpmn_id", None) is not None and not PlantEventSubprocess.is_listening(t)
        ]

    def variables(self) -> dict[str, Any]:
        if self.is_completed:
            return plain_json(self.workflow.data)
        data = dict(self._last_data)
        for task in self.workflow.get_tasks(state=TaskState.READY):
            data.update(task.data)
        return plain_json(data)

    # -- lookup ----------------------------------------------------------------------------
    def _find(self, task_id: str) -> Any:
        try:
            return self.workflow.get_task_from_id(UUID(task_id))
        except (ValueError, TypeError, KeyError):
            return None
        except Exception:
            return None

    def _ready_task(self, task_id: str, kind: type) -> Any:
        task = self._find(task_id)
        if task is None or not isinstance(task.task_spec, kind):
            raise UnknownTask(f"no {kind.__name__} with id {task_id} in this process")
        spec: Any = task.task_spec
        if task.state != TaskState.READY:
            state = TaskState.get_name(task.state)
            raise UnknownTask(f"task {task_id} ({spec.bpmn_id}) is {state}, not ready")
        return task


def _brings_data(spec: Any) -> bool:
    """Tasks and events whose completion may add data (not gateways, which only pass it on)."""
    name = type(spec).__name__
    return ("Task" in name or "Event" in name or "Activity" in name) and name not in _PASS_THROUGH


_PASS_THROUGH = frozenset({"BpmnStartTask", "SimpleBpmnTask", "_EndJoin"})


def _message_definitions(definition: Any) -> list[MessageEventDefinition]:
    if isinstance(definition, MessageEventDefinition):
        return [definition]
    if isinstance(definition, MultipleEventDefinition):
        return [d for d in definition.event_definitions if isinstance(d, MessageEventDefinition)]
    return []


def _signal_definitions(definition: Any) -> list[SignalEventDefinition]:
    if isinstance(definition, SignalEventDefinition):
        return [definition]
    if isinstance(definition, MultipleEventDefinition):
        return [d for d in definition.event_definitions if isinstance(d, SignalEventDefinition)]
    return []


def _describe(exc: WorkflowException) -> str:
    message = str(exc)
    inner = getattr(exc, "exception", None)
    if inner is not None and str(inner) not in message:
        message += f": {type(inner).__name__}: {inner}"
    return message


def _scope_data(workflow: Any, listener: Any) -> dict[str, Any]:
    """The data of a scope now: its latest completed task's, with what its ready tasks hold."""
    data: dict[str, Any] = {}
    latest = max((t for t in workflow.get_tasks(state=TaskState.COMPLETED) if t.workflow is workflow
                  and t is not listener and not isinstance(t.task_spec, PlantEventSubprocess)),
                 key=lambda t: t.last_state_change, default=None)
    data.update(latest.data if latest is not None else listener.data)
    for task in workflow.get_tasks(state=TaskState.READY):
        if task.workflow is workflow:
            data.update(task.data)
    return data


def _catch_payload(task: Any, definition: Any, payload: dict[str, Any]) -> None:
    task.task_spec.catch(task, BpmnEvent(definition, payload=payload))
    task.task_spec._update(task)


def _catch(task: Any, definition: Any) -> None:
    task.task_spec.catch(task, BpmnEvent(definition, payload=dict(task.data)))
    task.task_spec._update(task)
