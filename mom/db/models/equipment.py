"""Equipment hierarchy (enterprise > site > area > work center > work unit) and what a work
unit brings: its OPC UA endpoint and node bindings, capabilities and calendar."""

from __future__ import annotations

from datetime import datetime, time
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from mom.db.base import Base, status_column_type
from mom.domain import EquipmentLevel


class Equipment(Base):
    """One node of the ISA-95 hierarchy; ``path`` is the dotted names from the enterprise down
    (``Acme.Lyon.Pressing.PressLine1.Press1``) and is unique."""

    __tablename__ = "equipment"
    __table_args__ = (sa.UniqueConstraint("parent_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    parent_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("equipment.id", ondelete="RESTRICT"), index=True
    )
    level: Mapped[EquipmentLevel] = mapped_column(status_column_type(EquipmentLevel))
    name: Mapped[str] = mapped_column(sa.String(100))
    path: Mapped[str] = mapped_column(sa.String(600), unique=True)
    description: Mapped[str | None] = mapped_column(sa.Text)
    time_zone: Mapped[str | None] = mapped_column(sa.String(64))
    """IANA zone of shift times (``Europe/Paris``), usually set on the site; inherited below."""

    parent: Mapped[Equipment | None] = relationship(remote_side=[id], back_populates="children")
    children: Mapped[list[Equipment]] = relationship(back_populates="parent")
    opcua_endpoint: Mapped[OpcUaEndpoint | None] = relationship(
        back_populates="work_unit", cascade="all, delete-orphan"
    )
    node_bindings: Mapped[list[NodeBinding]] = relationship(cascade="all, delete-orphan")
    capabilities: Mapped[list[Capability]] = relationship(cascade="all, delete-orphan")
    shifts: Mapped[list[Shift]] = relationship(cascade="all, delete-orphan")
    planned_downtimes: Mapped[list[PlannedDowntime]] = relationship(cascade="all, delete-orphan")


class OpcUaEndpoint(Base):
    """Where a work unit's OPC UA server is reached from the plant (edge worker)."""

    __tablename__ = "opcua_endpoints"

    id: Mapped[int] = mapped_column(primary_key=True)
    work_unit_id: Mapped[int] = mapped_column(
        sa.ForeignKey("equipment.id", ondelete="CASCADE"), unique=True
    )
    url: Mapped[str] = mapped_column(sa.String(500))
    namespace_uri: Mapped[str | None] = mapped_column(sa.String(500))
    security_policy: Mapped[str] = mapped_column(sa.String(50), default="None")
    security_mode: Mapped[str] = mapped_column(sa.String(30), default="None")

    work_unit: Mapped[Equipment] = relationship(back_populates="opcua_endpoint")


class NodeBinding(Base):
    """A named role of a work unit (``state``, ``good_count``, ``start``) bound to an OPC UA node
    id in standard string form (``nsu=urn:press;s=Press1.State``). A setpoint's role is its path
    below the machine (``Setpoints.Pressure``); ``min_value``/``max_value`` are its engineering
    limits (either may be empty): no value outside them is written to the machine."""

    __tablename__ = "node_bindings"
    __table_args__ = (sa.UniqueConstraint("work_unit_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    work_unit_id: Mapped[int] = mapped_column(sa.ForeignKey("equipment.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(sa.String(100))
    node_id: Mapped[str] = mapped_column(sa.String(500))
    data_type: Mapped[str | None] = mapped_column(sa.String(50))
    access: Mapped[str] = mapped_column(sa.String(20), default="read")
    min_value: Mapped[float | None] = mapped_column(sa.Float)
    max_value: Mapped[float | None] = mapped_column(sa.Float)


class Capability(Base):
    """Something a work unit can do (``press``, ``weld``), with its limits as parameters."""

    __tablename__ = "capabilities"
    __table_args__ = (sa.UniqueConstraint("work_unit_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    work_unit_id: Mapped[int] = mapped_column(sa.ForeignKey("equipment.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(sa.String(100))
    parameters: Mapped[dict[str, Any]] = mapped_column(default=dict)


class Shift(Base):
    """A recurring working window on a weekday (0 = Monday); may end past midnight."""

    __tablename__ = "shifts"
    __table_args__ = (
        sa.CheckConstraint("weekday >= 0 AND weekday <= 6", name="weekday_range"),
        sa.UniqueConstraint("equipment_id", "weekday", "name"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    equipment_id: Mapped[int] = mapped_column(sa.ForeignKey("equipment.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(sa.String(50))
    weekday: Mapped[int] = mapped_column(sa.SmallInteger)
    starts: Mapped[time] = mapped_column(sa.Time)
    ends: Mapped[time] = mapped_column(sa.Time)


class PlannedDowntime(Base):
    """A window when the equipment is not available (maintenance, cleaning, holiday)."""

    __tablename__ = "planned_downtimes"
    __table_args__ = (sa.CheckConstraint("ends_at > starts_at", name="ends_after_start"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    equipment_id: Mapped[int] = mapped_column(
        sa.ForeignKey("equipment.id", ondelete="CASCADE"), index=True
    )
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    reason: Mapped[str] = mapped_column(sa.String(200))
