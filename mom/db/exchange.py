"""ERP exchange in the data layer: store an imported production schedule as production orders,
and gather what was produced into a production performance document."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from mom.db.base import utcnow
from mom.db.errors import RecordConflict
from mom.db.models import (
    Equipment,
    GenealogyLink,
    JobOrder,
    MaterialDefinition,
    MaterialLot,
    ProductDefinition,
    ProductionOrder,
)
from mom.db.orders import add_job_order, create_production_order, get_production_order_by_number
from mom.domain import DomainError
from mom.domain.exchange import (
    MaterialActual,
    MaterialUse,
    ProductionPerformance,
    ProductionResponse,
    ProductionSchedule,
    SegmentResponse,
)
from mom.domain.values import Quantity


def import_production_schedule(session: Session, *, schedule: ProductionSchedule, actor: str) -> list[ProductionOrder]:
    """One production order per request. Requests with segment requirements get one job order
    per segment; others are exploded from the product's effective routing. All or nothing: a
    request that already exists as an order refuses the whole schedule."""
    numbers = [request.id for request in schedule.requests]
    existing = session.scalars(
        sa.select(ProductionOrder.order_number).where(ProductionOrder.order_number.in_(numbers))
    ).all()
    if existing:
        raise RecordConflict(
            f"schedule {schedule.id or '(no id)'}: orders already exist: {', '.join(sorted(existing))}"
        )
    orders = []
    for request in schedule.requests:
        if request.product_code is None or request.quantity is None:
            raise DomainError(f"production request {request.id}: product and quantity are required")
        order = create_production_order(
            session,
            order_number=request.id,
            product_code=request.product_code,
            quantity=request.quantity.amount,
            unit=request.quantity.unit,
            due_at=request.end_time,
            priority=request.priority or 0,
            source=f"b2mml:{schedule.id}" if schedule.id else "b2mml",
            actor=actor,
            explode=not request.segments,
        )
        for position, segment in enumerate(request.segments, start=1):
            sequence = int(segment.id) if segment.id.isdigit() else position * 10
            center = None
            if segment.equipment:
                center = session.scalar(sa.select(Equipment.id).where(Equipment.path == segment.equipment))
                if center is None:
                    raise DomainError(
                        f"production request {request.id} segment {segment.id}: equipment "
                        f"'{segment.equipment}' is not in the equipment hierarchy"
                    )
            add_job_order(
                session,
                production_order_id=order.id,
                sequence=sequence,
                operation=segment.operation or segment.id,
                work_center_id=center,
                planned_start=segment.earliest_start,
                planned_end=segment.latest_end,
                parameters=dict(segment.parameters),
            )
        orders.append(order)
    return orders


def _materials(session: Session, job: JobOrder) -> tuple[MaterialActual, ...]:
    links = session.execute(sa.select(GenealogyLink).where(GenealogyLink.job_order_id == job.id)).scalars().all()
    produced: dict[int, MaterialActual] = {}
    consumed = []
    for link in links:
        lot = session.get(MaterialLot, link.consumed_lot_id)
        made = session.get(MaterialLot, link.produced_lot_id)
        assert lot is not None and made is not None
        consumed.append(
            MaterialActual(
                _code(session, lot), MaterialUse.CONSUMED, Quantity(link.quantity, link.unit), lot.lot_number
            )
        )
        produced.setdefault(
            made.id,
            MaterialActual(
                _code(session, made), MaterialUse.PRODUCED, Quantity(made.quantity, made.unit), made.lot_number
            ),
        )
    return (*produced.values(), *consumed)


def _code(session: Session, lot: MaterialLot) -> str:
    material = session.get(MaterialDefinition, lot.material_definition_id)
    return material.code if material else ""


def production_performance(
    session: Session,
    *,
    order_numbers: Sequence[str],
    performance_id: str,
    location: str | None = None,
    published_at: datetime | None = None,
) -> ProductionPerformance:
    """What the given orders did: per job order its times, work unit and lots (from genealogy)."""
    responses = []
    for number in order_numbers:
        order = get_production_order_by_number(session, order_number=number)
        product = session.get(ProductDefinition, order.product_definition_id)
        segments = []
        for job in order.job_orders:
            unit = None if job.work_unit_id is None else session.get(Equipment, job.work_unit_id)
            segments.append(
                SegmentResponse(
                    id=str(job.sequence),
                    operation=job.operation,
                    equipment=unit.path if unit else None,
                    actual_start=job.actual_start,
                    actual_end=job.actual_end,
                    materials=_materials(session, job),
                )
            )
        starts = [j.actual_start for j in order.job_orders if j.actual_start]
        ends = [j.actual_end for j in order.job_orders if j.actual_end]
        responses.append(
            ProductionResponse(
                id=order.order_number,
                production_request_id=order.order_number,
                product_code=product.code if product else None,
                start_time=min(starts) if starts else None,
                end_time=max(ends) if ends and len(ends) == len(order.job_orders) else None,
                status=order.status.value,
                segments=tuple(segments),
            )
        )
    return ProductionPerformance(
        id=performance_id,
        responses=tuple(responses),
        published_at=published_at or utcnow(),
        location=location,
    )
