"""engineering_change on the real stack: revision B of the bracket (new press recipe) from PLM;
impact analysis finds the in-flight orders, their step and WIP; a supervisor other than the
requester approves (four eyes); the revision becomes effective, each order is treated as proposed
(migrate / finish on A / rework), the new setpoint is written to the press by the edge worker,
operators are notified."""

from __future__ import annotations

import asyncio

import pytest
import sqlalchemy as sa
from operators import complete, next_task, start
from support.plant_stack import Plant, free_port
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment
from test_machine_breakdown import deploy, dispatched_order, job

from activities.records import RecordActivities
from mom import instances
from mom.db import execution
from mom.db.equipment import add_equipment, get_equipment_by_path, set_opcua_endpoint
from mom.db.materials import get_lot_by_number
from mom.db.models import AuditEntry, GenealogyLink, HumanTask
from mom.db.orders import get_production_order_by_number
from mom.db.products import effective_revision
from mom.db.transactions import writing
from mom.domain import EquipmentLevel, JobOrderStatus, LotStatus, ProductionOrderStatus
from mom.plant.machine import MachineConfig, SimulatedMachine
from mom.plant.server import MachineServer
from mom.plant_setup import PRODUCT, revision_b


async def test_an_eco_is_analysed_approved_by_another_person_and_applied_per_order(plant: Plant) -> None:
    deploy(plant, "engineering_change")
    area = plant.layout.work_units["Press1"].rsplit(".", 2)[0]
    plant.receive_order("PO-E1", 4)  # not started: migrate
    dispatched_order(plant, "PO-E2", 4)  # pressed under A, blank lot in WIP: rework
    with writing(plant.sessions) as session:
        execution.record_job_result(session, order_number="PO-E2", sequence=10, staged=[], good=4, bad=0,
                                    performed_by="op")
    dispatched_order(plant, "PO-E3", 4, running=True)  # pressing now under A: finish on A

    started = await start(plant.client, plant.store, "engineering_change", plant.task_queue, {
        "eco_number": "ECO-7", "product_code": PRODUCT, "revision": revision_b(area)}, started_by="eng-ida")
    wid = started.workflow_id
    await next_task(plant.client, wid, "approve")
    state = await instances.instance_state(plant.client, wid)
    impact = state["variables"]["impact"]
    proposed = {o["order_number"]: o["proposed"] for o in impact["orders"]}
    assert proposed == {"PO-E1": "migrate", "PO-E2": "rework", "PO-E3": "finish_old"}
    steps = {o["order_number"]: (o["current_step"] or {}).get("sequence") for o in impact["orders"]}
    assert steps == {"PO-E1": 10, "PO-E2": 20, "PO-E3": 10}
    assert impact["changed_operations"] == [10] and impact["recipes"][0]["to"] == "R-PRESS-2MM-B"
    assert [m["machine"] for m in impact["machines"]] == ["Press1"]
    assert [o["wip_lots"][0]["lot"] for o in impact["orders"] if o["wip_lots"]] == ["PO-E2-10"]
    for _ in range(600):  # the inbox row is written by an activity: four eyes, requested by the engineer
        with plant.sessions() as session:
            row = session.scalars(sa.select(HumanTask).where(HumanTask.workflow_id == wid)).first()
        if row is not None:
            break
        await asyncio.sleep(0.1)
    assert row is not None and row.four_eyes and row.requested_by == "eng-ida"

    await complete(plant.client, wid, "approve", {"approved": True, "approved_by": "sup-eve",
                                                  "comment": "go", "order_choices": ""}, user="sup-eve")
    result = await asyncio.wait_for(instances.wait_result(plant.client, wid), 90)
    assert result.status == "completed", result
    assert result.completed[-3:] == ["gw_pushed", "notify_operators", "end"]
    assert "push_recipes" in result.completed and result.variables["migrated_orders"] == ["PO-E1"]
    for _ in range(600):  # the server applies written setpoints at its next tick
        if plant.machines["Press1"].machine.setpoints["Pressure"] == 6.5:
            break
        await asyncio.sleep(0.05)
    assert plant.machines["Press1"].machine.setpoints["Pressure"] == 6.5
    with plant.sessions() as session:
        rev_b = effective_revision(session, product_code=PRODUCT)
        assert rev_b.revision == "B"
        assert get_production_order_by_number(session, order_number="PO-E1").product_revision_id == rev_b.id
        assert job(session, "PO-E1", 10).parameters["recipe_id"] == "R-PRESS-2MM-B"
        assert job(session, "PO-E3", 10).parameters["recipe_id"] == "R-PRESS-2MM"
        assert get_production_order_by_number(session, order_number="PO-E3").product_revision_id != rev_b.id
        assert get_lot_by_number(session, lot_number="PO-E2-10").status == LotStatus.ON_HOLD
        actions = list(session.scalars(sa.select(AuditEntry.action).where(
            AuditEntry.action.in_(("eco.applied", "production_order.eco_applied", "notification.sent")))))
    assert sorted(actions) == ["eco.applied", "notification.sent", *["production_order.eco_applied"] * 3]


async def test_a_rejected_eco_changes_nothing(plant: Plant) -> None:
    deploy(plant, "engineering_change")
    area = plant.layout.work_units["Press1"].rsplit(".", 2)[0]
    started = await start(plant.client, plant.store, "engineering_change", plant.task_queue, {
        "eco_number": "ECO-8", "product_code": PRODUCT, "revision": revision_b(area)}, started_by="eng-ida")
    await complete(plant.client, started.workflow_id, "approve",
                   {"approved": False, "approved_by": "sup-eve", "comment": "not before the audit"})
    result = await asyncio.wait_for(instances.wait_result(plant.client, started.workflow_id), 90)
    assert result.completed[-2:] == ["notify_rejected", "end_rejected"]
    with plant.sessions() as session:
        assert effective_revision(session, product_code=PRODUCT).revision == "A"


async def test_an_eco_moving_an_operation_to_another_work_center_redispatches_the_running_order(
        plant: Plant) -> None:
    """Issue F: revision B moves coating (operation 20) to a new coating line while PO-M1 is
    running (pressed, coating not started). The supervisor migrates PO-M1 and lets PO-M2 finish on
    revision A: PO-M1's coating is re-dispatched to the new line's coater and the order completes
    there without an incident; PO-M2 keeps its old coater."""
    deploy(plant, "engineering_change")
    coat_path = plant.layout.work_units["Coater1"]
    area = coat_path.rsplit(".", 2)[0]
    config = MachineConfig(name="Coater2", cycle_time_s=0.02, acting_time_s=0.01, mtbf_s=0.0, bad_rate=0.0)
    coater2 = MachineServer(SimulatedMachine(config, seed=1), free_port(), tick_s=0.01)
    await coater2.start()
    try:
        with writing(plant.sessions) as session:
            fabrication = get_equipment_by_path(session, path=area)
            line2 = add_equipment(session, name="CoatLine2", level=EquipmentLevel.WORK_CENTER,
                                  parent_id=fabrication.id)
            unit = add_equipment(session, name="Coater2", level=EquipmentLevel.WORK_UNIT, parent_id=line2.id)
            set_opcua_endpoint(session, work_unit_id=unit.id, url=coater2.endpoint)
            coater1_id = get_equipment_by_path(session, path=coat_path).id
            coater2_id = unit.id
        revision = revision_b(area)
        revision["operations"][1]["work_center"] = f"{area}.CoatLine2"

        plant.receive_order("PO-M1", 3)
        started = await start(plant.client, plant.store, "production_order", plant.task_queue,
                              {"order_number": "PO-M1", "schedule_first": False})
        wid = started.workflow_id
        await complete(plant.client, wid, "stage_material", {"operator_id": "op-ann", "lot_ids": "SHEET-001"})
        await next_task(plant.client, wid, "quality_check", timeout=60)  # pressed; coating not started
        dispatched_order(plant, "PO-M2", 2, running=True)
        with plant.sessions() as session:
            assert job(session, "PO-M1", 20).work_unit_id == coater1_id
            assert job(session, "PO-M1", 10).status == JobOrderStatus.COMPLETED

        eco = await start(plant.client, plant.store, "engineering_change", plant.task_queue, {
            "eco_number": "ECO-9", "product_code": PRODUCT, "revision": revision}, started_by="eng-ida")
        await complete(plant.client, eco.workflow_id, "approve", {
            "approved": True, "approved_by": "sup-eve", "comment": "coating moves to line 2",
            "order_choices": "PO-M1=migrate, PO-M2=finish_old"}, user="sup-eve")
        applied = await asyncio.wait_for(instances.wait_result(plant.client, eco.workflow_id), 90)
        assert applied.status == "completed", applied
        assert applied.variables["migrated_orders"] == ["PO-M1"]
        with plant.sessions() as session:
            moved = job(session, "PO-M1", 20)
            assert (moved.work_unit_id, moved.status) == (coater2_id, JobOrderStatus.DISPATCHED)
            kept = job(session, "PO-M2", 20)
            assert (kept.work_unit_id, kept.status) == (coater1_id, JobOrderStatus.DISPATCHED)
            redispatched = session.scalars(sa.select(AuditEntry).where(
                AuditEntry.action == "job_order.redispatched")).all()
            assert [(e.entity_id, e.details["machine"]) for e in redispatched] == [("PO-M1-20", "Coater2")]

        await complete(plant.client, wid, "quality_check", {"inspector_id": "qa-bob", "measured_value": 2.0})
        await complete(plant.client, wid, "stage_material", {"operator_id": "op-carl",
                                                             "lot_ids": "PO-M1-10\nPAINT-001"})
        await complete(plant.client, wid, "quality_check", {"inspector_id": "qa-bob", "measured_value": 25.0},)
        result = await asyncio.wait_for(instances.wait_result(plant.client, wid), 90)
    finally:
        await coater2.stop()

    assert result.status == "completed", result
    assert [r["in_tolerance"] for r in result.variables["operation_results"]] == [True, True]
    assert coater2.machine.starts_accepted == 1 and coater2.machine.job is not None
    assert coater2.machine.job.job_id == "PO-M1-20" and coater2.machine.job.good_count == 3
    assert plant.machines["Coater1"].machine.starts_accepted == 0
    with plant.sessions() as session:
        order = get_production_order_by_number(session, order_number="PO-M1")
        assert order.status == ProductionOrderStatus.COMPLETED
        assert order.product_revision_id == effective_revision(session, product_code=PRODUCT).id
        coated = get_lot_by_number(session, lot_number="PO-M1-20")
        units = set(session.scalars(sa.select(GenealogyLink.work_unit_id)
                                    .where(GenealogyLink.produced_lot_id == coated.id)))
        assert units == {coater2_id}


async def test_a_job_order_found_without_a_work_unit_is_dispatched_when_its_operation_is_due(
        plant: Plant) -> None:
    """A job order left without a work unit (an ECO applied by an older worker, or a migration that
    did not re-dispatch) is dispatched to its work center's unit when the process reads it; an
    order not released yet is left to its own dispatch step."""
    dispatched_order(plant, "PO-U1", 2)
    plant.receive_order("PO-U2", 2)
    with writing(plant.sessions) as session:
        for number in ("PO-U1", "PO-U2"):
            coat = job(session, number, 20)
            coat.work_unit_id, coat.status = None, JobOrderStatus.PLANNED
    records = RecordActivities(plant.sessions)
    answer = await ActivityEnvironment().run(records.current_assignment, {"order_number": "PO-U1", "sequence": 20})
    assert (answer["machine"], answer["status"]) == ("Coater1", "dispatched")
    with pytest.raises(ApplicationError) as refused:
        await ActivityEnvironment().run(records.current_assignment, {"order_number": "PO-U2", "sequence": 20})
    assert refused.value.details[0]["code"] == "NO_WORK_UNIT"
