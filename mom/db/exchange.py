"""ERP exchange in the data layer: store an imported production schedule as production orders,
and gather what was produced into a production performance document."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from mom.db.audit import append_audit_entries
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
    ProductRevision,
)
from mom.db.orders import get_production_order_by_number, new_production_order, received_entry
from mom.db.products import effective_revision, get_product
from mom.domain import DomainError, JobOrderStatus
from mom.domain.exchange import (
    MaterialActual,
    MaterialUse,
    ProductionPerformance,
    ProductionResponse,
    ProductionSchedule,
    SegmentRequirement,
    SegmentResponse,
)
from mom.domain.values import Quantity

IN_CHUNK = 500
"""Order numbers per ``IN (...)`` query (SQLite allows 32,766 parameters; PostgreSQL 65,535)."""


def import_production_schedule(session: Session, *, schedule: ProductionSchedule, actor: str) -> list[ProductionOrder]:
    """One production order per request. Requests with segment requirements get one job order
    per segment; others are exploded from the product's effective routing. All or nothing: a
    request that already exists as an order refuses the whole schedule.

    Done in bulk, in the caller's transaction: products, revisions and equipment are looked up once
    each, the orders and job orders are written in one flush and their audit entries in another
    (1,000 requests in about a second on SQLite, instead of one round of queries per order)."""
    numbers = [request.id for request in schedule.requests]
    existing: list[str] = []
    for first in range(0, len(numbers), IN_CHUNK):
        chunk = numbers[first:first + IN_CHUNK]
        existing += session.scalars(
            sa.select(ProductionOrder.order_number).where(ProductionOrder.order_number.in_(chunk))
        ).all()
    if existing:
        shown = sorted(existing)
        more = f" and {len(shown) - 20} more" if len(shown) > 20 else ""
        raise RecordConflict(
            f"schedule {schedule.id or '(no id)'}: orders already exist: {', '.join(shown[:20])}{more}"
        )
    products: dict[str, ProductDefinition] = {}
    revisions: dict[str, ProductRevision] = {}
    centers: dict[str, int] = {}
    source = f"b2mml:{schedule.id}" if schedule.id else "b2mml"
    orders = []
    for request in schedule.requests:
        if request.product_code is None or request.quantity is None:
            raise DomainError(f"production request {request.id}: product and quantity are required")
        code = request.product_code
        if code not in products:
            products[code] = get_product(session, code=code)
        if not request.segments and code not in revisions:
            revisions[code] = effective_revision(session, product_code=code)
        order = new_production_order(
            session,
            order_number=request.id,
            product=products[code],
            revision=None if request.segments else revisions[code],
            quantity=request.quantity.amount,
            unit=request.quantity.unit,
            due_at=request.end_time,
            priority=request.priority or 0,
            source=source,
        )
        for position, segment in enumerate(request.segments, start=1):
            order.job_orders.append(_segment_job(session, request.id, position, segment, order, centers))
        orders.append(order)
    session.add_all(orders)
    session.flush()
    append_audit_entries(session, [
        {"actor": actor, **received_entry(order, order_code, None if request.segments else revisions[order_code])}
        for order, request in zip(orders, schedule.requests, strict=True)
        if (order_code := request.product_code or "")
    ])
    return orders


def _segment_job(
    session: Session,
    request_id: str,
    position: int,
    segment: SegmentRequirement,
    order: ProductionOrder,
    centers: dict[str, int],
) -> JobOrder:
    """The job order of a B2MML segment requirement (its ID is the sequence when it is a number)."""
    sequence = int(segment.id) if segment.id.isdigit() else position * 10
    if any(job.sequence == sequence for job in order.job_orders):
        raise RecordConflict(f"production order {request_id} already has job order {sequence}")
    center = None
    if segment.equipment:
        if segment.equipment not in centers:
            found = session.scalar(sa.select(Equipment.id).where(Equipment.path == segment.equipment))
            if found is None:
                raise DomainError(
                    f"production request {request_id} segment {segment.id}: equipment "
                    f"'{segment.equipment}' is not in the equipment hierarchy"
                )
            centers[segment.equipment] = found
        center = centers[segment.equipment]
    return JobOrder(
        sequence=sequence,
        operation=segment.operation or segment.id,
        quantity=order.quantity,
        work_center_id=center,
        planned_start=segment.earliest_start,
        planned_end=segment.latest_end,
        parameters=dict(segment.parameters),
        status=JobOrderStatus.PLANNED,
    )


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
