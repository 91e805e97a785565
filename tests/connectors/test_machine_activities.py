"""Machine activities against simulated machines: idempotency, state gates, event-driven waits."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import os
import signal
import subprocess
import sys
import textwrap
from datetime import timedelta
from pathlib import Path

import pytest
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities.machines import MachineActivities

RECIPE = {"recipe_id": "R1", "quantity": 5, "setpoints": {"Pressure": 6.0}}
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def activities(pool) -> MachineActivities:
    return MachineActivities(pool, heartbeat_s=0.1)


def job(srv, job_id: str = "J1", **more) -> dict:
    return {"endpoint": srv.endpoint, "machine": srv.name, "job_id": job_id, **more}


def bpmn_code(error: ApplicationError) -> str:
    assert error.type == "BpmnError" and error.non_retryable
    return error.details[0]["code"]


async def test_start_delivered_twice_starts_the_job_once(machine_server, activities):
    srv = await machine_server(cycle_time_s=0.2)
    env = ActivityEnvironment()
    loaded = await env.run(activities.load_recipe, job(srv, recipe=RECIPE))
    assert loaded == {"job_id": "J1", "job_status": "AllowedToStart", "changed": True}
    assert (await env.run(activities.load_recipe, job(srv, recipe=RECIPE)))["changed"] is False
    first = await env.run(activities.start_job, job(srv))
    second = await env.run(activities.start_job, job(srv))
    assert (first["changed"], second["changed"]) == (True, False)
    assert second["job_status"] in ("Running", "Ended")
    assert srv.machine.starts_accepted == 1


async def test_start_job_with_a_recipe_stores_it_first(machine_server, activities):
    srv = await machine_server()
    result = await ActivityEnvironment().run(activities.start_job, job(srv, recipe=RECIPE))
    assert result["changed"] is True
    assert srv.machine.setpoints["Pressure"] == 6.0


@pytest.mark.parametrize(("command", "code"), [("pause", "MACHINE_HELD"), ("abort", "MACHINE_ABORTED")])
async def test_start_on_a_held_or_aborted_machine_is_a_business_error(machine_server, activities, command, code):
    srv = await machine_server(cycle_time_s=1.0)
    env = ActivityEnvironment()
    await env.run(activities.start_job, job(srv, recipe=RECIPE))
    await asyncio.sleep(0.1)  # Starting -> Execute
    getattr(srv.machine, command)("J1")
    await asyncio.sleep(0.1)  # Holding -> Held, Aborting -> Aborted
    with pytest.raises(ApplicationError) as refused:
        await env.run(activities.start_job, job(srv, "J2", recipe=RECIPE))
    assert bpmn_code(refused.value) == code
    assert refused.value.details[0]["state"] in ("Held", "Aborted")
    assert srv.machine.starts_accepted == 1


async def test_refusal_reason_comes_from_the_machine(machine_server, activities):
    srv = await machine_server()
    env = ActivityEnvironment()
    await env.run(activities.load_recipe, job(srv, recipe=RECIPE))
    with pytest.raises(ApplicationError) as refused:
        await env.run(activities.load_recipe, job(srv, recipe={**RECIPE, "quantity": 9}))
    assert bpmn_code(refused.value) == "JOB_CONFLICT"
    assert "already stored with recipe R1" in refused.value.details[0]["message"]


async def test_wait_job_end_returns_counts_and_heartbeats(machine_server, activities):
    srv = await machine_server(cycle_time_s=0.1)
    env = ActivityEnvironment()
    beats: list = []
    env.on_heartbeat = lambda *details: beats.append(details[0])
    await env.run(activities.start_job, job(srv, recipe=RECIPE))
    result = await asyncio.wait_for(env.run(activities.wait_job_end, job(srv)), 10)
    assert result["job_status"] == "Ended" and result["good_count"] == 5
    assert beats and beats[0]["job_id"] == "J1" and beats[0]["link"] == "up"


async def test_wait_job_end_is_event_driven_not_polling(machine_server, activities, monkeypatch):
    srv = await machine_server(cycle_time_s=0.1)
    env = ActivityEnvironment()
    await env.run(activities.start_job, job(srv, recipe=RECIPE))
    session = await activities.sessions.session(srv.endpoint)
    reads = []
    original = session.read

    async def counting_read(nodes):
        reads.append(nodes)
        return await original(nodes)

    monkeypatch.setattr(session, "read", counting_read)
    await asyncio.wait_for(env.run(activities.wait_job_end, job(srv)), 10)
    assert len(reads) == 1  # one status read after subscribing; the end came as an event


async def test_an_aborted_job_ends_the_wait_with_a_business_error(machine_server, activities):
    srv = await machine_server(cycle_time_s=1.0)
    env = ActivityEnvironment()
    await env.run(activities.start_job, job(srv, recipe=RECIPE))
    waiting = asyncio.create_task(env.run(activities.wait_job_end, job(srv)))
    await asyncio.sleep(0.3)
    srv.machine.abort("J1")
    with pytest.raises(ApplicationError) as aborted:
        await asyncio.wait_for(waiting, 5)
    assert bpmn_code(aborted.value) == "JOB_ABORTED"


async def test_while_the_link_is_down_the_state_is_unknown_and_nothing_is_concluded(
    machine_server, proxy, activities
):
    srv = await machine_server(cycle_time_s=0.15)
    link = await proxy(srv.port)
    env = ActivityEnvironment()
    beats: list = []
    env.on_heartbeat = lambda *details: beats.append(details[0])
    inputs = {"endpoint": link.endpoint, "machine": "Press1", "job_id": "J1"}
    await env.run(activities.start_job, {**inputs, "recipe": RECIPE})
    waiting = asyncio.create_task(env.run(activities.wait_job_end, inputs))
    await asyncio.sleep(0.2)
    link.refuse = True
    link.cut()
    await asyncio.sleep(1.5)  # the job ends on the machine meanwhile; the event is lost with the link
    assert not waiting.done()
    assert any(b["machine_state"] == "UNKNOWN" and b["link"] == "down" for b in beats)
    link.refuse = False
    result = await asyncio.wait_for(waiting, 10)  # re-read after the link came back
    assert result["job_status"] == "Ended" and result["good_count"] == 5


async def test_read_write_call(machine_server, activities):
    srv = await machine_server()
    env = ActivityEnvironment()
    base = {"endpoint": srv.endpoint, "machine": "Press1"}
    written = await env.run(activities.write, {**base, "node": "Setpoints.Pressure", "value": 7})
    assert written == {"node": "Setpoints.Pressure", "value": 7.0, "type": "Double"}
    read = await env.run(activities.read, {**base, "nodes": ["State", "Setpoints.Pressure"]})
    assert read["values"] == {"State": "Idle", "Setpoints.Pressure": 7.0}
    called = await env.run(activities.call, {**base, "method": "Reset", "args": []})
    assert called == {"outputs": ["NotAllocated", False]}
    with pytest.raises(ApplicationError) as wrong:
        await env.run(activities.write, {**base, "node": "Setpoints.Pressure", "value": "high"})
    assert wrong.value.type == "OpcUaConfigurationError" and "takes Double" in str(wrong.value)
    with pytest.raises(ApplicationError) as unknown:
        await env.run(activities.read, {**base, "nodes": ["Nope"]})
    assert unknown.value.type == "OpcUaConfigurationError"


async def test_an_unreachable_machine_is_a_retryable_error(activities):
    from opcua_testing import free_port

    with pytest.raises(ApplicationError) as unreachable:
        await ActivityEnvironment().run(
            activities.start_job, {"endpoint": f"opc.tcp://127.0.0.1:{free_port()}/", "machine": "P", "job_id": "J"}
        )
    assert unreachable.value.type == "MachineUnreachable" and not unreachable.value.non_retryable


WORKER = textwrap.dedent(
    """
    import asyncio, json, sys
    from activities.machines import MachineActivities
    from connectors.opcua import SessionPool
    inputs = json.loads(sys.argv[1])
    print("started", flush=True)
    asyncio.run(MachineActivities(SessionPool()).start_job(inputs))
    """
)


async def test_worker_killed_mid_command_then_the_retry_starts_the_job_once(machine_server, activities):
    srv = await machine_server(server={"command_delay_s": 0.5})
    inputs = job(srv, recipe=RECIPE)
    worker = subprocess.Popen(
        [sys.executable, "-c", WORKER, json.dumps(inputs)], cwd=ROOT, stdout=subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    try:
        deadline = asyncio.get_running_loop().time() + 20
        while "Start" not in srv.calls_received:  # the Start call is in flight on the server
            assert worker.poll() is None and asyncio.get_running_loop().time() < deadline
            await asyncio.sleep(0.01)
        worker.send_signal(signal.SIGKILL)
        worker.wait(5)
    finally:
        if worker.poll() is None:
            worker.kill()
    await asyncio.sleep(0.7)  # whatever the server does with the orphaned call, it has done it
    retried = await ActivityEnvironment().run(activities.start_job, inputs)
    assert retried["job_status"] in ("Running", "Ended")
    assert srv.machine.starts_accepted == 1


async def _store_start_and_end(env, activities, srv, job_id: str, recipe: dict) -> None:
    await env.run(activities.start_job, job(srv, job_id, recipe=recipe))
    for _ in range(600):  # the job makes its parts, the machine resets to Idle
        if srv.machine.job is not None and srv.machine.job.status.value == "Ended" and \
                srv.machine.state.label == "Idle":
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"{job_id} did not end: {srv.machine.job}, {srv.machine.state}")


async def test_waiting_for_a_job_the_machine_already_replaced_answers_from_its_recorded_end(
    machine_server, activities
):
    """J ended, J+1 was stored and started before the wait for J ran (or re-ran after a retry):
    the wait answers J's result from the machine's job responses, not UNKNOWN_JOB; and again."""
    srv = await machine_server(cycle_time_s=0.02)
    env = ActivityEnvironment()
    await _store_start_and_end(env, activities, srv, "J1", RECIPE)
    await env.run(activities.start_job, job(srv, "J2", recipe={**RECIPE, "recipe_id": "R2", "quantity": 400}))
    assert srv.machine.job is not None and srv.machine.job.job_id == "J2"
    first = await asyncio.wait_for(env.run(activities.wait_job_end, job(srv, "J1")), 60)
    again = await asyncio.wait_for(env.run(activities.wait_job_end, job(srv, "J1")), 60)  # a retry
    assert first["job_id"] == again["job_id"] == "J1"
    assert first["job_status"] == again["job_status"] == "Ended"
    assert first["good_count"] == again["good_count"] == 5 and first["bad_count"] == 0
    assert srv.machine.job.job_id == "J2"  # nothing was done to the job the machine holds now
    # a retried start of J1 does not store and run J1 again
    restarted = await env.run(activities.start_job, job(srv, "J1", recipe=RECIPE))
    assert restarted["changed"] is False and restarted["job_status"] == "Ended"
    assert srv.machine.starts_accepted == 2


async def test_an_aborted_job_the_machine_replaced_is_still_a_business_error(machine_server, activities):
    srv = await machine_server(cycle_time_s=1.0)
    env = ActivityEnvironment()
    await env.run(activities.start_job, job(srv, recipe=RECIPE))
    srv.machine.abort("J1")
    for _ in range(600):
        if srv.machine.state.label == "Aborted":
            break
        await asyncio.sleep(0.05)
    srv.machine.clear("J1")  # Aborted -> Clearing -> Stopped, job removed
    for label, command in (("Stopped", srv.machine.reset), ("Idle", None)):
        for _ in range(600):
            if srv.machine.state.label == label:
                break
            await asyncio.sleep(0.05)
        if command is not None:
            command()
    await env.run(activities.load_recipe, job(srv, "J2", recipe=RECIPE))
    with pytest.raises(ApplicationError) as aborted:
        await asyncio.wait_for(env.run(activities.wait_job_end, job(srv, "J1")), 60)
    assert bpmn_code(aborted.value) == "JOB_ABORTED"
    with pytest.raises(ApplicationError) as unknown:  # a job the machine never held stays unknown
        await asyncio.wait_for(env.run(activities.wait_job_end, job(srv, "J0")), 60)
    assert bpmn_code(unknown.value) == "UNKNOWN_JOB"


async def test_loading_on_a_machine_busy_with_another_job_waits_its_turn(machine_server, pool):
    srv = await machine_server(cycle_time_s=0.05)
    env = ActivityEnvironment()  # a task with a 60 s timeout: the wait may take 55 s of it
    env.info = dataclasses.replace(env.info, start_to_close_timeout=timedelta(seconds=60))
    waiting = MachineActivities(pool, heartbeat_s=0.1, busy_wait_s=60.0)
    await env.run(waiting.load_recipe, job(srv, "OTHER", recipe=RECIPE))  # another order's job, not started yet
    loading = asyncio.create_task(env.run(waiting.load_recipe, job(srv, "J1", recipe={**RECIPE, "recipe_id": "R2"})))
    await asyncio.sleep(0.5)
    assert not loading.done() and srv.machine.job.job_id == "OTHER"
    await env.run(waiting.start_job, job(srv, "OTHER"))  # its order starts it; it makes 5 parts and ends
    loaded = await asyncio.wait_for(loading, 60)
    assert (loaded["job_status"], loaded["changed"]) == ("AllowedToStart", True)
    assert srv.machine.job.job_id == "J1" and srv.machine.job.recipe.recipe_id == "R2"
    # a late retry of OTHER's load does not store it again over J1
    again = await env.run(waiting.load_recipe, job(srv, "OTHER", recipe=RECIPE))
    assert (again["job_status"], again["changed"]) == ("Ended", False) and srv.machine.job.job_id == "J1"


async def test_a_machine_busy_for_longer_than_the_wait_is_a_business_error(machine_server, pool):
    srv = await machine_server()
    env = ActivityEnvironment()
    impatient = MachineActivities(pool, heartbeat_s=0.1, busy_wait_s=0.5)
    await env.run(impatient.load_recipe, job(srv, "OTHER", recipe=RECIPE))
    with pytest.raises(ApplicationError) as busy:
        await asyncio.wait_for(env.run(impatient.load_recipe, job(srv, "J1", recipe=RECIPE)), 60)
    assert bpmn_code(busy.value) == "MACHINE_BUSY" and srv.machine.job.job_id == "OTHER"
