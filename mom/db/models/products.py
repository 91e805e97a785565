"""Product definitions with revisions: M-BOM lines and routing operations, with effectivity."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from mom.db.base import Base


class ProductDefinition(Base):
    __tablename__ = "product_definitions"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(100), unique=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    material_definition_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("material_definitions.id", ondelete="RESTRICT")
    )

    revisions: Mapped[list[ProductRevision]] = relationship(
        back_populates="product", cascade="all, delete-orphan", order_by="ProductRevision.id"
    )


class ProductRevision(Base):
    """One revision of a product; effective from ``effective_from`` until ``effective_to``
    (open-ended when empty)."""

    __tablename__ = "product_revisions"
    __table_args__ = (
        sa.UniqueConstraint("product_definition_id", "revision"),
        sa.CheckConstraint(
            "effective_to IS NULL OR effective_to > effective_from", name="effectivity_order"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    product_definition_id: Mapped[int] = mapped_column(
        sa.ForeignKey("product_definitions.id", ondelete="CASCADE"), index=True
    )
    revision: Mapped[str] = mapped_column(sa.String(20))
    effective_from: Mapped[datetime]
    effective_to: Mapped[datetime | None]
    change_note: Mapped[str | None] = mapped_column(sa.Text)

    product: Mapped[ProductDefinition] = relationship(back_populates="revisions")
    bom_lines: Mapped[list[BomLine]] = relationship(
        cascade="all, delete-orphan", order_by="BomLine.line_number"
    )
    operations: Mapped[list[RoutingOperation]] = relationship(
        cascade="all, delete-orphan", order_by="RoutingOperation.sequence"
    )


class BomLine(Base):
    """M-BOM: ``quantity`` of a material per one unit of product, consumed at an operation."""

    __tablename__ = "bom_lines"
    __table_args__ = (sa.UniqueConstraint("product_revision_id", "line_number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    product_revision_id: Mapped[int] = mapped_column(
        sa.ForeignKey("product_revisions.id", ondelete="CASCADE")
    )
    line_number: Mapped[int]
    material_definition_id: Mapped[int] = mapped_column(
        sa.ForeignKey("material_definitions.id", ondelete="RESTRICT")
    )
    quantity: Mapped[Decimal]
    unit: Mapped[str] = mapped_column(sa.String(20))
    operation_sequence: Mapped[int | None]


class RoutingOperation(Base):
    """One step of the routing: where (work center), how long (setup once, run per unit, in
    seconds), with which recipe parameters and work instructions."""

    __tablename__ = "routing_operations"
    __table_args__ = (sa.UniqueConstraint("product_revision_id", "sequence"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    product_revision_id: Mapped[int] = mapped_column(
        sa.ForeignKey("product_revisions.id", ondelete="CASCADE")
    )
    sequence: Mapped[int]
    name: Mapped[str] = mapped_column(sa.String(200))
    work_center_id: Mapped[int] = mapped_column(
        sa.ForeignKey("equipment.id", ondelete="RESTRICT")
    )
    setup_time_s: Mapped[float] = mapped_column(sa.Float, default=0.0)
    run_time_s: Mapped[float] = mapped_column(sa.Float, default=0.0)
    recipe_parameters: Mapped[dict[str, Any]] = mapped_column(default=dict)
    work_instructions: Mapped[str | None] = mapped_column(sa.Text)
