"""Data functions for product definitions and their revisions (M-BOM, routing, effectivity)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from mom.db.base import utcnow
from mom.db.equipment import get_equipment_by_path
from mom.db.errors import RecordConflict, RecordNotFound
from mom.db.materials import get_material_definition
from mom.db.models import BomLine, ProductDefinition, ProductRevision, RoutingOperation
from mom.db.queries import fetch_by, page
from mom.domain import DomainError, EquipmentLevel
from mom.domain.values import to_decimal


@dataclass(frozen=True, slots=True)
class BomLineSpec:
    """``quantity`` of ``material_code`` per one unit of product."""

    line_number: int
    material_code: str
    quantity: Decimal | int | str
    unit: str | None = None
    operation_sequence: int | None = None


@dataclass(frozen=True, slots=True)
class OperationSpec:
    sequence: int
    name: str
    work_center_path: str
    setup_time_s: float = 0.0
    run_time_s: float = 0.0
    recipe_parameters: dict[str, Any] = field(default_factory=dict)
    work_instructions: str | None = None


def create_product(session: Session, *, code: str, name: str, material_code: str | None = None) -> ProductDefinition:
    if session.scalar(sa.select(ProductDefinition.id).where(ProductDefinition.code == code)):
        raise RecordConflict(f"product '{code}' already exists")
    material_id = None if material_code is None else get_material_definition(session, code=material_code).id
    product = ProductDefinition(code=code, name=name, material_definition_id=material_id)
    session.add(product)
    session.flush()
    return product


def get_product(session: Session, *, code: str) -> ProductDefinition:
    return fetch_by(
        session,
        sa.select(ProductDefinition).where(ProductDefinition.code == code),
        entity="product",
        key=code,
    )


def list_products(
    session: Session, *, search: str | None = None, offset: int = 0, limit: int = 100
) -> tuple[Sequence[ProductDefinition], int]:
    stmt = sa.select(ProductDefinition)
    if search:
        pattern = f"%{search}%"
        stmt = stmt.where(sa.or_(ProductDefinition.code.ilike(pattern), ProductDefinition.name.ilike(pattern)))
    return page(session, stmt.order_by(ProductDefinition.code), offset=offset, limit=limit)


def _overlaps(a_from: datetime, a_to: datetime | None, b_from: datetime, b_to: datetime | None) -> bool:
    return (b_to is None or a_from < b_to) and (a_to is None or b_from < a_to)


def _check_setpoints(where: str, parameters: dict[str, Any]) -> None:
    """The recipe's setpoints are finite numbers inside the recipe's own ``limits``
    (``{"Pressure": {"min": 4, "max": 7}}``), whose bounds are finite numbers with min <= max."""
    setpoints = parameters.get("setpoints") or {}
    limits = parameters.get("limits") or {}
    if not isinstance(setpoints, dict) or not isinstance(limits, dict):
        raise DomainError(f"{where}: recipe 'setpoints' and 'limits' must be objects keyed by setpoint name")
    for name, limit in limits.items():
        if not isinstance(limit, dict):
            raise DomainError(f"{where}: recipe limits of {name} must be {{'min': x, 'max': y}}, got {limit!r}")
        for bound in ("min", "max"):
            if limit.get(bound) is not None and not _finite(limit[bound]):
                raise DomainError(f"{where}: recipe limits of {name}: {bound} {limit[bound]!r} is not a finite number")
        if limit.get("min") is not None and limit.get("max") is not None and limit["min"] > limit["max"]:
            raise DomainError(f"{where}: recipe limits of {name}: min {limit['min']} is above max {limit['max']}")
    for name, value in setpoints.items():
        if not _finite(value):
            raise DomainError(f"{where}: recipe setpoint {name} = {value!r} is not a finite number")
        limit = limits.get(name) or {}
        low, high = limit.get("min"), limit.get("max")
        if (low is not None and value < low) or (high is not None and value > high):
            raise DomainError(f"{where}: recipe setpoint {name} = {value} is outside its limits "
                              f"{'-inf' if low is None else low}..{'inf' if high is None else high}")


def _finite(value: Any) -> bool:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    try:
        return math.isfinite(value)
    except OverflowError:
        return False


def add_revision(
    session: Session,
    *,
    product_code: str,
    revision: str,
    effective_from: datetime,
    effective_to: datetime | None = None,
    bom: Sequence[BomLineSpec] = (),
    operations: Sequence[OperationSpec] = (),
    change_note: str | None = None,
) -> ProductRevision:
    """Add a revision; its effectivity must not overlap another revision of the product (end
    the previous one first with :func:`end_revision`)."""
    product = get_product(session, code=product_code)
    where = f"product {product_code} revision {revision}"
    for spec in operations:
        _check_setpoints(f"{where} operation {spec.sequence}", spec.recipe_parameters)
    if effective_to is not None and effective_to <= effective_from:
        raise DomainError(f"{where}: effective_to must be after effective_from")
    for other in product.revisions:
        if other.revision == revision:
            raise RecordConflict(f"{where} already exists")
        if _overlaps(effective_from, effective_to, other.effective_from, other.effective_to):
            raise RecordConflict(
                f"{where}: effectivity overlaps revision {other.revision} "
                f"({other.effective_from.isoformat()} .. "
                f"{other.effective_to.isoformat() if other.effective_to else 'open'})"
            )
    sequences = [op.sequence for op in operations]
    if len(set(sequences)) != len(sequences):
        raise DomainError(f"{where}: routing operation sequences repeat: {sequences}")
    rev = ProductRevision(
        revision=revision,
        effective_from=effective_from,
        effective_to=effective_to,
        change_note=change_note,
    )
    for spec in operations:
        work_center = get_equipment_by_path(session, path=spec.work_center_path)
        if work_center.level != EquipmentLevel.WORK_CENTER:
            raise DomainError(
                f"{where} operation {spec.sequence}: '{spec.work_center_path}' is a "
                f"{work_center.level.value}, not a work center"
            )
        rev.operations.append(
            RoutingOperation(
                sequence=spec.sequence,
                name=spec.name,
                work_center_id=work_center.id,
                setup_time_s=spec.setup_time_s,
                run_time_s=spec.run_time_s,
                recipe_parameters=dict(spec.recipe_parameters),
                work_instructions=spec.work_instructions,
            )
        )
    for line in bom:
        material = get_material_definition(session, code=line.material_code)
        if line.operation_sequence is not None and line.operation_sequence not in sequences:
            raise DomainError(
                f"{where} BOM line {line.line_number}: operation {line.operation_sequence} "
                f"is not in the routing {sequences}"
            )
        rev.bom_lines.append(
            BomLine(
                line_number=line.line_number,
                material_definition_id=material.id,
                quantity=to_decimal(line.quantity, field=f"BOM line {line.line_number}"),
                unit=line.unit or material.unit,
                operation_sequence=line.operation_sequence,
            )
        )
    product.revisions.append(rev)
    session.flush()
    return rev


def end_revision(session: Session, *, product_code: str, revision: str, effective_to: datetime) -> ProductRevision:
    rev = get_revision(session, product_code=product_code, revision=revision)
    if effective_to <= rev.effective_from:
        raise DomainError(
            f"product {product_code} revision {revision}: cannot end before it starts "
            f"({rev.effective_from.isoformat()})"
        )
    rev.effective_to = effective_to
    session.flush()
    return rev


def get_revision(session: Session, *, product_code: str, revision: str) -> ProductRevision:
    return fetch_by(
        session,
        sa.select(ProductRevision)
        .join(ProductRevision.product)
        .where(ProductDefinition.code == product_code, ProductRevision.revision == revision),
        entity="product revision",
        key=f"{product_code}/{revision}",
    )


def effective_revision(session: Session, *, product_code: str, at: datetime | None = None) -> ProductRevision:
    """The revision in effect at ``at`` (now by default)."""
    when = at or utcnow()
    stmt = (
        sa.select(ProductRevision)
        .join(ProductRevision.product)
        .where(
            ProductDefinition.code == product_code,
            ProductRevision.effective_from <= when,
            sa.or_(ProductRevision.effective_to.is_(None), ProductRevision.effective_to > when),
        )
    )
    rev = session.execute(stmt).scalar_one_or_none()
    if rev is None:
        raise RecordNotFound("effective revision", f"{product_code} at {when.isoformat()}")
    return rev
