"""The reference production process with an engineering limit on the press: a recipe above the
binding's max is refused on the edge before it reaches the machine (J.11)."""

from __future__ import annotations

import asyncio

from operators import complete, start
from support.plant_stack import Plant

from mom import instances
from mom.db.equipment import bind_node, get_equipment_by_path
from mom.db.transactions import writing


async def test_a_recipe_above_the_bindings_max_is_refused_and_the_press_is_untouched(plant: Plant) -> None:
    with writing(plant.sessions) as session:
        press = get_equipment_by_path(session, path=plant.layout.work_units["Press1"])
        bind_node(session, work_unit_id=press.id, name="Setpoints.Pressure", access="read_write",
                  node_id="nsu=urn:smart-mom:plant-sim;s=Press1.Setpoints.Pressure", min_value=1.0, max_value=5.0)
    plant.receive_order("PO-L1", 2)
    started = await start(plant.client, plant.store, "production_order", plant.task_queue, {"order_number": "PO-L1"})
    await complete(plant.client, started.workflow_id, "stage_material", {"operator_id": "op-ann",
                                                                         "lot_ids": "SHEET-001"})
    state: dict[str, object] = {}
    for _ in range(600):
        state = await instances.instance_state(plant.client, started.workflow_id)
        if state["status"] == "incident":
            break
        await asyncio.sleep(0.1)
    # ended: an instance left in its incident would be found by other tests' instance migrations
    await instances.handle_for(plant.client, started.workflow_id).terminate("test over")
    assert state["status"] == "incident", state
    incident = str(state["incident"])
    for words in ("load_recipe", "SETPOINT_OUT_OF_RANGE", "Press1 Pressure = 5.5 is outside 1..5",
                  "binding Setpoints.Pressure of"):
        assert words in incident, incident
    machine = plant.machines["Press1"]
    assert machine.machine.job is None and "Store" not in machine.calls_received
    assert machine.machine.setpoints["Pressure"] == 5.0
