"""Production orders (from ERP) and their job orders, one per routing operation."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from mom.db.base import Base, status_column_type, utcnow
from mom.domain import JobOrderStatus, ProductionOrderStatus


class ProductionOrder(Base):
    __tablename__ = "production_orders"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_number: Mapped[str] = mapped_column(sa.String(100), unique=True)
    product_definition_id: Mapped[int] = mapped_column(
        sa.ForeignKey("product_definitions.id", ondelete="RESTRICT"), index=True
    )
    product_revision_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("product_revisions.id", ondelete="RESTRICT")
    )
    quantity: Mapped[Decimal]
    unit: Mapped[str] = mapped_column(sa.String(20))
    status: Mapped[ProductionOrderStatus] = mapped_column(
        status_column_type(ProductionOrderStatus),
        default=ProductionOrderStatus.RECEIVED,
        index=True,
    )
    priority: Mapped[int] = mapped_column(default=0)
    due_at: Mapped[datetime | None]
    source: Mapped[str] = mapped_column(sa.String(50), default="erp")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    job_orders: Mapped[list[JobOrder]] = relationship(
        back_populates="production_order",
        cascade="all, delete-orphan",
        order_by="JobOrder.sequence",
    )


class JobOrder(Base):
    __tablename__ = "job_orders"
    __table_args__ = (sa.UniqueConstraint("production_order_id", "sequence"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    production_order_id: Mapped[int] = mapped_column(
        sa.ForeignKey("production_orders.id", ondelete="CASCADE")
    )
    sequence: Mapped[int]
    operation: Mapped[str] = mapped_column(sa.String(200))
    routing_operation_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("routing_operations.id", ondelete="SET NULL")
    )
    work_center_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("equipment.id", ondelete="RESTRICT")
    )
    work_unit_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("equipment.id", ondelete="RESTRICT"), index=True
    )
    status: Mapped[JobOrderStatus] = mapped_column(
        status_column_type(JobOrderStatus), default=JobOrderStatus.PLANNED, index=True
    )
    quantity: Mapped[Decimal]
    good_quantity: Mapped[Decimal] = mapped_column(default=Decimal(0))
    scrap_quantity: Mapped[Decimal] = mapped_column(default=Decimal(0))
    parameters: Mapped[dict[str, Any]] = mapped_column(default=dict)
    planned_start: Mapped[datetime | None]
    planned_end: Mapped[datetime | None]
    actual_start: Mapped[datetime | None]
    actual_end: Mapped[datetime | None]

    production_order: Mapped[ProductionOrder] = relationship(back_populates="job_orders")
