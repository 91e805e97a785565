"""BPMN signals: broadcast to every instance waiting for the name, from the API/CLI or from a process."""

from __future__ import annotations

import asyncio
from pathlib import Path

from support.processes import start, wait_for_state
from support.signal_boards import wait_board_closed, wait_subscribed
from temporalio.client import Client

from mom import instances
from mom.messages import broadcast_signal
from mom.settings import load_settings
from worker import build_worker


async def test_signal_broadcast_reaches_every_waiting_instance(temporal_client: Client, task_queue: str,
                                                              data_dir: Path) -> None:
    name = "line_stop"
    async with build_worker(temporal_client, load_settings(data_dir=data_dir), queue=task_queue):
        first = await start(temporal_client, data_dir, "signal_wait.bpmn", task_queue)
        second = await start(temporal_client, data_dir, "signal_wait.bpmn", task_queue)
        for wid in (first, second):
            await wait_for_state(temporal_client, wid, lambda s: s["user_tasks"])
        await wait_subscribed(temporal_client, name, 2)
        await broadcast_signal(temporal_client, name, {"reason": "jam"}, task_queue=task_queue)
        results = [await asyncio.wait_for(instances.wait_result(temporal_client, wid), 90) for wid in (first, second)]
        await wait_board_closed(temporal_client, name)
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
        await wait_subscribed(temporal_client, "shift_change", 1)
        await wait_subscribed(temporal_client, "line_stop", 1)
        thrower = await start(temporal_client, data_dir, "signal_throw.bpmn", task_queue)
        thrown = await asyncio.wait_for(instances.wait_result(temporal_client, thrower), 90)
        stopped = await asyncio.wait_for(instances.wait_result(temporal_client, assembling), 90)
        changed = await asyncio.wait_for(instances.wait_result(temporal_client, waiting), 90)
        await wait_board_closed(temporal_client, "line_stop")
        await wait_board_closed(temporal_client, "shift_change")
    assert thrown.completed == ["start", "stop_line", "change_shift"]
    assert stopped.completed[-1] == "stopped"
    assert changed.completed[-2:] == ["shift_changed", "end"]
