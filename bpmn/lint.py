"""``mom lint``: find what would stop a diagram from running, before it is deployed.

Each finding names the file, line and element id. Checks: malformed XML (see :mod:`bpmn.xml`),
processes without a start event, service tasks without a type or with a type unknown to the
activity catalog, exclusive-gateway branches without condition or default, timer expressions
that are not valid, scripts and conditions that do not compile or use forbidden constructs,
elements this engine does not run yet, and what SpiffWorkflow itself refuses.
"""

from __future__ import annotations

import ast
import dataclasses
import difflib
from collections.abc import Iterable
from typing import Any

from lxml import etree
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition

from bpmn import compensation
from bpmn.diagram_limits import configured_diagram_limits
from bpmn.dialect import EXPRESSION_TAGS, TIMER_TAGS, normalize_expressions, strip_feel_marker
from bpmn.errors import BpmnError, Problem
from bpmn.extensions import (
    TaskExtensions,
    job_headers,
    read_called_decision,
    read_called_element,
    read_task_extensions,
)
from bpmn.script_engine import ScriptNotAllowed, check_source
from bpmn.xml import BPMN_NS, NSMAP, ZEEBE_NS, parse_diagram
from mom.task_catalog import task_type

SUPPORTED_ELEMENTS = {
    "startEvent", "endEvent", "task", "serviceTask", "scriptTask", "userTask", "manualTask",
    "exclusiveGateway", "parallelGateway", "intermediateCatchEvent", "intermediateThrowEvent",
    "boundaryEvent", "sequenceFlow", "receiveTask", "subProcess", "inclusiveGateway", "eventBasedGateway",
    "callActivity", "businessRuleTask",
}
FLOW_CONTAINERS = {"process", "subProcess"}
SUPPORTED_EVENT_DEFINITIONS = {
    "timerEventDefinition", "terminateEventDefinition", "messageEventDefinition", "errorEventDefinition",
    "escalationEventDefinition", "signalEventDefinition",
}
# Start events of event subprocesses (subProcess triggeredByEvent="true") this engine runs.
SUPPORTED_EVENT_SUBPROCESS_TRIGGERS = {"messageEventDefinition", "timerEventDefinition", "errorEventDefinition",
                                      "signalEventDefinition", "escalationEventDefinition",
                                      "conditionalEventDefinition"}
# Loop markers of tasks and subprocesses (children of the element they repeat).
SUPPORTED_LOOPS = {"multiInstanceLoopCharacteristics", "standardLoopCharacteristics"}
# Elements that carry no behaviour (documentation, data, layout) and are always accepted.
PASSIVE_ELEMENTS = {
    "laneSet", "lane", "flowNodeRef", "childLaneSet", "documentation", "extensionElements",
    "incoming", "outgoing", "conditionExpression", "script", "textAnnotation", "association",
    "dataObject", "dataObjectReference", "dataStoreReference", "dataInputAssociation",
    "dataOutputAssociation", "ioSpecification", "property", "group", "category",
    "sourceRef", "targetRef",
}


def _local(element: etree._Element) -> str:
    return str(etree.QName(element).localname)


def _problem(source: str, element: etree._Element, message: str, severity: str = "error") -> Problem:
    element_id = element.get("id")
    while element_id is None and element.getparent() is not None:
        element = element.getparent()  # type: ignore[assignment]
        element_id = element.get("id")
    return Problem(source, message, _int(element.sourceline), element_id, severity)


def _flow_nodes(process: etree._Element) -> Iterable[etree._Element]:
    for child in process:
        if not isinstance(child.tag, str) or etree.QName(child).namespace != BPMN_NS:
            continue
        yield child


def check_process(process: etree._Element, source: str, known_types: set[str]) -> list[Problem]:
    problems: list[Problem] = []
    nodes = list(_flow_nodes(process))
    if _local(process) == "process" and not any(_local(n) == "startEvent" for n in nodes):
        problems.append(_problem(source, process, "process has no start event"))
    flows = [n for n in nodes if _local(n) == "sequenceFlow"]
    ids = {n.get("id") for n in nodes}
    for flow in flows:
        for end in ("sourceRef", "targetRef"):
            if flow.get(end) not in ids:
                problems.append(_problem(source, flow, f"{end} '{flow.get(end)}' is not an element of this process"))
    for node in nodes:
        kind = _local(node)
        if kind == "subProcess" and node.get("triggeredByEvent", "false").lower() == "true":
            compensation_start = _compensation_start(node)
            if compensation_start is not None:
                problems.append(_problem(source, compensation_start, COMPENSATION_EVENT_SUBPROCESS))
                continue
            trigger_problems = _check_event_subprocess_trigger(node, source)
            problems.extend(trigger_problems)
            if not trigger_problems:
                problems.extend(check_process(node, source, known_types))
            continue
        if kind in FLOW_CONTAINERS:
            problems.extend(check_process(node, source, known_types))
            continue
        if kind in PASSIVE_ELEMENTS or kind in SUPPORTED_LOOPS:
            continue
        if kind not in SUPPORTED_ELEMENTS:
            problems.append(_problem(source, node, f"<{kind}> is not supported by this engine yet"))
            continue
        for definition in node:
            name = _local(definition) if isinstance(definition.tag, str) else ""
            if (name.endswith("EventDefinition") and name not in SUPPORTED_EVENT_DEFINITIONS
                    and not _starts_event_subprocess(node, name) and name != "compensateEventDefinition"):
                problems.append(_problem(source, node, f"<{name}> is not supported by this engine yet"))
        if kind == "callActivity" and not read_called_element(node).get("process_id"):
            problems.append(_problem(source, node, "call activity names no process "
                                                   "(zeebe:calledElement processId=... or calledElement=)"))
        if kind == "businessRuleTask" and not read_called_decision(node).get("decision_id"):
            problems.append(_problem(source, node, "business rule task names no decision "
                                                   "(zeebe:calledDecision decisionId=...)"))
        if kind == "serviceTask":
            problems.extend(_check_service_task(node, source, known_types))
        else:
            problems.extend(_check_task_expressions(node, source))
        if kind == "exclusiveGateway":
            problems.extend(_check_exclusive_gateway(node, flows, source))
        if kind == "scriptTask":
            script = node.find(f"{{{BPMN_NS}}}script")
            if script is None or not (script.text or "").strip():
                problems.append(_problem(source, node, "script task has no script"))
            else:
                problems.extend(_check_code(script.text or "", "exec", node, source, script))
    for flow in flows:
        condition = flow.find(f"{{{BPMN_NS}}}conditionExpression")
        if condition is not None and (condition.text or "").strip():
            problems.extend(_check_code(condition.text or "", "eval", flow, source))
    problems.extend(_check_compensation(process, nodes, flows, source))
    return problems


COMPENSATION_EVENT_SUBPROCESS = ("compensation event subprocesses (a start event with <compensateEventDefinition>) are "
                                 "not supported by this engine yet; attach a compensation boundary event to the "
                                 "activity and associate it to a handler with isForCompensation=\"true\"")
COMPENSATION_HANDLERS = {"serviceTask", "scriptTask", "userTask"}
COMPENSATION_THROWS = {"intermediateThrowEvent", "endEvent"}


def _compensation_start(event_subprocess: etree._Element) -> etree._Element | None:
    for start in _flow_nodes(event_subprocess):
        if _local(start) == "startEvent" and compensation.compensate_definition(start) is not None:
            return start
    return None


def _check_compensation(container: etree._Element, nodes: list[etree._Element], flows: list[etree._Element],
                        source: str) -> list[Problem]:
    """Compensation in one process or subprocess (see :mod:`bpmn.compensation`): boundary events
    associated to handlers of this container, handlers outside the flow, throw events whose
    activityRef is a compensable activity of the same scope."""
    by_id = {n.get("id"): n for n in nodes}
    problems: list[Problem] = []
    handled: dict[str, str] = {}  # activity id -> handler id
    handlers: set[str] = set()
    for node in nodes:
        definition = compensation.compensate_definition(node)
        if definition is None:
            continue
        kind = _local(node)
        if kind == "boundaryEvent":
            problems.extend(_check_compensation_boundary(node, by_id, flows, handled, handlers, source))
        elif kind == "startEvent":
            problems.append(_problem(source, node, "a compensation start event is only allowed in a compensation "
                                                   "event subprocess, which this engine does not support yet"))
        elif kind not in COMPENSATION_THROWS:
            problems.append(_problem(source, node, f"<compensateEventDefinition> on a <{kind}> is not supported; "
                                                   "use an intermediate throw event or an end event"))
    for node in nodes:
        definition = compensation.compensate_definition(node)
        if definition is None or _local(node) not in COMPENSATION_THROWS:
            continue
        problems.extend(_check_compensation_throw(container, node, definition, by_id, handled, source))
    for node in nodes:
        if (node.get("isForCompensation") or "").lower() != "true":
            continue
        node_id = str(node.get("id"))
        if node_id not in handlers:
            problems.append(_problem(source, node, f"compensation handler '{node_id}' is not associated to a "
                                                   "compensation boundary event of this process or subprocess"))
        if any(f.get("sourceRef") == node_id or f.get("targetRef") == node_id for f in flows):
            problems.append(_problem(source, node, f"compensation handler '{node_id}' must have no sequence flows: "
                                                   "it runs only when its activity is compensated"))
        if any(_local(c) in SUPPORTED_LOOPS for c in node if isinstance(c.tag, str)):
            problems.append(_problem(source, node, f"compensation handler '{node_id}' cannot loop or be "
                                                   "multi-instance here; it already runs once per completed instance"))
        if any(_local(n) == "boundaryEvent" and n.get("attachedToRef") == node_id for n in nodes):
            problems.append(_problem(source, node, f"compensation handler '{node_id}' cannot have boundary events"))
    return problems


def _check_compensation_boundary(node: etree._Element, by_id: dict[Any, etree._Element], flows: list[etree._Element],
                                 handled: dict[str, str], handlers: set[str], source: str) -> list[Problem]:
    node_id, attached = str(node.get("id")), str(node.get("attachedToRef"))
    if attached not in by_id:
        return [_problem(source, node, f"compensation boundary event '{node_id}' is attached to '{attached}', which "
                                       "is not an activity of this process or subprocess")]
    handler_id = compensation.handler_of(node)
    handler = by_id.get(handler_id)
    if handler is not None:
        handlers.add(str(handler_id))  # associated: its own problems are reported here, not as an orphan
    if any(f.get("sourceRef") == node_id for f in flows):
        return [_problem(source, node, f"compensation boundary event '{node_id}' must have no outgoing sequence flow: "
                                       "associate it (bpmn:association) to its compensation handler")]
    if handler is None:
        return [_problem(source, node, f"compensation boundary event '{node_id}' has no association to a "
                                       "compensation handler of this process or subprocess (an activity with "
                                       'isForCompensation="true")')]
    if (handler.get("isForCompensation") or "").lower() != "true":
        return [_problem(source, node, f"'{handler_id}', associated to compensation boundary event '{node_id}', needs "
                                       'isForCompensation="true" to be its compensation handler')]
    if _local(handler) not in COMPENSATION_HANDLERS:
        return [_problem(source, handler, f"compensation handler '{handler_id}' is a <{_local(handler)}>; this engine "
                                          "runs service task, script task and user task handlers")]
    if attached in handled:
        return [_problem(source, node, f"activity '{attached}' has more than one compensation boundary event")]
    handled[attached] = str(handler_id)
    return []


def _check_compensation_throw(container: etree._Element, node: etree._Element, definition: etree._Element,
                              by_id: dict[Any, etree._Element], handled: dict[str, str], source: str) -> list[Problem]:
    node_id = str(node.get("id"))
    if (definition.get("waitForCompletion") or "true").lower() == "false":
        return [_problem(source, node, f'compensation throw event \'{node_id}\': waitForCompletion="false" is not '
                                       "supported by this engine yet (it waits until every handler has completed)")]
    if _local(container) == "subProcess" and container.get("triggeredByEvent", "false").lower() == "true":
        return [_problem(source, node, f"compensation throw event '{node_id}' is inside an event subprocess, where it "
                                       "would compensate the enclosing scope; this is not supported by this engine "
                                       "yet: throw the compensation in the flow of the scope itself")]
    activity = definition.get("activityRef")
    target = by_id.get(activity) if activity else None
    compensable = activity in handled or (
        target is not None and compensation.is_embedded_subprocess(target)
        and bool(compensation.inner_compensation_boundaries(target)))  # its default compensation
    if activity and not compensable:
        return [_problem(source, node, f"compensation throw event '{node_id}' names activityRef '{activity}', "
                                       "which is neither an activity with a compensation boundary event nor a "
                                       "subprocess with compensation handlers inside, in the same process or "
                                       "subprocess")]
    return []


def _check_event_subprocess_trigger(node: etree._Element, source: str) -> list[Problem]:
    """Event subprocesses run when the event of their one start event comes: a message, a timer
    (a duration, a date or a cycle), an error, a signal, an escalation or a condition."""
    starts = [n for n in _flow_nodes(node) if _local(n) == "startEvent"]
    if len(starts) != 1:
        return [_problem(source, node, "an event subprocess needs exactly one start event")]
    start = starts[0]
    definitions = [_local(d) for d in start if isinstance(d.tag, str) and _local(d).endswith("EventDefinition")]
    if len(definitions) != 1 or definitions[0] not in SUPPORTED_EVENT_SUBPROCESS_TRIGGERS:
        found = ", ".join(definitions) or "none"
        return [_problem(source, start, f"the start event of an event subprocess must have one message, timer, "
                                        f"error, signal, escalation or conditional event definition (found: "
                                        f"{found}); other triggers are not supported by this engine yet")]
    if definitions[0] == "errorEventDefinition" and start.get("isInterrupting", "true").lower() == "false":
        return [_problem(source, start, "an error start event always interrupts (isInterrupting must not be false)")]
    if definitions[0] == "conditionalEventDefinition":
        condition = start.find(f".//{{{BPMN_NS}}}condition")
        text = (condition.text or "").strip() if condition is not None else ""
        if not text:
            return [_problem(source, start, "the conditional start event has no <condition> expression")]
        return _check_code(text, "eval", start, source)
    return []


def _starts_event_subprocess(node: etree._Element, definition: str) -> bool:
    """A conditional start event of an event subprocess (checked by _check_event_subprocess_trigger)."""
    parent = node.getparent()
    return (definition == "conditionalEventDefinition" and _local(node) == "startEvent" and parent is not None
            and _local(parent) == "subProcess" and parent.get("triggeredByEvent", "false").lower() == "true")


def _check_service_task(node: etree._Element, source: str, known_types: set[str]) -> list[Problem]:
    ext = read_task_extensions(node)
    if not ext.task_type:
        return [_problem(source, node, "service task has no type (zeebe:taskDefinition type=...)")]
    if ext.task_type not in known_types:
        close = difflib.get_close_matches(ext.task_type, sorted(known_types), n=1)
        hint = f"did you mean '{close[0]}'? " if close else ""
        return [_problem(source, node, f"service task type '{ext.task_type}' is unknown; {hint}"
                                       f"'mom task-types' lists the {len(known_types)} known types")]
    problems = _check_required_inputs(node, source, ext)
    for mapping in [*ext.inputs, *ext.outputs]:
        problems.extend(_check_code(mapping.source, "eval", node, source))
    return problems


def _check_required_inputs(node: etree._Element, source: str, ext: TaskExtensions) -> list[Problem]:
    """The inputs the task type's activity refuses to run without (mom/task_catalog.py ``required``)
    must be given by an input mapping or a task header. A task without input mappings receives every
    process variable, which lint cannot know: a warning then, an error when it maps its inputs."""
    entry = task_type(str(ext.task_type))
    given = {m.target for m in ext.inputs} | set(job_headers(ext.headers))
    missing = [name for name in (entry.required if entry else ()) if name not in given]
    if not missing:
        return []
    names = ", ".join(f"'{name}'" for name in missing)
    how = (f'(zeebe:input target="{missing[0]}" or a zeebe:header key="{missing[0]}")')
    if ext.inputs:
        return [_problem(source, node, f"{ext.task_type} needs the input {names}, which this task does not map {how}")]
    return [_problem(source, node, f"{ext.task_type} needs the input {names}: this task maps no inputs, so it "
                                   f"runs only if a process variable of that name exists; map it {how}",
                     severity="warning")]


def _check_task_expressions(node: etree._Element, source: str) -> list[Problem]:
    """Expressions evaluated when the element is reached: io mappings, user-task assignment,
    schedule and priority, loop and multi-instance expressions."""
    ext = read_task_extensions(node)
    texts = [m.source for m in [*ext.inputs, *ext.outputs]]
    texts += [t for t in (ext.assignee, ext.candidate_groups, ext.candidate_users, ext.due_date,
                          ext.follow_up_date, ext.priority) if t]
    for tag in EXPRESSION_TAGS:
        texts += [str(e.text) for e in node.iter(f"{{{BPMN_NS}}}{tag}") if (e.text or "").strip()]
    for loop in node.iter(f"{{{ZEEBE_NS}}}loopCharacteristics"):
        texts += [str(loop.get(k)) for k in ("inputCollection", "outputElement") if (loop.get(k) or "").strip()]
    return [p for text in texts for p in _check_code(text, "eval", node, source)]


def _check_exclusive_gateway(gateway: etree._Element, flows: list[etree._Element], source: str) -> list[Problem]:
    outgoing = [f for f in flows if f.get("sourceRef") == gateway.get("id")]
    if len(outgoing) < 2:
        return []
    default = gateway.get("default")
    problems = []
    for flow in outgoing:
        condition = flow.find(f"{{{BPMN_NS}}}conditionExpression")
        has_condition = condition is not None and bool((condition.text or "").strip())
        if not has_condition and flow.get("id") != default:
            problems.append(_problem(
                source, flow,
                f"branch '{flow.get('id')}' of exclusive gateway '{gateway.get('id')}' has no "
                "condition and is not the gateway's default flow",
            ))
    return problems


def _check_code(code: str, mode: str, element: etree._Element, source: str,
                text_element: etree._Element | None = None) -> list[Problem]:
    """A refused construct: the problem names the element and the line of the file (the line of
    ``text_element``, the element holding the code, plus the line within the code)."""
    try:
        check_source(strip_feel_marker(code) if mode == "eval" else code, mode)
    except ScriptNotAllowed as exc:
        if mode == "eval":
            return [_problem(source, element, f"expression {code.strip()!r}: {exc}")]
        problem = _problem(source, element, f"script, line {exc.line or 1}: {exc.reason}")
        start = _int(text_element.sourceline) if text_element is not None else None
        if start is not None and exc.line is not None:
            problem = dataclasses.replace(problem, line=start + exc.line - 1)
        return [problem]
    return []


def check_timers(root: etree._Element, source: str) -> list[Problem]:
    problems: list[Problem] = []
    for tag in TIMER_TAGS:
        for element in root.iter(f"{{{BPMN_NS}}}{tag}"):
            text = (element.text or "").strip()
            if not text:
                problems.append(_problem(source, element, f"timer <{tag}> is empty"))
                continue
            try:
                check_source(text, "eval")
                # a quoted literal only: an expression is evaluated (on a budget) when the timer starts
                value = ast.literal_eval(text) if text[0] in "\"'" else None
            except ScriptNotAllowed as exc:
                problems.append(_problem(source, element, f"timer expression {text!r}: {exc}"))
                continue
            except Exception:
                value = None
            if isinstance(value, str) and not _valid_timer_literal(tag, value):
                problems.append(_problem(
                    source, element,
                    f"timer <{tag}> value {value!r} is not a valid ISO 8601 "
                    f"{'duration' if tag == 'timeDuration' else 'date-time' if tag == 'timeDate' else 'cycle'}",
                ))
    return problems


def _valid_timer_literal(tag: str, value: str) -> bool:
    try:
        if tag == "timeDuration":
            parsed = TimerEventDefinition.parse_iso_duration(value)
            return bool(parsed) or value.upper() in ("PT0S", "P0D")
        if tag == "timeDate":
            TimerEventDefinition.get_datetime(value)
            return True
        TimerEventDefinition.parse_iso_recurring_interval(value)
        return True
    except Exception:
        return False


def lint_diagram(data: bytes | str, source: str, known_types: set[str],
                 decisions: dict[str, bytes] | None = None) -> list[Problem]:
    """All problems of one diagram; an empty list means it can be deployed.

    ``decisions``: the DMN files beside the diagram (name -> content). Without them, the decisions
    business rule tasks call are not looked for (the deploy checks them)."""
    try:
        root = parse_diagram(data, source)
    except BpmnError as exc:
        return exc.problems
    processes = root.findall(f"{{{BPMN_NS}}}process")
    if not processes:
        return [Problem(source, "the document has no <bpmn:process>", _int(root.sourceline))]
    problems: list[Problem] = check_sizes(root, source)
    for process in processes:
        problems.extend(check_process(process, source, known_types))
    problems.extend(check_data_associations(root, source))
    for subscription in root.iter(f"{{{ZEEBE_NS}}}subscription"):
        key = subscription.get("correlationKey") or ""
        if key.strip():
            problems.extend(_check_code(key, "eval", subscription, source))
    normalize_expressions(root)
    problems.extend(check_timers(root, source))
    if decisions is not None:
        problems.extend(check_decisions(decisions))
    if not [p for p in problems if p.severity == "error"]:
        problems.extend(_spiff_problems(root, source, decisions))
    return problems


GATEWAYS_WITH_BRANCHES = {"parallelGateway", "inclusiveGateway"}
SPLIT_ADVICE = "split the work into called processes, or let a multi-instance or a service task handle the items"


def check_sizes(root: etree._Element, source: str) -> list[Problem]:
    """What the engine cannot run within a workflow task's time (see :mod:`bpmn.diagram_limits`):
    too many elements, too many branches at a gateway, a literal multi-instance count over the limit."""
    limits = configured_diagram_limits()
    problems: list[Problem] = []
    elements = [e for e in root.iter(f"{{{BPMN_NS}}}*")
                if _local(e) in SUPPORTED_ELEMENTS or _local(e) in ("sequenceFlow", "subProcess")]
    if len(elements) > limits.elements:
        first = root.find(f"{{{BPMN_NS}}}process")
        problems.append(_problem(source, first if first is not None else root,
                                 f"the diagram has {len(elements):,} elements (flow nodes and sequence flows); "
                                 f"the limit is {limits.elements:,} (MOM_MAX_DIAGRAM_ELEMENTS): {SPLIT_ADVICE}"))
        return problems  # too large to look through further
    outgoing: dict[str, int] = {}
    incoming: dict[str, int] = {}
    for flow in root.iter(f"{{{BPMN_NS}}}sequenceFlow"):
        outgoing[flow.get("sourceRef") or ""] = outgoing.get(flow.get("sourceRef") or "", 0) + 1
        incoming[flow.get("targetRef") or ""] = incoming.get(flow.get("targetRef") or "", 0) + 1
    for element in elements:
        element_id = element.get("id") or ""
        if _local(element) in GATEWAYS_WITH_BRANCHES:
            branches = max(outgoing.get(element_id, 0), incoming.get(element_id, 0))
            if branches > limits.branches:
                problems.append(_problem(source, element, f"gateway has {branches:,} branches; the limit is "
                                                          f"{limits.branches:,} (MOM_MAX_PARALLEL_BRANCHES): "
                                                          "use a parallel multi-instance over a collection"))
        loop = element.find(f"{{{BPMN_NS}}}multiInstanceLoopCharacteristics")
        if loop is None or loop.get("isSequential", "false").lower() == "true":
            continue
        cardinality = loop.find(f"{{{BPMN_NS}}}loopCardinality")
        text = strip_feel_marker((cardinality.text or "").strip()) if cardinality is not None else ""
        if text.isdigit() and int(text) > limits.instances:
            problems.append(_problem(source, element, f"parallel multi-instance of {int(text):,} instances; the "
                                                      f"limit is {limits.instances:,} (MOM_MAX_PARALLEL_INSTANCES): "
                                                      "make it sequential or let a service task handle the items"))
    return problems


def check_data_associations(root: etree._Element, source: str) -> list[Problem]:
    """A data input association's source and a data output association's target must be a data object
    reference whose ``dataObjectRef`` names a ``<bpmn:dataObject>``, or a data store reference
    (checked by SpiffWorkflow). The problem names the line of the ``sourceRef`` / ``targetRef``."""
    data_objects = {o.get("id") for o in root.iter(f"{{{BPMN_NS}}}dataObject")}
    stores = {r.get("id") for r in root.iter(f"{{{BPMN_NS}}}dataStoreReference")}
    references = {r.get("id"): r for r in root.iter(f"{{{BPMN_NS}}}dataObjectReference")}
    problems: list[Problem] = []
    for kind, end in (("dataInputAssociation", "sourceRef"), ("dataOutputAssociation", "targetRef")):
        for ref in root.iter(f"{{{BPMN_NS}}}{end}"):
            association = ref.getparent()
            if association is None or _local(association) != kind:
                continue
            name = (ref.text or "").strip()
            if name in stores:
                continue
            reference = references.get(name)
            if reference is None:
                why = f"'{name}' is not a data object reference of this diagram"
            elif reference.get("dataObjectRef") not in data_objects:
                why = (f"data object reference '{name}' names dataObjectRef '{reference.get('dataObjectRef')}', "
                       "which is not a <bpmn:dataObject> of this diagram")
            else:
                continue
            task = association.getparent()
            problem = _problem(source, task if task is not None else association, f"<{kind}> {end}: {why}")
            problems.append(dataclasses.replace(problem, line=_int(ref.sourceline)))
    return problems


def check_decisions(decisions: dict[str, bytes]) -> list[Problem]:
    """DMN files: well-formed, and every input, input entry and output entry an allowed expression."""
    problems: list[Problem] = []
    for name, data in sorted(decisions.items()):
        try:
            root = parse_dmn(data, name)
        except BpmnError as exc:
            problems.extend(exc.problems)
            continue
        for element in root.iter():
            if not isinstance(element.tag, str):
                continue
            local = _local(element)
            if local not in ("inputExpression", "inputEntry", "outputEntry"):
                continue
            text_node = next((c for c in element if isinstance(c.tag, str) and _local(c) == "text"), None)
            text = (text_node.text or "").strip() if text_node is not None else ""
            if not text or text == "-":
                continue
            code = text.replace("?", "dmninputexpr") if local == "inputEntry" else text
            try:
                check_source(code, "eval")
            except ScriptNotAllowed as exc:
                if local == "inputEntry" and "syntax error" in str(exc):
                    try:  # "> 10": the input is put on the left by the DMN engine
                        check_source(f"dmninputexpr {code}", "eval")
                        continue
                    except ScriptNotAllowed as again:
                        exc = again
                problems.append(_problem(name, element, f"DMN expression {text!r}: {exc}"))
    return problems


def parse_dmn(data: bytes, source: str) -> etree._Element:
    """A DMN document, read with the same hardened XML parser as diagrams."""
    from bpmn.xml import hardened_parser

    try:
        root = etree.fromstring(data, hardened_parser())
    except etree.XMLSyntaxError as exc:
        raise BpmnError.single(source, f"malformed DMN XML: {exc.msg}", _int(exc.lineno)) from None
    if _local(root) != "definitions":
        raise BpmnError.single(source, "not a DMN document (the root is not <definitions>)")
    return root


def _spiff_problems(root: etree._Element, source: str, decisions: dict[str, bytes] | None = None) -> list[Problem]:
    from bpmn.parser import PlantBpmnParser

    parser = PlantBpmnParser(decisions_required=decisions is not None)
    try:
        for name, data in sorted((decisions or {}).items()):
            parser.add_dmn_xml(parse_dmn(data, name), filename=name)
        parser.add_bpmn_xml(root, filename=source)
        for process_id in parser.get_process_ids():
            parser.get_spec(process_id)
            parser.get_subprocess_specs(process_id)
    except RecursionError:
        return [Problem(source, TOO_DEEP)]
    except ValidationException as exc:
        message = str(exc.args[0] if exc.args else exc)
        if "RecursionError" in message:
            message = f"{TOO_DEEP}; the reader stopped at this element"
        return [Problem(source, message, _int(exc.line_number), exc.id)]
    except Exception as exc:  # SpiffWorkflow raises plain exceptions for some documents
        return [Problem(source, f"cannot be parsed: {exc}")]
    return []


TOO_DEEP = ("the diagram's flow is too long to follow: SpiffWorkflow reads a path of elements recursively and gives up "
            "after about 450 elements in a row; " + SPLIT_ADVICE)


def spiff_line(root: etree._Element, exc: ValidationException) -> int | None:
    """The line of SpiffWorkflow's finding: it reads ``line_number``, which lxml elements do not
    have, so the line is found again from the element id it names."""
    line = _int(exc.line_number)
    if line is None and exc.id:
        found = root.xpath("//*[@id=$id]", id=exc.id)
        if isinstance(found, list) and found and isinstance(found[0], etree._Element):
            line = _int(found[0].sourceline)
    return line


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


__all__ = ["NSMAP", "lint_diagram"]
