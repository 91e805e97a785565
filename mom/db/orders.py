"""Data functions for production orders (from ERP) and their job orders.

An order is exploded into one job order per routing operation of the product revision in
effect; status changes go through the domain state machines and are audited.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from mom.db.audit import append_audit_entry
from mom.db.base import utcnow
from mom.db.equipment import get_equipment
from mom.db.errors import RecordConflict, RecordNotFound
from mom.db.models import (
    Equipment,
    JobOrder,
    MaterialDefinition,
    ProductDefinition,
    ProductionOrder,
    ProductRevision,
)
from mom.db.products import effective_revision, get_product
from mom.db.queries import fetch, fetch_by, page
from mom.domain import (
    DomainError,
    EquipmentLevel,
    JobOrderStatus,
    ProductionOrderStatus,
    check_transition,
    is_terminal,
)
from mom.domain.status import allowed_transitions
from mom.domain.values import check_stored_amount, format_amount, to_decimal

DEFAULT_UNIT = "pcs"


def create_production_order(
    session: Session,
    *,
    order_number: str,
    product_code: str,
    quantity: Decimal | int | str,
    actor: str,
    unit: str | None = None,
    due_at: datetime | None = None,
    priority: int = 0,
    source: str = "erp",
    revision_at: datetime | None = None,
    explode: bool = True,
) -> ProductionOrder:
    """Receive an order; with ``explode`` it gets one job order per routing operation of the
    revision in effect at ``revision_at`` (default: now)."""
    if session.scalar(
        sa.select(ProductionOrder.id).where(ProductionOrder.order_number == order_number)
    ):
        raise RecordConflict(f"production order '{order_number}' already exists")
    product = get_product(session, code=product_code)
    check_stored_amount(quantity, field=f"production order {order_number} quantity")
    revision = effective_revision(session, product_code=product_code, at=revision_at) if explode else None
    order = new_production_order(
        session, order_number=order_number, product=product, revision=revision, quantity=quantity,
        unit=unit, due_at=due_at, priority=priority, source=source)
    session.add(order)
    session.flush()
    append_audit_entry(session, actor=actor, **received_entry(order, product_code, revision))
    return order


def new_production_order(
    session: Session,
    *,
    order_number: str,
    product: ProductDefinition,
    revision: ProductRevision | None,
    quantity: Decimal | int | str,
    unit: str | None = None,
    due_at: datetime | None = None,
    priority: int = 0,
    source: str = "erp",
) -> ProductionOrder:
    """A received order not added to the session yet, with one job order per operation of
    ``revision`` (none without one); the quantity within the stored bounds, else DomainError."""
    amount = check_stored_amount(quantity, field=f"production order {order_number} quantity")
    if amount <= 0:
        raise DomainError(f"production order {order_number}: quantity {format_amount(amount)} must be positive")
    order = ProductionOrder(
        order_number=order_number,
        product_definition_id=product.id,
        product_revision_id=revision.id if revision else None,
        quantity=amount,
        unit=unit or _product_unit(session, product),
        due_at=due_at,
        priority=priority,
        source=source,
        status=ProductionOrderStatus.RECEIVED,
    )
    for operation in revision.operations if revision is not None else ():
        order.job_orders.append(
            JobOrder(
                sequence=operation.sequence,
                operation=operation.name,
                routing_operation_id=operation.id,
                work_center_id=operation.work_center_id,
                quantity=amount,
                parameters=dict(operation.recipe_parameters),
                status=JobOrderStatus.PLANNED,
            )
        )
    return order


def received_entry(order: ProductionOrder, product_code: str, revision: ProductRevision | None) -> dict[str, Any]:
    """The audit entry (all but the actor) of a received order."""
    return {
        "action": "production_order.received",
        "entity_type": "production order",
        "entity_id": order.order_number,
        "details": {
            "product": product_code,
            "revision": revision.revision if revision else None,
            "quantity": str(order.quantity),
            "unit": order.unit,
            "source": order.source,
            "job_orders": len(order.job_orders),
        },
    }


def _product_unit(session: Session, product: ProductDefinition) -> str:
    """The unit of the material the product is made as; pieces when it has none."""
    if product.material_definition_id is None:
        return DEFAULT_UNIT
    material = session.get(MaterialDefinition, product.material_definition_id)
    return material.unit if material else DEFAULT_UNIT


def add_job_order(
    session: Session,
    *,
    production_order_id: int,
    sequence: int,
    operation: str,
    quantity: Decimal | int | str | None = None,
    work_center_id: int | None = None,
    planned_start: datetime | None = None,
    planned_end: datetime | None = None,
    parameters: dict[str, object] | None = None,
) -> JobOrder:
    """A job order not taken from the routing (B2MML segment, rework step)."""
    order = get_production_order(session, order_id=production_order_id)
    if any(job.sequence == sequence for job in order.job_orders):
        raise RecordConflict(
            f"production order {order.order_number} already has job order {sequence}"
        )
    job = JobOrder(
        sequence=sequence,
        operation=operation,
        quantity=order.quantity if quantity is None else check_stored_amount(quantity, field="job order quantity"),
        work_center_id=work_center_id,
        planned_start=planned_start,
        planned_end=planned_end,
        parameters=dict(parameters or {}),
        status=JobOrderStatus.PLANNED,
    )
    order.job_orders.append(job)
    session.flush()
    return job


def get_production_order(session: Session, *, order_id: int, for_update: bool = False) -> ProductionOrder:
    """The order; ``for_update`` (writers): locked and read anew (see :func:`mom.db.queries.fetch`).
    Writers lock an order before its job orders, so that two of them never wait on each other in a circle."""
    return fetch(session, ProductionOrder, order_id, entity="production order", for_update=for_update)


def _lock_job_orders(session: Session, order: ProductionOrder) -> None:
    """The order's job orders locked (by id) and read anew, after the order itself."""
    session.execute(sa.select(JobOrder).where(JobOrder.production_order_id == order.id).order_by(JobOrder.id)
                    .with_for_update().execution_options(populate_existing=True)).all()


def get_production_order_by_number(session: Session, *, order_number: str) -> ProductionOrder:
    return fetch_by(
        session,
        sa.select(ProductionOrder).where(ProductionOrder.order_number == order_number),
        entity="production order",
        key=order_number,
    )


def list_production_orders(
    session: Session,
    *,
    status: ProductionOrderStatus | Sequence[ProductionOrderStatus] | None = None,
    product_code: str | None = None,
    due_before: datetime | None = None,
    offset: int = 0,
    limit: int = 100,
) -> tuple[Sequence[ProductionOrder], int]:
    """Orders by due date (no due date last), then priority (highest first)."""
    stmt = sa.select(ProductionOrder)
    if status is not None:
        statuses = [status] if isinstance(status, ProductionOrderStatus) else list(status)
        stmt = stmt.where(ProductionOrder.status.in_(statuses))
    if product_code is not None:
        stmt = stmt.join(ProductDefinition).where(ProductDefinition.code == product_code)
    if due_before is not None:
        stmt = stmt.where(ProductionOrder.due_at < due_before)
    stmt = stmt.order_by(
        ProductionOrder.due_at.is_(None),
        ProductionOrder.due_at,
        ProductionOrder.priority.desc(),
        ProductionOrder.id,
    )
    return page(session, stmt, offset=offset, limit=limit)


def change_production_order_status(
    session: Session,
    *,
    order_id: int,
    to: ProductionOrderStatus,
    actor: str,
    reason: str | None = None,
) -> ProductionOrder:
    order = get_production_order(session, order_id=order_id, for_update=True)
    before = order.status
    order.status = check_transition(before, to, entity_id=order.order_number)
    _lock_job_orders(session, order)
    if is_terminal(to) and to != ProductionOrderStatus.COMPLETED:
        for job in order.job_orders:
            if not is_terminal(job.status):
                target = (
                    JobOrderStatus.CANCELLED
                    if JobOrderStatus.CANCELLED in allowed_transitions(job.status)
                    else JobOrderStatus.ABORTED
                )
                _set_job_status(session, job, target, actor=actor, reason=f"order {to.value}")
    append_audit_entry(
        session,
        actor=actor,
        action="production_order.status_changed",
        entity_type="production order",
        entity_id=order.order_number,
        reason=reason,
        details={"from": before.value, "to": to.value},
    )
    session.flush()
    return order


QUANTITY_CHANGE_STATES = (
    ProductionOrderStatus.RECEIVED,
    ProductionOrderStatus.RELEASED,
    ProductionOrderStatus.HELD,
    ProductionOrderStatus.IN_PROGRESS,
)


def _explode(session: Session, order: ProductionOrder, *, at: datetime | None = None) -> None:
    """One planned job order per routing operation of the revision in effect at ``at``."""
    product = session.get(ProductDefinition, order.product_definition_id)
    code = product.code if product else str(order.product_definition_id)
    try:
        revision = effective_revision(session, product_code=code, at=at)
    except RecordNotFound:
        raise RecordConflict(
            f"production order {order.order_number}: no job orders, and product '{code}' has no revision "
            "in effect to take a routing from; add a revision or job orders first"
        ) from None
    if not revision.operations:
        raise RecordConflict(
            f"production order {order.order_number}: product '{code}' revision {revision.revision} has no "
            "routing operations to make job orders from"
        )
    order.product_revision_id = revision.id
    for operation in revision.operations:
        order.job_orders.append(
            JobOrder(
                sequence=operation.sequence,
                operation=operation.name,
                routing_operation_id=operation.id,
                work_center_id=operation.work_center_id,
                quantity=order.quantity,
                parameters=dict(operation.recipe_parameters),
                status=JobOrderStatus.PLANNED,
            )
        )
    session.flush()


def release_production_order(
    session: Session, *, order_id: int, actor: str, reason: str | None = None
) -> ProductionOrder:
    """Release an order to the floor: an order received without job orders gets them now from the
    routing in effect; refused (:class:`IllegalTransition`) unless the order is received or held."""
    order = get_production_order(session, order_id=order_id, for_update=True)
    check_transition(order.status, ProductionOrderStatus.RELEASED, entity_id=order.order_number)
    if not order.job_orders:
        _explode(session, order)
    return change_production_order_status(
        session, order_id=order.id, to=ProductionOrderStatus.RELEASED, actor=actor, reason=reason
    )


def change_production_order_quantity(
    session: Session,
    *,
    order_id: int,
    quantity: Decimal | int | str,
    actor: str,
    reason: str | None = None,
) -> ProductionOrder:
    """ERP changed the quantity: the order and its job orders not yet finished take the new amount.

    Refused with :class:`RecordConflict` once the order is completed, closed, cancelled or aborted,
    and when a job order has already made more good parts than the new quantity."""
    order = get_production_order(session, order_id=order_id, for_update=True)
    _lock_job_orders(session, order)
    amount = check_stored_amount(quantity, field=f"production order {order.order_number} quantity")
    if amount <= 0:
        raise DomainError(f"production order {order.order_number}: quantity {format_amount(amount)} must be positive")
    if order.status not in QUANTITY_CHANGE_STATES:
        allowed = ", ".join(s.value for s in QUANTITY_CHANGE_STATES)
        raise RecordConflict(
            f"production order {order.order_number} is {order.status.value}; its quantity can change only "
            f"while it is {allowed}"
        )
    made = max((job.good_quantity for job in order.job_orders), default=Decimal(0))
    if amount < made:
        raise RecordConflict(
            f"production order {order.order_number}: {format_amount(made)} {order.unit} are already made; "
            f"the quantity cannot go down to {format_amount(amount)}"
        )
    before = order.quantity
    order.quantity = amount
    for job in order.job_orders:
        if not is_terminal(job.status):
            job.quantity = amount
    append_audit_entry(
        session,
        actor=actor,
        action="production_order.quantity_changed",
        entity_type="production order",
        entity_id=order.order_number,
        reason=reason,
        details={"from": str(before), "to": str(amount), "unit": order.unit, "status": order.status.value},
    )
    session.flush()
    return order


def get_job_order(session: Session, *, job_order_id: int, for_update: bool = False) -> JobOrder:
    """The job order; ``for_update`` (writers): its production order locked first, then the job order,
    both read anew."""
    if for_update:
        job = fetch(session, JobOrder, job_order_id, entity="job order")
        get_production_order(session, order_id=job.production_order_id, for_update=True)
    return fetch(session, JobOrder, job_order_id, entity="job order", for_update=for_update)


def _job_label(job: JobOrder) -> str:
    return f"{job.production_order.order_number}/{job.sequence}"


def _set_job_status(
    session: Session,
    job: JobOrder,
    to: JobOrderStatus,
    *,
    actor: str,
    reason: str | None,
    at: datetime | None = None,
) -> None:
    before = job.status
    job.status = check_transition(before, to, entity_id=_job_label(job))
    when = at or utcnow()
    if to == JobOrderStatus.RUNNING and job.actual_start is None:
        job.actual_start = when
    if is_terminal(to) and job.actual_start is not None:
        job.actual_end = when
    append_audit_entry(
        session,
        actor=actor,
        action="job_order.status_changed",
        entity_type="job order",
        entity_id=_job_label(job),
        reason=reason,
        details={"from": before.value, "to": to.value, "work_unit_id": job.work_unit_id},
        at=when,
    )


def change_job_order_status(
    session: Session,
    *,
    job_order_id: int,
    to: JobOrderStatus,
    actor: str,
    reason: str | None = None,
    at: datetime | None = None,
) -> JobOrder:
    """Move a job order (dispatched -> running -> paused ...); the first job order to run puts
    its production order in progress."""
    job = get_job_order(session, job_order_id=job_order_id, for_update=True)
    _set_job_status(session, job, to, actor=actor, reason=reason, at=at)
    order = job.production_order
    if to == JobOrderStatus.RUNNING and order.status == ProductionOrderStatus.RELEASED:
        change_production_order_status(
            session,
            order_id=order.id,
            to=ProductionOrderStatus.IN_PROGRESS,
            actor=actor,
            reason=f"job order {_job_label(job)} started",
        )
    session.flush()
    return job


def dispatch_job_order(
    session: Session, *, job_order_id: int, work_unit_id: int, actor: str
) -> JobOrder:
    """Assign a work unit of the job's work center and mark the job dispatched."""
    job = get_job_order(session, job_order_id=job_order_id, for_update=True)
    unit: Equipment = get_equipment(session, equipment_id=work_unit_id)
    if unit.level != EquipmentLevel.WORK_UNIT:
        raise DomainError(f"job order {_job_label(job)}: '{unit.path}' is not a work unit")
    if job.work_center_id is not None and unit.parent_id != job.work_center_id:
        center = get_equipment(session, equipment_id=job.work_center_id)
        raise DomainError(
            f"job order {_job_label(job)}: work unit '{unit.path}' is not in work center "
            f"'{center.path}'"
        )
    if job.production_order.status not in (
        ProductionOrderStatus.RELEASED,
        ProductionOrderStatus.IN_PROGRESS,
    ):
        raise DomainError(
            f"job order {_job_label(job)}: production order is "
            f"{job.production_order.status.value}; release it before dispatching"
        )
    job.work_unit_id = unit.id
    _set_job_status(session, job, JobOrderStatus.DISPATCHED, actor=actor, reason=None)
    session.flush()
    return job


def report_job_order_quantities(
    session: Session,
    *,
    job_order_id: int,
    good: Decimal | int | str,
    scrap: Decimal | int | str = 0,
) -> JobOrder:
    """Set the good and scrap counts of a job order (absolute values, e.g. from PLC counters)."""
    job = get_job_order(session, job_order_id=job_order_id, for_update=True)
    good_qty, scrap_qty = to_decimal(good, field="good"), to_decimal(scrap, field="scrap")
    if good_qty < 0 or scrap_qty < 0:
        raise DomainError(f"job order {_job_label(job)}: counts must not be negative")
    job.good_quantity, job.scrap_quantity = good_qty, scrap_qty
    session.flush()
    return job


def list_job_orders(
    session: Session,
    *,
    production_order_id: int | None = None,
    work_center_id: int | None = None,
    work_unit_id: int | None = None,
    status: JobOrderStatus | Sequence[JobOrderStatus] | None = None,
    offset: int = 0,
    limit: int = 100,
) -> tuple[Sequence[JobOrder], int]:
    stmt = sa.select(JobOrder)
    if production_order_id is not None:
        stmt = stmt.where(JobOrder.production_order_id == production_order_id)
    if work_center_id is not None:
        stmt = stmt.where(JobOrder.work_center_id == work_center_id)
    if work_unit_id is not None:
        stmt = stmt.where(JobOrder.work_unit_id == work_unit_id)
    if status is not None:
        statuses = [status] if isinstance(status, JobOrderStatus) else list(status)
        stmt = stmt.where(JobOrder.status.in_(statuses))
    stmt = stmt.order_by(JobOrder.planned_start, JobOrder.production_order_id, JobOrder.sequence)
    return page(session, stmt, offset=offset, limit=limit)

