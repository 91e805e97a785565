"""Data functions for the equipment hierarchy, work unit connectivity and calendars."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import sqlalchemy as sa
from sqlalchemy.orm import Session

from mom.db.errors import RecordConflict
from mom.db.models import (
    Capability,
    Equipment,
    NodeBinding,
    OpcUaEndpoint,
    PlannedDowntime,
    Shift,
)
from mom.db.queries import fetch, fetch_by, page
from mom.domain import DomainError, EquipmentLevel

PATH_SEPARATOR = "."
NODE_ACCESS = ("read", "write", "read_write", "method")


def add_equipment(
    session: Session,
    *,
    name: str,
    level: EquipmentLevel,
    parent_id: int | None = None,
    description: str | None = None,
    time_zone: str | None = None,
) -> Equipment:
    """Add a node under ``parent_id``; the parent must be exactly one level up."""
    if not name or PATH_SEPARATOR in name:
        raise DomainError(f"equipment name {name!r}: must be non-empty and contain no '.'")
    if time_zone is not None:
        _zone(time_zone, where=name)
    expected_parent = level.parent_level
    parent = None if parent_id is None else fetch(session, Equipment, parent_id, entity="equipment")
    if expected_parent is None and parent is not None:
        raise DomainError(f"equipment {name!r}: an enterprise has no parent")
    if expected_parent is not None and (parent is None or parent.level != expected_parent):
        found = "no parent" if parent is None else f"{parent.level.value} '{parent.path}'"
        raise DomainError(
            f"equipment {name!r}: level {level.value} needs a parent of level "
            f"{expected_parent.value}; found {found}"
        )
    path = name if parent is None else f"{parent.path}{PATH_SEPARATOR}{name}"
    if session.scalar(sa.select(Equipment.id).where(Equipment.path == path)) is not None:
        raise RecordConflict(f"equipment '{path}' already exists")
    equipment = Equipment(
        name=name,
        level=level,
        parent=parent,
        path=path,
        description=description,
        time_zone=time_zone,
    )
    session.add(equipment)
    session.flush()
    return equipment


def get_equipment(session: Session, *, equipment_id: int) -> Equipment:
    return fetch(session, Equipment, equipment_id, entity="equipment")


def get_equipment_by_path(session: Session, *, path: str) -> Equipment:
    return fetch_by(
        session, sa.select(Equipment).where(Equipment.path == path), entity="equipment", key=path
    )


def list_equipment(
    session: Session,
    *,
    level: EquipmentLevel | None = None,
    parent_id: int | None = None,
    under_path: str | None = None,
    offset: int = 0,
    limit: int = 100,
) -> tuple[Sequence[Equipment], int]:
    """Equipment ordered by path; ``under_path`` keeps the descendants of that node."""
    stmt = sa.select(Equipment)
    if level is not None:
        stmt = stmt.where(Equipment.level == level)
    if parent_id is not None:
        stmt = stmt.where(Equipment.parent_id == parent_id)
    if under_path is not None:
        stmt = stmt.where(Equipment.path.startswith(under_path + PATH_SEPARATOR, autoescape=True))
    return page(session, stmt.order_by(Equipment.path), offset=offset, limit=limit)


def _work_unit(session: Session, work_unit_id: int) -> Equipment:
    unit = fetch(session, Equipment, work_unit_id, entity="work unit")
    if unit.level != EquipmentLevel.WORK_UNIT:
        raise DomainError(
            f"equipment '{unit.path}' is a {unit.level.value}; endpoints, node bindings and "
            "capabilities belong to a work unit"
        )
    return unit


def set_opcua_endpoint(
    session: Session,
    *,
    work_unit_id: int,
    url: str,
    namespace_uri: str | None = None,
    security_policy: str = "None",
    security_mode: str = "None",
) -> OpcUaEndpoint:
    """Create or replace the work unit's OPC UA endpoint."""
    if not url.startswith("opc.tcp://"):
        raise DomainError(f"OPC UA endpoint {url!r}: expected an opc.tcp:// URL")
    unit = _work_unit(session, work_unit_id)
    endpoint = unit.opcua_endpoint or OpcUaEndpoint(work_unit_id=unit.id, url=url)
    endpoint.url = url
    endpoint.namespace_uri = namespace_uri
    endpoint.security_policy = security_policy
    endpoint.security_mode = security_mode
    unit.opcua_endpoint = endpoint
    session.flush()
    return endpoint


def bind_node(
    session: Session,
    *,
    work_unit_id: int,
    name: str,
    node_id: str,
    data_type: str | None = None,
    access: str = "read",
    min_value: float | None = None,
    max_value: float | None = None,
) -> NodeBinding:
    """Bind a role of the work unit (``state``, ``good_count``, ``start``; a setpoint by its path,
    ``Setpoints.Pressure``) to an OPC UA node, with the engineering limits of what is written."""
    if access not in NODE_ACCESS:
        raise DomainError(f"node binding {name!r}: access {access!r}; use one of {NODE_ACCESS}")
    for field, bound in (("min_value", min_value), ("max_value", max_value)):
        if bound is not None and (isinstance(bound, bool) or not math.isfinite(bound)):
            raise DomainError(f"node binding {name!r}: {field} {bound!r} must be a finite number")
    if min_value is not None and max_value is not None and min_value > max_value:
        raise DomainError(f"node binding {name!r}: min_value {min_value:g} is above max_value {max_value:g}")
    if not (node_id.startswith("ns=") or node_id.startswith("nsu=") or node_id.startswith("i=")):
        raise DomainError(
            f"node binding {name!r}: node id {node_id!r} is not in standard string form "
            "(ns=1;s=Press1.State or nsu=URI;s=...)"
        )
    unit = _work_unit(session, work_unit_id)
    binding = next((b for b in unit.node_bindings if b.name == name), None)
    if binding is None:
        binding = NodeBinding(work_unit_id=unit.id, name=name, node_id=node_id)
        unit.node_bindings.append(binding)
    binding.node_id = node_id
    binding.data_type = data_type
    binding.access = access
    binding.min_value = min_value
    binding.max_value = max_value
    session.flush()
    return binding


def binding_limits(unit: Equipment) -> dict[str, dict[str, Any]]:
    """The limits of the work unit's bindings that have any, by role: ``{"Setpoints.Pressure":
    {"min": 0.0, "max": 8.0, "source": "binding Setpoints.Pressure of <path>"}}``."""
    return {
        b.name: {"min": b.min_value, "max": b.max_value, "source": f"binding {b.name} of {unit.path}"}
        for b in unit.node_bindings
        if b.min_value is not None or b.max_value is not None
    }


def setpoint_limits(unit: Equipment | None, recipe_id: str, setpoints: Mapping[str, Any],
                    recipe_limits: Any) -> dict[str, list[dict[str, Any]]]:
    """Per setpoint, the ranges it must be in: the binding ``Setpoints.<name>`` of the work unit
    and the recipe's ``limits``; setpoints without any are left out."""
    bindings = binding_limits(unit) if unit is not None else {}
    own = recipe_limits if isinstance(recipe_limits, Mapping) else {}
    limits: dict[str, list[dict[str, Any]]] = {}
    for name in setpoints:
        ranges = []
        if f"Setpoints.{name}" in bindings:
            ranges.append(bindings[f"Setpoints.{name}"])
        if isinstance(own.get(name), Mapping):
            ranges.append({"min": own[name].get("min"), "max": own[name].get("max"),
                           "source": f"recipe {recipe_id} limits of {name}"})
        if ranges:
            limits[name] = ranges
    return limits


def add_capability(
    session: Session, *, work_unit_id: int, name: str, parameters: dict[str, Any] | None = None
) -> Capability:
    unit = _work_unit(session, work_unit_id)
    capability = Capability(work_unit_id=unit.id, name=name, parameters=parameters or {})
    unit.capabilities.append(capability)
    session.flush()
    return capability


def work_units_with_capability(
    session: Session, *, capability: str, under_path: str | None = None
) -> Sequence[Equipment]:
    stmt = (
        sa.select(Equipment)
        .join(Capability, Capability.work_unit_id == Equipment.id)
        .where(Capability.name == capability)
        .order_by(Equipment.path)
    )
    if under_path is not None:
        stmt = stmt.where(Equipment.path.startswith(under_path + PATH_SEPARATOR, autoescape=True))
    return session.execute(stmt).scalars().all()


def add_shift(
    session: Session, *, equipment_id: int, name: str, weekday: int, starts: time, ends: time
) -> Shift:
    """A weekly shift (0 = Monday) in the equipment's local time; ``ends <= starts`` means it
    ends the next day."""
    if not 0 <= weekday <= 6:
        raise DomainError(f"shift {name!r}: weekday {weekday} must be 0 (Monday) .. 6 (Sunday)")
    equipment = fetch(session, Equipment, equipment_id, entity="equipment")
    shift = Shift(equipment_id=equipment.id, name=name, weekday=weekday, starts=starts, ends=ends)
    equipment.shifts.append(shift)
    session.flush()
    return shift


def add_planned_downtime(
    session: Session, *, equipment_id: int, starts_at: datetime, ends_at: datetime, reason: str
) -> PlannedDowntime:
    if ends_at <= starts_at:
        raise DomainError(f"planned downtime {reason!r}: ends_at must be after starts_at")
    equipment = fetch(session, Equipment, equipment_id, entity="equipment")
    downtime = PlannedDowntime(
        equipment_id=equipment.id, starts_at=starts_at, ends_at=ends_at, reason=reason
    )
    equipment.planned_downtimes.append(downtime)
    session.flush()
    return downtime


def _zone(name: str, *, where: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise DomainError(f"equipment {where!r}: unknown time zone {name!r}") from None


def equipment_time_zone(equipment: Equipment) -> ZoneInfo:
    """The nearest time zone set on the equipment or an ancestor; UTC when none is."""
    node: Equipment | None = equipment
    while node is not None:
        if node.time_zone:
            return _zone(node.time_zone, where=node.path)
        node = node.parent
    return ZoneInfo("UTC")


def available_windows(
    session: Session, *, equipment_id: int, start: datetime, end: datetime
) -> list[tuple[datetime, datetime]]:
    """Working windows (UTC) between ``start`` and ``end``: shifts minus planned downtime."""
    equipment = fetch(session, Equipment, equipment_id, entity="equipment")
    zone = equipment_time_zone(equipment)
    windows: list[tuple[datetime, datetime]] = []
    day = start.astimezone(zone).date() - timedelta(days=1)
    while day <= end.astimezone(zone).date():
        for shift in equipment.shifts:
            if shift.weekday != day.weekday():
                continue
            opens = datetime.combine(day, shift.starts, tzinfo=zone)
            closes_day = day + timedelta(days=1) if shift.ends <= shift.starts else day
            closes = datetime.combine(closes_day, shift.ends, tzinfo=zone)
            lo, hi = max(opens.astimezone(UTC), start), min(closes.astimezone(UTC), end)
            if lo < hi:
                windows.append((lo, hi))
        day += timedelta(days=1)
    for downtime in equipment.planned_downtimes:
        windows = _subtract(windows, downtime.starts_at, downtime.ends_at)
    return sorted(windows)


def _subtract(
    windows: list[tuple[datetime, datetime]], cut_start: datetime, cut_end: datetime
) -> list[tuple[datetime, datetime]]:
    result: list[tuple[datetime, datetime]] = []
    for lo, hi in windows:
        if cut_end <= lo or cut_start >= hi:
            result.append((lo, hi))
            continue
        if lo < cut_start:
            result.append((lo, cut_start))
        if cut_end < hi:
            result.append((cut_end, hi))
    return result
