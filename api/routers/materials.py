"""Materials and lots: definitions, lots (list, show, hold, release) and lot genealogy both ways
(backward: what went into a lot; forward: what was made from it, the scope of a recall)."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from fastapi import APIRouter, Path, Query
from sqlalchemy.orm import Session

from api.deps import AnyUser, ContextDep, Supervisor
from api.pagination import Page, Paging
from api.schemas.common import NUMBER, TEXT
from api.schemas.materials import (
    GenealogyStepOut,
    LotAction,
    LotOut,
    MaterialOut,
    RecallHoldIn,
    RecallHoldOut,
    SublotOut,
)
from mom.db.materials import (
    change_lot_status,
    get_lot_by_number,
    hold_made_from,
    list_lots,
    list_material_definitions,
    trace_backward,
    trace_forward,
)
from mom.db.models import MaterialLot
from mom.domain import LotStatus

router = APIRouter(tags=["materials"])
LotNumber = Annotated[str, Path(pattern=NUMBER, description="the lot number")]
REFUSALS: dict[int | str, dict[str, str]] = {404: {"description": "no such lot"},
                                             409: {"description": "the lot's status does not allow it"}}


class Direction(StrEnum):
    BACKWARD = "backward"
    FORWARD = "forward"


def lot_out(lot: MaterialLot) -> LotOut:
    return LotOut(lot_number=lot.lot_number, material_code=lot.material.code, status=lot.status.value,
                  quantity=lot.quantity, unit=lot.unit, location_id=lot.location_id, created_at=lot.created_at,
                  sublots=[SublotOut.model_validate(s) for s in lot.sublots])


@router.get("/materials", response_model=Page[MaterialOut])
async def materials(context: ContextDep, user: AnyUser, paging: Paging,
                    search: Annotated[str | None, Query(max_length=100, pattern=TEXT,
                                                        description="part of the code or name")] = None,
                    ) -> Page[MaterialOut]:
    def work(session: Session) -> Page[MaterialOut]:
        items, total = list_material_definitions(session, search=search, offset=paging.offset, limit=paging.limit)
        return Page(items=[MaterialOut.model_validate(m) for m in items], total=total, **paging.model_dump())

    return await context.db(work, write=False)


@router.get("/lots", response_model=Page[LotOut])
async def lots(context: ContextDep, user: AnyUser, paging: Paging,
               material_code: Annotated[str | None, Query(max_length=100, pattern=TEXT)] = None,
               status_: Annotated[LotStatus | None, Query(alias="status")] = None,
               location_id: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None) -> Page[LotOut]:
    def work(session: Session) -> Page[LotOut]:
        items, total = list_lots(session, material_code=material_code, status=status_, location_id=location_id,
                                 offset=paging.offset, limit=paging.limit)
        return Page(items=[lot_out(lot) for lot in items], total=total, **paging.model_dump())

    return await context.db(work, write=False)


@router.get("/lots/{lot_number}", response_model=LotOut, responses={404: REFUSALS[404]})
async def lot(context: ContextDep, user: AnyUser, lot_number: LotNumber) -> LotOut:
    return await context.db(lambda s: lot_out(get_lot_by_number(s, lot_number=lot_number)), write=False)


async def _set_status(context: ContextDep, user: str, lot_number: str, to: LotStatus, reason: str | None) -> LotOut:
    def work(session: Session) -> LotOut:
        found = get_lot_by_number(session, lot_number=lot_number)
        return lot_out(change_lot_status(session, lot_id=found.id, to=to, actor=user, reason=reason))

    return await context.db(work)


@router.post("/lots/{lot_number}/hold", response_model=LotOut, responses=REFUSALS)
async def hold(context: ContextDep, user: Supervisor, lot_number: LotNumber, body: LotAction) -> LotOut:
    """Put an available lot on hold (quality): it cannot be consumed until released."""
    return await _set_status(context, user.username, lot_number, LotStatus.ON_HOLD, body.reason)


@router.post("/lots/{lot_number}/release", response_model=LotOut, responses=REFUSALS)
async def release(context: ContextDep, user: Supervisor, lot_number: LotNumber, body: LotAction) -> LotOut:
    """Release a lot on hold: available again."""
    return await _set_status(context, user.username, lot_number, LotStatus.AVAILABLE, body.reason)


@router.post("/lots/{lot_number}/recall-hold", response_model=RecallHoldOut, responses={404: REFUSALS[404]})
async def recall_hold(context: ContextDep, user: Supervisor, lot_number: LotNumber,
                      body: RecallHoldIn) -> RecallHoldOut:
    """Hold a suspect lot and every available lot made from it, all levels up, in one transaction
    (each hold audited with the reason); the others of the scope are listed with their status."""
    def work(session: Session) -> RecallHoldOut:
        found = get_lot_by_number(session, lot_number=lot_number)
        recall = hold_made_from(session, lot_id=found.id, actor=user.username, reason=body.reason)
        return RecallHoldOut(lot_number=lot_number, held=recall.held,
                             left={number: status.value for number, status in recall.left.items()})

    return await context.db(work)


@router.get("/lots/{lot_number}/genealogy", response_model=Page[GenealogyStepOut], responses={404: REFUSALS[404]})
async def genealogy(context: ContextDep, user: AnyUser, lot_number: LotNumber, paging: Paging,
                    direction: Direction = Direction.BACKWARD) -> Page[GenealogyStepOut]:
    """Backward: everything that went into the lot, all levels down; forward: everything made from
    it, all levels up. Nearest first."""
    def work(session: Session) -> Page[GenealogyStepOut]:
        found = get_lot_by_number(session, lot_number=lot_number)
        trace = trace_backward if direction == Direction.BACKWARD else trace_forward
        steps = trace(session, lot_id=found.id)
        chosen = steps[paging.offset:paging.offset + paging.limit]
        items = [GenealogyStepOut(depth=s.depth, consumed_lot=s.link.consumed_lot.lot_number,
                                  produced_lot=s.link.produced_lot.lot_number, quantity=s.link.quantity,
                                  unit=s.link.unit, operation=s.link.operation, job_order_id=s.link.job_order_id,
                                  work_unit_id=s.link.work_unit_id, performed_by=s.link.performed_by, at=s.link.at)
                 for s in chosen]
        return Page(items=items, total=len(steps), **paging.model_dump())

    return await context.db(work, write=False)
