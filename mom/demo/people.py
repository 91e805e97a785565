"""Scripted people working the inbox, as the operators, inspectors, maintenance technicians and
supervisors of the shift would: they read the open user tasks (the ``human_tasks`` rows the
workflows open), decide as a person would, and complete the task through the workflow's update
(:func:`mom.instances.complete_user_task`), like the station and inbox pages do.

A station operator runs one job at a time on a machine: a ``stage_material`` task is taken only
when the machine's previous job was unloaded (its order reached the quality check: the process saw
the job end and recorded it) and the machine is not held by a breakdown. Storing the next job
earlier would hide the previous job's end from its process (``machine.wait_job_end``).
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session, sessionmaker
from temporalio.client import Client

from mom import instances
from mom.db.models import Equipment, HumanTask, JobOrder, ProductionOrder
from mom.domain import TaskStatus
from mom.plant.machine import SimulatedMachine
from mom.plant.packml import PackMLState

_log = logging.getLogger(__name__)

OPERATOR, INSPECTOR, MAINTENANCE, SUPERVISOR = "operator", "inspector", "maintenance", "supervisor"
ROLES = {("production_order", "stage_material"): OPERATOR, ("production_order", "quality_check"): INSPECTOR,
         ("quality_deviation", "disposition"): SUPERVISOR, ("quality_deviation", "rework"): INSPECTOR,
         ("machine_breakdown", "repair"): MAINTENANCE, ("machine_breakdown", "repair_escalated"): SUPERVISOR,
         ("preventive_maintenance", "maintain"): MAINTENANCE,
         ("preventive_maintenance", "maintain_escalated"): SUPERVISOR,
         ("engineering_change", "approve"): SUPERVISOR, ("demand_change", "approve"): SUPERVISOR}
BADGES = {OPERATOR: "op-ann", INSPECTOR: "qa-bob", MAINTENANCE: "tech-max", SUPERVISOR: "sup-eve"}
_UNAVAILABLE = {PackMLState.HELD, PackMLState.ABORTED, PackMLState.ABORTING, PackMLState.HOLDING}


@dataclass(frozen=True)
class OpenTask:
    task_id: str
    workflow_id: str
    process: str
    element_id: str
    context: dict[str, Any]
    business_key: str | None
    row_id: int = 0
    signature: str | None = None  # the e-signature meaning the task needs (J.3): the simulated person signs


@dataclass
class TaskLedger:
    """What the people did: completions per (role, element), refusals and their reasons."""

    done: Counter[tuple[str, str]] = field(default_factory=Counter)
    refused: list[str] = field(default_factory=list)
    unknown: set[tuple[str, str]] = field(default_factory=set)

    @property
    def total(self) -> int:
        return sum(self.done.values())

    def by_role(self) -> Counter[str]:
        roles: Counter[str] = Counter()
        for (role, _), count in self.done.items():
            roles[role] += count
        return roles


@dataclass
class Decisions:
    """How the people decide: which lots (by material), which measurements are off on purpose."""

    stock: Mapping[str, str]
    out_of_tolerance: set[tuple[str, int]] = field(default_factory=set)
    """(order number, operation sequence) measured out of tolerance (a quality deviation)"""
    seed: int = 1


def open_tasks(session: Session, *, after_row: int = 0) -> list[OpenTask]:
    """Open workflow tasks of the inbox, only the rows after ``after_row`` (their id) if given."""
    query = sa.select(HumanTask).where(
        HumanTask.status.in_((TaskStatus.OPEN, TaskStatus.CLAIMED)), HumanTask.workflow_id.is_not(None),
        HumanTask.workflow_task_id.is_not(None))
    if after_row:
        query = query.where(HumanTask.id > after_row)
    rows = session.scalars(query.order_by(HumanTask.id))
    return [OpenTask(str(t.workflow_task_id), str(t.workflow_id), str(t.process_key or ""), t.element_id,
                     dict(t.context or {}), t.business_key, int(t.id), t.signature) for t in rows]


class ScriptedPeople:
    """Run :meth:`work` as a task; it polls the inbox until cancelled.

    Each poll reads only the inbox rows added since the last one (by row id, an index range) and
    keeps the open tasks it knows in memory; every ``refresh_s`` it reads the whole open inbox
    again (tasks cancelled by their process leave, rows a concurrent writer committed late come)."""

    def __init__(self, client: Client, sessions: sessionmaker[Session], machines: Mapping[str, SimulatedMachine],
                 decisions: Decisions, *, poll_s: float = 0.1, think_s: float = 0.0, refresh_s: float = 1.0) -> None:
        self.client = client
        self.sessions = sessions
        self.machines = machines
        self.decisions = decisions
        self.poll_s = poll_s
        self.think_s = think_s
        self.refresh_s = refresh_s
        self.ledger = TaskLedger()
        self._rng = random.Random(f"people:{decisions.seed}")
        self._busy: set[str] = set()
        self._done: set[str] = set()
        self._station: dict[str, str] = {}  # machine -> job id staged there last
        self._unloaded: set[str] = set()  # job ids whose order reached its quality check
        self._running: set[asyncio.Task[None]] = set()
        self._known: dict[str, OpenTask] = {}  # open tasks as last read, by task id
        self._last_row = 0
        self._refreshed_at = float("-inf")

    async def work(self) -> None:
        try:
            while True:
                tasks, whole = await asyncio.to_thread(self._read_inbox)
                if whole:  # forget what left the inbox
                    open_ids = {t.task_id for t in tasks}
                    self._done &= open_ids
                    self._known = {t.task_id: t for t in tasks}
                else:
                    self._known.update((t.task_id, t) for t in tasks)
                if tasks:
                    self._last_row = max(self._last_row, max(t.row_id for t in tasks))
                tasks = list(self._known.values())
                self._unloaded.update(str((t.context.get("operation") or {}).get("job_id")) for t in tasks
                                      if t.element_id == "quality_check")
                self._unloaded &= set(self._station.values())  # only the jobs on a station still matter
                for task in tasks:
                    if task.task_id in self._busy or task.task_id in self._done:
                        continue
                    action = self._decide(task)
                    if action is None:
                        continue
                    self._busy.add(task.task_id)
                    job = asyncio.create_task(self._complete(task, action))
                    self._running.add(job)
                    job.add_done_callback(self._running.discard)
                await asyncio.sleep(self.poll_s)
        finally:
            for job in list(self._running):
                job.cancel()

    def _read_inbox(self) -> tuple[list[OpenTask], bool]:
        """New open tasks since the last read, or every open task (True) when a refresh is due."""
        now = time.monotonic()
        whole = now - self._refreshed_at >= self.refresh_s
        with self.sessions() as session:
            tasks = open_tasks(session, after_row=0 if whole else self._last_row)
        if whole:
            self._refreshed_at = now
        return tasks, whole

    # ------------------------------------------------------------------ decisions

    def _decide(self, task: OpenTask) -> Callable[[], Awaitable[dict[str, Any]]] | None:
        """What the person does with ``task`` now (the form data), or None to leave it for later."""
        key = (task.process, task.element_id)
        if key == ("production_order", "stage_material"):
            return self._stage(task)
        if key == ("production_order", "quality_check"):
            return _now(self._measure(task))
        if key == ("quality_deviation", "disposition"):
            return _now({"supervisor_id": BADGES[SUPERVISOR], "disposition": "use_as_is",
                         "disposition_reason": "within the customer's wider tolerance, agreed by phone"})
        if key == ("quality_deviation", "rework"):
            return _now({"inspector_id": BADGES[INSPECTOR], "rework_note": "recoated", "measured_value": 25.0})
        if key in (("machine_breakdown", "repair"), ("machine_breakdown", "repair_escalated")):
            return lambda: self._repair(task)
        if key in (("preventive_maintenance", "maintain"), ("preventive_maintenance", "maintain_escalated")):
            return _now({"tool_changed": True, "action_taken": "changed the tool, cleaned the die"})
        if key == ("engineering_change", "approve"):
            return lambda: self._approve_eco(task)
        if key == ("demand_change", "approve"):
            return _now({"approved": True, "approved_by": BADGES[SUPERVISOR],
                         "comment": "customer call-off confirmed"})
        if key not in self.ledger.unknown:
            self.ledger.unknown.add(key)
            _log.warning("nobody knows how to do %s of %s (%s)", task.element_id, task.process, task.workflow_id)
        return None

    def _stage(self, task: OpenTask) -> Callable[[], Awaitable[dict[str, Any]]] | None:
        operation = task.context.get("operation") or {}
        job_id = str(operation.get("job_id"))
        # the machine the job order is on now (a breakdown may have rerouted it since dispatch)
        machine_name = self._machine_now(operation) or str(operation.get("machine"))
        machine = self.machines.get(machine_name)
        staged = self._station.get(machine_name)
        if staged is not None and staged != job_id and staged not in self._unloaded:
            return None  # the machine still runs (or holds) the previous job
        if machine is not None and machine.state in _UNAVAILABLE:
            return None  # broken down: wait for maintenance
        self._station[machine_name] = job_id
        order, sequence = str(operation.get("order_number")), int(operation.get("sequence") or 0)
        lots = []
        for material in operation.get("materials") or []:
            code = str(material.get("material"))
            lots.append(self.decisions.stock.get(code) or f"{order}-{_previous(sequence)}")
        return _now({"operator_id": BADGES[OPERATOR], "lot_ids": "\n".join(lots)})

    def _machine_now(self, operation: Mapping[str, Any]) -> str | None:
        with self.sessions() as session:
            return session.scalar(sa.select(Equipment.name).join(JobOrder, JobOrder.work_unit_id == Equipment.id)
                                  .join(JobOrder.production_order)
                                  .where(ProductionOrder.order_number == str(operation.get("order_number")),
                                         JobOrder.sequence == int(operation.get("sequence") or 0)))

    def _measure(self, task: OpenTask) -> dict[str, Any]:
        operation = task.context.get("operation") or {}
        characteristic = operation.get("characteristic")
        limits = (operation.get("tolerances") or {}).get(characteristic) or {"lower": 0.0, "upper": 1.0}
        lower, upper = float(limits["lower"]), float(limits["upper"])
        if (str(operation.get("order_number")), int(operation.get("sequence") or 0)) in self.decisions.out_of_tolerance:
            value = upper + (upper - lower) * 0.5
        else:
            value = lower + (upper - lower) * self._rng.uniform(0.3, 0.7)
        return {"inspector_id": BADGES[INSPECTOR], "measured_value": round(value, 3)}

    async def _repair(self, task: OpenTask) -> dict[str, Any]:
        """The technician repairs the machine (the simulator ends the breakdown after its MTTR),
        then reports the work order done."""
        unit = str(task.context.get("work_unit") or await self._variable(task.workflow_id, "work_unit") or "")
        machine = self.machines.get(unit.rsplit(".", 1)[-1])
        for _ in range(600):
            if machine is None or not machine.active_alarms:
                break
            await asyncio.sleep(0.05)
        return {"repaired": True, "cause_found": "sheet jammed in the die", "action_taken": "cleared the die"}

    async def _approve_eco(self, task: OpenTask) -> dict[str, Any]:
        """Approve, keeping orders already started on revision A (no rework during the shift)."""
        impact = await self._variable(task.workflow_id, "impact") or {}
        keep = [str(o["order_number"]) for o in impact.get("orders", []) if o.get("proposed") == "rework"]
        return {"approved": True, "approved_by": BADGES[SUPERVISOR], "comment": "approved for the next orders",
                "order_choices": ", ".join(f"{number}=finish_old" for number in keep)}

    async def _variable(self, workflow_id: str, name: str) -> Any:
        state = await instances.instance_state(self.client, workflow_id)
        return (state.get("variables") or {}).get(name)

    # ------------------------------------------------------------------ completion

    async def _complete(self, task: OpenTask, action: Callable[[], Awaitable[dict[str, Any]]]) -> None:
        role = ROLES.get((task.process, task.element_id), OPERATOR)
        try:
            data = await action()
            if self.think_s:
                await asyncio.sleep(self.think_s * self._rng.uniform(0.5, 1.5))
            await instances.complete_user_task(self.client, task.workflow_id, task.task_id, data,
                                               user=BADGES[role], reason="demo shift", signature=task.signature)
        except instances.TaskRefused as exc:
            self.ledger.refused.append(f"{task.workflow_id} {task.element_id}: {exc} {exc.errors or ''}")
            _log.warning("refused: %s %s: %s %s", task.workflow_id, task.element_id, exc, exc.errors)
        except Exception as exc:  # the instance ended meanwhile, Temporal busy...: try again later
            _log.warning("could not complete %s of %s: %s", task.element_id, task.workflow_id, exc)
            self._busy.discard(task.task_id)
            return
        self._done.add(task.task_id)
        self._known.pop(task.task_id, None)
        self._busy.discard(task.task_id)
        self.ledger.done[(role, task.element_id)] += 1


def _now(data: dict[str, Any]) -> Callable[[], Awaitable[dict[str, Any]]]:
    async def give() -> dict[str, Any]:
        return data
    return give


def _previous(sequence: int) -> int:
    return sequence - 10
