"""machine_breakdown on the real stack: a JAM alarm on the simulated press, seen by the machine
monitor, starts the process; the press's jobs are held, maintenance repairs it, the plan is
repaired around the downtime (the queued job goes to the other press), the running job resumes,
the downtime is recorded for OEE. And the escalation timer hands an overdue repair to supervisors."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from operators import complete, next_task, start
from support.plant_stack import PROCESSES, Plant
from temporalio.client import Client

from connectors.opcua import SessionOptions, SessionPool
from mom import instances
from mom.db import execution
from mom.db.equipment import add_equipment, get_equipment_by_path
from mom.db.models import AuditEntry, JobOrder, MachineEvent, ProductionOrder
from mom.db.orders import change_job_order_status, create_production_order
from mom.db.transactions import writing
from mom.deployment import deploy_file
from mom.domain import EquipmentLevel, JobOrderStatus, MachineEventKind
from mom.monitoring.monitor import MachineMonitor, exception_starter, load_monitored_units
from mom.monitoring.recorder import EventRecorder
from mom.monitoring.rules import MonitorRules
from mom.plant.job_order import Recipe
from mom.plant_setup import PRODUCT

OPTIONS = SessionOptions(request_timeout_s=2.0, health_check_s=0.3, reconnect_wait_s=2.0, reconnect_max_delay_s=0.5)


def deploy(plant: Plant, *names: str) -> None:
    for name in names:
        deploy_file(plant.store, PROCESSES / f"{name}.bpmn", deployed_by="test")


def dispatched_order(plant: Plant, number: str, quantity: int = 5, *, running: bool = False) -> None:
    """A released order whose jobs are dispatched to the first unit of each work center."""
    with writing(plant.sessions) as session:
        create_production_order(session, order_number=number, product_code=PRODUCT, quantity=quantity, actor="erp")
        execution.release_order(session, order_number=number, actor="erp")
        execution.dispatch_order(session, order_number=number, actor="planner")
        if running:
            job = next(j for j in execution.get_production_order_by_number(session, order_number=number).job_orders
                       if j.sequence == 10)
            change_job_order_status(session, job_order_id=job.id, to=JobOrderStatus.RUNNING, actor="op")


def job(session: Any, number: str, sequence: int) -> JobOrder:
    return session.scalars(sa.select(JobOrder).join(JobOrder.production_order).where(
        ProductionOrder.order_number == number, JobOrder.sequence == sequence)).one()


async def running_instance(client: Client, prefix: str, timeout: float = 30.0) -> str:
    deadline = asyncio.get_running_loop().time() + timeout
    while asyncio.get_running_loop().time() < deadline:
        async for wf in client.list_workflows("WorkflowType = 'BpmnProcess' AND ExecutionStatus = 'Running'"):
            if wf.id.startswith(prefix):
                return wf.id
        await asyncio.sleep(0.2)
    raise AssertionError(f"no running instance {prefix}* within {timeout} s")


async def test_a_jam_holds_the_jobs_reroutes_the_queue_and_records_the_downtime(plant: Plant) -> None:
    deploy(plant, "machine_breakdown")
    press_path = plant.layout.work_units["Press1"]
    with writing(plant.sessions) as session:  # a second press on the line takes the queue
        line = get_equipment_by_path(session, path=press_path.rsplit(".", 1)[0])
        add_equipment(session, name="Press2", level=EquipmentLevel.WORK_UNIT, parent_id=line.id)
    dispatched_order(plant, "PO-B1", running=True)
    dispatched_order(plant, "PO-B2")
    press = plant.machines["Press1"]
    press.machine.store("PO-B1-10", Recipe("R-PRESS-2MM", 100_000))
    press.machine.start("PO-B1-10")

    with plant.sessions() as session:
        units = load_monitored_units(session, under_path=press_path.split(".")[0])
    pool = SessionPool(OPTIONS)
    monitor = MachineMonitor(units, sessions=pool, recorder=EventRecorder(plant.sessions, flush_interval_s=0.2),
                             rules=MonitorRules({"JAM": "machine_breakdown"}),
                             start_exception=exception_starter(plant.client, plant.store, task_queue=plant.task_queue))
    try:
        async with monitor:
            deadline = asyncio.get_running_loop().time() + 10
            while len(monitor.connected) < len(units) or press.machine.state.label != "Execute":
                assert asyncio.get_running_loop().time() < deadline, "monitor not connected / press not running"
                await asyncio.sleep(0.05)
            press.machine.fail_now("JAM")
            wid = await running_instance(plant.client, "machine_breakdown-Press1-JAM-")
            task = await next_task(plant.client, wid, "repair")
            assert task["candidate_groups"] == ["maintenance"]
            with plant.sessions() as session:  # held while the repair is pending
                assert job(session, "PO-B1", 10).status == JobOrderStatus.PAUSED
            await complete(plant.client, wid, "repair", {"repaired": True, "cause_found": "sheet jammed in the die",
                                                         "action_taken": "cleared the die"}, user="tech-max")
            result = await asyncio.wait_for(instances.wait_result(plant.client, wid), 90)
    finally:
        await pool.close()

    assert result.status == "completed", result
    v = result.variables
    assert v["held_jobs"] == ["PO-B1-10"] and v["queued_jobs"] == ["PO-B2-10"]
    assert v["machine_after_repair"]["State"] in ("Held", "Execute")  # read on the edge worker
    assert v["resumed"] == ["PO-B1-10"]
    assert [(r["job_id"], r["to"].rsplit(".", 1)[-1]) for r in v["rerouted"]] == [("PO-B2-10", "Press2")]
    assert any(c["job_order"] == "PO-B2-10" and c["kind"] == "reassigned" for c in v["plan_changes"])
    assert v["downtime_s"] >= 0
    with plant.sessions() as session:
        assert job(session, "PO-B1", 10).status == JobOrderStatus.RUNNING
        moved = job(session, "PO-B2", 10)
        assert moved.status == JobOrderStatus.DISPATCHED
        assert get_equipment_by_path(session, path=press_path.rsplit(".", 1)[0] + ".Press2").id == moved.work_unit_id
        downtime = session.scalars(sa.select(MachineEvent).where(MachineEvent.name == "Downtime")).one()
        assert downtime.kind == MachineEventKind.COUNTER and downtime.value["reason"] == "JAM"
        held = session.scalars(sa.select(MachineEvent).where(MachineEvent.kind == MachineEventKind.STATE,
                                                             MachineEvent.name == "Held")).all()
        assert held, "the monitor recorded the press's Held state (the OEE's availability loss)"
        actions = set(session.scalars(sa.select(AuditEntry.action).where(AuditEntry.action.like("maintenance.%"))))
    assert actions == {"maintenance.work_order_opened", "maintenance.jobs_held", "maintenance.jobs_resumed",
                       "maintenance.downtime_recorded", "maintenance.work_order_closed"}


async def test_an_overdue_repair_escalates_to_the_supervisors(plant: Plant) -> None:
    deploy(plant, "machine_breakdown")
    coater = plant.layout.work_units["Coater1"]
    started = await start(plant.client, plant.store, "machine_breakdown", plant.task_queue, {
        "work_unit": coater, "alarm_code": "OVERTEMP", "message": "oven too hot", "job_id": None,
        "raised_at": datetime.now(UTC).isoformat(), "escalate_after": "PT1S", "expected_repair_s": 60})
    wid = started.workflow_id
    await next_task(plant.client, wid, "repair")
    task = await next_task(plant.client, wid, "repair_escalated", timeout=20)
    assert task["candidate_groups"] == ["supervisors"]
    state = await instances.instance_state(plant.client, wid)
    assert "repair" not in [t["element_id"] for t in state["user_tasks"]]  # taken from maintenance
    await complete(plant.client, wid, "repair_escalated", {"repaired": True, "cause_found": "fan broken",
                                                           "action_taken": "replaced the fan"}, user="sup-eve")
    result = await asyncio.wait_for(instances.wait_result(plant.client, wid), 90)
    assert result.status == "completed", result
    assert result.variables["held_jobs"] == [] and result.variables["rerouted"] == []
    assert "repair_escalated" in result.completed and "repair" not in result.completed
