"""BPMN elements of the Common Executable subclass, each with a small diagram, on a real Temporal server."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

import pytest
from support.processes import start, wait_for_state
from temporalio.client import Client, WorkflowExecutionStatus

from mom import instances
from mom.messages import publish_message
from mom.settings import load_settings
from worker import build_worker
from workflows.contracts import mailbox_id


async def _events(client: Client, workflow_id: str) -> list[str]:
    history = await client.get_workflow_handle(workflow_id).fetch_history()
    return [str(e["eventType"]) for e in json.loads(history.to_json())["events"]]


async def test_multi_instance_subprocess_sequential_collection_and_cardinality(
        temporal_client: Client, task_queue: str, data_dir: Path) -> None:
    variables = {"lots": ["a", "b", "c"], "stations": ["s1", "s2"], "counted": 0}
    async with build_worker(temporal_client, load_settings(data_dir=data_dir), queue=task_queue):
        wid = await start(temporal_client, data_dir, "mi_subprocess.bpmn", task_queue, variables)
        result = await asyncio.wait_for(instances.wait_result(temporal_client, wid), 90)
    assert result.variables["grades"] == ["A!", "B!", "C!"]  # parallel over a collection, output collection
    assert result.variables["visits"] == ["s1 visited", "s2 visited"]  # sequential, in order
    assert result.variables["counted"] == 3  # cardinality
    assert result.completed.count("log_lot") == 3 and result.completed.count("grade_end") == 3
    assert result.completed[-1] == "end"
    # The three lots were logged by three activities, the stations one after the other.
    events = await _events(temporal_client, wid)
    assert events.count("EVENT_TYPE_ACTIVITY_TASK_COMPLETED") == 5


@pytest.mark.parametrize(("lots", "extra"), [(["l1", "l2", "l3"], True), (["l1"], False)])
async def test_parallel_multi_instance_inclusive_gateway_sequential_user_tasks(
        lots: list[str], extra: bool, temporal_client: Client, task_queue: str, data_dir: Path) -> None:
    async with build_worker(temporal_client, load_settings(data_dir=data_dir), queue=task_queue):
        wid = await start(temporal_client, data_dir, "lots_multi.bpmn", task_queue, {"lots": lots})
        for _ in range(2):  # the cardinality-2 sequential user task: one at a time
            state = await wait_for_state(temporal_client, wid, lambda s: s["user_tasks"])
            assert len(state["user_tasks"]) == 1
            await instances.complete_user_task(temporal_client, wid, state["user_tasks"][0]["task_id"], {})
        result = await asyncio.wait_for(instances.wait_result(temporal_client, wid), 90)
    assert result.variables["verdicts"] == [f"{lot} ok" for lot in lots]
    # Inclusive gateway: every branch whose condition holds; the default only when none does.
    assert ("extra_done" in result.variables) is extra
    assert ("basic_done" in result.variables) is not extra
    assert result.completed.count("inspect") >= 2 and result.completed[-1] == "end"


async def test_terminate_end_event_ends_parallel_branches_and_cancels_their_activities(
        temporal_client: Client, task_queue: str, data_dir: Path) -> None:
    began = time.monotonic()
    async with build_worker(temporal_client, load_settings(data_dir=data_dir), queue=task_queue):
        wid = await start(temporal_client, data_dir, "terminate_end.bpmn", task_queue)
        result = await asyncio.wait_for(instances.wait_result(temporal_client, wid), 90)
        events = await _events(temporal_client, wid)
    assert time.monotonic() - began < 20  # the 30 s machine run did not hold the instance
    assert result.status == "completed"
    assert "stopped" in result.completed
    assert "long_run" not in result.completed and "finished" not in result.completed
    assert "EVENT_TYPE_ACTIVITY_TASK_CANCEL_REQUESTED" in events


async def _mailbox_closed(client: Client, name: str, key: str) -> bool:
    for _ in range(300):
        description = await client.get_workflow_handle(mailbox_id(name, key)).describe()
        if description.status == WorkflowExecutionStatus.COMPLETED:
            return True
        await asyncio.sleep(0.2)
    return False


async def test_event_based_gateway_message_wins(temporal_client: Client, task_queue: str, data_dir: Path) -> None:
    async with build_worker(temporal_client, load_settings(data_dir=data_dir), queue=task_queue):
        wid = await start(temporal_client, data_dir, "event_gateway.bpmn", task_queue,
                          {"lot_id": f"L-{task_queue}", "wait_for": "PT30S"})
        await wait_for_state(temporal_client, wid, lambda s: "first_of" in s["active"])
        await asyncio.sleep(0.5)
        await publish_message(temporal_client, "lot_released", f"L-{task_queue}", {"released_by": "qa"},
                              task_queue=task_queue, ttl_seconds=60)
        result = await asyncio.wait_for(instances.wait_result(temporal_client, wid), 90)
    assert result.completed[-2:] == ["released", "end_released"]
    assert result.variables["released_by"] == "qa"


async def test_event_based_gateway_timer_wins_and_closes_the_message_subscription(
        temporal_client: Client, task_queue: str, data_dir: Path) -> None:
    key = f"L-{task_queue}"
    async with build_worker(temporal_client, load_settings(data_dir=data_dir), queue=task_queue):
        wid = await start(temporal_client, data_dir, "event_gateway.bpmn", task_queue,
                          {"lot_id": key, "wait_for": "PT1S"})
        result = await asyncio.wait_for(instances.wait_result(temporal_client, wid), 90)
        assert result.completed[-2:] == ["too_late", "end_late"]
        assert await _mailbox_closed(temporal_client, "lot_released", key)


async def test_escalation_thrown_in_subprocesses_caught_by_boundaries(
        temporal_client: Client, task_queue: str, data_dir: Path) -> None:
    async with build_worker(temporal_client, load_settings(data_dir=data_dir), queue=task_queue):
        wid = await start(temporal_client, data_dir, "escalations.bpmn", task_queue)
        result = await asyncio.wait_for(instances.wait_result(temporal_client, wid), 90)
    # Non-interrupting: the subprocess went on to its end while the supervisor was told.
    assert result.variables["lot_done"] is True and result.variables["supervisor_told"] is True
    assert {"run_end", "late_noted", "told"} <= set(result.completed)
    # Interrupting: the escalation end event left the second subprocess through its boundary.
    assert "stop_caught" in result.completed and "stopped" in result.completed
    assert "end" not in result.completed


@pytest.mark.parametrize(("measured", "path", "disposition"), [
    (5, ["rejected", "quarantine", "end_quarantined"], "quarantine"),
    (1, ["inspect_lot", "release", "end_released"], "released"),
])
async def test_error_end_event_in_subprocess_caught_by_its_boundary(
        measured: int, path: list[str], disposition: str, temporal_client: Client, task_queue: str,
        data_dir: Path) -> None:
    async with build_worker(temporal_client, load_settings(data_dir=data_dir), queue=task_queue):
        wid = await start(temporal_client, data_dir, "error_end_subprocess.bpmn", task_queue,
                          {"measured": measured, "limit": 3})
        result = await asyncio.wait_for(instances.wait_result(temporal_client, wid), 90)
    assert result.completed[-3:] == path
    assert result.variables["disposition"] == disposition


@pytest.mark.parametrize(("good_after", "iterations"), [(3, 3), (99, 5)])
async def test_standard_loop_until_condition_or_maximum(good_after: int, iterations: int, temporal_client: Client,
                                                       task_queue: str, data_dir: Path) -> None:
    async with build_worker(temporal_client, load_settings(data_dir=data_dir), queue=task_queue):
        wid = await start(temporal_client, data_dir, "standard_loop.bpmn", task_queue,
                          {"attempts": 0, "good_after": good_after})
        result = await asyncio.wait_for(instances.wait_result(temporal_client, wid), 90)
        events = await _events(temporal_client, wid)
    assert result.variables["attempts"] == iterations
    assert events.count("EVENT_TYPE_ACTIVITY_TASK_COMPLETED") == iterations
    assert result.completed[-1] == "end"


