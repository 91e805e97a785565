"""What happened on the floor: machine events (states, alarms, counters, commands) and quality
records."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from mom.db.base import Base, status_column_type, utcnow
from mom.domain import MachineEventKind, QualityResult


class MachineEvent(Base):
    """A state change (PackML), alarm, counter reading or command of a work unit.

    ``name`` is the state, alarm code, counter or command name; ``value`` the payload.
    """

    __tablename__ = "machine_events"
    __table_args__ = (sa.Index("ix_machine_events_work_unit_at", "work_unit_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    work_unit_id: Mapped[int] = mapped_column(sa.ForeignKey("equipment.id", ondelete="CASCADE"))
    kind: Mapped[MachineEventKind] = mapped_column(status_column_type(MachineEventKind))
    name: Mapped[str] = mapped_column(sa.String(200))
    value: Mapped[dict[str, Any]] = mapped_column(default=dict)
    severity: Mapped[int | None]
    job_order_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("job_orders.id", ondelete="SET NULL"), index=True
    )
    at: Mapped[datetime]
    received_at: Mapped[datetime] = mapped_column(default=utcnow)


class QualityRecord(Base):
    """A measured or judged characteristic of a lot or job order against its limits."""

    __tablename__ = "quality_records"

    id: Mapped[int] = mapped_column(primary_key=True)
    characteristic: Mapped[str] = mapped_column(sa.String(200))
    lot_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("material_lots.id", ondelete="SET NULL"), index=True
    )
    job_order_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("job_orders.id", ondelete="SET NULL"), index=True
    )
    work_unit_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("equipment.id", ondelete="SET NULL")
    )
    value_number: Mapped[Decimal | None]
    value_text: Mapped[str | None] = mapped_column(sa.String(500))
    unit: Mapped[str | None] = mapped_column(sa.String(20))
    lower_limit: Mapped[Decimal | None]
    upper_limit: Mapped[Decimal | None]
    result: Mapped[QualityResult] = mapped_column(status_column_type(QualityResult))
    recorded_by: Mapped[str] = mapped_column(sa.String(100))
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)
