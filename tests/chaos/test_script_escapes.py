"""Scripts and expressions in diagrams cannot import, open files, run programs or reach the network.

Each escape attempt is put into a real diagram, in the place a process engineer would put it
(script task, gateway condition, user-task priority, loop condition), and then:

1. ``mom lint`` / deploy refuses it with a problem naming the element;
2. with the lint bypassed (a spec built straight from the XML, as a tampered spec store would
   give), running it in-process ends in an :class:`EngineIncident` naming the element;
3. in neither case does anything happen: the marker file is not created, no connection reaches
   the loopback listener.

Once, the whole chain runs as a user runs it: ``mom run --embedded`` (embedded Temporal + worker).
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

import pytest

from bpmn.deploy import compile_diagram
from bpmn.dialect import normalize_expressions
from bpmn.engine import EngineIncident, ProcessRun
from bpmn.errors import BpmnError
from bpmn.parser import PlantBpmnParser
from bpmn.spec_bundle import SpecBundle
from bpmn.xml import parse_diagram
from mom.stack.ports import free_port
from mom.task_catalog import known_task_types

ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Escape:
    name: str
    code: str  # MARKER and PORT are replaced by the test's marker file and listener port


ISSUE_J1 = """o = int.mro()[-1]
match o:
    case o(__subclasses__=sub): pass
for c in sub():
    match c:
        case o(__name__='_wrap_close', __init__=i):
            match i:
                case o(__globals__=g): out = g['popen']('id').read()"""

# Every attempt, if it worked, would create MARKER or connect to 127.0.0.1:PORT.
ESCAPES = [
    Escape("import statement", "import os\nos.system('touch MARKER')"),
    Escape("from import", "from pathlib import Path\nPath('MARKER').touch()"),
    Escape("__import__", "__import__('os').system('touch MARKER')"),
    Escape("open", "open('MARKER', 'w').write('x')"),
    Escape("eval", "eval(\"open('MARKER', 'w')\")"),
    Escape("exec", "exec(\"open('MARKER', 'w')\")"),
    Escape("compile", "compile('1', 'MARKER', 'exec')"),
    Escape("getattr on a dunder", "getattr(now, '__globals__')['__builtins__']['open']('MARKER', 'w')"),
    Escape("dunder attribute", "now.__globals__['builtins'].open('MARKER', 'w')"),
    Escape("str.format", "'{0.__globals__[builtins].open}'.format(now)"),
    Escape("format_map", "'{x.__class__}'.format_map({'x': 1})"),
    Escape("class hierarchy walk",
           "[c for c in ().__class__.__base__.__subclasses__() if c.__name__ == 'Popen'][0](['touch', 'MARKER'])"),
    Escape("mro walk", "timedelta.mro()[-1].__subclasses__()"),
    Escape("builtins dict", "__builtins__['open']('MARKER', 'w')"),
    Escape("os via the math module", "math.__loader__.load_module('os').system('touch MARKER')"),
    Escape("subprocess", "import subprocess\nsubprocess.run(['touch', 'MARKER'])"),
    Escape("socket", "import socket\nsocket.create_connection(('127.0.0.1', PORT))"),
    Escape("socket via __import__", "__import__('socket').create_connection(('127.0.0.1', PORT))"),
    Escape("urllib", "__import__('urllib.request').request.urlopen('http://127.0.0.1:PORT/')"),
    Escape("globals", "globals()['__builtins__']['open']('MARKER', 'w')"),
    Escape("vars", "vars(math)['__loader__']"),
    Escape("type() to build a class", "type('X', (), {})"),
    Escape("lambda globals", "(lambda: 0).__globals__"),
    Escape("generator frame walk",  # found by this suite: frames lead back to bpmn.script_engine's globals
           "[f.f_back.f_back.f_globals['builtins'].open('MARKER', 'w') for f in [(g.gi_frame for g in [1])]]"),
    Escape("frame walk in a loop",
           "g = (g.gi_frame.f_back for _ in [1])\nf = [x for x in g][0]\n"
           "while 'builtins' not in f.f_globals:\n    f = f.f_back\nf.f_globals['builtins'].open('MARKER', 'w')"),
    Escape("patching a shared module", "math.floor = len"),
    Escape("breakpoint", "breakpoint()"),
    # issue J.1: match class patterns are getattr by keyword (it ran `id` as root through POST /lint/test-run)
    Escape("match class patterns (issue J.1)", ISSUE_J1.replace("'id'", "'touch MARKER'")),
    Escape("match class pattern, positional (__match_args__)",
           "o = ValueError\nmatch o('x'):\n    case o(a):\n        open('MARKER', 'w')"),
    Escape("match class pattern on a rebound name",
           "int = now\nmatch now:\n    case int(__globals__=g):\n        g['builtins'].open('MARKER', 'w')"),
    Escape("match value pattern with a dotted name",
           "match 1:\n    case math.__loader__:\n        pass"),
    Escape("match capture of __builtins__",
           "match 1:\n    case {**__builtins__}:\n        __builtins__['open']('MARKER', 'w')"),
    Escape("mro without a dunder", "int.mro()[-1]"),
    Escape("operator.attrgetter", "operator.attrgetter('__globals__')(now)['builtins'].open('MARKER', 'w')"),
    Escape("generator function frame", "def g():\n    yield 1\nf = g().gi_frame.f_back.f_globals"),
    Escape("class with __getattr__", "class A:\n    pass\nA.__subclasses__()"),
]

TEMPLATE = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:zeebe="http://camunda.org/schema/zeebe/1.0"
    id="escape_defs" targetNamespace="urn:test">
  <bpmn:process id="escape" isExecutable="true">
    <bpmn:startEvent id="start" />
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="{first}" />
    {body}
    <bpmn:endEvent id="end" />
  </bpmn:process>
</bpmn:definitions>
"""


def script_diagram(code: str) -> tuple[str, str]:
    body = (f'<bpmn:scriptTask id="sneaky_script"><bpmn:script>{escape(code)}</bpmn:script></bpmn:scriptTask>'
            '<bpmn:sequenceFlow id="f2" sourceRef="sneaky_script" targetRef="end" />')
    return TEMPLATE.format(first="sneaky_script", body=body), "sneaky_script"


def condition_diagram(code: str) -> tuple[str, str]:
    body = ('<bpmn:exclusiveGateway id="decide" default="f_else" />'
            '<bpmn:sequenceFlow id="f_sneaky" sourceRef="decide" targetRef="end">'
            f'<bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">{escape(code)}</bpmn:conditionExpression>'
            '</bpmn:sequenceFlow><bpmn:sequenceFlow id="f_else" sourceRef="decide" targetRef="end" />')
    return TEMPLATE.format(first="decide", body=body), "f_sneaky"


def priority_diagram(code: str) -> tuple[str, str]:
    """A place lint must look at too: the user task's priority expression (zeebe)."""
    body = ('<bpmn:userTask id="sneaky_task"><bpmn:extensionElements>'
            f'<zeebe:priorityDefinition priority={quoteattr("=" + code)} />'
            '</bpmn:extensionElements></bpmn:userTask>'
            '<bpmn:sequenceFlow id="f2" sourceRef="sneaky_task" targetRef="end" />')
    return TEMPLATE.format(first="sneaky_task", body=body), "sneaky_task"


def single_line(escape_: Escape) -> bool:
    return "\n" not in escape_.code and not escape_.code.startswith(("import", "from"))


PLACES = {"script": script_diagram, "condition": condition_diagram, "priority": priority_diagram}
CASES = [
    pytest.param(place, e, id=f"{place}: {e.name}")
    for e in ESCAPES for place in PLACES if place == "script" or single_line(e)
]


def refusal(message: str) -> bool:
    """The restricted engine's words for a refused construct."""
    return any(words in message for words in ("not allowed", "syntax error", "can reach object internals"))


@dataclass
class Traps:
    marker: Path
    port: int
    connections: list[str]

    def fill(self, code: str) -> str:
        return code.replace("MARKER", str(self.marker)).replace("PORT", str(self.port))

    def assert_nothing_happened(self) -> None:
        assert not self.marker.exists(), f"the escape created {self.marker}"
        assert not self.connections, f"the escape reached the network: {self.connections}"
        import math

        assert math.floor(2.5) == 2, "a diagram patched the math module of the worker"


@pytest.fixture
def traps(tmp_path: Path) -> Iterator[Traps]:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    listener.settimeout(0.02)
    connections: list[str] = []
    stop = threading.Event()

    def accept() -> None:
        while not stop.is_set():
            try:
                conn, peer = listener.accept()
            except OSError:
                continue
            connections.append(f"{peer[0]}:{peer[1]}")
            conn.close()

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield Traps(tmp_path / "escaped.marker", listener.getsockname()[1], connections)
    stop.set()
    thread.join(timeout=2)
    listener.close()


def bundle_without_lint(xml: str) -> SpecBundle:
    """The spec as deploy would build it, minus the lint: what runs if a check were missed."""
    root = parse_diagram(xml.encode(), "escape.bpmn")
    normalize_expressions(root)
    parser = PlantBpmnParser()
    parser.add_bpmn_xml(root, filename="escape.bpmn")
    return SpecBundle(process_id="escape", spec=parser.get_spec("escape"),
                      subprocess_specs=parser.get_subprocess_specs("escape"), messages={})


@pytest.mark.parametrize(("place", "attempt"), CASES)
def test_lint_refuses_the_escape_naming_the_element(place: str, attempt: Escape, traps: Traps) -> None:
    xml, element = PLACES[place](traps.fill(attempt.code))
    with pytest.raises(BpmnError) as refused:
        compile_diagram(xml, "escape.bpmn", known_task_types())
    named = [p for p in refused.value.problems if p.element_id == element]
    assert named, f"no problem names {element}: {refused.value}"
    assert any(refusal(p.message) for p in named), named
    traps.assert_nothing_happened()


@pytest.mark.parametrize(("place", "attempt"), CASES)
def test_running_it_anyway_is_an_incident_naming_the_element(place: str, attempt: Escape, traps: Traps) -> None:
    xml, element = PLACES[place](traps.fill(attempt.code))
    run = ProcessRun.start(bundle_without_lint(xml), {})
    with pytest.raises(EngineIncident) as incident:
        run.advance()
        for task in run.pending_user_tasks():  # the priority is evaluated when the task is shown
            assert task.priority is None, f"the priority expression ran: {task.priority!r}"
    if place == "condition":
        # SpiffWorkflow reports a failed condition on the gateway, without the reason (yet)
        assert incident.value.element_id == "decide", incident.value
        assert "Error evaluating expression" in str(incident.value), incident.value
    else:
        assert incident.value.element_id == element, incident.value
        assert refusal(str(incident.value)), incident.value
    assert "end" not in run.completed
    traps.assert_nothing_happened()


def test_mom_run_on_the_embedded_stack_refuses_the_escape_and_nothing_happens(tmp_path: Path, traps: Traps) -> None:
    frame_walk = next(e for e in ESCAPES if e.name == "frame walk in a loop")
    xml, element = script_diagram(traps.fill(frame_walk.code))
    diagram = tmp_path / "escape.bpmn"
    diagram.write_text(xml)
    env = {**os.environ, "MOM_DATA_DIR": str(tmp_path / "data"), "MOM_TEMPORAL_ADDRESS": f"127.0.0.1:{free_port()}"}
    result = subprocess.run([sys.executable, "-m", "mom.cli", "run", str(diagram), "--embedded", "--json",
                             "--timeout", "30"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 1, result.stderr
    outcome = json.loads(result.stdout)
    assert outcome["status"] == "invalid" and outcome["completed"] == []
    assert any(f"[{element}]" in p and "not allowed" in p for p in outcome["problems"]), outcome
    assert f"[{element}]" in result.stderr
    traps.assert_nothing_happened()


def test_mom_lint_refuses_the_issue_reproduction_naming_element_and_line(tmp_path: Path, traps: Traps) -> None:
    """The match-class escape of issue J.1, as a user lints it: exit 1, the element and the file line."""
    xml, element = script_diagram(traps.fill(ISSUE_J1))
    diagram = tmp_path / "escape.bpmn"
    diagram.write_text(xml)
    result = subprocess.run([sys.executable, "-m", "mom.cli", "lint", str(diagram)], cwd=ROOT,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 1, result.stdout + result.stderr
    output = result.stdout + result.stderr
    script_line = xml.splitlines().index(next(line for line in xml.splitlines() if "<bpmn:script>" in line)) + 1
    assert f"escape.bpmn:{script_line} [{element}]" in output, output  # 'mro' is on line 1 of the script
    assert "script, line 1: attribute 'mro' is not allowed" in output, output
    traps.assert_nothing_happened()


@pytest.mark.parametrize("code", ["y = now.real", "f = lambda: 0\ny = f.count", "y = (x for x in [1]).index(1)"])
def test_an_attribute_listed_for_another_type_passes_lint_and_is_an_incident_naming_the_element(code: str) -> None:
    """The attribute allowlist is checked again at run time, on the type of the object actually there."""
    xml, element = script_diagram(code)
    compile_diagram(xml, "escape.bpmn", known_task_types())  # every name is listed for some type
    run = ProcessRun.start(bundle_without_lint(xml), {})
    with pytest.raises(EngineIncident) as incident:
        run.advance()
    assert incident.value.element_id == element, incident.value
    assert "is not allowed" in str(incident.value), incident.value
    assert "end" not in run.completed
