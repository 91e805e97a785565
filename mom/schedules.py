"""Timer start events as Temporal Schedules.

A process whose top-level start event is a timer is started by a Temporal Schedule created (or
updated) when the process is deployed: ``mom deploy`` does it when a Temporal server answers;
``mom schedules PROCESS_ID`` does it later (e.g. after a deploy through the API, or to repair).

- ``timeCycle`` ``R/PT1H``, ``R5/PT10M``, ``R/2026-01-01T06:00:00Z/P1D``: an interval schedule
  (``Rn``: at most n instances);
- ``timeDate`` ``2026-01-01T06:00:00Z``: one instance at that time;
- ``timeDuration`` ``PT2H``: one instance that long after the deploy.

Each instance is started with ``timer_start=True`` on the version just deployed: its timer start
event fires at once (the schedule already waited). One schedule per timer start event, id
``mom-start:<process id>:<element id>``; a redeploy updates it to the new version. A schedule whose
timer start event was removed from the diagram is deleted by :func:`sync_schedules`.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleCalendarSpec,
    ScheduleIntervalSpec,
    ScheduleRange,
    ScheduleSpec,
    ScheduleState,
    ScheduleUpdate,
)
from temporalio.service import RPCError

from bpmn.dialect import TIMER_TAGS, timer_expression
from bpmn.xml import BPMN_NS, parse_diagram
from mom.process_store import ProcessStore, ProcessVersion
from workflows.contracts import WORKFLOW_NAME, ProcessInput

SCHEDULE_PREFIX = "mom-start:"


@dataclass(frozen=True)
class TimerStart:
    element_id: str
    kind: str  # timeCycle | timeDate | timeDuration
    value: str  # the ISO 8601 text


def timer_starts(source: bytes, process_id: str) -> list[TimerStart]:
    """The timer start events of ``process_id`` (top level only) with a literal ISO 8601 value."""
    root = parse_diagram(source, process_id)
    process = root.find(f"{{{BPMN_NS}}}process[@id='{process_id}']")
    found: list[TimerStart] = []
    for start in process.findall(f"{{{BPMN_NS}}}startEvent") if process is not None else []:
        definition = start.find(f"{{{BPMN_NS}}}timerEventDefinition")
        if definition is None:
            continue
        for tag in TIMER_TAGS:
            node = definition.find(f"{{{BPMN_NS}}}{tag}")
            if node is None or not (node.text or "").strip():
                continue
            try:
                value = ast.literal_eval(timer_expression(node.text or ""))
            except (ValueError, SyntaxError):
                raise ValueError(f"timer start event '{start.get('id')}': {node.text!r} must be a literal "
                                 "ISO 8601 value to be scheduled") from None
            found.append(TimerStart(str(start.get("id")), tag, str(value)))
    return found


def _at(moment: datetime) -> ScheduleCalendarSpec:
    moment = moment.astimezone(UTC)
    return ScheduleCalendarSpec(
        second=[ScheduleRange(moment.second)], minute=[ScheduleRange(moment.minute)],
        hour=[ScheduleRange(moment.hour)], day_of_month=[ScheduleRange(moment.day)],
        month=[ScheduleRange(moment.month)], year=[ScheduleRange(moment.year)],
    )


def schedule_timing(timer: TimerStart, now: datetime) -> tuple[ScheduleSpec, ScheduleState]:
    """The schedule spec and state of one timer start event (``now``: the deploy time)."""
    if timer.kind == "timeDate":
        moment = TimerEventDefinition.get_datetime(timer.value)
        return ScheduleSpec(calendars=[_at(moment)]), ScheduleState(limited_actions=True, remaining_actions=1)
    if timer.kind == "timeDuration":
        parsed = TimerEventDefinition.parse_iso_duration(timer.value)
        moment = now + TimerEventDefinition.get_timedelta_from_start(parsed, now)
        moment = moment.replace(microsecond=0) + (timedelta(seconds=1) if moment.microsecond else timedelta())
        return ScheduleSpec(calendars=[_at(moment)]), ScheduleState(limited_actions=True, remaining_actions=1)
    cycles, start, every = TimerEventDefinition.parse_iso_recurring_interval(timer.value)
    if every <= timedelta(0):
        raise ValueError(f"timer start event '{timer.element_id}': cycle {timer.value!r} has no interval")
    if start.tzinfo is None:
        start = start.replace(tzinfo=UTC)
    offset = timedelta(seconds=start.timestamp() % every.total_seconds())
    spec = ScheduleSpec(intervals=[ScheduleIntervalSpec(every=every, offset=offset)],
                        start_at=start - timedelta(milliseconds=1))
    state = ScheduleState(limited_actions=cycles >= 0, remaining_actions=max(cycles, 0))
    return spec, state


def schedule_id(process_id: str, element_id: str) -> str:
    return f"{SCHEDULE_PREFIX}{process_id}:{element_id}"


async def sync_schedules(client: Client, store: ProcessStore, process_id: str, *, task_queue: str,
                         now: datetime | None = None) -> list[str]:
    """Create or update the schedules of the timer start events of ``process_id``'s latest version
    (and delete those of timer start events it no longer has). Returns the schedule ids kept."""
    version = store.latest(process_id)
    if version is None:
        raise LookupError(f"process '{process_id}' is not deployed")
    source = store.load_source(version.source_sha256)
    now = now or datetime.now(UTC)
    kept = []
    for timer in timer_starts(source, process_id):
        sid = schedule_id(process_id, timer.element_id)
        await _upsert(client, sid, _schedule(version, timer, now, task_queue))
        kept.append(sid)
    prefix = f"{SCHEDULE_PREFIX}{process_id}:"
    async for listed in await client.list_schedules():
        if listed.id.startswith(prefix) and listed.id not in kept:
            await client.get_schedule_handle(listed.id).delete()
    return kept


def _schedule(version: ProcessVersion, timer: TimerStart, now: datetime, task_queue: str) -> Schedule:
    spec, state = schedule_timing(timer, now)
    action = ScheduleActionStartWorkflow(
        WORKFLOW_NAME,
        ProcessInput(process_id=version.process_id, spec_sha256=version.spec_sha256, version=version.version,
                     started_by=f"timer:{timer.element_id}", timer_start=True),
        id=f"{version.process_id}-timer-{timer.element_id}",
        task_queue=task_queue,
        memo={"process_id": version.process_id, "version": version.version},
    )
    return Schedule(action=action, spec=spec, state=state)


async def _upsert(client: Client, sid: str, schedule: Schedule) -> None:
    handle = client.get_schedule_handle(sid)
    try:
        await handle.describe()
    except RPCError:
        await client.create_schedule(sid, schedule)
        return

    def update(_: Any) -> ScheduleUpdate:
        return ScheduleUpdate(schedule=schedule)

    await handle.update(update)


__all__ = ["TimerStart", "schedule_id", "schedule_timing", "sync_schedules", "timer_starts"]
