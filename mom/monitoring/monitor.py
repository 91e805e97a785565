"""The machine monitor: subscribes to every configured work unit and acts on what they report.

For each work unit with an OPC UA endpoint in the database (:func:`load_monitored_units`) it
watches State, GoodCount, BadCount and JobId, and the machine's JobStatusEventType and
MachineAlarmEventType events (address space of :mod:`mom.plant.server`, namespace by URI). Each
report becomes an :class:`~mom.monitoring.rules.Observation` that is

1. recorded in the database (``machine_events``, in batches, :class:`EventRecorder`);
2. turned into correlated messages, handed to ``deliver(message_name, correlation_key, variables)``;
3. checked against the exception rules; a match starts the process (``start_exception``).

While a link is down the unit's state is recorded as ``UNKNOWN``; after it comes back the
subscriptions deliver the current values again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session
from temporalio.client import Client
from temporalio.exceptions import WorkflowAlreadyStartedError

from connectors.opcua import DataChange, EventNotification, OpcUaError, SessionPool, Watch
from mom.db.models import Equipment, OpcUaEndpoint
from mom.domain import EquipmentLevel, MachineEventKind
from mom.instances import start_instance
from mom.monitoring.recorder import EventRecorder
from mom.monitoring.rules import JOB_STATUS, UNKNOWN_STATE, ExceptionStart, MonitorRules, Observation
from mom.process_store import ProcessStore

PLANT_NAMESPACE = "urn:smart-mom:plant-sim"
WATCHED = ("State", "GoodCount", "BadCount", "JobId")
_log = logging.getLogger(__name__)

Deliver = Callable[[str, str, dict[str, Any]], Awaitable[None]]
StartException = Callable[[ExceptionStart], Awaitable[None]]


@dataclass(frozen=True)
class MonitoredUnit:
    work_unit_id: int
    path: str
    endpoint: str
    machine: str
    """the machine object's node id (``nsu=URI;s=Press1``)"""


def load_monitored_units(session: Session, *, under_path: str | None = None) -> list[MonitoredUnit]:
    """Work units with an OPC UA endpoint (below ``under_path``, e.g. a site), ordered by path.

    The machine object is the node bound as ``machine``, else ``nsu=<endpoint namespace>;s=<name>``.
    """
    stmt = (
        sa.select(Equipment, OpcUaEndpoint)
        .join(OpcUaEndpoint, OpcUaEndpoint.work_unit_id == Equipment.id)
        .where(Equipment.level == EquipmentLevel.WORK_UNIT)
        .order_by(Equipment.path)
    )
    if under_path:
        stmt = stmt.where(Equipment.path.startswith(under_path + ".", autoescape=True))
    units = []
    for unit, endpoint in session.execute(stmt).all():
        bound = next((b.node_id for b in unit.node_bindings if b.name == "machine"), None)
        machine = bound or f"nsu={endpoint.namespace_uri or PLANT_NAMESPACE};s={unit.name}"
        units.append(MonitoredUnit(unit.id, unit.path, endpoint.url, machine))
    return units


async def log_message(name: str, correlation_key: str, variables: dict[str, Any]) -> None:
    """The default ``deliver``: log only (until the interpreter's message events are connected)."""
    _log.info("message %s for %s: %s", name, correlation_key, variables)


def exception_starter(client: Client, store: ProcessStore, *, task_queue: str) -> StartException:
    """``start_exception`` that starts the deployed process as a BpmnProcess instance."""

    async def start(request: ExceptionStart) -> None:
        with contextlib.suppress(WorkflowAlreadyStartedError):
            started = await start_instance(
                client, store, request.process_id, task_queue=task_queue, variables=request.variables,
                business_key=request.business_key, started_by="machine-monitor",
            )
            _log.info("started %s (%s) for %s", request.process_id, started.workflow_id, request.business_key)

    return start


class MachineMonitor:
    def __init__(
        self,
        units: Sequence[MonitoredUnit],
        *,
        sessions: SessionPool,
        recorder: EventRecorder,
        rules: MonitorRules | None = None,
        deliver: Deliver = log_message,
        start_exception: StartException | None = None,
        retry_s: float = 5.0,
    ) -> None:
        self.units = list(units)
        self.sessions = sessions
        self.recorder = recorder
        self.rules = rules or MonitorRules()
        self.deliver = deliver
        self.start_exception = start_exception
        self.retry_s = retry_s
        self.current_job: dict[int, str] = {}
        self.last_state: dict[int, str] = {}
        self.connected: set[int] = set()
        self._queue: asyncio.Queue[tuple[MonitoredUnit, str, Any]] = asyncio.Queue()
        self._watches: list[Watch] = []
        self._tasks: list[asyncio.Task[None]] = []

    async def start(self) -> None:
        self._tasks.append(asyncio.create_task(self.recorder.run(), name="machine-event recorder"))
        self._tasks.append(asyncio.create_task(self._consume(), name="machine monitor"))
        for unit in self.units:
            self._tasks.append(asyncio.create_task(self._subscribe(unit), name=f"watch {unit.path}"))

    async def stop(self) -> None:
        for watch in self._watches:
            await watch.close()
        for task in reversed(self._tasks):  # the recorder last: it flushes what is pending
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()

    async def __aenter__(self) -> MachineMonitor:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # ------------------------------------------------------------------ subscriptions

    async def _subscribe(self, unit: MonitoredUnit) -> None:
        """Subscribe to one unit, retrying every ``retry_s`` while it cannot be reached."""
        while True:
            try:
                await self._watch(unit)
                self.connected.add(unit.work_unit_id)
                return
            except OpcUaError as exc:
                _log.warning("%s: cannot monitor yet (%s); retrying in %g s", unit.path, exc, self.retry_s)
                await asyncio.sleep(self.retry_s)

    async def _watch(self, unit: MonitoredUnit) -> None:
        session = await self.sessions.session(unit.endpoint)
        put = self._queue.put_nowait
        nodes = [await session.describe(await session.child(unit.machine, name)) for name in WATCHED]
        namespace = (await session.describe(await session.resolve(unit.machine))).split(";", 1)[0]
        self._watches.append(await session.watch_values(nodes, lambda c: put((unit, "value", c)),
                                                        publishing_interval_s=0.1))
        for event_type in ("JobStatusEventType", "MachineAlarmEventType"):
            self._watches.append(await session.watch_events(
                unit.machine, f"{namespace};s={event_type}", lambda e: put((unit, "event", e))
            ))
        session.on_link_change(lambda up: put((unit, "link", up)))

    # ------------------------------------------------------------------ reports

    async def _consume(self) -> None:
        while True:
            unit, kind, payload = await self._queue.get()
            try:
                obs = self.observe(unit, kind, payload)
                if obs is not None:
                    await self.handle(obs)
            except Exception:
                _log.exception("%s: cannot handle %s report %r", unit.path, kind, payload)

    def observe(self, unit: MonitoredUnit, kind: str, payload: Any) -> Observation | None:
        """The observation a notification stands for (None for JobId, which is only tracked)."""
        uid, path = unit.work_unit_id, unit.path
        if kind == "link":
            if payload:
                return None
            return Observation(uid, path, MachineEventKind.STATE, UNKNOWN_STATE, _now(), {"reason": "link lost"})
        if isinstance(payload, DataChange):
            child = payload.node.rsplit(".", 1)[-1]
            at = payload.source_timestamp or _now()
            if child == "JobId":
                self.current_job[uid] = str(payload.value or "")
                return None
            if child == "State":
                self.last_state[uid] = str(payload.value)
                return Observation(uid, path, MachineEventKind.STATE, str(payload.value), _aware(at))
            return Observation(uid, path, MachineEventKind.COUNTER, child, _aware(at),
                               {"count": payload.value, "job_id": self.current_job.get(uid) or None})
        if isinstance(payload, EventNotification):
            f = payload.fields
            at = _aware(f.get("Time") or _now())
            if "AlarmCode" in f:
                return Observation(uid, path, MachineEventKind.ALARM, str(f["AlarmCode"]), at, {
                    "active": bool(f.get("Active")), "machine_state": f.get("MachineState"),
                    "message": _text(f.get("Message")),
                    # the job the machine names in the alarm; else the last one its JobId showed
                    "job_id": f.get("JobId") or self.current_job.get(uid) or None,
                }, severity=int(f.get("Severity") or 0) or None)
            if "JobStatus" in f:
                return Observation(uid, path, MachineEventKind.COUNTER, JOB_STATUS, at, {
                    "job_id": f.get("JobId"), "job_status": f.get("JobStatus"), "recipe_id": f.get("RecipeId"),
                    "good_count": f.get("GoodCount"), "bad_count": f.get("BadCount"),
                    "machine_state": f.get("MachineState"),
                })
        return None

    async def handle(self, obs: Observation) -> None:
        self.recorder.add(obs)
        for message in self.rules.messages(obs):
            try:
                await self.deliver(message.name, message.correlation_key, message.variables)
            except Exception:
                _log.exception("%s: cannot deliver %s for %s", obs.work_unit, message.name, message.correlation_key)
        request = self.rules.exception(obs)
        if request is not None and self.start_exception is not None:
            try:
                await self.start_exception(request)
            except Exception:
                _log.exception("%s: cannot start %s for alarm %s", obs.work_unit, request.process_id, obs.name)


def _now() -> datetime:
    return datetime.now(UTC)


def _aware(at: Any) -> datetime:
    if not isinstance(at, datetime):
        return _now()
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)


def _text(value: Any) -> str | None:
    if value is None:
        return None
    return str(getattr(value, "Text", value))
