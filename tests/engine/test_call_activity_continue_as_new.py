"""A parent instance continues as new while its call activity's child instance runs: the child is
not killed, and the next parent run takes the child's result (or business error) when it ends; a
child terminated from outside becomes an incident at the call activity. A trial run's instance
(api/routers/lint.py) that timed out leaves none of its called instances running."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from support.processes import DIAGRAMS, wait_for_state
from temporalio.client import Client, WorkflowExecutionStatus, WorkflowHandle

from api.routers.lint import drive, terminate_with_children
from mom import instances
from mom.deployment import deploy_file
from mom.process_store import ProcessStore
from mom.settings import load_settings
from worker import build_worker
from workflows.contracts import CHILD_FINISHED_SIGNAL, CHILD_OUTCOME_ACTIVITY, WORKFLOW_NAME, ProcessInput

HISTORY_LIMIT = 6  # events: the first run has more once its child started (quiet only then); a fresh run 3


def _events(history: object) -> list[dict[str, object]]:
    return list(json.loads(history.to_json())["events"])  # type: ignore[attr-defined]


@pytest.mark.parametrize("decision", ["accept", "scrap"])
async def test_the_parent_continues_as_new_while_the_child_runs_and_takes_its_result(
        decision: str, temporal_client: Client, task_queue: str, data_dir: Path) -> None:
    store = ProcessStore(data_dir)
    deploy_file(store, DIAGRAMS / "call_long_child.bpmn", deployed_by="test")
    version = deploy_file(store, DIAGRAMS / "call_long_parent.bpmn", deployed_by="test").version
    async with build_worker(temporal_client, load_settings(data_dir=data_dir), queue=task_queue):
        handle = await temporal_client.start_workflow(
            WORKFLOW_NAME,
            ProcessInput(process_id="call_long_parent", spec_sha256=version.spec_sha256, version=version.version,
                         variables={"lot": "L7"}, history_limit=HISTORY_LIMIT),
            id=f"call-long-{decision}-{task_queue}", task_queue=task_queue)
        first_run = handle.first_execution_run_id
        # The parent continued as new while the call activity still waits for its child.
        state = await wait_for_state(temporal_client, handle.id, lambda s: s["runs"] >= 2)
        assert state["running_activities"] == ["approve"] and "approve" in state["active"]
        first = _events(await temporal_client.get_workflow_handle(handle.id, run_id=first_run).fetch_history())
        started = [e["startChildWorkflowExecutionInitiatedEventAttributes"] for e in first
                   if "startChildWorkflowExecutionInitiatedEventAttributes" in e]
        assert len(started) == 1 and started[0]["parentClosePolicy"] == "PARENT_CLOSE_POLICY_ABANDON"
        assert first[-1]["eventType"] == "EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW"
        child_id = str(started[0]["workflowId"])
        # The child was not killed by the parent's continue-as-new: its user task still waits.
        child_state = await wait_for_state(temporal_client, child_id, lambda s: s["user_tasks"])
        described = await temporal_client.get_workflow_handle(child_id).describe()
        assert described.status == WorkflowExecutionStatus.RUNNING
        await instances.complete_user_task(temporal_client, child_id, child_state["user_tasks"][0]["task_id"],
                                           {"decision": decision})
        result = await asyncio.wait_for(instances.wait_result(temporal_client, handle.id), 90)
        final = await instances.instance_state(temporal_client, handle.id)
        last = _events(await temporal_client.get_workflow_handle(handle.id).fetch_history())
    assert final["runs"] >= 2
    # The last run started no child again: it took the end of the same child from its signal.
    assert not any("startChildWorkflowExecutionInitiatedEventAttributes" in e for e in last)
    assert any((e.get("workflowExecutionSignaledEventAttributes") or {}).get("signalName") == CHILD_FINISHED_SIGNAL
               for e in last)
    if decision == "accept":
        assert result.completed == ["start", "approve", "end"]
        assert result.variables == {"lot": "L7", "lot_decision": "accept"}  # the output mapping only
    else:  # the child's uncaught business error reached the call activity's error boundary
        assert result.completed[-3:] == ["scrapped", "mark_scrap", "end_scrapped"]
        assert result.variables["lot_decision"] == "scrap" and result.variables["error_code"] == "SCRAP"


async def test_cancelling_a_parent_that_continued_as_new_cancels_its_child(
        temporal_client: Client, task_queue: str, data_dir: Path) -> None:
    async with build_worker(temporal_client, load_settings(data_dir=data_dir), queue=task_queue):
        handle, child_id = await _long_parent_past_its_first_run(temporal_client, data_dir, task_queue, "L8")
        await temporal_client.get_workflow_handle(handle.id).cancel()
        for _ in range(600):  # abandoned by Temporal on close, the child is cancelled by the parent itself
            described = await temporal_client.get_workflow_handle(child_id).describe()
            parent = await temporal_client.get_workflow_handle(handle.id).describe()
            if WorkflowExecutionStatus.RUNNING not in (described.status, parent.status):
                break
            await asyncio.sleep(0.1)
    assert described.status == WorkflowExecutionStatus.CANCELED
    assert parent.status == WorkflowExecutionStatus.CANCELED


async def _long_parent_past_its_first_run(client: Client, data_dir: Path, task_queue: str,
                                         lot: str) -> tuple[WorkflowHandle[Any, Any], str]:
    """call_long_parent started, continued as new at least once while its child waits on a user
    task: the parent's handle and the child's workflow id (started by the first run)."""
    store = ProcessStore(data_dir)
    deploy_file(store, DIAGRAMS / "call_long_child.bpmn", deployed_by="test")
    version = deploy_file(store, DIAGRAMS / "call_long_parent.bpmn", deployed_by="test").version
    handle = await client.start_workflow(
        WORKFLOW_NAME,
        ProcessInput(process_id="call_long_parent", spec_sha256=version.spec_sha256, version=version.version,
                     variables={"lot": lot}, history_limit=HISTORY_LIMIT),
        id=f"call-long-{lot}-{task_queue}", task_queue=task_queue)
    await wait_for_state(client, handle.id, lambda s: s["runs"] >= 2)
    first = _events(await client.get_workflow_handle(handle.id, run_id=handle.first_execution_run_id).fetch_history())
    child_id = next(str(e["startChildWorkflowExecutionInitiatedEventAttributes"]["workflowId"]) for e in first
                    if "startChildWorkflowExecutionInitiatedEventAttributes" in e)
    await wait_for_state(client, child_id, lambda s: s["user_tasks"])
    return handle, child_id


async def test_a_child_terminated_after_the_parent_continued_as_new_is_an_incident_at_the_call_activity(
        temporal_client: Client, task_queue: str, data_dir: Path) -> None:
    """The terminated child sends no child_finished: the parent learns its end from the outcome activity."""
    async with build_worker(temporal_client, load_settings(data_dir=data_dir), queue=task_queue):
        handle, child_id = await _long_parent_past_its_first_run(temporal_client, data_dir, task_queue, "L9")
        await temporal_client.get_workflow_handle(child_id).terminate(reason="operator ended it")
        state = await wait_for_state(temporal_client, handle.id, lambda s: s["incident"] is not None, timeout=90)
        described = await temporal_client.get_workflow_handle(handle.id).describe()
        last = _events(await temporal_client.get_workflow_handle(handle.id).fetch_history())
    assert described.status == WorkflowExecutionStatus.RUNNING  # waiting for a retry, not failed
    assert state["status"] == "incident" and state["runs"] >= 2
    incident = state["incident"]
    assert incident["element_id"] == "approve", incident
    assert child_id in incident["message"] and "terminated" in incident["message"], incident
    assert "operator ended it" in incident["message"], incident
    assert "approve" not in state["completed"] and "end" not in state["completed"]
    scheduled = [e["activityTaskScheduledEventAttributes"] for e in last
                 if "activityTaskScheduledEventAttributes" in e]
    assert [s["activityType"]["name"] for s in scheduled] == [CHILD_OUTCOME_ACTIVITY]


async def test_a_timed_out_trial_run_leaves_none_of_its_called_instances_running(
        temporal_client: Client, task_queue: str, data_dir: Path) -> None:
    """The modeler's test run (api/routers/lint.py) ends a timed-out instance: its ABANDON child too."""
    store = ProcessStore(data_dir)
    deploy_file(store, DIAGRAMS / "call_long_child.bpmn", deployed_by="test")
    deploy_file(store, DIAGRAMS / "call_long_parent.bpmn", deployed_by="test")
    async with build_worker(temporal_client, load_settings(data_dir=data_dir), queue=task_queue):
        started = await instances.start_instance(temporal_client, store, "call_long_parent", task_queue=task_queue,
                                                 variables={"lot": "L10"})
        wid = started.workflow_id
        await wait_for_state(temporal_client, wid, lambda s: s["running_activities"] == ["approve"])
        outcome = await drive(temporal_client, wid, {}, timeout=3.0)  # nobody decides in the child
        children = await _children(temporal_client, wid, lambda found: found and all(
            status != WorkflowExecutionStatus.RUNNING for status in found.values()))
        parent = await temporal_client.get_workflow_handle(wid).describe()
    assert outcome["status"] == "timed out" and "approve" in outcome["active"]
    assert parent.status == WorkflowExecutionStatus.CANCELED
    assert len(children) == 1 and list(children.values()) == [WorkflowExecutionStatus.CANCELED], children


async def test_terminating_a_trial_instance_terminates_its_called_instances(
        temporal_client: Client, task_queue: str, data_dir: Path) -> None:
    """The fallback when a cancelled trial does not end in time: terminate it and its children."""
    store = ProcessStore(data_dir)
    deploy_file(store, DIAGRAMS / "call_long_child.bpmn", deployed_by="test")
    deploy_file(store, DIAGRAMS / "call_long_parent.bpmn", deployed_by="test")
    async with build_worker(temporal_client, load_settings(data_dir=data_dir), queue=task_queue):
        started = await instances.start_instance(temporal_client, store, "call_long_parent", task_queue=task_queue,
                                                 variables={"lot": "L11"})
        wid = started.workflow_id
        await _children(temporal_client, wid, lambda found: bool(found))  # the child is visible to the query
        await terminate_with_children(temporal_client, wid, "test: trial timed out")
        children = await _children(temporal_client, wid, lambda found: found and all(
            status != WorkflowExecutionStatus.RUNNING for status in found.values()))
        parent = await temporal_client.get_workflow_handle(wid).describe()
    assert parent.status == WorkflowExecutionStatus.TERMINATED
    assert list(children.values()) == [WorkflowExecutionStatus.TERMINATED], children


async def _children(client: Client, parent_id: str, done: Callable[[dict[str, WorkflowExecutionStatus | None]], Any],
                    timeout: float = 60.0) -> dict[str, WorkflowExecutionStatus | None]:
    """The called instances of ``parent_id`` as Temporal's visibility lists them, once ``done`` holds."""
    found: dict[str, WorkflowExecutionStatus | None] = {}
    for _ in range(int(timeout * 10)):
        found = {execution.id: execution.status
                 async for execution in client.list_workflows(f"ParentWorkflowId = '{parent_id}'")}
        if done(found):
            return found
        await asyncio.sleep(0.1)
    raise AssertionError(f"children of {parent_id} after {timeout} s: {found}")
