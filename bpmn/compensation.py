"""BPMN compensation (BPMN 2.0 §10.5.6, §13.5.5): undo what completed activities did.

SpiffWorkflow 3.2 runs none of it (its boundary event parser refuses a compensation boundary event,
and it reads a compensation throw as a none event). This module adds it in three parts:

- Parsing (:func:`prepare_spec`, called for the process and for every embedded subprocess): an
  activity with a compensation boundary event gets ``extensions["mom_compensation"] =
  {"handler": <handler id>}`` (on the spec of each instance for a loop or multi-instance); the
  handler (``isForCompensation="true"``, linked by a ``bpmn:association``) is parsed into the
  same spec without any flow; an intermediate throw or end event with a compensate event
  definition becomes a manual task with ``extensions["mom_compensate"] = {"activity": <activityRef>}``.
- The log (:func:`record`): each time an activity with a handler completes, a record with the
  activity's data at that moment is appended to the internal data of the workflow's root task,
  so it is serialized with the workflow (continue-as-new, worker restarts) and survives the
  compaction of the task tree. Activities that never ran or were interrupted never complete and
  have no record; an activity completed N times (a loop, multi-instance) has N records.
- Throwing (:func:`advance`): when a compensation throw event is ready, the records of its scope
  (the process or the embedded subprocess instance it runs in) and of its ``activityRef``, if
  any, are taken out of the log; their handlers run one after the other in reverse order of
  completion, each as an ordinary task added under the throw event (a service task becomes an
  activity with its io mappings, a user task an inbox row; a failure is an incident as for any
  task), and removed from the tree once it completed. A handler's data: the scope's data now, with
  the activity's snapshot on top (so each multi-instance instance sees its own input element and
  results), except for variables that earlier handlers of the same throw already wrote (a list of
  what was undone, which each handler extends). What a handler sets or changes joins the throw
  event's data. When the last handler completed, the throw event completes and the flow goes on
  (``waitForCompletion="true"``). The queue and the running handler are in the throw task's
  internal data: serialized too.

A completed embedded subprocess without a handler of its own is compensated by its default
compensation: its inner activities' records (not compensated inside it) move up to the enclosing
scope when it completes, in their order, and their handlers are parsed into that scope's spec too;
a throw event there (without activityRef, or with the subprocess as activityRef) runs them.

Not run (``mom lint`` refuses them by name): compensation event subprocesses, a compensation throw
inside an event subprocess (it would compensate the enclosing scope), ``waitForCompletion="false"``,
handlers that are no service, script or user task, loop or have boundary events.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable
from typing import Any
from uuid import UUID

from lxml import etree
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.bpmn.specs.mixins.multiinstance_task import LoopTask
from SpiffWorkflow.exceptions import WorkflowException
from SpiffWorkflow.util.task import TaskState

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
HANDLER_KEY = "mom_compensation"  # on a compensable activity: {"handler": handler spec name}
THROW_KEY = "mom_compensate"  # on a compensation throw / end event: {"activity": activityRef or None}
LOG_KEY = "mom_compensation_log"  # root task internal data: records of completed compensable activities
SEQ_KEY = "mom_compensation_seq"  # root task internal data: the last record number
STATE_KEY = "mom_compensating"  # throw task internal data: the records still to compensate, the one running
THROWING_ELEMENTS = ("intermediateThrowEvent", "endEvent")


def _local(node: Any) -> str:
    return str(etree.QName(node).localname) if isinstance(node.tag, str) else ""


def compensate_definition(node: Any) -> Any:
    """The ``bpmn:compensateEventDefinition`` of an event node, or None."""
    return node.find(f"{{{BPMN_NS}}}compensateEventDefinition")


def handler_of(boundary: Any) -> str | None:
    """The id of the element a compensation boundary event is associated to (its handler): the one
    with isForCompensation="true" when it has several associations (a text annotation, say)."""
    boundary_id = boundary.get("id")
    root = boundary.getroottree().getroot()
    linked = []
    for association in root.iter(f"{{{BPMN_NS}}}association"):
        if association.get("sourceRef") == boundary_id:
            linked.append(association.get("targetRef"))
        elif association.get("targetRef") == boundary_id:
            linked.append(association.get("sourceRef"))
    nodes = {n.get("id"): n for n in root.iter() if isinstance(n.tag, str) and n.get("id") in linked}
    for other in linked:
        if other in nodes and (nodes[other].get("isForCompensation") or "").lower() == "true":
            return str(other)
    others = [o for o in linked if o not in nodes or _local(nodes[o]) != "textAnnotation"]
    return str(others[0]) if others else None


def is_compensation_boundary(node: Any) -> bool:
    return _local(node) == "boundaryEvent" and compensate_definition(node) is not None


# -- parsing -------------------------------------------------------------------------------------
def prepare_spec(process_parser: Any) -> None:
    """Give the activities of one flow container (process or embedded subprocess) their handlers and
    turn its compensation throw events into manual tasks (see the module docstring)."""
    spec = process_parser.spec
    container = process_parser.node
    for node in container:
        if not isinstance(node.tag, str) or etree.QName(node).namespace != BPMN_NS:
            continue
        kind = _local(node)
        if is_compensation_boundary(node):
            _link_handler(process_parser, node)
        elif kind in THROWING_ELEMENTS and compensate_definition(node) is not None:
            task_spec = spec.task_specs.get(node.get("id"))
            if task_spec is None:
                continue  # not reachable from a start event: never runs
            if (compensate_definition(node).get("waitForCompletion") or "true").lower() == "false":
                raise ValidationException('waitForCompletion="false" is not supported by this engine yet: '
                                          "a compensation throw event waits for its handlers",
                                          node=node, file_name=process_parser.filename)
            task_spec.manual = True
            task_spec.extensions = {**(getattr(task_spec, "extensions", None) or {}),
                                    THROW_KEY: {"activity": compensate_definition(node).get("activityRef")}}
        elif is_embedded_subprocess(node):
            # The default compensation of a completed subprocess compensates its inner activities from
            # this scope: their handlers must be part of this spec too (BPMN ids are unique per document).
            for boundary in inner_compensation_boundaries(node):
                handler_id = handler_of(boundary)
                handler_node = process_parser.get_node_by_id(handler_id) if handler_id else None
                if handler_node is not None and (handler_node.get("isForCompensation") or "").lower() == "true":
                    process_parser.parse_node(handler_node)


def _link_handler(process_parser: Any, boundary: Any) -> None:
    spec = process_parser.spec
    activity_id = boundary.get("attachedToRef")
    handler_id = handler_of(boundary)
    handler_node = process_parser.get_node_by_id(handler_id) if handler_id else None
    if handler_node is None or (handler_node.get("isForCompensation") or "").lower() != "true":
        raise ValidationException(
            f"compensation boundary event '{boundary.get('id')}' must be associated (bpmn:association) to an "
            'activity with isForCompensation="true", its compensation handler',
            node=boundary, file_name=process_parser.filename)
    handler_spec = process_parser.parse_node(handler_node)
    for task_spec in spec.task_specs.values():
        if getattr(task_spec, "bpmn_id", None) == activity_id and not isinstance(task_spec, LoopTask):
            task_spec.extensions = {**(getattr(task_spec, "extensions", None) or {}),
                                    HANDLER_KEY: {"handler": handler_spec.name}}


def is_embedded_subprocess(node: Any) -> bool:
    return _local(node) == "subProcess" and (node.get("triggeredByEvent") or "false").lower() != "true"


def inner_compensation_boundaries(subprocess: Any) -> list[Any]:
    """The compensation boundary events inside an embedded subprocess, through nested embedded ones."""
    found = []
    for node in subprocess:
        if not isinstance(node.tag, str):
            continue
        if is_compensation_boundary(node):
            found.append(node)
        elif is_embedded_subprocess(node):
            found.extend(inner_compensation_boundaries(node))
    return found


def without_compensation_boundaries(events: list[Any]) -> list[Any]:
    return [e for e in events if not is_compensation_boundary(e)]


def has_compensation(specs: Iterable[Any]) -> bool:
    for spec in specs:
        for task_spec in spec.task_specs.values():
            extensions = getattr(task_spec, "extensions", None) or {}
            if HANDLER_KEY in extensions or THROW_KEY in extensions:
                return True
    return False


# -- the log ---------------------------------------------------------------------------------------
def scope_of(workflow: Any) -> str:
    """The scope of a task: "" for the process, the id of the subprocess task for an embedded subprocess."""
    parent = getattr(workflow, "parent_task_id", None)
    return "" if parent is None else str(parent)


def _root(task: Any) -> Any:
    return task.workflow.top_workflow.task_tree


def record(task: Any) -> None:
    """``task`` completed: log it when it has a compensation handler. When it is a subprocess, the
    records of its inner activities move up to the enclosing scope (its default compensation
    compensates them, in their order) unless it has a handler of its own, which replaces that."""
    root = _root(task)
    spec = task.task_spec
    handler = ((getattr(spec, "extensions", None) or {}).get(HANDLER_KEY) or {}).get("handler")
    log: list[dict[str, Any]] | None = root.internal_data.get(LOG_KEY)
    if log:
        ended = str(task.id)
        if any(r["scope"] == ended for r in log):
            moved = [_move_up(r, task, handler is not None) if r["scope"] == ended else r for r in log]
            root.internal_data[LOG_KEY] = log = [r for r in moved if r is not None]
    if handler is None or isinstance(spec, LoopTask):
        return
    number = int(root.internal_data.get(SEQ_KEY, 0)) + 1
    root.internal_data[SEQ_KEY] = number
    entry = {"seq": number, "scope": scope_of(task.workflow), "activity": spec.bpmn_id, "handler": handler,
             "data": copy.deepcopy(task.data)}
    root.internal_data[LOG_KEY] = [*(log or []), entry]


def _move_up(entry: dict[str, Any], subprocess_task: Any, own_handler: bool) -> dict[str, Any] | None:
    if own_handler or entry["handler"] not in subprocess_task.workflow.spec.task_specs:
        return None  # replaced by the subprocess's own handler; or an event subprocess: no default compensation
    return {**entry, "scope": scope_of(subprocess_task.workflow),
            "within": [*entry.get("within", []), subprocess_task.task_spec.bpmn_id]}


def pending_records(workflow: Any) -> list[dict[str, Any]]:
    """The records not compensated yet (for queries and tests)."""
    return list(workflow.task_tree.internal_data.get(LOG_KEY) or [])


# -- throwing ------------------------------------------------------------------------------------
def advance(workflow: Any, did_complete: Callable[[Any], None]) -> bool:
    """Move every compensation throw event of ``workflow`` one step; True when something changed
    (the caller then runs the engine steps again: a script handler is ready, the flow goes on)."""
    progressed = False
    for task in workflow.get_tasks(state=TaskState.READY | TaskState.STARTED):
        order = (getattr(task.task_spec, "extensions", None) or {}).get(THROW_KEY)
        if order is not None and task.state in (TaskState.READY, TaskState.STARTED):
            progressed = _step(task, order, did_complete) or progressed
    return progressed


def _step(task: Any, order: dict[str, Any], did_complete: Callable[[Any], None]) -> bool:
    state = task.internal_data.get(STATE_KEY)
    if state is None:
        if task.state != TaskState.READY:
            return False
        state = {"queue": _take(task, order.get("activity")), "current": None}
        task.internal_data[STATE_KEY] = state
        task._set_state(TaskState.STARTED)
    if state.get("done") and task.state == TaskState.READY:
        return _complete(task, did_complete)  # its completion failed (an incident) and was retried
    if task.state != TaskState.STARTED:
        return False
    current = state.get("current")
    if current is not None:
        handler = task.workflow.tasks.get(UUID(current["task"]))
        if handler is not None and handler.state != TaskState.COMPLETED:
            return False  # still running (or failed: an incident until it is retried)
        if handler is not None:
            expected = {**task.data, **_snapshot(current["record"], state)}
            for key, value in handler.data.items():
                if key not in expected or expected[key] != value:
                    task.data[key] = copy.deepcopy(value)
                    if key not in state.setdefault("written", []):
                        state["written"].append(key)
            if task.workflow.last_task is handler:
                task.workflow.last_task = task
            task.workflow._remove_task(handler.id)
        state["current"] = None
    if state["queue"]:
        entry = state["queue"].pop(0)
        state["current"] = {"task": str(_start_handler(task, entry, _snapshot(entry, state)).id), "record": entry}
        return True
    task.internal_data[STATE_KEY] = {"done": True}
    task._set_state(TaskState.READY)
    return _complete(task, did_complete)


def _complete(task: Any, did_complete: Callable[[Any], None]) -> bool:
    task.run()
    did_complete(task)
    return True


def _take(task: Any, activity: str | None) -> list[dict[str, Any]]:
    """Take the records this throw event compensates out of the log, the last completed first."""
    root = _root(task)
    scope = scope_of(task.workflow)
    log = list(root.internal_data.get(LOG_KEY) or [])
    taken = [r for r in log if r["scope"] == scope
             and (activity is None or r["activity"] == activity or activity in r.get("within", ()))]
    root.internal_data[LOG_KEY] = [r for r in log if r not in taken]
    return sorted(taken, key=lambda r: int(r["seq"]), reverse=True)


def _snapshot(entry: dict[str, Any], state: dict[str, Any]) -> dict[str, Any]:
    """The activity's data when it completed, but for what earlier handlers of this throw event
    wrote (newer than any snapshot: e.g. a list of what was undone that each handler extends)."""
    written = set(state.get("written") or ())
    return {k: v for k, v in entry["data"].items() if k not in written}


def _start_handler(task: Any, entry: dict[str, Any], snapshot: dict[str, Any]) -> Any:
    spec = task.workflow.spec.task_specs.get(entry["handler"])
    if spec is None:
        raise WorkflowException(f"the compensation handler '{entry['handler']}' of '{entry['activity']}' is not "
                                "part of this scope's spec", task_spec=task.task_spec)
    child = task._add_child(spec, TaskState.WAITING)
    child.triggered = True  # not one of the throw event's outputs: kept when its children are synced
    child.data = {**copy.deepcopy(task.data), **copy.deepcopy(snapshot)}
    child.internal_data["compensates"] = {"activity": entry["activity"], "seq": entry["seq"]}
    child._set_state(TaskState.READY)  # not child._ready(): its spec has no inputs, which TaskSpec.test refuses
    return child
