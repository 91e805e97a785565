"""Lint and deploy of call activities and business rule tasks (DMN)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bpmn.deploy import compile_diagram, compile_file
from bpmn.engine import EngineIncident, ProcessRun
from bpmn.errors import BpmnError
from bpmn.lint import lint_diagram
from bpmn.spec_bundle import spec_from_json, spec_to_json
from mom.task_catalog import known_task_types

DIAGRAMS = Path(__file__).resolve().parents[1] / "diagrams"
RULES = (DIAGRAMS / "grade_by_rules.bpmn").read_bytes()
DMN = (DIAGRAMS / "lot_grading.dmn").read_bytes()


def test_call_activity_and_business_rule_task_pass_the_lint() -> None:
    assert lint_diagram((DIAGRAMS / "call_parent.bpmn").read_bytes(), "p.bpmn", known_task_types()) == []
    problems = lint_diagram(RULES, "r.bpmn", known_task_types(), {"lot_grading.dmn": DMN})
    assert problems == []
    # Without the DMN files (mom lint FILE) the decision is not looked for: the deploy checks it.
    assert lint_diagram(RULES, "r.bpmn", known_task_types()) == []


def test_call_activity_without_a_process_id_is_refused() -> None:
    text = (DIAGRAMS / "call_parent.bpmn").read_text().replace('processId="call_child" ', "")
    problems = lint_diagram(text, "p.bpmn", known_task_types())
    assert any("call activity names no process" in p.message and p.element_id == "inspect" for p in problems)


def test_missing_decision_is_refused_at_deploy() -> None:
    with pytest.raises(BpmnError, match="lot_grade"):
        compile_diagram(RULES, "r.bpmn", known_task_types())


@pytest.mark.parametrize("expression", ['__import__("os").getcwd()', "open('/etc/passwd').read()",
                                        "(1).__class__"])
def test_dmn_expressions_use_the_restricted_script_engine(expression: str) -> None:
    bad = DMN.replace(b'<outputEntry id="r1_g"><text>"A"</text>',
                      b'<outputEntry id="r1_g"><text>' + expression.replace("'", "&apos;").encode() + b"</text>")
    with pytest.raises(BpmnError, match="DMN expression"):
        compile_diagram(RULES, "r.bpmn", known_task_types(), decisions={"lot_grading.dmn": bad})


def test_forbidden_dmn_expression_is_also_refused_at_run_time() -> None:
    """Even a spec built without the lint cannot escape: the engine evaluates with the restricted engine."""
    compiled, _ = compile_file(DIAGRAMS / "grade_by_rules.bpmn", known_task_types())
    bundle = spec_from_json(compiled.spec_json)
    entry = bundle.spec.task_specs["grade"].dmnEngine.decision_table.rules[0].outputEntries[0]
    entry.text = '__import__("os").getcwd()'
    run = ProcessRun.start(spec_from_json(spec_to_json(bundle)), {"defects": 0, "customer": "x"})
    with pytest.raises(EngineIncident, match="Error evaluating"):
        run.advance()


def test_deploy_reads_the_dmn_files_beside_the_diagram_and_the_spec_round_trips() -> None:
    compiled, _ = compile_file(DIAGRAMS / "grade_by_rules.bpmn", known_task_types())
    bundle = spec_from_json(compiled.spec_json)
    assert spec_to_json(bundle) == compiled.spec_json
    run = ProcessRun.start(bundle, {"defects": 5, "customer": "x"})
    run.advance()
    assert run.is_completed and run.variables()["verdict"] == {"grade": "C", "action": "scrap"}
