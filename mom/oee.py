"""OEE of a work unit per shift, from its machine events and its calendar (ISO 22400-2).

ISO 22400 names (seconds and pieces):

- PBT, planned busy time: the shift's window minus planned downtime (maintenance, cleaning);
- APT, actual production time: time in PackML Execute within the PBT;
- ADOT, actual unit down time: PBT - APT (held, stopped, aborted, idle, link lost...);
- PQ, produced quantity; GQ, good quantity; SQ, scrap quantity (PQ = GQ + SQ);
- PRI, planned run time per item (the ideal cycle time).

KPIs: availability = APT / PBT, effectiveness (performance) = PRI x PQ / APT,
quality ratio = GQ / PQ, OEE index = availability x effectiveness x quality ratio.

:func:`oee_of_window` is pure (unit tests compute it by hand). From ``mom.db``: the shifts come from
the work unit's calendar (the unit's own shifts, else those of its nearest ancestor that has some,
in that equipment's time zone); a shift still running counts only what elapsed of it (its window
ends at ``now``, a shift not begun yet is left out); the planned downtimes are those of the unit and
of its ancestors (a site's holiday stops every unit). :func:`oee_for_shift_date` gives the shifts
that begin on a date, :func:`oee_by_shift` those that overlap a period (e.g. a demo run).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.orm import Session

from mom.db.equipment import equipment_time_zone, get_equipment_by_path
from mom.db.models import Capability, Equipment, JobOrder, MachineEvent, Shift
from mom.domain import EquipmentLevel, MachineEventKind

EXECUTE = "Execute"
GOOD_COUNT, BAD_COUNT = "GoodCount", "BadCount"
Interval = tuple[datetime, datetime]


@dataclass(frozen=True)
class ShiftWindow:
    name: str
    starts_at: datetime
    ends_at: datetime


@dataclass(frozen=True)
class StateReading:
    """The work unit entered ``state`` at ``at`` (its PackML state label)."""

    at: datetime
    state: str


@dataclass(frozen=True)
class CountReading:
    """A cumulative counter value (GoodCount or BadCount) read at ``at``; it restarts at each job."""

    at: datetime
    count: int


@dataclass(frozen=True)
class OeeFigures:
    work_unit: str
    shift: str
    starts_at: datetime
    ends_at: datetime
    planned_busy_time_s: float
    actual_production_time_s: float
    actual_unit_down_time_s: float
    produced_quantity: int
    good_quantity: int
    scrap_quantity: int
    planned_run_time_per_item_s: float | None
    availability: float | None
    effectiveness: float | None
    quality_ratio: float | None
    oee: float | None
    down_by_state: dict[str, float] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["starts_at"] = self.starts_at.isoformat()
        data["ends_at"] = self.ends_at.isoformat()
        return data


def _ratio(numerator: float, denominator: float) -> float | None:
    return None if denominator <= 0 else numerator / denominator


def _clip(intervals: Iterable[Interval], lo: datetime, hi: datetime) -> list[Interval]:
    return [(max(a, lo), min(b, hi)) for a, b in intervals if min(b, hi) > max(a, lo)]


def _subtract(windows: list[Interval], cut: Interval) -> list[Interval]:
    result: list[Interval] = []
    for lo, hi in windows:
        if cut[1] <= lo or cut[0] >= hi:
            result.append((lo, hi))
            continue
        if lo < cut[0]:
            result.append((lo, cut[0]))
        if cut[1] < hi:
            result.append((cut[1], hi))
    return result


def _seconds(intervals: Iterable[Interval]) -> float:
    return sum((b - a).total_seconds() for a, b in intervals)


def state_intervals(readings: Sequence[StateReading], until: datetime) -> list[tuple[str, Interval]]:
    """Each state with the interval it lasted (the last one until ``until``); readings in time order."""
    ordered = sorted(readings, key=lambda r: r.at)
    spans = []
    for k, reading in enumerate(ordered):
        end = ordered[k + 1].at if k + 1 < len(ordered) else until
        if end > reading.at:
            spans.append((reading.state, (reading.at, end)))
    return spans


def count_increase(readings: Sequence[CountReading], starts_at: datetime, ends_at: datetime,
                   before: CountReading | None = None) -> int:
    """Pieces counted in ``[starts_at, ends_at)``: the sum of the counter's increases; a drop means
    the counter restarted (a new job), so the new value counts from zero. ``before`` is the last
    reading before the window (its value is not counted again)."""
    last = before.count if before is not None else 0
    total = 0
    for reading in sorted(readings, key=lambda r: r.at):
        if not starts_at <= reading.at < ends_at:
            continue
        total += reading.count - last if reading.count >= last else reading.count
        last = reading.count
    return total


def oee_of_window(*, work_unit: str, window: ShiftWindow, planned_downtimes: Sequence[Interval],
                  states: Sequence[StateReading], good: int, bad: int,
                  planned_run_time_per_item_s: float | None) -> OeeFigures:
    """The ISO 22400 figures of one shift. ``states`` must include the last reading before the
    window (the state the unit was in when the shift began); time before the first reading counts
    as down time in state ``UNKNOWN``."""
    busy = [(window.starts_at, window.ends_at)]
    for cut in planned_downtimes:
        busy = _subtract(busy, cut)
    pbt = _seconds(busy)
    known = sorted(states, key=lambda r: r.at)
    spans = state_intervals(known, window.ends_at)
    if not known or known[0].at > window.starts_at:
        first = known[0].at if known else window.ends_at
        spans.insert(0, ("UNKNOWN", (window.starts_at, first)))
    apt = 0.0
    down: dict[str, float] = {}
    for state, interval in spans:
        seconds = _seconds(_clip([interval], window.starts_at, window.ends_at))
        inside = sum(_seconds(_clip([interval], lo, hi)) for lo, hi in busy)
        if seconds <= 0 or inside <= 0:
            continue
        if state == EXECUTE:
            apt += inside
        else:
            down[state] = down.get(state, 0.0) + inside
    produced = good + bad
    availability = _ratio(apt, pbt)
    effectiveness = (None if planned_run_time_per_item_s is None
                     else _ratio(planned_run_time_per_item_s * produced, apt))
    quality = _ratio(good, produced)
    oee = (None if availability is None or effectiveness is None or quality is None
           else availability * effectiveness * quality)
    return OeeFigures(
        work_unit=work_unit, shift=window.name, starts_at=window.starts_at, ends_at=window.ends_at,
        planned_busy_time_s=pbt, actual_production_time_s=apt, actual_unit_down_time_s=max(0.0, pbt - apt),
        produced_quantity=produced, good_quantity=good, scrap_quantity=bad,
        planned_run_time_per_item_s=planned_run_time_per_item_s, availability=availability,
        effectiveness=effectiveness, quality_ratio=quality, oee=oee,
        down_by_state={k: round(v, 3) for k, v in sorted(down.items())},
    )


def elapsed_part(window: ShiftWindow, now: datetime) -> ShiftWindow | None:
    """What elapsed of the shift at ``now``: its window ending at ``now`` while it runs, None
    before it began."""
    if window.starts_at >= now:
        return None
    return window if window.ends_at <= now else ShiftWindow(window.name, window.starts_at, now)


def shift_windows_between(shifts: Sequence[tuple[str, int, Any, Any]], starts_at: datetime, ends_at: datetime,
                          zone: ZoneInfo) -> list[ShiftWindow]:
    """Every shift window (see :func:`shift_windows`) that overlaps ``[starts_at, ends_at)``,
    a night shift that began the day before included."""
    day, last = starts_at.astimezone(zone).date() - timedelta(days=1), ends_at.astimezone(zone).date()
    windows: list[ShiftWindow] = []
    while day <= last:
        windows += [w for w in shift_windows(shifts, day, zone) if w.starts_at < ends_at and w.ends_at > starts_at]
        day += timedelta(days=1)
    return sorted(windows, key=lambda w: w.starts_at)


def shift_windows(shifts: Iterable[tuple[str, int, Any, Any]], day: date, zone: ZoneInfo) -> list[ShiftWindow]:
    """The shifts (name, weekday, starts, ends as local times) that begin on ``day``, in UTC; a shift
    whose end is not after its start ends the next day."""
    windows = []
    for name, weekday, starts, ends in shifts:
        if weekday != day.weekday():
            continue
        opens = datetime.combine(day, starts, tzinfo=zone)
        closes = datetime.combine(day + timedelta(days=1) if ends <= starts else day, ends, tzinfo=zone)
        windows.append(ShiftWindow(name, opens.astimezone(UTC), closes.astimezone(UTC)))
    return sorted(windows, key=lambda w: w.starts_at)


# --- from the database ------------------------------------------------------------------------

def _aware(at: datetime) -> datetime:
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)


def _calendar_owner(unit: Equipment) -> Equipment | None:
    """The unit, or the nearest ancestor, that has shifts."""
    node: Equipment | None = unit
    while node is not None:
        if node.shifts:
            return node
        node = node.parent
    return None


def planned_downtimes_of(unit: Equipment) -> list[Interval]:
    """The planned downtimes of the unit and of every ancestor (work center, area, site)."""
    node: Equipment | None = unit
    cuts: list[Interval] = []
    while node is not None:
        cuts += [(_aware(d.starts_at), _aware(d.ends_at)) for d in node.planned_downtimes]
        node = node.parent
    return cuts


def _calendar(unit: Equipment) -> tuple[list[tuple[str, int, Any, Any]], ZoneInfo] | None:
    owner = _calendar_owner(unit)
    if owner is None:
        return None
    shifts: list[Shift] = owner.shifts
    return [(s.name, s.weekday, s.starts, s.ends) for s in shifts], equipment_time_zone(owner)


def planned_run_time_per_item(session: Session, unit: Equipment) -> float | None:
    """PRI: a capability parameter ``ideal_cycle_time_s`` of the unit, else the mean ``run_time_s``
    of the job orders dispatched to it (from the routing), else unknown."""
    for capability in session.scalars(sa.select(Capability).where(Capability.work_unit_id == unit.id)):
        value = capability.parameters.get("ideal_cycle_time_s")
        if isinstance(value, int | float):
            return float(value)
    times = [float(p["run_time_s"]) for p in session.scalars(
        sa.select(JobOrder.parameters).where(JobOrder.work_unit_id == unit.id)) if p.get("run_time_s")]
    return sum(times) / len(times) if times else None


def _events(session: Session, unit_id: int, kind: MachineEventKind, lo: datetime, hi: datetime,
            name: str | None = None) -> list[MachineEvent]:
    stmt = sa.select(MachineEvent).where(MachineEvent.work_unit_id == unit_id, MachineEvent.kind == kind,
                                         MachineEvent.at >= lo, MachineEvent.at < hi)
    if name is not None:
        stmt = stmt.where(MachineEvent.name == name)
    return list(session.scalars(stmt.order_by(MachineEvent.at, MachineEvent.id)))


def _last_before(session: Session, unit_id: int, kind: MachineEventKind, at: datetime,
                 name: str | None = None) -> MachineEvent | None:
    stmt = sa.select(MachineEvent).where(MachineEvent.work_unit_id == unit_id, MachineEvent.kind == kind,
                                         MachineEvent.at < at)
    if name is not None:
        stmt = stmt.where(MachineEvent.name == name)
    return session.scalars(stmt.order_by(MachineEvent.at.desc(), MachineEvent.id.desc()).limit(1)).first()


def _counts(session: Session, unit_id: int, name: str, window: ShiftWindow) -> int:
    def reading(event: MachineEvent) -> CountReading:
        return CountReading(_aware(event.at), int(event.value.get("count") or 0))

    before = _last_before(session, unit_id, MachineEventKind.COUNTER, window.starts_at, name)
    readings = [reading(e) for e in _events(session, unit_id, MachineEventKind.COUNTER, window.starts_at,
                                            window.ends_at, name)]
    return count_increase(readings, window.starts_at, window.ends_at, reading(before) if before else None)


def oee_of_unit(session: Session, unit: Equipment, window: ShiftWindow,
                planned_run_time_s: float | None = None) -> OeeFigures:
    first = _last_before(session, unit.id, MachineEventKind.STATE, window.starts_at)
    states = [StateReading(_aware(e.at), e.name) for e in ([first] if first else [])]
    states += [StateReading(_aware(e.at), e.name)
               for e in _events(session, unit.id, MachineEventKind.STATE, window.starts_at, window.ends_at)]
    return oee_of_window(
        work_unit=unit.path, window=window, planned_downtimes=planned_downtimes_of(unit), states=states,
        good=_counts(session, unit.id, GOOD_COUNT, window), bad=_counts(session, unit.id, BAD_COUNT, window),
        planned_run_time_per_item_s=planned_run_time_s if planned_run_time_s is not None
        else planned_run_time_per_item(session, unit),
    )


def _work_units(session: Session, work_unit: str | None) -> list[Equipment]:
    if work_unit is not None:
        return [get_equipment_by_path(session, path=work_unit)]
    return list(session.scalars(sa.select(Equipment).where(Equipment.level == EquipmentLevel.WORK_UNIT)
                                .order_by(Equipment.path)))


def oee_for_shift_date(session: Session, *, shift_date: date, work_unit: str | None = None,
                       now: datetime | None = None) -> list[OeeFigures]:
    """OEE of each work unit (or the one at path ``work_unit``) for each shift of its calendar that
    begins on ``shift_date`` (local date of the calendar), over what elapsed of it at ``now``
    (default: the current time); units without a calendar are skipped."""
    now = now or datetime.now(UTC)
    figures: list[OeeFigures] = []
    for unit in _work_units(session, work_unit):
        calendar = _calendar(unit)
        if calendar is None:
            continue
        for window in shift_windows(calendar[0], shift_date, calendar[1]):
            part = elapsed_part(window, now)
            if part is not None:
                figures.append(oee_of_unit(session, unit, part))
    return figures


def oee_by_shift(session: Session, *, starts_at: datetime, ends_at: datetime, now: datetime | None = None,
                 work_unit: str | None = None, planned_run_time_s: float | None = None) -> list[OeeFigures]:
    """OEE of each work unit (or the one at path ``work_unit``) for each shift of its calendar that
    overlaps ``[starts_at, ends_at)``, each over what elapsed of it at ``now`` (default ``ends_at``):
    the whole shift, planned downtimes cut out, not only the part inside the period. Units without
    a calendar are skipped. ``planned_run_time_s`` overrides the units' ideal cycle time."""
    now = now or ends_at
    figures: list[OeeFigures] = []
    for unit in _work_units(session, work_unit):
        calendar = _calendar(unit)
        if calendar is None:
            continue
        for window in shift_windows_between(calendar[0], starts_at, ends_at, calendar[1]):
            part = elapsed_part(window, now)
            if part is not None:
                figures.append(oee_of_unit(session, unit, part, planned_run_time_s))
    return figures
