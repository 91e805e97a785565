"""Maintenance activities: what the machine_breakdown and preventive_maintenance processes write.

Every activity takes ONE dict (the BPMN task's inputs) and returns a dict; the data work runs in a
thread, one transaction per call, through :mod:`mom.db.maintenance`. Each is keyed by the work
order number (derived from the alarm or drift that opened it), so a retried activity returns what
the first attempt recorded. Bad inputs are non-retryable ``InvalidInput`` failures (an incident
naming the element); refusals the diagram handles are ``BpmnError`` with a ``code``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

from sqlalchemy.orm import Session, sessionmaker
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.acting import acting_actor, said
from mom.db import RecordConflict, RecordNotFound
from mom.db import maintenance as data
from mom.db.audit import noting
from mom.db.transactions import writing
from mom.domain import DomainError

T = TypeVar("T")
SYSTEM = "system"


def text_input(inputs: dict[str, Any], name: str, where: str) -> str:
    value = inputs.get(name)
    if value is None or str(value).strip() == "":
        raise ApplicationError(f"{where}: input '{name}' is required (got inputs {sorted(inputs)})",
                               type="InvalidInput", non_retryable=True)
    return str(value).strip()


def time_input(inputs: dict[str, Any], name: str, where: str, default: datetime | None = None) -> datetime:
    value = inputs.get(name)
    if value in (None, ""):
        if default is None:
            raise ApplicationError(f"{where}: input '{name}' is required (ISO 8601 time)", type="InvalidInput",
                                   non_retryable=True)
        return default
    try:
        at = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    except ValueError:
        raise ApplicationError(f"{where}: input '{name}' must be an ISO 8601 time, got {value!r}",
                               type="InvalidInput", non_retryable=True) from None
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)


class DataWork:
    """Runs one data function in a thread, in one transaction, mapping data errors to activity errors."""

    def __init__(self, session_factory: sessionmaker[Session]) -> None:
        self._sessions = session_factory

    async def write(self, work: Callable[[Session], T], refused: type[DomainError] | None = None) -> T:
        def run() -> T:
            try:
                with writing(self._sessions) as session:
                    return work(session)
            except DomainError as exc:
                code = getattr(exc, "code", None)
                if refused is not None and isinstance(exc, refused) and code:
                    raise ApplicationError(str(exc), {"code": code, "message": str(exc)}, type="BpmnError",
                                           non_retryable=True) from exc
                raise ApplicationError(str(exc), type=type(exc).__name__, non_retryable=True) from exc
            except (RecordNotFound, RecordConflict) as exc:
                raise ApplicationError(str(exc), type=type(exc).__name__, non_retryable=True) from exc
        return await asyncio.to_thread(run)


class MaintenanceActivities:
    def __init__(self, session_factory: sessionmaker[Session]) -> None:
        self._data = DataWork(session_factory)

    @activity.defn(name="maintenance.open_work_order")
    async def open_work_order(self, inputs: dict[str, Any]) -> dict[str, Any]:
        where = "maintenance.open_work_order"
        unit, kind = text_input(inputs, "work_unit", where), str(inputs.get("kind") or "breakdown")
        key = str(inputs.get("key") or activity.info().workflow_id)
        cause = str(inputs.get("cause") or kind)
        details = {k: inputs[k] for k in ("alarm_code", "job_id", "signal", "value", "raised_at", "detected_at")
                   if inputs.get(k) is not None}
        with noting(said(inputs, "opened_by")):
            return await self._data.write(lambda s: data.open_work_order(
                s, work_unit=unit, kind=kind, cause=cause, key=key, actor=acting_actor(inputs),
                details=details))

    @activity.defn(name="maintenance.hold_jobs")
    async def hold_jobs(self, inputs: dict[str, Any]) -> dict[str, Any]:
        where = "maintenance.hold_jobs"
        unit, order = text_input(inputs, "work_unit", where), text_input(inputs, "work_order", where)
        with noting(said(inputs, "held_by")):
            return await self._data.write(lambda s: data.hold_jobs(s, work_unit=unit, work_order=order,
                                                                   actor=acting_actor(inputs)))

    @activity.defn(name="maintenance.downtime_schedule")
    async def downtime_schedule(self, inputs: dict[str, Any]) -> dict[str, Any]:
        unit = text_input(inputs, "work_unit", "maintenance.downtime_schedule")
        expected = inputs.get("expected_repair_s") or 600
        if isinstance(expected, bool) or not isinstance(expected, int | float) or expected <= 0:
            raise ApplicationError(f"maintenance.downtime_schedule: expected_repair_s must be a positive number "
                                   f"of seconds, got {expected!r}", type="InvalidInput", non_retryable=True)

        def work(session: Session) -> dict[str, Any]:
            return data.downtime_schedule(session, work_unit=unit, expected_repair_s=int(expected))
        return await self._data.write(work)

    @activity.defn(name="maintenance.resume_jobs")
    async def resume_jobs(self, inputs: dict[str, Any]) -> dict[str, Any]:
        where = "maintenance.resume_jobs"
        unit, order = text_input(inputs, "work_unit", where), text_input(inputs, "work_order", where)
        given = inputs.get("plan")
        plan: dict[str, Any] = given if isinstance(given, dict) else {}
        with noting(said(inputs, "resumed_by")):
            return await self._data.write(lambda s: data.resume_jobs(
                s, work_unit=unit, work_order=order, plan=plan, actor=acting_actor(inputs)))

    @activity.defn(name="maintenance.record_downtime")
    async def record_downtime(self, inputs: dict[str, Any]) -> dict[str, Any]:
        where = "maintenance.record_downtime"
        unit, order = text_input(inputs, "work_unit", where), text_input(inputs, "work_order", where)
        starts = time_input(inputs, "starts_at", where)
        ends = time_input(inputs, "ends_at", where, default=datetime.now(UTC))
        with noting(said(inputs, "recorded_by")):
            return await self._data.write(lambda s: data.record_downtime(
                s, work_unit=unit, work_order=order, starts_at=starts, ends_at=ends,
                reason=str(inputs.get("reason") or "breakdown"), actor=acting_actor(inputs)))

    @activity.defn(name="maintenance.close_work_order")
    async def close_work_order(self, inputs: dict[str, Any]) -> dict[str, Any]:
        where = "maintenance.close_work_order"
        order = text_input(inputs, "work_order", where)
        outcome = {k: inputs.get(k) for k in ("repaired", "cause_found", "action_taken", "reading")
                   if inputs.get(k) is not None}
        with noting(said(inputs, "closed_by")):
            return await self._data.write(lambda s: data.close_work_order(
                s, work_order=order, actor=acting_actor(inputs), outcome=outcome))
