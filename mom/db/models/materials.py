"""Material definitions, lots and sublots, and the genealogy links between lots."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from mom.db.base import Base, status_column_type, utcnow
from mom.domain import LotStatus


class MaterialDefinition(Base):
    __tablename__ = "material_definitions"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(100), unique=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    unit: Mapped[str] = mapped_column(sa.String(20))
    description: Mapped[str | None] = mapped_column(sa.Text)


class MaterialLot(Base):
    __tablename__ = "material_lots"
    __table_args__ = (sa.CheckConstraint("quantity >= 0", name="quantity_not_negative"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    lot_number: Mapped[str] = mapped_column(sa.String(100), unique=True)
    material_definition_id: Mapped[int] = mapped_column(
        sa.ForeignKey("material_definitions.id", ondelete="RESTRICT"), index=True
    )
    status: Mapped[LotStatus] = mapped_column(
        status_column_type(LotStatus), default=LotStatus.AVAILABLE, index=True
    )
    quantity: Mapped[Decimal]
    unit: Mapped[str] = mapped_column(sa.String(20))
    location_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("equipment.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    material: Mapped[MaterialDefinition] = relationship()
    sublots: Mapped[list[MaterialSublot]] = relationship(
        back_populates="lot", cascade="all, delete-orphan"
    )


class MaterialSublot(Base):
    __tablename__ = "material_sublots"
    __table_args__ = (sa.CheckConstraint("quantity >= 0", name="quantity_not_negative"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    sublot_number: Mapped[str] = mapped_column(sa.String(100), unique=True)
    lot_id: Mapped[int] = mapped_column(
        sa.ForeignKey("material_lots.id", ondelete="CASCADE"), index=True
    )
    status: Mapped[LotStatus] = mapped_column(
        status_column_type(LotStatus), default=LotStatus.AVAILABLE
    )
    quantity: Mapped[Decimal]
    unit: Mapped[str] = mapped_column(sa.String(20))

    lot: Mapped[MaterialLot] = relationship(back_populates="sublots")


class GenealogyLink(Base):
    """``quantity`` of ``consumed_lot`` went into ``produced_lot`` at an operation, on a work
    unit, by someone. Read backward (what went in) or forward (where it went)."""

    __tablename__ = "genealogy_links"
    __table_args__ = (
        sa.CheckConstraint("consumed_lot_id <> produced_lot_id", name="not_self"),
        sa.CheckConstraint("quantity > 0", name="quantity_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    consumed_lot_id: Mapped[int] = mapped_column(
        sa.ForeignKey("material_lots.id", ondelete="RESTRICT"), index=True
    )
    produced_lot_id: Mapped[int] = mapped_column(
        sa.ForeignKey("material_lots.id", ondelete="RESTRICT"), index=True
    )
    quantity: Mapped[Decimal]
    unit: Mapped[str] = mapped_column(sa.String(20))
    job_order_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("job_orders.id", ondelete="SET NULL"), index=True
    )
    operation: Mapped[str | None] = mapped_column(sa.String(200))
    work_unit_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("equipment.id", ondelete="SET NULL")
    )
    performed_by: Mapped[str] = mapped_column(sa.String(100))
    at: Mapped[datetime] = mapped_column(default=utcnow)

    consumed_lot: Mapped[MaterialLot] = relationship(foreign_keys=[consumed_lot_id])
    produced_lot: Mapped[MaterialLot] = relationship(foreign_keys=[produced_lot_id])
