"""Diagram code through the modeler's routes (issue J.1, J.8): POST /lint and POST /lint/test-run refuse
the match-class escape naming the element and line, every test run is in the audit trail (who, the
diagram's SHA-256), and a trial instance that ends in an incident is ended, not left running."""

from __future__ import annotations

import hashlib
import time
from pathlib import Path
from xml.sax.saxutils import escape

from api_client import Api
from temporalio.client import Client, WorkflowExecutionStatus
from test_api_inbox import worker  # noqa: F401 - fixture

ESCAPE = """o = int.mro()[-1]
match o:
    case o(__subclasses__=sub): pass
for c in sub():
    match c:
        case o(__name__='_wrap_close', __init__=i):
            match i:
                case o(__globals__=g): out = g['popen']('touch MARKER').read()"""

# issue J.8: 8,000 x 1,000,000 items compared, once charged as 8,000
COMPARISON = "r = [[0] * 1000000] * 8000 == [[0] * 1000000] * 8000"


def diagram(code: str) -> str:
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d" targetNamespace="urn:t">
  <bpmn:process id="sandbox" isExecutable="true">
    <bpmn:startEvent id="start" />
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="calc" />
    <bpmn:scriptTask id="calc">
      <bpmn:script>{escape(code)}</bpmn:script>
    </bpmn:scriptTask>
    <bpmn:sequenceFlow id="f2" sourceRef="calc" targetRef="end" />
    <bpmn:endEvent id="end" />
  </bpmn:process>
</bpmn:definitions>
"""


SCRIPT_LINE = 7  # the line of <bpmn:script> in diagram(): line 1 of the code


async def test_post_lint_refuses_the_match_class_escape_naming_element_and_line(api: Api, tmp_path: Path) -> None:
    marker = tmp_path / "escaped"
    xml = diagram(ESCAPE.replace("MARKER", str(marker)))
    response = await api.http.post("/lint", content=xml.encode(), params={"filename": "sandbox.bpmn"},
                                   headers={**await api.as_("erin"), "Content-Type": "application/xml"})
    assert response.status_code == 200, response.text
    result = response.json()
    assert result["ok"] is False
    problem = next(p for p in result["problems"] if p["element_id"] == "calc")
    assert problem["line"] == SCRIPT_LINE, problem
    assert "line 1" in problem["message"] and "'mro' is not allowed" in problem["message"], problem
    assert not marker.exists()


async def test_a_test_run_of_the_escape_is_refused_and_audited_with_who_and_the_diagram_hash(
        api: Api, tmp_path: Path) -> None:
    marker = tmp_path / "escaped"
    xml = diagram(ESCAPE.replace("MARKER", str(marker)))
    response = await api.post("/lint/test-run", "erin", json={"xml": xml, "timeout": 10})
    assert response.status_code == 200, response.text
    outcome = response.json()
    assert outcome["status"] == "invalid" and outcome["instance_id"] is None, outcome
    assert any("[calc]" in p and "not allowed" in p for p in outcome["problems"]), outcome
    assert not marker.exists()
    digest = hashlib.sha256(xml.encode()).hexdigest()
    audit = await api.get("/audit", "sam", params={"action": "diagram.test_run", "entity_id": digest})
    entries = audit.json()["items"]
    assert len(entries) == 1, audit.text
    assert entries[0]["actor"] == "erin" and entries[0]["details"]["sha256"] == digest, entries


async def test_a_trial_ending_in_an_incident_is_ended_and_a_costly_comparison_is_a_budget_incident(
        api: Api, worker: None, temporal_client: Client) -> None:  # noqa: F811
    started = time.monotonic()
    response = await api.post("/lint/test-run", "erin", json={"xml": diagram(COMPARISON), "timeout": 60})
    elapsed = time.monotonic() - started
    assert response.status_code == 200, response.text
    outcome = response.json()
    assert outcome["status"] == "incident", outcome
    incident = outcome["incident"]
    assert incident["element_id"] == "calc", incident
    assert "MOM_SCRIPT_MAX_OPERATIONS" in incident["message"], incident
    description = await temporal_client.get_workflow_handle(outcome["instance_id"]).describe()
    assert description.status != WorkflowExecutionStatus.RUNNING, description.status
    assert elapsed < 45, f"the test run took {elapsed:.1f} s"
