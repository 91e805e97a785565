"""The process engineer's commands, run as a user would run them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from mom.stack.ports import free_port

ROOT = Path(__file__).resolve().parents[2]
DIAGRAMS = ROOT / "tests" / "diagrams"


def mom(*args: str, data_dir: Path, timeout: float = 120, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "MOM_DATA_DIR": str(data_dir),
                   "MOM_TEMPORAL_ADDRESS": f"127.0.0.1:{free_port()}", **env}
    return subprocess.run([sys.executable, "-m", "mom.cli", *args], cwd=ROOT, env=environment,
                          capture_output=True, text=True, timeout=timeout)


def test_run_prints_the_outcome_as_json(data_dir: Path) -> None:
    result = mom("run", str(DIAGRAMS / "approval.bpmn"), "--var", "order_id=PO-77", "--var", "qty=25",
                 "--var", "new_qty=30", "--complete-user-tasks",
                 '{"approve": {"approved": false, "comment": "not now"}}', "--json", data_dir=data_dir)
    assert result.returncode == 0, result.stderr
    outcome = json.loads(result.stdout)
    assert outcome["status"] == "completed"
    assert outcome["completed"] == ["start", "log_request", "approve", "decision", "end_rejected"]
    assert outcome["variables"]["qty"] == 25  # parsed as a number
    assert outcome["variables"]["order_id"] == "PO-77"  # kept as a string


def test_run_reports_an_incident_and_exits_1(data_dir: Path) -> None:
    result = mom("run", str(DIAGRAMS / "incident.bpmn"), "--var", "good=0", "--var", "bad=0", "--json",
                 data_dir=data_dir)
    assert result.returncode == 1
    outcome = json.loads(result.stdout)
    assert outcome["status"] == "incident"
    assert outcome["incident"]["element_id"] == "scrap_rate"


def test_run_times_out_on_a_user_task_nobody_completes(data_dir: Path) -> None:
    result = mom("run", str(DIAGRAMS / "approval.bpmn"), "--var", "order_id=PO-1", "--var", "qty=1",
                 "--timeout", "3", "--json", data_dir=data_dir)
    assert result.returncode == 1
    outcome = json.loads(result.stdout)
    assert outcome["status"] == "timed out"
    assert outcome["pending_user_tasks"] == ["approve"]


def test_deploy_creates_a_version_per_changed_diagram(data_dir: Path, tmp_path: Path) -> None:
    first = mom("deploy", str(DIAGRAMS / "approval.bpmn"), "--json", data_dir=data_dir)
    again = mom("deploy", str(DIAGRAMS / "approval.bpmn"), "--json", data_dir=data_dir)
    changed = tmp_path / "approval.bpmn"
    changed.write_text((DIAGRAMS / "approval.bpmn").read_text().replace('name="Applied"', 'name="Done"'))
    second = mom("deploy", str(changed), "--json", data_dir=data_dir)
    versions = [json.loads(r.stdout) for r in (first, again, second)]
    assert [(v["version"], v["created"]) for v in versions] == [(1, True), (1, False), (2, True)]
    assert versions[0]["spec_sha256"] != versions[2]["spec_sha256"]


def test_deploy_refuses_a_bad_diagram_and_writes_nothing(data_dir: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.bpmn"
    bad.write_text((DIAGRAMS / "approval.bpmn").read_text().replace('type="mom.log"', 'type="press.go"'))
    result = mom("deploy", str(bad), data_dir=data_dir)
    assert result.returncode == 1
    assert "[log_request]" in result.stderr and "press.go" in result.stderr
    assert not (data_dir / "processes").exists() and not (data_dir / "specs").exists()
