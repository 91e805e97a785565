"""quality_deviation end to end: an out-of-tolerance coating starts it; the supervisor orders a
rework, the re-inspection fails, the supervisor scraps the lot: its genealogy is kept. A second
order's lot is reworked, passes and is released."""

from __future__ import annotations

import asyncio

from operators import complete, run_order
from support.plant_stack import Plant

from mom import instances
from mom.db.audit import list_audit_entries, verify_audit_chain
from mom.db.materials import get_lot_by_number, trace_backward
from mom.domain import LotStatus


async def deviation_of(plant: Plant, order_number: str, coating: float) -> str:
    plant.receive_order(order_number, 4)
    wid = await run_order(plant.client, plant.store, plant.task_queue, order_number, {10: 2.0, 20: coating})
    result = await asyncio.wait_for(instances.wait_result(plant.client, wid), 90)
    return str(result.variables["deviation_instance"])


async def test_rework_that_fails_again_then_scrap_keeps_the_genealogy(plant: Plant) -> None:
    deviation = await deviation_of(plant, "PO-7", 41.0)
    client = plant.client
    await complete(client, deviation, "disposition", {"supervisor_id": "sup-eve", "disposition": "rework",
                                                      "disposition_reason": "recoat the brackets"}, user="sup-eve")
    await complete(client, deviation, "rework", {"inspector_id": "op-ann", "rework_note": "stripped and recoated",
                                                 "measured_value": 33.0})
    await complete(client, deviation, "disposition", {"supervisor_id": "sup-eve", "disposition": "scrap",
                                                      "disposition_reason": "second coat out of tolerance"},
                   user="sup-eve")
    result = await asyncio.wait_for(instances.wait_result(client, deviation), 90)
    assert result.completed[-1] == "end_scrapped"
    assert result.completed.count("disposition") == 2 and result.completed.count("reinspect") == 1

    with plant.sessions() as session:
        lot = get_lot_by_number(session, lot_number="PO-7-20")
        assert lot.status == LotStatus.SCRAPPED
        inputs = {s.link.consumed_lot.lot_number for s in trace_backward(session, lot_id=lot.id)}
        assert inputs == {"PO-7-10", "PAINT-001", "SHEET-001"}  # genealogy kept after scrap
        decisions, _ = list_audit_entries(session, action="lot.dispositioned")
        assert sorted(e.details["disposition"] for e in decisions) == ["rework", "scrap"]
        # who decided: the signed-in supervisor (through the worker); the typed badge is a detail
        assert all(e.actor == "worker for sup-eve" and e.details["noted"] == {"decided_by": "sup-eve"}
                   for e in decisions)
        assert verify_audit_chain(session) is None


async def test_rework_that_passes_releases_the_lot(plant: Plant) -> None:
    deviation = await deviation_of(plant, "PO-8", 12.0)
    client = plant.client
    await complete(client, deviation, "disposition", {"supervisor_id": "sup-eve", "disposition": "rework",
                                                      "disposition_reason": "add a coat"})
    await complete(client, deviation, "rework", {"inspector_id": "op-ann", "rework_note": "second coat",
                                                 "measured_value": 24.5})
    result = await asyncio.wait_for(instances.wait_result(client, deviation), 90)
    assert result.completed[-2:] == ["release_reworked", "end_reworked"]
    with plant.sessions() as session:
        assert get_lot_by_number(session, lot_number="PO-8-20").status == LotStatus.AVAILABLE
