"""BPMN signals: broadcast to every instance waiting for the name, from the API/CLI or from a process."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from support.processes import start, wait_for_state
from temporalio.client import Client, WorkflowExecutionStatus

from mom import instances
from mom.messages import broadcast_signal
from mom.settings import load_settings
from worker import build_worker
from workflows.contracts import signal_board_id


async def _subscribers(client: Client, name: str) -> int:
    """How many subscribe signals the board of ``name`` received (minus unsubscribes)."""
    try:
        history = await client.get_workflow_handle(signal_board_id(name)).fetch_history()
    except Exception:
        return 0
    count = 0
    for event in json.loads(history.to_json())["events"]:
        attributes = event.get("workflowExecutionSignaledEventAttributes") or {}
        count += {"subscribe": 1, "unsubscribe": -1}.get(attributes.get("signalName", ""), 0)
    started = json.loads(history.to_json())["events"][0].get("workflowExecutionStartedEventAttributes", {})
    return count + (1 if started.get("startSignal") else 0)


async def _wait_subscribed(client: Client, name: str, count: int) -> None:
    for _ in range(600):
        if await _subscribers(client, name) >= count:
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"{count} instances did not subscribe to signal {name}")


async def _board_closed(client: Client, name: str) -> None:
    """Boards end when nobody waits any more (and must, before this test's worker stops)."""
    for _ in range(600):
        description = await client.get_workflow_handle(signal_board_id(name)).describe()
        if description.status != WorkflowExecutionStatus.RUNNING:
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"the board of signal {name} is still running")


async def test_signal_broadcast_reaches_every_waiting_instance(temporal_client: Client, task_queue: str,
                                                              data_dir: Path) -> None:
    name = "line_stop"
    async with build_worker(temporal_client, load_settings(data_dir=data_dir), queue=task_queue):
        first = await start(temporal_client, data_dir, "signal_wait.bpmn", task_queue)
        second = await start(temporal_client, data_dir, "signal_wait.bpmn", task_queue)
        for wid in (first, second):
            await wait_for_state(temporal_client, wid, lambda s: s["user_tasks"])
        await _wait_subscribed(temporal_client, name, 2)
        await broadcast_signal(temporal_client, name, {"reason": "jam"}, task_queue=task_queue)
        results = [await asyncio.wait_for(instances.wait_result(temporal_client, wid), 90) for wid in (first, second)]
        await _board_closed(temporal_client, name)
    for result in results:
        assert result.completed[-2:] == ["line_stopped", "stopped"]  # the boundary interrupted the task
        assert result.variables["reason"] == "jam"


async def test_signals_thrown_by_a_process_reach_other_instances(temporal_client: Client, task_queue: str,
                                                                 data_dir: Path) -> None:
    async with build_worker(temporal_client, load_settings(data_dir=data_dir), queue=task_queue):
        assembling = await start(temporal_client, data_dir, "signal_wait.bpmn", task_queue)
        waiting = await start(temporal_client, data_dir, "signal_wait.bpmn", task_queue)
        state = await wait_for_state(temporal_client, waiting, lambda s: s["user_tasks"])
        await instances.complete_user_task(temporal_client, waiting, state["user_tasks"][0]["task_id"], {})
        await wait_for_state(temporal_client, waiting, lambda s: s["active"] == ["shift_changed"])
        await wait_for_state(temporal_client, assembling, lambda s: s["user_tasks"])
        await _wait_subscribed(temporal_client, "shift_change", 1)
        await _wait_subscribed(temporal_client, "line_stop", 1)
        thrower = await start(temporal_client, data_dir, "signal_throw.bpmn", task_queue)
        thrown = await asyncio.wait_for(instances.wait_result(temporal_client, thrower), 90)
        stopped = await asyncio.wait_for(instances.wait_result(temporal_client, assembling), 90)
        changed = await asyncio.wait_for(instances.wait_result(temporal_client, waiting), 90)
        await _board_closed(temporal_client, "line_stop")
        await _board_closed(temporal_client, "shift_change")
    assert thrown.completed == ["start", "stop_line", "change_shift"]
    assert stopped.completed[-1] == "stopped"
    assert changed.completed[-2:] == ["shift_changed", "end"]
