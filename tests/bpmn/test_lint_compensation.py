"""``mom lint`` on BPMN compensation: the shapes this engine runs pass, the others are refused by name."""

from __future__ import annotations

import itertools

import pytest

from bpmn.deploy import compile_diagram
from bpmn.errors import Problem
from bpmn.lint import lint_diagram
from mom.task_catalog import known_task_types

HEAD = ('<?xml version="1.0" encoding="UTF-8"?>\n'
        '<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"\n'
        '  xmlns:zeebe="http://camunda.org/schema/zeebe/1.0" id="d" targetNamespace="x">\n'
        '<bpmn:process id="p" isExecutable="true">\n')
TAIL = "</bpmn:process>\n</bpmn:definitions>\n"
LOG = ('<bpmn:extensionElements><zeebe:taskDefinition type="mom.log" /><zeebe:ioMapping>'
       '<zeebe:input source="=&quot;x&quot;" target="message" /></zeebe:ioMapping></bpmn:extensionElements>')
BOUNDARY = ('<bpmn:boundaryEvent id="b" attachedToRef="work"><bpmn:compensateEventDefinition /></bpmn:boundaryEvent>'
            '<bpmn:association id="a" sourceRef="b" targetRef="undo_work" />')
HANDLER = ('<bpmn:scriptTask id="undo_work" isForCompensation="true"><bpmn:script>undone = True</bpmn:script>'
           '</bpmn:scriptTask>')
THROW = '<bpmn:intermediateThrowEvent id="throw"><bpmn:compensateEventDefinition /></bpmn:intermediateThrowEvent>'


def flow(*ids: str) -> str:
    return "".join(f'<bpmn:sequenceFlow id="f{n}" sourceRef="{a}" targetRef="{b}" />'
                   for n, (a, b) in enumerate(itertools.pairwise(ids)))


def diagram(work: str = '<bpmn:scriptTask id="work"><bpmn:script>done = True</bpmn:script></bpmn:scriptTask>',
            boundary: str = BOUNDARY, handler: str = HANDLER, throw: str = THROW, extra: str = "") -> str:
    return (HEAD + '<bpmn:startEvent id="s" />' + work + boundary + handler + throw + '<bpmn:endEvent id="e" />'
            + flow("s", "work", "throw", "e") + extra + TAIL)


def errors(text: str) -> list[Problem]:
    return [p for p in lint_diagram(text, "plant.bpmn", known_task_types()) if p.severity == "error"]


SERVICE_HANDLER = f'<bpmn:serviceTask id="undo_work" isForCompensation="true">{LOG}</bpmn:serviceTask>'
USER_HANDLER = '<bpmn:userTask id="undo_work" isForCompensation="true" />'
MI_WORK = ('<bpmn:scriptTask id="work"><bpmn:multiInstanceLoopCharacteristics isSequential="true">'
           '<bpmn:loopCardinality>3</bpmn:loopCardinality></bpmn:multiInstanceLoopCharacteristics>'
           '<bpmn:script>done = True</bpmn:script></bpmn:scriptTask>')


@pytest.mark.parametrize("text", [
    diagram(),
    diagram(handler=SERVICE_HANDLER),
    diagram(handler=USER_HANDLER),
    diagram(work=MI_WORK),
    diagram(throw='<bpmn:intermediateThrowEvent id="throw"><bpmn:compensateEventDefinition activityRef="work" '
                  'waitForCompletion="true" /></bpmn:intermediateThrowEvent>'),
    # the association drawn from the handler to the boundary event
    diagram(boundary=BOUNDARY.replace('sourceRef="b" targetRef="undo_work"', 'sourceRef="undo_work" targetRef="b"')),
    # a text annotation associated to the boundary event too
    diagram(boundary='<bpmn:textAnnotation id="note"><bpmn:text>undo</bpmn:text></bpmn:textAnnotation>'
                     '<bpmn:association id="a0" sourceRef="b" targetRef="note" />' + BOUNDARY),
], ids=["script-handler", "service-handler", "user-handler", "multi-instance", "activityRef", "reversed-association",
        "annotated"])
def test_lint_accepts_the_compensation_shapes_this_engine_runs(text: str) -> None:
    assert errors(text) == []
    compiled = compile_diagram(text, "plant.bpmn", known_task_types())  # and SpiffWorkflow parses it
    assert compiled.process_id == "p"


def test_lint_accepts_a_compensation_end_event_inside_a_subprocess() -> None:
    inner = ('<bpmn:subProcess id="work"><bpmn:startEvent id="ss" />'
             '<bpmn:scriptTask id="step"><bpmn:script>x = 1</bpmn:script></bpmn:scriptTask>'
             '<bpmn:boundaryEvent id="b" attachedToRef="step"><bpmn:compensateEventDefinition /></bpmn:boundaryEvent>'
             '<bpmn:scriptTask id="undo_step" isForCompensation="true"><bpmn:script>x = 0</bpmn:script>'
             '</bpmn:scriptTask><bpmn:association id="a" sourceRef="b" targetRef="undo_step" />'
             '<bpmn:endEvent id="se"><bpmn:compensateEventDefinition /></bpmn:endEvent>'
             '<bpmn:sequenceFlow id="sf1" sourceRef="ss" targetRef="step" />'
             '<bpmn:sequenceFlow id="sf2" sourceRef="step" targetRef="se" /></bpmn:subProcess>')
    text = HEAD + '<bpmn:startEvent id="s" />' + inner + '<bpmn:endEvent id="e" />' + flow("s", "work", "e") + TAIL
    assert errors(text) == []


EVENT_SUBPROCESS = ('<bpmn:subProcess id="esp" triggeredByEvent="true"><bpmn:startEvent id="es">'
                    '<bpmn:compensateEventDefinition /></bpmn:startEvent><bpmn:endEvent id="ee" />'
                    '<bpmn:sequenceFlow id="ef" sourceRef="es" targetRef="ee" /></bpmn:subProcess>')
ERROR_EVENT_SUBPROCESS = ('<bpmn:subProcess id="esp" triggeredByEvent="true"><bpmn:startEvent id="es">'
                          '<bpmn:errorEventDefinition /></bpmn:startEvent>'
                          '<bpmn:intermediateThrowEvent id="et"><bpmn:compensateEventDefinition />'
                          '</bpmn:intermediateThrowEvent><bpmn:endEvent id="ee" />'
                          '<bpmn:sequenceFlow id="ef1" sourceRef="es" targetRef="et" />'
                          '<bpmn:sequenceFlow id="ef2" sourceRef="et" targetRef="ee" /></bpmn:subProcess>')
NESTED = ('<bpmn:subProcess id="inner"><bpmn:startEvent id="ss" />'
          '<bpmn:scriptTask id="step"><bpmn:script>x = 1</bpmn:script></bpmn:scriptTask>'
          '<bpmn:boundaryEvent id="ib" attachedToRef="step"><bpmn:compensateEventDefinition /></bpmn:boundaryEvent>'
          '<bpmn:scriptTask id="undo_step" isForCompensation="true"><bpmn:script>x = 0</bpmn:script></bpmn:scriptTask>'
          '<bpmn:association id="ia" sourceRef="ib" targetRef="undo_step" /><bpmn:endEvent id="se" />'
          '<bpmn:sequenceFlow id="sf1" sourceRef="ss" targetRef="step" />'
          '<bpmn:sequenceFlow id="sf2" sourceRef="step" targetRef="se" /></bpmn:subProcess>')

PLAIN_SUBPROCESS = ('<bpmn:subProcess id="work"><bpmn:startEvent id="ss" /><bpmn:endEvent id="se" />'
                    '<bpmn:sequenceFlow id="sf1" sourceRef="ss" targetRef="se" /></bpmn:subProcess>')


@pytest.mark.parametrize(("text", "element", "message"), [
    (diagram(extra=EVENT_SUBPROCESS), "es", "compensation event subprocesses"),
    (diagram(throw='<bpmn:intermediateThrowEvent id="throw"><bpmn:compensateEventDefinition '
                   'waitForCompletion="false" /></bpmn:intermediateThrowEvent>'), "throw", 'waitForCompletion="false"'),
    (diagram(throw='<bpmn:intermediateThrowEvent id="throw"><bpmn:compensateEventDefinition activityRef="s" />'
                   '</bpmn:intermediateThrowEvent>'), "throw", "activityRef 's'"),
    (diagram(boundary=BOUNDARY.replace('<bpmn:association id="a" sourceRef="b" targetRef="undo_work" />', ''),
             handler=""), "b", "no association"),
    (diagram(handler=HANDLER.replace(' isForCompensation="true"', '')), "b", 'needs isForCompensation="true"'),
    (diagram(handler='<bpmn:callActivity id="undo_work" isForCompensation="true" calledElement="x" />'),
     "undo_work", "runs service task, script task and user task handlers"),
    (diagram(extra='<bpmn:sequenceFlow id="fx" sourceRef="undo_work" targetRef="e" />'), "undo_work",
     "must have no sequence flows"),
    (diagram(handler=HANDLER.replace('<bpmn:script>', '<bpmn:standardLoopCharacteristics loopMaximum="2" />'
                                                      '<bpmn:script>')), "undo_work", "cannot loop"),
    (diagram(extra='<bpmn:userTask id="orphan" isForCompensation="true" />'), "orphan", "is not associated"),
    (diagram(boundary=BOUNDARY + '<bpmn:boundaryEvent id="b2" attachedToRef="work">'
                                 '<bpmn:compensateEventDefinition /></bpmn:boundaryEvent>'
                                 '<bpmn:association id="a2" sourceRef="b2" targetRef="undo_work" />'),
     "b2", "more than one compensation boundary event"),
    (diagram(extra='<bpmn:sequenceFlow id="fx" sourceRef="b" targetRef="e" />'), "b", "no outgoing sequence flow"),
    (diagram(extra=ERROR_EVENT_SUBPROCESS), "et", "inside an event subprocess"),
    (diagram(throw='<bpmn:intermediateThrowEvent id="throw"><bpmn:compensateEventDefinition activityRef="work" />'
                   '</bpmn:intermediateThrowEvent>', work=PLAIN_SUBPROCESS, boundary="", handler=""),
     "throw", "nor a subprocess with compensation handlers inside"),
    (diagram(throw='<bpmn:intermediateCatchEvent id="throw"><bpmn:compensateEventDefinition />'
                   '</bpmn:intermediateCatchEvent>'), "throw", "use an intermediate throw event or an end event"),
], ids=["event-subprocess", "no-wait", "bad-activityRef", "no-association", "not-for-compensation", "call-handler",
        "handler-with-flow", "looping-handler", "orphan-handler", "two-boundaries", "boundary-with-flow",
        "throw-in-event-subprocess", "subprocess-without-handlers", "catch-event"])
def test_lint_refuses_compensation_shapes_this_engine_does_not_run(text: str, element: str, message: str) -> None:
    found = errors(text)
    assert len(found) == 1, found
    assert found[0].element_id == element and message in found[0].message, found[0]
    assert found[0].line is not None


@pytest.mark.parametrize("activity_ref", ["", ' activityRef="work"'])
@pytest.mark.parametrize("own_handler", [False, True])
def test_a_completed_subprocess_may_be_compensated_from_outside(activity_ref: str, own_handler: bool) -> None:
    """By its own handler, or else by its default compensation (its inner handlers)."""
    work = NESTED.replace('id="inner"', 'id="work"')
    throw = THROW.replace("<bpmn:compensateEventDefinition />", f"<bpmn:compensateEventDefinition{activity_ref} />")
    text = diagram(work=work, throw=throw) if own_handler else diagram(work=work, throw=throw, boundary="", handler="")
    assert errors(text) == []
    compile_diagram(text, "plant.bpmn", known_task_types())
