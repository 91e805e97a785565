"""Data functions for material definitions, lots, sublots and lot genealogy.

Genealogy is stored as links "this much of lot A went into lot B"; :func:`trace_backward` walks
from a lot to everything that went into it (raw materials, recursively), :func:`trace_forward`
from a lot to everything made from it (for a recall), both with one recursive SQL query.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Session, selectinload

from mom.db.audit import append_audit_entry
from mom.db.base import utcnow
from mom.db.errors import RecordConflict
from mom.db.models import GenealogyLink, MaterialDefinition, MaterialLot, MaterialSublot
from mom.db.queries import fetch, fetch_by, page
from mom.domain import DomainError, LotStatus, check_transition
from mom.domain.status import allowed_transitions
from mom.domain.values import format_amount, to_decimal

MAX_TRACE_DEPTH = 100


def add_material_definition(
    session: Session, *, code: str, name: str, unit: str, description: str | None = None
) -> MaterialDefinition:
    if session.scalar(sa.select(MaterialDefinition.id).where(MaterialDefinition.code == code)):
        raise RecordConflict(f"material definition '{code}' already exists")
    material = MaterialDefinition(code=code, name=name, unit=unit, description=description)
    session.add(material)
    session.flush()
    return material


def get_material_definition(session: Session, *, code: str) -> MaterialDefinition:
    return fetch_by(
        session,
        sa.select(MaterialDefinition).where(MaterialDefinition.code == code),
        entity="material definition",
        key=code,
    )


def list_material_definitions(
    session: Session, *, search: str | None = None, offset: int = 0, limit: int = 100
) -> tuple[Sequence[MaterialDefinition], int]:
    stmt = sa.select(MaterialDefinition)
    if search:
        pattern = f"%{search}%"
        stmt = stmt.where(
            sa.or_(MaterialDefinition.code.ilike(pattern), MaterialDefinition.name.ilike(pattern))
        )
    return page(session, stmt.order_by(MaterialDefinition.code), offset=offset, limit=limit)


def create_lot(
    session: Session,
    *,
    lot_number: str,
    material_code: str,
    quantity: Decimal | int | str,
    unit: str | None = None,
    location_id: int | None = None,
    status: LotStatus = LotStatus.AVAILABLE,
) -> MaterialLot:
    """A new lot of ``material_code``; ``unit`` defaults to the material's unit and must match."""
    material = get_material_definition(session, code=material_code)
    unit = unit or material.unit
    if unit != material.unit:
        raise DomainError(
            f"lot {lot_number}: unit '{unit}' differs from material '{material_code}' "
            f"unit '{material.unit}'"
        )
    amount = to_decimal(quantity, field=f"lot {lot_number} quantity")
    if amount < 0:
        raise DomainError(f"lot {lot_number}: quantity {format_amount(amount)} must not be negative")
    if session.scalar(sa.select(MaterialLot.id).where(MaterialLot.lot_number == lot_number)):
        raise RecordConflict(f"lot '{lot_number}' already exists")
    lot = MaterialLot(
        lot_number=lot_number,
        material=material,
        quantity=amount,
        unit=unit,
        status=status,
        location_id=location_id,
    )
    session.add(lot)
    session.flush()
    return lot


def get_lot(session: Session, *, lot_id: int, for_update: bool = False) -> MaterialLot:
    """The lot; ``for_update`` (writers): locked and read anew (see :func:`mom.db.queries.fetch`)."""
    return fetch(session, MaterialLot, lot_id, entity="lot", for_update=for_update)


def get_lot_by_number(session: Session, *, lot_number: str) -> MaterialLot:
    return fetch_by(
        session,
        sa.select(MaterialLot).where(MaterialLot.lot_number == lot_number),
        entity="lot",
        key=lot_number,
    )


def list_lots(
    session: Session,
    *,
    material_code: str | None = None,
    status: LotStatus | None = None,
    location_id: int | None = None,
    offset: int = 0,
    limit: int = 100,
) -> tuple[Sequence[MaterialLot], int]:
    stmt = sa.select(MaterialLot)
    if material_code is not None:
        stmt = stmt.join(MaterialLot.material).where(MaterialDefinition.code == material_code)
    if status is not None:
        stmt = stmt.where(MaterialLot.status == status)
    if location_id is not None:
        stmt = stmt.where(MaterialLot.location_id == location_id)
    return page(session, stmt.order_by(MaterialLot.lot_number), offset=offset, limit=limit)


def create_sublot(
    session: Session, *, lot_id: int, sublot_number: str, quantity: Decimal | int | str
) -> MaterialSublot:
    """Split part of a lot into a sublot (a bag, a container); all sublots together never
    exceed the lot."""
    lot = get_lot(session, lot_id=lot_id)
    amount = to_decimal(quantity, field=f"sublot {sublot_number} quantity")
    allocated = sum((s.quantity for s in lot.sublots), Decimal(0))
    if amount <= 0 or allocated + amount > lot.quantity:
        raise DomainError(
            f"sublot {sublot_number}: {format_amount(amount)} {lot.unit} does not fit in lot "
            f"{lot.lot_number} ({format_amount(lot.quantity)} {lot.unit}, "
            f"{format_amount(allocated)} already in sublots)"
        )
    sublot = MaterialSublot(
        sublot_number=sublot_number, quantity=amount, unit=lot.unit, status=lot.status
    )
    lot.sublots.append(sublot)
    session.flush()
    return sublot


def change_lot_status(
    session: Session, *, lot_id: int, to: LotStatus, actor: str, reason: str | None = None
) -> MaterialLot:
    """Hold, release, scrap or consume a lot (and its sublots); audited."""
    lot = get_lot(session, lot_id=lot_id, for_update=True)
    before = lot.status
    lot.status = check_transition(before, to, entity_id=lot.lot_number)
    for sublot in lot.sublots:
        if sublot.status != to and to in allowed_transitions(sublot.status):
            sublot.status = to
    append_audit_entry(
        session,
        actor=actor,
        action="lot.status_changed",
        entity_type="lot",
        entity_id=lot.lot_number,
        reason=reason,
        details={"from": before.value, "to": to.value},
    )
    session.flush()
    return lot


def consume_lot(
    session: Session,
    *,
    consumed_lot_id: int,
    produced_lot_id: int,
    quantity: Decimal | int | str,
    performed_by: str,
    unit: str | None = None,
    job_order_id: int | None = None,
    operation: str | None = None,
    work_unit_id: int | None = None,
    at: datetime | None = None,
) -> GenealogyLink:
    """Record that ``quantity`` of one lot went into another, and take it off the consumed lot
    (which becomes *consumed* when empty)."""
    consumed = get_lot(session, lot_id=consumed_lot_id, for_update=True)  # its quantity and status change
    produced = get_lot(session, lot_id=produced_lot_id)
    unit = unit or consumed.unit
    amount = to_decimal(quantity, field="consumed quantity")
    if consumed.id == produced.id:
        raise DomainError(f"lot {consumed.lot_number} cannot be consumed into itself")
    if unit != consumed.unit:
        raise DomainError(
            f"lot {consumed.lot_number} is counted in '{consumed.unit}', not '{unit}'"
        )
    if consumed.status != LotStatus.AVAILABLE:
        raise DomainError(
            f"lot {consumed.lot_number} is {consumed.status.value}; only an available lot "
            "can be consumed"
        )
    if amount <= 0 or amount > consumed.quantity:
        raise DomainError(
            f"lot {consumed.lot_number}: cannot consume {format_amount(amount)} {unit}; "
            f"{format_amount(consumed.quantity)} {unit} left"
        )
    if any(step.link.consumed_lot_id == produced.id for step in _trace(session, consumed.id, -1)):
        raise RecordConflict(
            f"lot {produced.lot_number} already went into lot {consumed.lot_number}; "
            "consuming it back would make the genealogy a cycle"
        )
    link = GenealogyLink(
        consumed_lot_id=consumed.id,
        produced_lot_id=produced.id,
        quantity=amount,
        unit=unit,
        job_order_id=job_order_id,
        operation=operation,
        work_unit_id=work_unit_id,
        performed_by=performed_by,
        at=at or utcnow(),
    )
    session.add(link)
    consumed.quantity = consumed.quantity - amount
    if consumed.quantity == 0:
        consumed.status = check_transition(
            consumed.status, LotStatus.CONSUMED, entity_id=consumed.lot_number
        )
    session.flush()
    return link


@dataclass(frozen=True, slots=True)
class GenealogyStep:
    """One link of a trace; ``depth`` 1 is directly linked to the lot traced from."""

    depth: int
    link: GenealogyLink


def _trace(session: Session, lot_id: int, direction: int) -> list[GenealogyStep]:
    """``direction`` -1 walks to inputs (backward), +1 to outputs (forward)."""
    links = GenealogyLink.__table__
    near, far = (
        (links.c.produced_lot_id, links.c.consumed_lot_id)
        if direction < 0
        else (links.c.consumed_lot_id, links.c.produced_lot_id)
    )
    start = (
        sa.select(links.c.id.label("link_id"), far.label("lot_id"), sa.literal(1).label("depth"))
        .where(near == lot_id)
        .cte("trace", recursive=True)
    )
    step = (
        sa.select(links.c.id, far, (start.c.depth + 1).label("depth"))
        .join(start, near == start.c.lot_id)
        .where(start.c.depth < MAX_TRACE_DEPTH)
    )
    trace = start.union_all(step)
    rows = session.execute(
        sa.select(trace.c.link_id, sa.func.min(trace.c.depth)).group_by(trace.c.link_id)
    ).all()
    depth_of = {int(link_id): int(depth) for link_id, depth in rows}
    if not depth_of:
        return []
    loaded = session.execute(
        sa.select(GenealogyLink)
        .where(GenealogyLink.id.in_(depth_of))
        .options(selectinload(GenealogyLink.consumed_lot), selectinload(GenealogyLink.produced_lot))
    ).scalars()
    steps = [GenealogyStep(depth_of[link.id], link) for link in loaded]
    return sorted(steps, key=lambda s: (s.depth, s.link.at, s.link.id))


def trace_backward(session: Session, *, lot_id: int) -> list[GenealogyStep]:
    """Everything that went into the lot, all levels down, nearest first."""
    get_lot(session, lot_id=lot_id)
    return _trace(session, lot_id, -1)


def trace_forward(session: Session, *, lot_id: int) -> list[GenealogyStep]:
    """Everything made from the lot, all levels up, nearest first (recall scope)."""
    get_lot(session, lot_id=lot_id)
    return _trace(session, lot_id, +1)


@dataclass(frozen=True)
class RecallHold:
    """What a recall hold did: the lots it put on hold, and the others of the scope with their
    status (consumed, scrapped or already on hold: nothing to hold)."""

    held: list[str]
    left: dict[str, LotStatus]


def hold_made_from(session: Session, *, lot_id: int, actor: str, reason: str) -> RecallHold:
    """Hold the lot and every available lot made from it, all levels up (the recall scope of a
    suspect lot), in the caller's transaction: all of them or, when one fails, none. Each hold is
    audited with the reason, naming the lot recalled."""
    suspect = get_lot(session, lot_id=lot_id)
    scope = [suspect, *dict.fromkeys(step.link.produced_lot for step in trace_forward(session, lot_id=lot_id))]
    # locked in one order (by id), read anew: two recalls at once never wait on each other in a circle
    session.execute(sa.select(MaterialLot).where(MaterialLot.id.in_([lot.id for lot in scope]))
                    .order_by(MaterialLot.id).with_for_update().execution_options(populate_existing=True)).all()
    held: list[str] = []
    left: dict[str, LotStatus] = {}
    for lot in scope:
        if lot.status == LotStatus.AVAILABLE:
            change_lot_status(session, lot_id=lot.id, to=LotStatus.ON_HOLD, actor=actor,
                              reason=f"recall of {suspect.lot_number}: {reason}")
            held.append(lot.lot_number)
        else:
            left[lot.lot_number] = lot.status
    return RecallHold(held=held, left=left)
