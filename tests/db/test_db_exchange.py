"""A B2MML schedule becomes production orders; their execution goes back as performance."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy.orm import Session

from mom.b2mml import read_production_performance, read_production_schedule, write_production_performance
from mom.db.errors import RecordConflict
from mom.db.exchange import import_production_schedule, production_performance
from mom.db.materials import consume_lot, create_lot
from mom.db.orders import change_job_order_status, change_production_order_status, dispatch_job_order
from mom.domain import DomainError, JobOrderStatus, ProductionOrderStatus
from mom.domain.exchange import MaterialUse

NS = 'xmlns="http://www.mesa.org/xml/B2MML"'


def _schedule(request_ids: list[str], with_segments: bool) -> bytes:
    segments = (
        "<SegmentRequirement><ID>10</ID><ProcessSegmentID>Blank</ProcessSegmentID>"
        "<EquipmentRequirement><EquipmentID>Acme.Lyon.Pressing.PressLine</EquipmentID></EquipmentRequirement>"
        "<SegmentParameter><ID>force_kN</ID><Value><ValueString>90</ValueString></Value></SegmentParameter>"
        "</SegmentRequirement>"
        if with_segments
        else ""
    )
    requests = "".join(
        f"<ProductionRequest><ID>{rid}</ID><ProductProductionRuleID>BRACKET</ProductProductionRuleID>"
        f"<EndTime>2026-03-05T12:00:00Z</EndTime>{segments}"
        "<MaterialProducedRequirement><MaterialDefinitionID>BRACKET</MaterialDefinitionID>"
        "<Quantity><QuantityString>40</QuantityString><UnitOfMeasure>pcs</UnitOfMeasure></Quantity>"
        "</MaterialProducedRequirement></ProductionRequest>"
        for rid in request_ids
    )
    return f"<ProductionSchedule {NS}><ID>S1</ID>{requests}</ProductionSchedule>".encode()


def test_schedule_import_and_performance_export(session: Session, plant) -> None:  # type: ignore[no-untyped-def]
    schedule = read_production_schedule(_schedule(["PO-20", "PO-21"], with_segments=False))
    routed, _ = import_production_schedule(session, schedule=schedule, actor="erp")
    assert routed.quantity == Decimal(40) and [j.operation for j in routed.job_orders] == ["Blank", "Form"]
    segmented = read_production_schedule(_schedule(["PO-22"], with_segments=True))
    (order,) = import_production_schedule(session, schedule=segmented, actor="erp")
    (job,) = order.job_orders
    assert (job.sequence, job.operation, job.work_center_id) == (10, "Blank", plant.work_center)
    assert job.parameters == {"force_kN": "90"} and order.source == "b2mml:S1"
    with pytest.raises(RecordConflict, match="orders already exist: PO-20"):
        import_production_schedule(session, schedule=schedule, actor="erp")

    change_production_order_status(session, order_id=order.id, to=ProductionOrderStatus.RELEASED, actor="sup")
    dispatch_job_order(session, job_order_id=job.id, work_unit_id=plant.press2, actor="sup")
    change_job_order_status(session, job_order_id=job.id, to=JobOrderStatus.RUNNING, actor="op")
    steel = create_lot(session, lot_number="S-77", material_code="STEEL", quantity=50)
    brackets = create_lot(session, lot_number="BR-77", material_code="BRACKET", quantity=40)
    consume_lot(
        session,
        consumed_lot_id=steel.id,
        produced_lot_id=brackets.id,
        quantity=10,
        performed_by="op",
        job_order_id=job.id,
    )
    change_job_order_status(session, job_order_id=job.id, to=JobOrderStatus.COMPLETED, actor="op")

    performance = production_performance(session, order_numbers=["PO-22"], performance_id="P-1", location="Acme.Lyon")
    xml = write_production_performance(performance)
    (response,) = read_production_performance(xml, "perf.xml").responses
    assert (response.production_request_id, response.status) == ("PO-22", "in_progress")
    (segment,) = response.segments
    assert segment.equipment == "Acme.Lyon.Pressing.PressLine.Press2" and segment.actual_end is not None
    uses = {(m.use, m.material_code, m.lot_number, m.quantity.amount) for m in segment.materials}
    assert uses == {
        (MaterialUse.PRODUCED, "BRACKET", "BR-77", Decimal(40)),
        (MaterialUse.CONSUMED, "STEEL", "S-77", Decimal(10)),
    }


def test_unknown_equipment_in_a_segment_is_refused(session: Session, plant) -> None:  # type: ignore[no-untyped-def]
    xml = _schedule(["PO-30"], with_segments=True).replace(b"Acme.Lyon.Pressing.PressLine", b"Acme.Paris.X")
    with pytest.raises(DomainError, match=r"'Acme\.Paris\.X' is not in the equipment hierarchy"):
        import_production_schedule(session, schedule=read_production_schedule(xml), actor="erp")
