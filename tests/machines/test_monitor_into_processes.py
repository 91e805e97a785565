"""The machine monitor on the real stack: a job end reaches the instance waiting for it as a message,
and an alarm starts the exception process by rule (real Temporal, real simulated machine)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from support.processes import DIAGRAMS, start, wait_for_state
from temporalio.client import Client
from test_machine_monitor import OPTIONS, configure_plant, database, until  # noqa: F401

from connectors.opcua import SessionPool
from mom import instances
from mom.deployment import deploy_file
from mom.messages import publish_message
from mom.monitoring.monitor import MachineMonitor, exception_starter, load_monitored_units
from mom.monitoring.recorder import EventRecorder
from mom.monitoring.rules import MonitorRules
from mom.plant.job_order import Recipe
from mom.process_store import ProcessStore
from mom.settings import load_settings
from worker import build_worker


async def test_job_end_and_alarm_reach_processes(machine_server: Any, database: Any,  # noqa: F811
                                                 temporal_client: Client, task_queue: str, data_dir: Path) -> None:
    press = await machine_server("Press1", mttr_s=1000.0)
    configure_plant(database, {"Press1": press.endpoint})
    with database() as session:
        units = load_monitored_units(session, under_path="Acme")
    store = ProcessStore(data_dir)
    deploy_file(store, DIAGRAMS / "alarm_response.bpmn", deployed_by="test")

    async def deliver(name: str, key: str, variables: dict[str, Any]) -> None:
        await publish_message(temporal_client, name, key, variables, task_queue=task_queue)

    pool = SessionPool(OPTIONS)
    monitor = MachineMonitor(units, sessions=pool, recorder=EventRecorder(database, flush_interval_s=0.2),
                             rules=MonitorRules({"JAM": "alarm_response"}), deliver=deliver,
                             start_exception=exception_starter(temporal_client, store, task_queue=task_queue))
    async with build_worker(temporal_client, load_settings(data_dir=data_dir), queue=task_queue):
        waiting = await start(temporal_client, data_dir, "job_messages.bpmn", task_queue,
                              {"order_id": "PO-1", "job_id": "J1"})
        await wait_for_state(temporal_client, waiting, lambda s: "wait_job_end" in s["active"])
        try:
            async with monitor:
                await until(lambda: len(monitor.connected) == 1)
                press.machine.store("J1", Recipe("R1", 4))
                press.machine.start("J1")
                result = await asyncio.wait_for(instances.wait_result(temporal_client, waiting), 90)
                assert result.completed[-2:] == ["report", "done"]
                assert result.variables["good_count"] == 4  # the machine's count, through the message

                await until(lambda: press.machine.state.label == "Idle")
                press.machine.store("J2", Recipe("R1", 10_000))
                press.machine.start("J2")
                await until(lambda: press.machine.state.label == "Execute")
                await until(lambda: "J2" in monitor.current_job.values())  # the monitor saw the job start
                press.machine.fail_now("JAM")
                found: list[str] = []

                async def breakdown_started() -> None:
                    while not found:
                        async for wf in temporal_client.list_workflows(
                                f"WorkflowType = 'BpmnProcess' AND ExecutionStatus = 'Running' "
                                f"AND TaskQueue = '{task_queue}'"):
                            if wf.id.startswith("alarm_response-"):
                                found.append(wf.id)
                        await asyncio.sleep(0.2)

                await asyncio.wait_for(breakdown_started(), 90)
        finally:
            await pool.close()
        state = await wait_for_state(temporal_client, found[0], lambda s: s["user_tasks"])
    assert state["variables"]["job_id"] == "J2" and state["variables"]["alarm_code"] == "JAM"
    assert state["user_tasks"][0]["candidate_groups"] == ["maintenance"]
