"""Production orders: receive (JSON or a B2MML schedule), list, show, release to job orders,
change quantity, cancel. Orders are addressed by their order number (the ERP's key)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated

import sqlalchemy as sa
from fastapi import APIRouter, File, HTTPException, Path, Query, UploadFile, status
from fastapi.concurrency import run_in_threadpool
from sqlalchemy.orm import Session, selectinload

from api.deps import AnyUser, ContextDep, Supervisor
from api.pagination import Page, Paging
from api.schemas.common import NUMBER, TEXT, UtcTime
from api.schemas.orders import JobOrderOut, OrderAction, OrderCreate, OrderOut, QuantityChange, ScheduleImportOut
from mom.b2mml import B2mmlError, read_production_schedule
from mom.db.exchange import import_production_schedule
from mom.db.models import ProductDefinition, ProductionOrder, ProductRevision
from mom.db.orders import (
    change_production_order_quantity,
    change_production_order_status,
    create_production_order,
    get_production_order_by_number,
    list_production_orders,
    release_production_order,
)
from mom.domain import ProductionOrderStatus

router = APIRouter(prefix="/orders", tags=["orders"])
OrderNumber = Annotated[str, Path(pattern=NUMBER, description="the ERP order number")]
MAX_SCHEDULE_BYTES = 10 * 1024 * 1024
REFUSALS: dict[int | str, dict[str, str]] = {
    404: {"description": "no such order (or product)"},
    409: {"description": "the order's status does not allow it"},
}


def orders_out(session: Session, orders: Sequence[ProductionOrder]) -> list[OrderOut]:
    """The orders with product code, revision and job orders, in three queries for the whole page."""
    if not orders:
        return []
    ids = [o.id for o in orders]
    session.scalars(sa.select(ProductionOrder).where(ProductionOrder.id.in_(ids))
                    .options(selectinload(ProductionOrder.job_orders))).all()
    codes = {key: code for key, code in session.execute(sa.select(ProductDefinition.id, ProductDefinition.code).where(
        ProductDefinition.id.in_({o.product_definition_id for o in orders})))}
    revisions = {key: rev for key, rev in session.execute(sa.select(ProductRevision.id, ProductRevision.revision).where(
        ProductRevision.id.in_({o.product_revision_id for o in orders if o.product_revision_id})))}
    return [OrderOut(id=o.id, order_number=o.order_number, product_code=codes[o.product_definition_id],
                     revision=revisions.get(o.product_revision_id) if o.product_revision_id else None,
                     quantity=o.quantity, unit=o.unit, status=o.status.value, priority=o.priority, due_at=o.due_at,
                     source=o.source, created_at=o.created_at, updated_at=o.updated_at,
                     job_orders=[JobOrderOut.model_validate(job) for job in o.job_orders])
            for o in orders]


def order_out(session: Session, order: ProductionOrder) -> OrderOut:
    return orders_out(session, [order])[0]


@router.post("", response_model=OrderOut, status_code=status.HTTP_201_CREATED,
             responses={404: {"description": "unknown product, or none of its revisions is in effect"},
                        409: {"description": "the order number exists"}})
async def create(context: ContextDep, user: Supervisor, body: OrderCreate) -> OrderOut:
    def work(session: Session) -> OrderOut:
        order = create_production_order(
            session, order_number=body.order_number, product_code=body.product_code, quantity=body.quantity,
            unit=body.unit, due_at=body.due_at, priority=body.priority, source="api", actor=user.username,
            explode=body.explode)
        return order_out(session, order)

    return await context.db(work)


@router.post("/b2mml", response_model=ScheduleImportOut, status_code=status.HTTP_201_CREATED,
             responses={409: {"description": "an order of the schedule exists (nothing imported)"},
                        422: {"description": "the document is not a usable B2MML schedule (file, line, element)"}})
async def import_schedule(context: ContextDep, user: Supervisor,
                          file: Annotated[UploadFile, File(description="a B2MML ProductionSchedule (XML)")]
                          ) -> ScheduleImportOut:
    """One order per production request of a B2MML schedule; all or nothing."""
    data = await file.read(MAX_SCHEDULE_BYTES + 1)
    name = file.filename or "schedule.xml"
    if len(data) > MAX_SCHEDULE_BYTES:
        raise HTTPException(status.HTTP_413_CONTENT_TOO_LARGE, f"file: {name} is larger than {MAX_SCHEDULE_BYTES} "
                            "bytes")
    try:
        schedule = await run_in_threadpool(read_production_schedule, data, name)
    except B2mmlError as exc:
        problems = [{"file": p.file, "line": p.line, "element": p.element, "message": p.message}
                    for p in exc.problems]
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT,
                            {"message": f"file: {name} is not a usable B2MML schedule", "problems": problems}) from None

    def work(session: Session) -> ScheduleImportOut:
        orders = import_production_schedule(session, schedule=schedule, actor=user.username)
        return ScheduleImportOut(schedule_id=schedule.id or None, orders=orders_out(session, orders))

    return await context.db(work)


@router.get("", response_model=Page[OrderOut])
async def index(context: ContextDep, user: AnyUser, paging: Paging,
                status_: Annotated[list[ProductionOrderStatus] | None, Query(alias="status")] = None,
                product_code: Annotated[str | None, Query(max_length=100, pattern=TEXT)] = None,
                due_before: Annotated[UtcTime | None, Query()] = None) -> Page[OrderOut]:
    """Orders by due date (none last), then priority."""
    def work(session: Session) -> Page[OrderOut]:
        items, total = list_production_orders(session, status=status_ or None, product_code=product_code,
                                              due_before=due_before, offset=paging.offset, limit=paging.limit)
        return Page(items=orders_out(session, items), total=total, **paging.model_dump())

    return await context.db(work, write=False)


@router.get("/{order_number}", response_model=OrderOut, responses={404: REFUSALS[404]})
async def show(context: ContextDep, user: AnyUser, order_number: OrderNumber) -> OrderOut:
    return await context.db(lambda s: order_out(s, get_production_order_by_number(s, order_number=order_number)),
                            write=False)


@router.post("/{order_number}/release", response_model=OrderOut, responses=REFUSALS)
async def release(context: ContextDep, user: Supervisor, order_number: OrderNumber, body: OrderAction) -> OrderOut:
    """Received (or held) -> released; an order without job orders gets them from the routing in effect."""
    def work(session: Session) -> OrderOut:
        order = get_production_order_by_number(session, order_number=order_number)
        return order_out(session, release_production_order(session, order_id=order.id, actor=user.username,
                                                           reason=body.reason))

    return await context.db(work)


@router.post("/{order_number}/quantity", response_model=OrderOut,
             responses={**REFUSALS, 422: {"description": "the quantity is not a positive amount"}})
async def change_quantity(context: ContextDep, user: Supervisor, order_number: OrderNumber,
                          body: QuantityChange) -> OrderOut:
    def work(session: Session) -> OrderOut:
        order = get_production_order_by_number(session, order_number=order_number)
        changed = change_production_order_quantity(session, order_id=order.id, quantity=body.quantity,
                                                   actor=user.username, reason=body.reason)
        return order_out(session, changed)

    return await context.db(work)


@router.post("/{order_number}/cancel", response_model=OrderOut, responses=REFUSALS)
async def cancel(context: ContextDep, user: Supervisor, order_number: OrderNumber, body: OrderAction) -> OrderOut:
    """Cancel an order not started yet; its open job orders are cancelled with it."""
    def work(session: Session) -> OrderOut:
        order = get_production_order_by_number(session, order_number=order_number)
        cancelled = change_production_order_status(session, order_id=order.id, to=ProductionOrderStatus.CANCELLED,
                                                   actor=user.username, reason=body.reason)
        return order_out(session, cancelled)

    return await context.db(work)
