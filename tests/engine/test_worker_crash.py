"""A worker killed with SIGKILL: a new worker process continues the instance to a correct end."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
from support.processes import start, wait_for_state
from support.worker_process import WorkerProcess
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client

from mom import instances
from mom.settings import load_settings
from mom.stack.temporal_server import TemporalDevServer


@pytest.fixture
def workers(temporal_server: TemporalDevServer, data_dir: Path, task_queue: str,
            tmp_path: Path) -> Iterator[list[WorkerProcess]]:
    started: list[WorkerProcess] = []
    yield started
    for worker in started:
        worker.stop()


def new_worker(workers: list[WorkerProcess], server: TemporalDevServer, data_dir: Path, queue: str,
               tmp_path: Path) -> WorkerProcess:
    worker = WorkerProcess(server.address, data_dir, queue, tmp_path / f"worker{len(workers)}.log")
    workers.append(worker)
    return worker.start()


async def test_killed_while_waiting_on_a_user_task(temporal_client: Client, temporal_server: TemporalDevServer,
                                                   data_dir: Path, task_queue: str, tmp_path: Path,
                                                   workers: list[WorkerProcess]) -> None:
    first = new_worker(workers, temporal_server, data_dir, task_queue, tmp_path)
    wid = await start(temporal_client, data_dir, "approval.bpmn", task_queue,
                      {"order_id": "PO-11", "qty": 10, "new_qty": 12})
    state = await wait_for_state(temporal_client, wid, lambda s: s["user_tasks"])
    task_id = state["user_tasks"][0]["task_id"]
    first.kill()

    new_worker(workers, temporal_server, data_dir, task_queue, tmp_path)  # replays the history
    state = await wait_for_state(temporal_client, wid, lambda s: s["user_tasks"])
    assert state["user_tasks"][0]["task_id"] == task_id  # the id the supervisor was given still works
    await instances.complete_user_task(temporal_client, wid, task_id, {"approved": True, "comment": "after crash"},
                                       proof_key=load_settings(data_dir=data_dir).update_proof_key)  # the worker's
    result = await asyncio.wait_for(instances.wait_result(temporal_client, wid), 90)
    assert result.completed == ["start", "log_request", "approve", "decision", "apply", "end_applied"]
    assert result.variables["qty"] == 12


async def test_killed_during_an_activity(temporal_client: Client, temporal_server: TemporalDevServer,
                                         data_dir: Path, task_queue: str, tmp_path: Path,
                                         workers: list[WorkerProcess]) -> None:
    first = new_worker(workers, temporal_server, data_dir, task_queue, tmp_path)
    wid = await start(temporal_client, data_dir, "long_step.bpmn", task_queue, {"cure_seconds": 3})
    await wait_for_state(temporal_client, wid, lambda s: "cure" in s["running_activities"])
    await asyncio.sleep(1.0)
    first.kill()

    new_worker(workers, temporal_server, data_dir, task_queue, tmp_path)
    result = await asyncio.wait_for(instances.wait_result(temporal_client, wid), 90)
    assert result.completed == ["start", "cure", "end"]
    assert result.variables["cured_for"] == 3

    scheduled, attempts = 0, []
    async for event in temporal_client.get_workflow_handle(wid).fetch_history_events():
        if event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
            scheduled += 1
        if event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED:
            attempts.append(event.activity_task_started_event_attributes.attempt)
    assert scheduled == 1  # the step was scheduled once...
    assert max(attempts) >= 2  # ...and retried after the crash (heartbeat timeout)
