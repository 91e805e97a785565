"""production_order end to end: ERP order released, two operations on two simulated machines
(recipes over OPC UA through the edge worker), staging checked against BOM and lot status,
genealogy, quality checks, order completion and the B2MML production performance; a job rerouted
or moved to a new recipe after dispatch runs on the machine and recipe recorded when it starts."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa
from operators import complete, next_task, run_order, start
from support.plant_stack import Plant, free_port

from mom import instances
from mom.b2mml import read_production_performance
from mom.db.audit import list_audit_entries, verify_audit_chain
from mom.db.engineering import apply_eco, eco_impact
from mom.db.equipment import add_equipment, get_equipment_by_path, set_opcua_endpoint
from mom.db.maintenance import resume_jobs
from mom.db.materials import get_lot_by_number, trace_backward, trace_forward
from mom.db.models import GenealogyLink
from mom.db.orders import get_production_order_by_number
from mom.db.transactions import writing
from mom.domain import EquipmentLevel, JobOrderStatus, LotStatus, ProductionOrderStatus
from mom.plant.machine import MachineConfig, SimulatedMachine
from mom.plant.server import MachineServer
from mom.plant_setup import PRODUCT, revision_b


async def test_an_order_runs_both_operations_with_genealogy_and_b2mml(plant: Plant) -> None:
    plant.receive_order("PO-1", 10)
    wid = await run_order(plant.client, plant.store, plant.task_queue, "PO-1", {10: 2.02, 20: 24.0})
    result = await asyncio.wait_for(instances.wait_result(plant.client, wid), 90)

    assert result.completed.count("stage_material") == 4  # two refusals, then one per operation
    assert result.completed.count("lot_not_available") == 1 and result.completed.count("lot_not_in_bom") == 1
    assert result.completed[-2:] == ["complete_order", "end"]
    # run_operation is a sequential multi-instance over the routing: one result per operation, in order
    assert result.completed.count("op_start") == 2 and result.completed.count("op_done") == 2
    assert result.variables["operation_results"] == [
        {"sequence": 10, "lot": "PO-1-10", "in_tolerance": True, "deviation_instance": None},
        {"sequence": 20, "lot": "PO-1-20", "in_tolerance": True, "deviation_instance": None},
    ]
    assert result.variables["deviation_instances"] == [] and result.variables["deviation_instance"] is None
    assert plant.machines["Press1"].machine.starts_accepted == 1
    assert plant.machines["Coater1"].machine.starts_accepted == 1

    with plant.sessions() as session:
        order = get_production_order_by_number(session, order_number="PO-1")
        assert order.status == ProductionOrderStatus.COMPLETED
        assert [(j.status, int(j.good_quantity)) for j in order.job_orders] == [(JobOrderStatus.COMPLETED, 10)] * 2
        final = get_lot_by_number(session, lot_number="PO-1-20")
        assert (final.status, int(final.quantity)) == (LotStatus.AVAILABLE, 10)
        backward = {(s.link.consumed_lot.lot_number, s.link.operation, s.link.performed_by)
                    for s in trace_backward(session, lot_id=final.id)}
        # who: the user who completed the staging step (the worker recorded it for them), not the typed badge
        assert backward == {("PO-1-10", "Coat", "worker for op-carl"), ("PAINT-001", "Coat", "worker for op-carl"),
                            ("SHEET-001", "Press", "worker for op-ann")}
        sheet = get_lot_by_number(session, lot_number="SHEET-001")
        assert int(sheet.quantity) == 495  # 0.5 kg per piece
        forward = trace_forward(session, lot_id=sheet.id)
        assert [s.link.produced_lot.lot_number for s in forward] == ["PO-1-10", "PO-1-20"]
        units = {s.link.operation: s.link.work_unit_id for s in forward}
        assert units["Press"] != units["Coat"] and None not in units.values()
        assert verify_audit_chain(session) is None
        inspected, _ = list_audit_entries(session, action="lot.inspected")
        assert {e.entity_id.split("/")[0] for e in inspected} == {"PO-1-10", "PO-1-20"}

    path = result.variables["b2mml_file"]
    assert path == str(plant.data_dir / "exchange" / "ProductionPerformance-PO-1.xml")
    performance = read_production_performance(Path(path).read_bytes(), path)
    (response,) = performance.responses
    assert (response.id, response.status) == ("PO-1", "completed")
    assert [s.operation for s in response.segments] == ["Press", "Coat"]
    coat = response.segments[1]
    assert coat.equipment is not None and coat.equipment.endswith("CoatLine.Coater1")
    assert {(m.use.value, m.lot_number) for m in coat.materials} == {
        ("Produced", "PO-1-20"), ("Consumed", "PO-1-10"), ("Consumed", "PAINT-001")}


async def test_an_out_of_tolerance_check_starts_a_quality_deviation_that_holds_the_lot(plant: Plant) -> None:
    plant.receive_order("PO-2", 4)
    wid = await run_order(plant.client, plant.store, plant.task_queue, "PO-2", {10: 2.0, 20: 41.5},
                          schedule_first=True)  # planned by schedule.plan, then dispatched by the plan
    result = await asyncio.wait_for(instances.wait_result(plant.client, wid), 90)

    assert "schedule_plan" in result.completed and result.variables["plan"]["operations"]
    assert "start_deviation" in result.completed and "op_deviated" in result.completed
    first, second = result.variables["operation_results"]
    assert first == {"sequence": 10, "lot": "PO-2-10", "in_tolerance": True, "deviation_instance": None}
    assert {k: second[k] for k in ("sequence", "lot", "in_tolerance")} == {
        "sequence": 20, "lot": "PO-2-20", "in_tolerance": False}
    deviation = result.variables["deviation_instance"]
    assert second["deviation_instance"] == deviation and result.variables["deviation_instances"] == [deviation]
    state = await instances.instance_state(plant.client, deviation)
    assert state["process_id"] == "quality_deviation"
    assert state["variables"]["lot"] == "PO-2-20" and state["variables"]["failed_characteristics"] == ["coating_um"]
    for _ in range(600):
        with plant.sessions() as session:
            if get_lot_by_number(session, lot_number="PO-2-20").status == LotStatus.ON_HOLD:
                break
        await asyncio.sleep(0.1)
    else:
        raise AssertionError("lot PO-2-20 was not put on hold by the deviation")
    with plant.sessions() as session:  # the order itself completed: the lot's fate is the deviation's
        assert get_production_order_by_number(session, order_number="PO-2").status == ProductionOrderStatus.COMPLETED


async def test_a_job_rerouted_and_changed_after_dispatch_runs_on_the_new_machine_with_the_new_recipe(
        plant: Plant) -> None:
    """Issue F: dispatch gives the instance Press1 and recipe A; before the job starts a breakdown
    reroutes it to Press2 and an ECO migrates the order to revision B (new press recipe). The
    instance reads the job order again before loading the recipe: Press2 runs it, with recipe B."""
    press_path = plant.layout.work_units["Press1"]
    line_path, area = press_path.rsplit(".", 1)[0], press_path.rsplit(".", 2)[0]
    config = MachineConfig(name="Press2", cycle_time_s=0.02, acting_time_s=0.01, mtbf_s=0.0, bad_rate=0.0)
    press2 = MachineServer(SimulatedMachine(config, seed=1), free_port(), tick_s=0.01)
    await press2.start()
    try:
        with writing(plant.sessions) as session:
            line = get_equipment_by_path(session, path=line_path)
            unit = add_equipment(session, name="Press2", level=EquipmentLevel.WORK_UNIT, parent_id=line.id)
            set_opcua_endpoint(session, work_unit_id=unit.id, url=press2.endpoint)
            press2_id = unit.id
        plant.receive_order("PO-R1", 3)
        started = await start(plant.client, plant.store, "production_order", plant.task_queue,
                              {"order_number": "PO-R1", "schedule_first": False})
        wid = started.workflow_id
        await next_task(plant.client, wid, "stage_material")  # dispatched: the instance holds Press1 and recipe A
        state = await instances.instance_state(plant.client, wid)
        (dispatched, _) = state["variables"]["operations"]
        assert (dispatched["machine"], dispatched["recipe"]["recipe_id"]) == ("Press1", "R-PRESS-2MM")

        with writing(plant.sessions) as session:  # after dispatch, before the job started
            moved = resume_jobs(session, work_unit=press_path, work_order="WO-PRESS1-TEST", actor="planner",
                                plan={"operations": [{"job_order": "PO-R1-10", "work_unit": f"{line_path}.Press2"}]})
            assert [r["job_id"] for r in moved["rerouted"]] == ["PO-R1-10"]
            impact = eco_impact(session, product_code=PRODUCT, revision=revision_b(area))
            applied = apply_eco(session, eco_number="ECO-R1", product_code=PRODUCT, revision=revision_b(area),
                                choices={}, impact=impact, actor="sup-eve", at=datetime.now(UTC))
            assert applied["migrated_orders"] == ["PO-R1"]

        await complete(plant.client, wid, "stage_material", {"operator_id": "op-ann", "lot_ids": "SHEET-001"})
        await complete(plant.client, wid, "quality_check", {"inspector_id": "qa-bob", "measured_value": 2.0})
        await complete(plant.client, wid, "stage_material", {"operator_id": "op-carl",
                                                             "lot_ids": "PO-R1-10\nPAINT-001"})
        await complete(plant.client, wid, "quality_check", {"inspector_id": "qa-bob", "measured_value": 24.0})
        result = await asyncio.wait_for(instances.wait_result(plant.client, wid), 90)
    finally:
        await press2.stop()

    assert result.status == "completed", result
    # the machine that accepted the start, and the recipe it stored: Press2 with revision B's recipe
    assert plant.machines["Press1"].machine.starts_accepted == 0
    assert press2.machine.starts_accepted == 1
    assert press2.machine.job is not None and press2.machine.job.job_id == "PO-R1-10"
    assert press2.machine.job.recipe.recipe_id == "R-PRESS-2MM-B"
    assert press2.machine.setpoints["Pressure"] == 6.5
    assert plant.machines["Coater1"].machine.starts_accepted == 1
    assert result.completed.count("read_assignment") == 2
    assert [r["in_tolerance"] for r in result.variables["operation_results"]] == [True, True]
    with plant.sessions() as session:  # the records say the same
        order = get_production_order_by_number(session, order_number="PO-R1")
        assert order.status == ProductionOrderStatus.COMPLETED
        pressed = next(j for j in order.job_orders if j.sequence == 10)
        assert (pressed.work_unit_id, pressed.parameters["recipe_id"]) == (press2_id, "R-PRESS-2MM-B")
        blank = get_lot_by_number(session, lot_number="PO-R1-10")
        units = set(session.scalars(sa.select(GenealogyLink.work_unit_id)
                                    .where(GenealogyLink.produced_lot_id == blank.id)))
        assert units == {press2_id}
