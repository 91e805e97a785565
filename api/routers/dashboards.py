"""Read-only data for the web UI's dashboards (supervisors, engineers): the latest PackML state of
each work unit, OEE per work unit and shift (:mod:`mom.oee`), the open job orders planned on
demand as a Gantt chart (:mod:`mom.scheduling`), the production orders in progress, and the
history of a process instance (completed elements in order, Temporal events with their times)."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Annotated, Any

import sqlalchemy as sa
from fastapi import APIRouter, Query
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session
from temporalio.api.enums.v1 import EventType
from temporalio.api.history.v1 import HistoryEvent

from api.deps import ContextDep, EngineerOrSupervisor
from bpmn.errors import BpmnError
from bpmn.xml import ZEEBE_NS, parse_diagram
from mom import instances
from mom.db.models import Equipment, MachineEvent, ProductionOrder
from mom.domain import EquipmentLevel, JobOrderStatus, MachineEventKind, ProductionOrderStatus
from mom.oee import oee_for_shift_date
from mom.process_store import ProcessStore, SpecNotFound
from mom.scheduling.exchange import problem_from_dict
from mom.scheduling.gantt import gantt_data
from mom.scheduling.solver import SolveOptions, solve

router = APIRouter(prefix="/dashboards", tags=["dashboards"])

OPEN_ORDERS = (ProductionOrderStatus.RELEASED, ProductionOrderStatus.IN_PROGRESS, ProductionOrderStatus.HELD)
OPEN_JOBS = (JobOrderStatus.PLANNED, JobOrderStatus.DISPATCHED, JobOrderStatus.RUNNING, JobOrderStatus.PAUSED)


class MachineStateOut(BaseModel):
    work_unit_id: int
    work_unit: str = Field(description="the work unit's path")
    name: str
    work_center: str | None
    state: str | None = Field(description="the PackML state of the latest state event; null when none yet")
    since: datetime | None
    alarm: str | None = Field(description="the latest alarm when it is still active")
    good_count: int | None
    bad_count: int | None


class GanttBar(BaseModel):
    work_unit: str
    job_order: str
    operation: str
    start: int
    end: int
    setup: int
    fixed: bool
    colour: str


class ScheduleOut(BaseModel):
    planned_at: datetime = Field(description="time zero of the plan: start and end are seconds after it")
    status: str = Field(description="the solver's status, or 'empty' when no job order is open")
    work_units: list[str]
    start: int
    end: int
    makespan: int
    bars: list[GanttBar]
    downtimes: list[dict[str, Any]]


class JobProgress(BaseModel):
    sequence: int
    operation: str
    status: str
    work_unit: str | None
    quantity: float
    good: float
    scrap: float


class OrderProgress(BaseModel):
    order_number: str
    status: str
    quantity: float
    unit: str
    due_at: datetime | None
    done: float = Field(description="good quantity of the last operation")
    progress: float = Field(description="0..1: finished operations plus the share done of the others")
    jobs: list[JobProgress]


class HistoryEntry(BaseModel):
    at: datetime
    kind: str = Field(description="started, activity, activity failed, user task, message, timer, ended, ...")
    name: str
    element_id: str | None = None
    detail: str | None = None


class InstanceHistory(BaseModel):
    workflow_id: str
    completed: list[str] = Field(description="element ids in completion order")
    events: list[HistoryEntry]


def _number(value: Decimal | float | int) -> float:
    return float(value)


# --- machine states ---------------------------------------------------------------------------

def _latest(session: Session, unit_id: int, kind: MachineEventKind, name: str | None = None) -> MachineEvent | None:
    stmt = sa.select(MachineEvent).where(MachineEvent.work_unit_id == unit_id, MachineEvent.kind == kind)
    if name is not None:
        stmt = stmt.where(MachineEvent.name == name)
    return session.scalars(stmt.order_by(MachineEvent.at.desc(), MachineEvent.id.desc()).limit(1)).first()


def machine_states(session: Session) -> list[MachineStateOut]:
    units = session.scalars(sa.select(Equipment).where(Equipment.level == EquipmentLevel.WORK_UNIT)
                            .order_by(Equipment.path))
    answer = []
    for unit in units:
        state = _latest(session, unit.id, MachineEventKind.STATE)
        alarm = _latest(session, unit.id, MachineEventKind.ALARM)
        good = _latest(session, unit.id, MachineEventKind.COUNTER, "GoodCount")
        bad = _latest(session, unit.id, MachineEventKind.COUNTER, "BadCount")
        answer.append(MachineStateOut(
            work_unit_id=unit.id, work_unit=unit.path, name=unit.name,
            work_center=unit.parent.name if unit.parent is not None else None,
            state=state.name if state else None, since=state.at if state else None,
            alarm=alarm.name if alarm is not None and alarm.value.get("active") else None,
            good_count=int(good.value.get("count") or 0) if good else None,
            bad_count=int(bad.value.get("count") or 0) if bad else None))
    return answer


@router.get("/machine-states", response_model=list[MachineStateOut])
async def states(context: ContextDep, user: EngineerOrSupervisor) -> list[MachineStateOut]:
    """Every work unit with its latest PackML state, active alarm and counters."""
    return await context.db(machine_states, write=False)


# --- OEE --------------------------------------------------------------------------------------

@router.get("/oee", response_model=list[dict[str, Any]])
async def oee(context: ContextDep, user: EngineerOrSupervisor,
              shift_date: Annotated[date | None, Query(description="shifts that begin on this date; today (UTC) "
                                                                   "when not given")] = None,
              ) -> list[dict[str, Any]]:
    """ISO 22400 OEE of each work unit with a calendar, per shift beginning on ``shift_date``
    (``mom.oee.OeeFigures``: availability, effectiveness, quality_ratio, oee and the times)."""
    day = shift_date or datetime.now(UTC).date()
    figures = await context.db(lambda s: oee_for_shift_date(s, shift_date=day), write=False)
    return [f.as_dict() for f in figures]


# --- schedule ---------------------------------------------------------------------------------

def open_jobs_problem(session: Session) -> dict[str, Any]:
    """The open job orders of the open production orders as one scheduling problem: each job
    order's operations in sequence, on any work unit of their work center (a running or
    dispatched one stays on its work unit); durations from ``run_time_s`` per piece."""
    orders = session.scalars(sa.select(ProductionOrder).where(ProductionOrder.status.in_(OPEN_ORDERS))
                             .order_by(ProductionOrder.priority.desc(), ProductionOrder.due_at,
                                       ProductionOrder.order_number))
    units: dict[str, dict[str, Any]] = {}
    job_orders = []
    for order in orders:
        operations = []
        for job in sorted(order.job_orders, key=lambda j: j.sequence):
            if job.status not in OPEN_JOBS:
                continue
            if job.work_unit_id is not None:
                candidates = [session.get_one(Equipment, job.work_unit_id)]
            elif job.work_center_id is not None:
                candidates = list(session.scalars(sa.select(Equipment).where(
                    Equipment.parent_id == job.work_center_id, Equipment.level == EquipmentLevel.WORK_UNIT)))
            else:
                candidates = []
            if not candidates:
                continue
            remaining = max(float(job.quantity - job.good_quantity), 0.0)
            # the job order's quantity applies to all its operations, so each operation's time is
            # given for what remains of it (quantity 1 below)
            seconds = remaining * float(job.parameters.get("run_time_s") or 1.0)
            eligible = []
            for unit in candidates:
                units[unit.path] = {"id": unit.path, "name": unit.name}
                eligible.append({"work_unit": unit.path, "fixed_time": 1, "time_per_piece": seconds})
            operations.append({"id": f"{job.sequence} {job.operation}", "eligible": eligible})
        if operations:
            job_orders.append({"id": order.order_number, "quantity": 1.0, "operations": operations})
    return {"job_orders": job_orders, "work_units": list(units.values())}


def plan_open_jobs(problem_data: dict[str, Any], time_limit: float) -> dict[str, Any]:
    if not problem_data["job_orders"]:
        return {"work_units": [u["id"] for u in problem_data["work_units"]], "start": 0, "end": 0, "makespan": 0,
                "status": "empty", "bars": [], "downtimes": []}
    problem = problem_from_dict(problem_data)
    return gantt_data(solve(problem, None, SolveOptions(time_limit=time_limit)), problem)


@router.get("/schedule", response_model=ScheduleOut)
async def schedule(context: ContextDep, user: EngineerOrSupervisor,
                   time_limit: Annotated[float, Query(gt=0, le=30, description="solver seconds")] = 2.0,
                   ) -> ScheduleOut:
    """The open job orders planned now (``mom.scheduling``, a short time limit), as Gantt data."""
    now = datetime.now(UTC)
    problem = await context.db(open_jobs_problem, write=False)
    data = await run_in_threadpool(plan_open_jobs, problem, time_limit)
    return ScheduleOut(planned_at=now, **data)


# --- orders in progress -----------------------------------------------------------------------

def orders_in_progress(session: Session) -> list[OrderProgress]:
    orders = session.scalars(sa.select(ProductionOrder).where(ProductionOrder.status.in_(OPEN_ORDERS))
                             .order_by(ProductionOrder.due_at, ProductionOrder.order_number))
    answer = []
    for order in orders:
        jobs = sorted(order.job_orders, key=lambda j: j.sequence)
        shares = []
        rows = []
        for job in jobs:
            quantity = _number(job.quantity)
            if job.status == JobOrderStatus.COMPLETED:
                shares.append(1.0)
            elif job.status in (JobOrderStatus.CANCELLED, JobOrderStatus.ABORTED):
                pass
            else:
                shares.append(min(_number(job.good_quantity) / quantity, 1.0) if quantity > 0 else 0.0)
            unit = session.get(Equipment, job.work_unit_id) if job.work_unit_id is not None else None
            rows.append(JobProgress(sequence=job.sequence, operation=job.operation, status=job.status.value,
                                    work_unit=unit.name if unit else None, quantity=quantity,
                                    good=_number(job.good_quantity), scrap=_number(job.scrap_quantity)))
        answer.append(OrderProgress(
            order_number=order.order_number, status=order.status.value, quantity=_number(order.quantity),
            unit=order.unit, due_at=order.due_at, done=rows[-1].good if rows else 0.0,
            progress=sum(shares) / len(shares) if shares else 0.0, jobs=rows))
    return answer


@router.get("/orders", response_model=list[OrderProgress])
async def orders(context: ContextDep, user: EngineerOrSupervisor) -> list[OrderProgress]:
    """Released, running and held production orders with the progress of each job order."""
    return await context.db(orders_in_progress, write=False)


# --- instance history -------------------------------------------------------------------------

def _payload_args(payloads: Any) -> list[Any]:
    values = []
    for payload in getattr(payloads, "payloads", []):
        try:
            values.append(json.loads(payload.data))
        except (ValueError, UnicodeDecodeError):
            values.append(None)
    return values


def service_task_elements(store: ProcessStore, process_id: str | None, version: int | None) -> dict[str, str]:
    """Task type -> element id for the types only one service task of the deployed version names
    (so an activity in the history can be put on its element)."""
    chosen = next((v for v in store.versions(process_id or "") if v.version == version), None)
    if chosen is None:
        return {}
    try:
        root = parse_diagram(store.load_source(chosen.source_sha256), chosen.source_name)
    except (SpecNotFound, BpmnError):
        return {}
    found: dict[str, list[str]] = {}
    for definition in root.iter(f"{{{ZEEBE_NS}}}taskDefinition"):
        extensions = definition.getparent()
        task = extensions.getparent() if extensions is not None else None
        if task is not None and task.get("id") and definition.get("type"):
            found.setdefault(str(definition.get("type")), []).append(str(task.get("id")))
    return {kind: ids[0] for kind, ids in found.items() if len(ids) == 1}


def history_entries(events: list[HistoryEvent], user_task_elements: dict[str, str],
                    service_elements: dict[str, str] | None = None) -> list[HistoryEntry]:
    """What happened to an instance, from its Temporal history, in the words of the plant."""
    service_elements = service_elements or {}
    scheduled: dict[int, str] = {}
    entries = []
    for event in events:
        at = event.event_time.ToDatetime(tzinfo=UTC)
        kind = event.event_type
        if kind == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED:
            entries.append(HistoryEntry(at=at, kind="started", name="instance started"))
        elif kind == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
            scheduled[event.event_id] = event.activity_task_scheduled_event_attributes.activity_type.name
        elif kind == EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED:
            name = scheduled.get(event.activity_task_completed_event_attributes.scheduled_event_id, "activity")
            entries.append(HistoryEntry(at=at, kind="activity", name=name, element_id=service_elements.get(name)))
        elif kind == EventType.EVENT_TYPE_ACTIVITY_TASK_FAILED:
            attributes = event.activity_task_failed_event_attributes
            name = scheduled.get(attributes.scheduled_event_id, "activity")
            entries.append(HistoryEntry(at=at, kind="activity failed", name=name, element_id=service_elements.get(name),
                                        detail=attributes.failure.message or None))
        elif kind == EventType.EVENT_TYPE_MARKER_RECORDED:
            marker = event.marker_recorded_event_attributes
            if marker.marker_name == "core_local_activity":
                entries.append(HistoryEntry(at=at, kind="activity", name="local activity"))
        elif kind == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED:
            request = event.workflow_execution_update_accepted_event_attributes.accepted_request
            args = _payload_args(request.input.args)
            body = args[0] if args and isinstance(args[0], dict) else {}
            task_id = str(body.get("task_id", ""))
            entries.append(HistoryEntry(
                at=at, kind="user task" if task_id else request.input.name.replace("_", " "),
                name=request.input.name, element_id=user_task_elements.get(task_id),
                detail=f"by {body['user']}" if body.get("user") else None))
        elif kind == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED:
            entries.append(HistoryEntry(at=at, kind="message",
                                        name=event.workflow_execution_signaled_event_attributes.signal_name))
        elif kind == EventType.EVENT_TYPE_TIMER_FIRED:
            entries.append(HistoryEntry(at=at, kind="timer", name="timer fired"))
        elif kind in (EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED, EventType.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED,
                      EventType.EVENT_TYPE_WORKFLOW_EXECUTION_TERMINATED,
                      EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CANCELED,
                      EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW):
            ended = EventType.Name(kind).removeprefix("EVENT_TYPE_WORKFLOW_EXECUTION_").lower().replace("_", " ")
            entries.append(HistoryEntry(at=at, kind="ended", name=ended))
    return entries


@router.get("/instances/{workflow_id:path}/history", response_model=InstanceHistory)
async def instance_history(context: ContextDep, user: EngineerOrSupervisor, workflow_id: str) -> InstanceHistory:
    """The completed elements in order (from the instance) and its Temporal events with times
    (activities, user-task completions, messages, timers) of the current run."""
    client = await context.temporal()
    live = await instances.instance_state(client, workflow_id)
    history = await instances.handle_for(client, workflow_id).fetch_history()
    elements = {str(k): str(v) for k, v in dict(live.get("completed_user_tasks") or {}).items()}
    services = await run_in_threadpool(service_task_elements, context.store, live.get("process_id"),
                                       live.get("version"))
    events = history_entries(list(history.events), elements, services)
    incident = live.get("incident")
    if isinstance(incident, dict) and incident.get("at"):
        events.append(HistoryEntry(at=incident["at"], kind="incident", name=str(incident.get("kind") or "incident"),
                                   element_id=incident.get("element_id"), detail=str(incident.get("message") or "")))
        events.sort(key=lambda e: e.at)
    return InstanceHistory(workflow_id=workflow_id, completed=list(live.get("completed") or []), events=events)
