"""Diagrams as Camunda Modeler saves them, through ``mom lint`` and ``mom run`` as an engineer runs them
(issue N). Each diagram under tests/diagrams/camunda reproduces one difference found with public
Camunda 8 diagrams."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

from rich.console import Console

from mom.cli.engine import tasks_table
from mom.stack.ports import free_port

ROOT = Path(__file__).resolve().parents[2]
CAMUNDA = ROOT / "tests" / "diagrams" / "camunda"


def mom(*args: str, data_dir: Path, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "MOM_DATA_DIR": str(data_dir), "MOM_TEMPORAL_ADDRESS": f"127.0.0.1:{free_port()}"}
    return subprocess.run([sys.executable, "-m", "mom.cli", *args], cwd=ROOT, env=environment,
                          capture_output=True, text=True, timeout=timeout)


def test_lint_prints_connector_types_as_written_and_the_catalog_once(data_dir: Path) -> None:
    """camunda-8-examples' connector diagrams: `io.camunda:email:1` was printed as `io.camunda✉1`,
    and each unknown-type error repeated all known types."""
    result = mom("lint", str(CAMUNDA / "connector_tasks.bpmn"), data_dir=data_dir)
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert any("[send_mail]" in line and "'io.camunda:email:1'" in line for line in lines), result.stdout
    assert any("[call_rest]" in line and "'io.camunda:http-json:1'" in line for line in lines), result.stdout
    assert "✉" not in result.stdout
    assert result.stdout.count("mom.wait") <= 1, result.stdout  # the catalog is pointed to, not repeated
    assert "mom task-types" in result.stdout


def test_task_types_command_lists_the_catalog(data_dir: Path) -> None:
    result = mom("task-types", "--json", data_dir=data_dir)
    assert result.returncode == 0, result.stderr
    types = {t["name"]: t for t in json.loads(result.stdout)}
    assert types["mom.log"]["inputs"] == ["message"]


def test_task_table_shows_diagram_text_literally() -> None:
    """A user task named with Rich markup or an emoji code is shown as written in `mom tasks`."""
    out = io.StringIO()
    console = Console(file=out, width=300, emoji=False)
    console.print(tasks_table([{"task_id": "t1", "instance_id": "i1", "element_id": "check",
                                "name": "Check [bold]mail[/bold] :email:", "candidate_groups": ["[qa]"],
                                "assignee": None}]))
    assert "Check [bold]mail[/bold] :email:" in out.getvalue()
    assert "[qa]" in out.getvalue()


def test_lint_names_a_missing_required_input(data_dir: Path) -> None:
    """A mom.log task without 'message' passed lint and failed at run time."""
    result = mom("lint", str(CAMUNDA / "log_without_message.bpmn"), data_dir=data_dir)
    assert result.returncode == 1
    assert "[log_nothing]: error: mom.log needs the input 'message'" in result.stdout, result.stdout


def test_task_headers_reach_the_job(data_dir: Path) -> None:
    """zeebe:taskHeaders reach the job as Camunda's custom headers: the message given as a header is
    logged (before: lint passed it unchecked and the run ended in the incident
    "mom.log needs an input 'message'")."""
    lint = mom("lint", str(CAMUNDA / "log_message_header.bpmn"), data_dir=data_dir)
    assert lint.returncode == 0, lint.stdout
    result = mom("run", str(CAMUNDA / "log_message_header.bpmn"), "--var", "order_id=PO-9", "--json",
                 data_dir=data_dir)
    outcome = json.loads(result.stdout)
    assert outcome["status"] == "completed", outcome
    assert outcome["variables"]["header_logged"] is True


def test_an_unrelated_broken_dmn_beside_the_diagram_does_not_refuse_it(data_dir: Path) -> None:
    """A folder of examples: every .dmn beside a diagram was compiled, so a broken one no task calls
    refused the diagram ('malformed DMN XML' in unrelated_broken.dmn)."""
    diagram = str(CAMUNDA / "decisions" / "grade_by_rules.bpmn")
    lint = mom("lint", diagram, data_dir=data_dir)
    assert lint.returncode == 0, lint.stdout
    result = mom("run", diagram, "--var", "defects=0", "--var", "customer=x", "--json", data_dir=data_dir)
    outcome = json.loads(result.stdout)
    assert outcome["status"] == "completed", outcome
    assert outcome["variables"]["grade"] == "A"


def test_lint_and_run_judge_a_called_dmn_the_same(data_dir: Path) -> None:
    """lint said ok for a diagram whose called decision table has a broken entry; the run said invalid."""
    diagram = str(CAMUNDA / "decisions_invalid" / "grade_by_rules.bpmn")
    where = "lot_grading.dmn:21 [r2_d]: error: DMN expression '< 3 )'"
    lint = mom("lint", diagram, data_dir=data_dir)
    assert lint.returncode == 1 and where in lint.stdout, lint.stdout
    result = mom("run", diagram, "--json", data_dir=data_dir)
    outcome = json.loads(result.stdout)
    assert outcome["status"] == "invalid" and any(where in p for p in outcome["problems"]), outcome


def test_a_data_object_error_names_the_line(data_dir: Path, tmp_path: Path) -> None:
    """SpiffWorkflow's 'Cannot resolve dataOutputAssociation <Element ...>' had no line."""
    diagram = CAMUNDA / "data_object_missing.bpmn"
    result = mom("lint", str(diagram), data_dir=data_dir)
    assert result.returncode == 1
    assert (f"{diagram}:11 [review]: error: <dataOutputAssociation> targetRef: data object reference 'order_ref' "
            "names dataObjectRef 'order_data'") in result.stdout, result.stdout
    fixed = tmp_path / "data_object.bpmn"
    fixed.write_text(diagram.read_text().replace('<bpmn:startEvent id="start" />',
                                                 '<bpmn:startEvent id="start" /><bpmn:dataObject id="order_data" />'))
    assert mom("lint", str(fixed), data_dir=data_dir).returncode == 0


def test_manual_and_plain_tasks_pass_through(data_dir: Path) -> None:
    """Camunda 8 passes through manual and plain tasks; here they waited forever ('timed out', active:
    sweep_floor)."""
    result = mom("run", str(CAMUNDA / "manual_and_plain_tasks.bpmn"), "--timeout", "20", "--json",
                 data_dir=data_dir)
    outcome = json.loads(result.stdout)
    assert outcome["status"] == "completed", outcome
    assert outcome["completed"] == ["start", "sweep_floor", "think", "end"]
