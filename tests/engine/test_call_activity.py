"""Call activities: the called process runs as a child BpmnProcess (Temporal child workflow)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from support.processes import DIAGRAMS, start, wait_for_state
from temporalio.client import Client

from mom import instances
from mom.deployment import deploy_file
from mom.process_store import ProcessStore
from mom.settings import load_settings
from worker import build_worker
from workflows.contracts import child_workflow_id


def _deploy_child(data_dir: Path, text: str | None = None) -> None:
    store = ProcessStore(data_dir)
    if text is None:
        deploy_file(store, DIAGRAMS / "call_child.bpmn", deployed_by="test")
        return
    path = data_dir / "call_child.bpmn"
    path.write_text(text)
    deploy_file(store, path, deployed_by="test")


async def test_call_activity_maps_inputs_and_outputs_of_a_child_instance(
        temporal_client: Client, task_queue: str, data_dir: Path) -> None:
    _deploy_child(data_dir)
    async with build_worker(temporal_client, load_settings(data_dir=data_dir), queue=task_queue):
        wid = await start(temporal_client, data_dir, "call_parent.bpmn", task_queue, {"lot": "L1", "measured": 5})
        result = await asyncio.wait_for(instances.wait_result(temporal_client, wid), 90)
        state = await wait_for_state(temporal_client, wid, lambda s: s["status"] == "completed")
        history = await temporal_client.get_workflow_handle(wid).fetch_history()
        started = [e.start_child_workflow_execution_initiated_event_attributes.workflow_id
                   for e in history.events if e.HasField("start_child_workflow_execution_initiated_event_attributes")]
        assert len(started) == 1 and started[0].startswith(f"{wid}/")
        child = await instances.wait_result(temporal_client, started[0])
    # Only the output mapping comes back (propagateAllChildVariables="false"): not the child's secret.
    assert result.variables == {"lot": "L1", "measured": 5, "lot_grade": "A"}
    assert result.completed == ["start", "inspect", "end"]
    assert state["incident"] is None
    # The child got the input mappings only, under their target names.
    assert child.variables["lot_id"] == "L1" and "lot" not in child.variables
    assert child.completed == ["c_start", "grade_lot", "too_far", "c_end"]


async def test_business_error_end_in_the_child_reaches_the_error_boundary_of_the_call_activity(
        temporal_client: Client, task_queue: str, data_dir: Path) -> None:
    _deploy_child(data_dir)
    async with build_worker(temporal_client, load_settings(data_dir=data_dir), queue=task_queue):
        wid = await start(temporal_client, data_dir, "call_parent.bpmn", task_queue, {"lot": "L2", "measured": 60})
        result = await asyncio.wait_for(instances.wait_result(temporal_client, wid), 90)
    assert result.completed[-3:] == ["scrapped", "mark_scrap", "end_scrapped"]
    assert result.variables["lot_grade"] == "scrap" and result.variables["error_code"] == "SCRAP"


async def test_child_incident_shows_at_the_call_activity_and_retrying_the_child_completes_the_parent(
        temporal_client: Client, task_queue: str, data_dir: Path) -> None:
    _deploy_child(data_dir)
    async with build_worker(temporal_client, load_settings(data_dir=data_dir), queue=task_queue):
        wid = await start(temporal_client, data_dir, "call_parent.bpmn", task_queue, {"lot": "L3", "measured": 0})
        state = await wait_for_state(temporal_client, wid, lambda s: s["incident"] is not None)
        assert state["status"] == "incident"
        assert state["incident"]["element_id"] == "inspect" and state["incident"]["kind"] == "child"
        assert "ZeroDivisionError" in state["incident"]["message"]
        child_id = state["incident"]["child_workflow_id"]
        assert child_id == child_workflow_id(wid, child_id.split("/", 1)[1])  # parent id + task id
        await instances.retry_incident(temporal_client, child_id, {"measured": 4})
        result = await asyncio.wait_for(instances.wait_result(temporal_client, wid), 90)
    assert result.variables["lot_grade"] == "A"


async def test_a_missing_called_process_is_an_incident_at_the_call_activity_and_retry_resolves_it(
        temporal_client: Client, task_queue: str, data_dir: Path) -> None:
    async with build_worker(temporal_client, load_settings(data_dir=data_dir), queue=task_queue):
        wid = await start(temporal_client, data_dir, "call_parent.bpmn", task_queue, {"lot": "L4", "measured": 1})
        state = await wait_for_state(temporal_client, wid, lambda s: s["incident"] is not None)
        assert state["incident"]["element_id"] == "inspect"
        assert "not deployed" in state["incident"]["message"]
        _deploy_child(data_dir)  # deployed now: the retry resolves the version again
        await instances.retry_incident(temporal_client, wid)
        result = await asyncio.wait_for(instances.wait_result(temporal_client, wid), 90)
    assert result.variables["lot_grade"] == "A"
