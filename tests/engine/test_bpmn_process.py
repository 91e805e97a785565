"""BpmnProcess on a real Temporal dev server: service tasks, user tasks with forms, gateways."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from temporalio.client import Client

from mom import instances
from mom.deployment import deploy_file
from mom.process_store import ProcessStore
from mom.settings import load_settings
from worker import build_worker

DIAGRAMS = Path(__file__).resolve().parent.parent / "diagrams"


async def wait_for(predicate: Any, client: Client, workflow_id: str, timeout: float = 20.0) -> dict[str, Any]:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        state = await instances.instance_state(client, workflow_id)
        if predicate(state):
            return state
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"condition not reached; last state: {state}")
        await asyncio.sleep(0.1)


@pytest.fixture
def store(data_dir: Path) -> ProcessStore:
    return ProcessStore(data_dir)


async def test_approval_runs_to_the_applied_end(temporal_client: Client, task_queue: str, data_dir: Path,
                                                store: ProcessStore) -> None:
    settings = load_settings(data_dir=data_dir)
    deploy_file(store, DIAGRAMS / "approval.bpmn", deployed_by="test")
    async with build_worker(temporal_client, settings, queue=task_queue):
        started = await instances.start_instance(
            temporal_client, store, "approval", task_queue=task_queue,
            variables={"order_id": "PO-7", "qty": 120, "new_qty": 150},
        )
        state = await wait_for(lambda s: s["user_tasks"], temporal_client, started.workflow_id)
        assert state["completed"] == ["start", "log_request"]
        assert state["active"] == ["approve"]
        assert state["variables"]["request_logged"] is True
        task = state["user_tasks"][0]
        assert task["candidate_groups"] == ["supervisors"]
        assert task["priority"] == 70
        assert task["context"] == {"order": "PO-7"}

        with pytest.raises(instances.TaskRefused) as refused:
            await instances.complete_user_task(temporal_client, started.workflow_id, task["task_id"],
                                               {"approved": True})
        assert refused.value.kind == "FormInvalid"
        assert refused.value.errors == {"comment": "is required"}

        with pytest.raises(instances.TaskRefused) as unknown:
            await instances.complete_user_task(temporal_client, started.workflow_id,
                                               "00000000-0000-0000-0000-000000000000", {})
        assert unknown.value.kind == "UnknownTask"

        data = {"approved": True, "comment": "ok by shift lead"}
        first = await instances.complete_user_task(temporal_client, started.workflow_id, task["task_id"], data)
        again = await instances.complete_user_task(temporal_client, started.workflow_id, task["task_id"], data)
        assert first["status"] == "completed"
        assert again["status"] == "already_completed"

        result = await instances.wait_result(temporal_client, started.workflow_id)
        assert result.status == "completed"
        assert result.completed == ["start", "log_request", "approve", "decision", "apply", "end_applied"]
        assert result.variables["qty"] == 150
        assert result.variables["applied"] is True
        # a click that arrives after the instance ended: still the same answer
        late = await instances.complete_user_task(temporal_client, started.workflow_id, task["task_id"], data)
        assert late["status"] == "already_completed"
