"""A production step on a machine through the real stack: BpmnProcess on the cloud worker, machine
tasks routed by site to an edge worker PROCESS that is SIGKILLed mid-command; the job runs once."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import TYPE_CHECKING, Any

from support.processes import start, wait_for_state
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client

from mom import instances
from mom.plant.job_order import Recipe
from mom.plant.server import MachineServer

if TYPE_CHECKING:
    from conftest import EdgeWorker

STEPS = ["start", "load_recipe", "start_job", "wait_job_end", "end"]


def job_variables(edge: EdgeWorker, srv: MachineServer, job_id: str, quantity: int) -> dict[str, Any]:
    return {"site": edge.site, "endpoint": srv.endpoint, "machine": srv.name, "job_id": job_id,
            "recipe_id": "R-7", "quantity": quantity}


async def until(predicate: Any, timeout_s: float = 20.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout_s
    while not predicate():
        assert asyncio.get_running_loop().time() < deadline, "condition not reached in time"
        await asyncio.sleep(0.01)


async def attempts(client: Client, workflow_id: str, activity_type: str) -> list[int]:
    """Attempt numbers of the started tasks of one activity type, from the workflow history."""
    scheduled: dict[int, str] = {}
    found: list[int] = []
    async for event in client.get_workflow_handle(workflow_id).fetch_history_events():
        if event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
            scheduled[event.event_id] = event.activity_task_scheduled_event_attributes.activity_type.name
        if event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED:
            attrs = event.activity_task_started_event_attributes
            if scheduled.get(attrs.scheduled_event_id) == activity_type:
                found.append(attrs.attempt)
    return found


async def test_a_held_machine_refuses_the_job_and_the_instance_shows_an_incident_at_the_step(
    temporal_client: Client, data_dir: Path, task_queue: str, cloud_worker: None, edge_worker: EdgeWorker,
    machine_server: Any,
) -> None:
    srv = await machine_server(cycle_time_s=5.0)
    srv.machine.store("J-0", Recipe("R-0", 100))
    srv.machine.start("J-0")
    await until(lambda: srv.machine.state.label == "Execute")
    srv.machine.pause("J-0")
    await until(lambda: srv.machine.state.label == "Held")

    wid = await start(temporal_client, data_dir, "machine_job.bpmn", task_queue,
                      job_variables(edge_worker, srv, "J-1", 5))
    state = await wait_for_state(temporal_client, wid, lambda s: s["status"] == "incident")
    incident = state["incident"]
    assert incident["element_id"] == "load_recipe"
    assert "MACHINE_HELD" in incident["message"] and "Press1 is Held" in incident["message"]
    assert list(srv.calls_received) == ["Store"]  # refused by the machine; the process went no further
    assert srv.machine.job is not None and srv.machine.job.job_id == "J-0"
    assert state["running_activities"] == [] and "start_job" not in state["completed"]


async def test_edge_worker_killed_while_start_is_in_flight_the_job_runs_exactly_once(
    temporal_client: Client, data_dir: Path, task_queue: str, cloud_worker: None, edge_worker: EdgeWorker,
    machine_server: Any,
) -> None:
    srv = await machine_server(server={"command_delay_s": 0.5})
    variables = job_variables(edge_worker, srv, "J-2", 8)
    wid = await start(temporal_client, data_dir, "machine_job.bpmn", task_queue, variables)
    await until(lambda: "Start" in srv.calls_received)  # the Start call is on the server, reply pending
    edge_worker.kill()
    edge_worker.start()

    result = await asyncio.wait_for(instances.wait_result(temporal_client, wid), 90)
    assert result.completed == STEPS
    assert (result.variables["job_status"], result.variables["good"]) == ("Ended", 8)
    assert srv.machine.starts_accepted == 1  # exactly one job run on the machine
    assert max(await attempts(temporal_client, wid, "machine.start_job")) >= 2  # it was retried

    # the same commands delivered again (a duplicate order for the same job id): nothing re-runs
    again = await start(temporal_client, data_dir, "machine_job.bpmn", task_queue, variables)
    second = await asyncio.wait_for(instances.wait_result(temporal_client, again), 90)
    assert second.completed == STEPS
    assert second.variables["start_changed"] is False and second.variables["good"] == 8
    assert srv.machine.starts_accepted == 1


async def test_edge_worker_killed_while_waiting_for_the_job_end_the_wait_resumes(
    temporal_client: Client, data_dir: Path, task_queue: str, cloud_worker: None, edge_worker: EdgeWorker,
    machine_server: Any,
) -> None:
    srv = await machine_server()
    wid = await start(temporal_client, data_dir, "machine_job.bpmn", task_queue,
                      job_variables(edge_worker, srv, "J-3", 60))  # 60 parts x 0.05 s = 3 s
    await wait_for_state(temporal_client, wid, lambda s: "wait_job_end" in s["running_activities"])
    await asyncio.sleep(0.3)
    edge_worker.kill()
    await asyncio.sleep(0.5)
    edge_worker.start()

    result = await asyncio.wait_for(instances.wait_result(temporal_client, wid), 90)
    assert result.completed == STEPS
    assert (result.variables["job_status"], result.variables["good"]) == ("Ended", 60)
    assert srv.calls_received.count("Start") == 1 and srv.machine.starts_accepted == 1
    assert max(await attempts(temporal_client, wid, "machine.wait_job_end")) >= 2
