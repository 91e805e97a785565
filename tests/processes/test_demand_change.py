"""demand_change on the real stack: ERP raises an order's quantity at the last minute; the
scheduler's replan gives the impact on the due date, a supervisor (not the requester) approves,
the order and its planned times are updated and the order's running instance gets the message."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from operators import complete, next_task, start
from support.plant_stack import Plant
from test_machine_breakdown import deploy, dispatched_order, job

from mom import instances
from mom.db.models import AuditEntry
from mom.db.orders import get_production_order_by_number
from mom.db.transactions import writing
from mom.deployment import deploy_file

WAITING_ORDER = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
                  xmlns:zeebe="http://camunda.org/schema/zeebe/1.0" id="d" targetNamespace="http://x">
  <bpmn:message id="m" name="order_changed">
    <bpmn:extensionElements><zeebe:subscription correlationKey="=order_number" /></bpmn:extensionElements>
  </bpmn:message>
  <bpmn:process id="order_waiting" isExecutable="true">
    <bpmn:startEvent id="s"><bpmn:outgoing>a</bpmn:outgoing></bpmn:startEvent>
    <bpmn:receiveTask id="wait_change" messageRef="m"><bpmn:incoming>a</bpmn:incoming>
      <bpmn:outgoing>b</bpmn:outgoing></bpmn:receiveTask>
    <bpmn:endEvent id="e"><bpmn:incoming>b</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="a" sourceRef="s" targetRef="wait_change" />
    <bpmn:sequenceFlow id="b" sourceRef="wait_change" targetRef="e" />
  </bpmn:process>
</bpmn:definitions>
"""


async def test_a_quantity_change_is_replanned_approved_and_reaches_the_running_order(plant: Plant, tmp_path) -> None:
    deploy(plant, "demand_change")
    (tmp_path / "order_waiting.bpmn").write_text(WAITING_ORDER)
    deploy_file(plant.store, tmp_path / "order_waiting.bpmn", deployed_by="test")
    dispatched_order(plant, "PO-D1", 100)
    dispatched_order(plant, "PO-D2", 100)
    due = datetime.now(UTC) + timedelta(seconds=12)
    with writing(plant.sessions) as session:
        get_production_order_by_number(session, order_number="PO-D1").due_at = due
    waiting = await start(plant.client, plant.store, "order_waiting", plant.task_queue, {"order_number": "PO-D1"})

    started = await start(plant.client, plant.store, "demand_change", plant.task_queue, {
        "order_number": "PO-D1", "new_quantity": 200}, started_by="erp")
    wid = started.workflow_id
    await next_task(plant.client, wid, "approve")
    v = (await instances.instance_state(plant.client, wid))["variables"]
    impact = v["impact"]
    assert impact["finish_after_s"] > impact["finish_before_s"]  # 200 pieces take longer than 100
    assert impact["due_s"] is not None and impact["feasible"] == (impact["late_by_s"] == 0)
    assert any(c["job_order"] == "PO-D1" for c in v["plan_changes"])
    await complete(plant.client, wid, "approve", {"approved": True, "approved_by": "sup-eve", "comment": "ok"},
                   user="sup-eve")
    result = await asyncio.wait_for(instances.wait_result(plant.client, wid), 90)
    assert result.status == "completed", result
    assert result.variables["order_before"]["quantity"] == "100"
    assert result.variables["order_after"]["quantity"] == "200"
    told = await asyncio.wait_for(instances.wait_result(plant.client, waiting.workflow_id), 90)
    assert told.variables["new_quantity"] == 200
    with plant.sessions() as session:
        assert get_production_order_by_number(session, order_number="PO-D1").quantity == 200
        press_job = job(session, "PO-D1", 10)
        assert press_job.quantity == 200 and press_job.planned_start is not None
        assert session.scalars(sa.select(AuditEntry).where(
            AuditEntry.action == "production_order.demand_changed")).one().actor == "worker for sup-eve"


async def test_a_change_of_an_unknown_order_is_an_incident(plant: Plant) -> None:
    deploy(plant, "demand_change")
    started = await start(plant.client, plant.store, "demand_change", plant.task_queue, {
        "order_number": "PO-NONE", "new_quantity": 5})
    state: dict[str, object] = {}
    for _ in range(600):
        state = await instances.instance_state(plant.client, started.workflow_id)
        if state["status"] == "incident":
            break
        await asyncio.sleep(0.1)
    assert state["status"] == "incident"
