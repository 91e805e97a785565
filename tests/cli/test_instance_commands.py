"""deploy, start, instances, tasks, complete, state, retry from the command line against a running stack."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from support.worker_process import WorkerProcess

from mom.stack.temporal_server import TemporalDevServer

ROOT = Path(__file__).resolve().parents[2]
DIAGRAMS = ROOT / "tests" / "diagrams"


@pytest.fixture
def stack(temporal_server: TemporalDevServer, data_dir: Path, task_queue: str,
          tmp_path: Path) -> Iterator[dict[str, str]]:
    worker = WorkerProcess(temporal_server.address, data_dir, task_queue, tmp_path / "worker.log").start()
    yield {**os.environ, "MOM_TEMPORAL_ADDRESS": temporal_server.address, "MOM_DATA_DIR": str(data_dir),
           "MOM_TASK_QUEUE": task_queue, "COLUMNS": "200"}
    worker.stop()


def mom(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "mom.cli", *args], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=120)


def test_a_supervisor_approves_from_the_command_line(stack: dict[str, str]) -> None:
    assert mom(stack, "deploy", str(DIAGRAMS / "approval.bpmn")).returncode == 0
    started = mom(stack, "start", "approval", "--var", "order_id=PO-CLI", "--var", "qty=5", "--var", "new_qty=9",
                  "--business-key", "PO-CLI", "--json")
    assert started.returncode == 0, started.stderr
    instance = json.loads(started.stdout)["instance_id"]
    assert instance == "approval-PO-CLI"

    tasks: list[dict[str, object]] = []
    for _ in range(60):
        listing = mom(stack, "tasks", "--json")
        assert listing.returncode == 0, listing.stderr
        tasks = [t for t in json.loads(listing.stdout) if t["instance_id"] == instance]
        if tasks:
            break
        time.sleep(0.3)
    assert tasks and tasks[0]["element_id"] == "approve", listing.stdout
    running = json.loads(mom(stack, "instances", "--status", "running", "--json").stdout)
    assert instance in [row["instance_id"] for row in running]

    refused = mom(stack, "complete", str(tasks[0]["task_id"]), "--data", '{"approved": true}')
    assert refused.returncode == 1 and "comment: is required" in refused.stderr
    done = mom(stack, "complete", str(tasks[0]["task_id"]), "--data", '{"approved": true, "comment": "ok"}',
               "--user", "sue")
    assert done.returncode == 0, done.stderr
    for _ in range(100):
        state = json.loads(mom(stack, "state", instance).stdout)
        if state["status"] == "completed":
            break
    assert state["status"] == "completed" and state["variables"]["qty"] == 9


def test_an_incident_is_retried_from_the_command_line(stack: dict[str, str]) -> None:
    assert mom(stack, "deploy", str(DIAGRAMS / "incident.bpmn")).returncode == 0
    instance = json.loads(mom(stack, "start", "incident", "--var", "good=0", "--var", "bad=0", "--var",
                              "settle_seconds=0", "--json").stdout)["instance_id"]
    for _ in range(100):
        state = json.loads(mom(stack, "state", instance).stdout)
        if state["status"] == "incident":
            break
    assert state["incident"]["element_id"] == "scrap_rate"
    assert mom(stack, "retry", instance, "--var", "good=9", "--var", "bad=1").returncode == 0
    for _ in range(100):
        state = json.loads(mom(stack, "state", instance).stdout)
        if state["status"] == "completed":
            break
    assert state["status"] == "completed" and state["variables"]["scrap_rate"] == 0.1


def test_a_task_marked_for_signature_needs_the_password_on_the_command_line(stack: dict[str, str]) -> None:
    """Issue J.3: 'mom complete' signs a task marked for an e-signature only with --user and
    --password-stdin matching that user's password in the database; otherwise it refuses, naming the task."""
    xml = (DIAGRAMS / "approval.bpmn").read_text().replace(
        '<zeebe:assignmentDefinition candidateGroups="supervisors" />',
        '<zeebe:assignmentDefinition candidateGroups="supervisors" />\n'
        '        <zeebe:taskHeaders><zeebe:header key="signature" value="approved by" /></zeebe:taskHeaders>',
    ).replace('id="approval"', 'id="approval_signed"')
    path = Path(stack["MOM_DATA_DIR"]) / "approval_signed.bpmn"
    path.write_text(xml)
    assert mom(stack, "deploy", str(path)).returncode == 0
    instance = json.loads(mom(stack, "start", "approval_signed", "--var", "order_id=PO-SIG", "--var", "qty=5",
                              "--var", "new_qty=7", "--json").stdout)["instance_id"]
    tasks: list[dict[str, object]] = []
    for _ in range(60):
        tasks = [t for t in json.loads(mom(stack, "tasks", "--json").stdout) if t["instance_id"] == instance]
        if tasks:
            break
        time.sleep(0.3)
    assert tasks, "no task"
    task_id, data = str(tasks[0]["task_id"]), '{"approved": true, "comment": "signed"}'
    env = {**stack, "MOM_NEW_PASSWORD": "sues-password-1"}
    added = subprocess.run([sys.executable, "-m", "mom.cli", "users", "add", "sue", "--role", "supervisor"],
                           cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert added.returncode == 0, added.stderr

    unsigned = mom(stack, "complete", task_id, "--data", data, "--user", "sue")
    assert unsigned.returncode == 1 and f"task {task_id} needs an electronic signature" in unsigned.stderr
    assert "--password-stdin" in unsigned.stderr, unsigned.stderr
    wrong = subprocess.run([sys.executable, "-m", "mom.cli", "complete", task_id, "--data", data, "--user", "sue",
                            "--password-stdin"], input="not-sues\n", cwd=ROOT, env=stack, capture_output=True,
                           text=True, timeout=120)
    assert wrong.returncode == 1 and "wrong password for sue" in wrong.stderr, wrong.stderr
    state = json.loads(mom(stack, "state", instance).stdout)
    assert [t["task_id"] for t in state["user_tasks"]] == [task_id]  # still open

    done = subprocess.run([sys.executable, "-m", "mom.cli", "complete", task_id, "--data", data, "--user", "sue",
                           "--password-stdin"], input="sues-password-1\n", cwd=ROOT, env=stack,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    for _ in range(100):
        state = json.loads(mom(stack, "state", instance).stdout)
        if state["status"] == "completed":
            break
    assert state["status"] == "completed" and state["variables"]["qty"] == 7
