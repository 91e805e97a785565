"""Data functions for machine events: states, alarms, counters, and commands (audited)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from mom.db.audit import append_audit_entry
from mom.db.base import utcnow
from mom.db.models import Equipment, MachineEvent
from mom.db.queries import fetch, page
from mom.domain import DomainError, EquipmentLevel, MachineEventKind


def _work_unit(session: Session, work_unit_id: int) -> Equipment:
    unit = fetch(session, Equipment, work_unit_id, entity="work unit")
    if unit.level != EquipmentLevel.WORK_UNIT:
        raise DomainError(f"machine events belong to a work unit; '{unit.path}' is not one")
    return unit


def record_machine_event(
    session: Session,
    *,
    work_unit_id: int,
    kind: MachineEventKind,
    name: str,
    at: datetime,
    value: dict[str, Any] | None = None,
    severity: int | None = None,
    job_order_id: int | None = None,
) -> MachineEvent:
    """Store what a machine reported at ``at`` (its source timestamp)."""
    if kind == MachineEventKind.COMMAND:
        raise DomainError("record commands with record_machine_command (they are audited)")
    _work_unit(session, work_unit_id)
    event = MachineEvent(
        work_unit_id=work_unit_id,
        kind=kind,
        name=name,
        value=value or {},
        severity=severity,
        job_order_id=job_order_id,
        at=at,
    )
    session.add(event)
    session.flush()
    return event


def record_machine_command(
    session: Session,
    *,
    work_unit_id: int,
    command: str,
    actor: str,
    arguments: dict[str, Any] | None = None,
    reason: str | None = None,
    job_order_id: int | None = None,
    at: datetime | None = None,
) -> MachineEvent:
    """A command sent to a machine (Start, Stop, a recipe download): event plus audit entry."""
    unit = _work_unit(session, work_unit_id)
    when = at or utcnow()
    event = MachineEvent(
        work_unit_id=unit.id,
        kind=MachineEventKind.COMMAND,
        name=command,
        value={"arguments": arguments or {}, "actor": actor},
        job_order_id=job_order_id,
        at=when,
    )
    session.add(event)
    session.flush()
    append_audit_entry(
        session,
        actor=actor,
        action="machine.command",
        entity_type="work unit",
        entity_id=unit.path,
        reason=reason,
        details={"command": command, "arguments": arguments or {}, "job_order_id": job_order_id},
        at=when,
    )
    return event


def list_machine_events(
    session: Session,
    *,
    work_unit_id: int | None = None,
    kind: MachineEventKind | None = None,
    name: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    offset: int = 0,
    limit: int = 100,
) -> tuple[Sequence[MachineEvent], int]:
    """Events newest first."""
    stmt = sa.select(MachineEvent)
    if work_unit_id is not None:
        stmt = stmt.where(MachineEvent.work_unit_id == work_unit_id)
    if kind is not None:
        stmt = stmt.where(MachineEvent.kind == kind)
    if name is not None:
        stmt = stmt.where(MachineEvent.name == name)
    if since is not None:
        stmt = stmt.where(MachineEvent.at >= since)
    if until is not None:
        stmt = stmt.where(MachineEvent.at < until)
    stmt = stmt.order_by(MachineEvent.at.desc(), MachineEvent.id.desc())
    return page(session, stmt, offset=offset, limit=limit)


def latest_machine_state(session: Session, *, work_unit_id: int) -> MachineEvent | None:
    """The most recent state event of the work unit (its PackML state), if any."""
    return session.execute(
        sa.select(MachineEvent)
        .where(
            MachineEvent.work_unit_id == work_unit_id,
            MachineEvent.kind == MachineEventKind.STATE,
        )
        .order_by(MachineEvent.at.desc(), MachineEvent.id.desc())
        .limit(1)
    ).scalar_one_or_none()
