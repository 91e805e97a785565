"""``mom lint``: each kind of problem is found and names the file, line and element id."""

from __future__ import annotations

from pathlib import Path

import pytest

from bpmn.errors import Problem
from bpmn.lint import lint_diagram
from mom.cli import main
from mom.task_catalog import known_task_types

DIAGRAMS = Path(__file__).resolve().parents[1] / "diagrams"
HEAD = ('<?xml version="1.0" encoding="UTF-8"?>\n'
        '<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"\n'
        '  xmlns:zeebe="http://camunda.org/schema/zeebe/1.0" id="d" targetNamespace="x">\n'
        '<bpmn:process id="p" isExecutable="true">\n')
TAIL = "</bpmn:process>\n</bpmn:definitions>\n"


def lint(body: str) -> list[Problem]:
    return lint_diagram(HEAD + body + TAIL, "plant.bpmn", known_task_types())


def only(problems: list[Problem]) -> Problem:
    assert len(problems) == 1, problems
    return problems[0]


def test_reference_diagrams_are_clean() -> None:
    for path in sorted(DIAGRAMS.glob("*.bpmn")):
        assert lint_diagram(path.read_bytes(), str(path), known_task_types()) == [], path


def test_malformed_xml_names_the_line() -> None:
    problem = only(lint_diagram(HEAD + "<bpmn:startEvent id='s'>\n" + TAIL, "plant.bpmn", set()))
    assert problem.file == "plant.bpmn"
    assert problem.line == 6
    assert "malformed XML" in problem.message


def test_entities_and_dtds_are_refused() -> None:
    bomb = '<?xml version="1.0"?><!DOCTYPE d [<!ENTITY a "aaaa">]><d>&a;</d>'
    assert "entity" in only(lint_diagram(bomb, "bomb.bpmn", set())).message


def test_not_bpmn() -> None:
    assert "BPMN 2.0" in only(lint_diagram("<html/>", "page.html", set())).message


def test_no_start_event() -> None:
    problem = only(lint('<bpmn:endEvent id="e" />\n'))
    assert problem.element_id == "p"
    assert problem.message == "process has no start event"


def test_unknown_service_task_type_names_element_and_the_catalog_command() -> None:
    problem = only(lint(
        '<bpmn:startEvent id="s" />\n'
        '<bpmn:serviceTask id="press_part">\n'
        '  <bpmn:extensionElements><zeebe:taskDefinition type="press.go" /></bpmn:extensionElements>\n'
        '</bpmn:serviceTask>\n'
        '<bpmn:sequenceFlow id="f" sourceRef="s" targetRef="press_part" />\n'))
    assert problem.element_id == "press_part"
    assert problem.line == 6
    assert "'press.go' is unknown" in problem.message and "'mom task-types' lists" in problem.message


def test_service_task_without_type() -> None:
    problem = only(lint('<bpmn:startEvent id="s" /><bpmn:serviceTask id="t" />'
                        '<bpmn:sequenceFlow id="f" sourceRef="s" targetRef="t" />'))
    assert problem.element_id == "t" and "no type" in problem.message


def test_exclusive_gateway_branch_without_condition_or_default() -> None:
    problem = only(lint(
        '<bpmn:startEvent id="s" /><bpmn:exclusiveGateway id="g" />\n'
        '<bpmn:endEvent id="a" /><bpmn:endEvent id="b" />\n'
        '<bpmn:sequenceFlow id="f0" sourceRef="s" targetRef="g" />\n'
        '<bpmn:sequenceFlow id="fa" sourceRef="g" targetRef="a"><bpmn:conditionExpression>=x &gt; 1'
        '</bpmn:conditionExpression></bpmn:sequenceFlow>\n'
        '<bpmn:sequenceFlow id="fb" sourceRef="g" targetRef="b" />\n'))
    assert problem.element_id == "fb"
    assert "no condition and is not the gateway's default" in problem.message


def test_invalid_timer_expression() -> None:
    problem = only(lint(
        '<bpmn:startEvent id="s" />\n'
        '<bpmn:intermediateCatchEvent id="wait"><bpmn:timerEventDefinition>'
        '<bpmn:timeDuration>"five minutes"</bpmn:timeDuration></bpmn:timerEventDefinition>'
        '</bpmn:intermediateCatchEvent>\n'
        '<bpmn:sequenceFlow id="f" sourceRef="s" targetRef="wait" />\n'))
    assert problem.element_id == "wait"
    assert "not a valid ISO 8601 duration" in problem.message


def test_unsupported_element() -> None:
    problem = only(lint('<bpmn:startEvent id="s" /><bpmn:complexGateway id="cg" />'
                        '<bpmn:sequenceFlow id="f" sourceRef="s" targetRef="cg" />'))
    assert problem.element_id == "cg" and "not supported" in problem.message


@pytest.mark.parametrize("script", ["import os", "__import__('os')", "open('/etc/passwd').read()",
                                    "x = ().__class__.__bases__[0]"])
def test_scripts_that_escape_are_errors(script: str) -> None:
    problem = only(lint(f'<bpmn:startEvent id="s" /><bpmn:scriptTask id="st"><bpmn:script>{script}</bpmn:script>'
                        '</bpmn:scriptTask><bpmn:sequenceFlow id="f" sourceRef="s" targetRef="st" />'))
    assert problem.element_id == "st" and "not allowed" in problem.message


def test_cli_exit_codes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["lint", str(DIAGRAMS / "approval.bpmn")]) == 0
    bad = tmp_path / "bad.bpmn"
    bad.write_text(HEAD + '<bpmn:endEvent id="e" />' + TAIL)
    assert main(["lint", str(bad)]) == 1
    out = capsys.readouterr().out
    assert f"{bad}:4 [p]: error: process has no start event" in out
