"""Data functions of maintenance: work orders, holding and resuming a machine's jobs, rerouting
them to another work unit of the work center, and recording downtime (for OEE).

Work orders and downtime records are audit entries (``maintenance.*`` actions) plus, for the
downtime, a machine event ``Downtime`` on the work unit; each function is keyed by a business key
(the work order number) so a repeated call returns what the first one recorded.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from mom.db.audit import append_audit_entry
from mom.db.equipment import get_equipment, get_equipment_by_path
from mom.db.events import record_machine_event
from mom.db.models import AuditEntry, Equipment, JobOrder
from mom.db.orders import change_job_order_status, dispatch_job_order
from mom.domain import DomainError, EquipmentLevel, JobOrderStatus, MachineEventKind

OPEN_JOBS = (JobOrderStatus.DISPATCHED, JobOrderStatus.RUNNING, JobOrderStatus.PAUSED)
DOWNTIME_EVENT = "Downtime"


def recorded(session: Session, *, action: str, entity_id: str) -> dict[str, Any] | None:
    """The details of the last audit entry of ``action`` for ``entity_id`` (a business key), if any."""
    entry = session.scalars(
        sa.select(AuditEntry).where(AuditEntry.action == action, AuditEntry.entity_id == entity_id)
        .order_by(AuditEntry.seq.desc()).limit(1)
    ).first()
    return dict(entry.details) if entry is not None else None


def job_id_of(job: JobOrder) -> str:
    """The job id the machines know (``<order number>-<sequence>``)."""
    return f"{job.production_order.order_number}-{job.sequence}"


def _work_unit(session: Session, path: str) -> Equipment:
    unit = get_equipment_by_path(session, path=path)
    if unit.level != EquipmentLevel.WORK_UNIT:
        raise DomainError(f"'{path}' is a {unit.level.value}, not a work unit")
    return unit


def _site_name(unit: Equipment) -> str | None:
    node: Equipment | None = unit
    while node is not None and node.level != EquipmentLevel.SITE:
        node = node.parent
    return node.name if node else None


def machine_of(unit: Equipment) -> dict[str, Any]:
    """What a machine task needs: site (edge queue), endpoint and machine name."""
    return {"work_unit": unit.path, "machine": unit.name, "site": _site_name(unit),
            "endpoint": unit.opcua_endpoint.url if unit.opcua_endpoint else None}


def work_order_number(machine: str, kind: str, key: str) -> str:
    digest = hashlib.sha256(key.encode()).hexdigest()[:8].upper()
    return f"WO-{machine}-{kind[:2].upper()}-{digest}"


def open_work_order(session: Session, *, work_unit: str, kind: str, cause: str, key: str, actor: str,
                    details: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """A maintenance work order for the work unit (``kind`` breakdown or preventive); ``key`` is the
    business key of what caused it (the alarm and its time), so it opens once."""
    unit = _work_unit(session, work_unit)
    number = work_order_number(unit.name, kind, f"{work_unit}|{kind}|{key}")
    done = recorded(session, action="maintenance.work_order_opened", entity_id=number)
    if done is not None:
        return done
    order = {"work_order": number, "kind": kind, "cause": cause, "opened_by": actor, **machine_of(unit),
             "details": dict(details or {})}
    append_audit_entry(session, actor=actor, action="maintenance.work_order_opened", entity_type="work order",
                       entity_id=number, reason=cause, details=order)
    return order


def close_work_order(session: Session, *, work_order: str, actor: str, outcome: Mapping[str, Any]) -> dict[str, Any]:
    done = recorded(session, action="maintenance.work_order_closed", entity_id=work_order)
    if done is not None:
        return done
    if recorded(session, action="maintenance.work_order_opened", entity_id=work_order) is None:
        raise DomainError(f"work order {work_order} was never opened")
    answer = {"work_order": work_order, "closed_by": actor, **dict(outcome)}
    append_audit_entry(session, actor=actor, action="maintenance.work_order_closed", entity_type="work order",
                       entity_id=work_order, details=answer)
    return answer


def _open_jobs(session: Session, unit_ids: list[int]) -> list[JobOrder]:
    return list(session.scalars(
        sa.select(JobOrder).where(JobOrder.work_unit_id.in_(unit_ids), JobOrder.status.in_(OPEN_JOBS))
        .order_by(JobOrder.work_unit_id, JobOrder.status.desc(), JobOrder.id)))


def hold_jobs(session: Session, *, work_unit: str, work_order: str, actor: str) -> dict[str, Any]:
    """Hold the machine's jobs: the running one is paused, the dispatched ones wait. Again: same answer."""
    done = recorded(session, action="maintenance.jobs_held", entity_id=work_order)
    if done is not None:
        return done
    unit = _work_unit(session, work_unit)
    held: list[str] = []
    queued: list[str] = []
    for job in _open_jobs(session, [unit.id]):
        if job.status == JobOrderStatus.RUNNING:
            change_job_order_status(session, job_order_id=job.id, to=JobOrderStatus.PAUSED, actor=actor,
                                    reason=f"machine down, work order {work_order}")
        (held if job.status == JobOrderStatus.PAUSED else queued).append(job_id_of(job))
    answer = {"work_order": work_order, "work_unit": work_unit, "held_jobs": held, "queued_jobs": queued}
    append_audit_entry(session, actor=actor, action="maintenance.jobs_held", entity_type="work unit",
                       entity_id=work_order, details=answer)
    return answer


def _siblings(session: Session, unit: Equipment) -> list[Equipment]:
    return list(session.scalars(sa.select(Equipment).where(Equipment.parent_id == unit.parent_id,
                                                           Equipment.level == EquipmentLevel.WORK_UNIT)
                                .order_by(Equipment.path)))


def downtime_schedule(session: Session, *, work_unit: str, expected_repair_s: int) -> dict[str, Any]:
    """The scheduler's view of the work center around the broken unit: its open jobs as a problem
    (any unit of the center may take them), the current plan (each unit works its jobs in order,
    the running ones started before ``now``), and the breakdown event (see mom.scheduling.exchange)."""
    unit = _work_unit(session, work_unit)
    units = _siblings(session, unit)
    now = 1
    problem_jobs, plan_ops = [], []
    clock: dict[int, int] = {u.id: 0 for u in units}
    for job in _open_jobs(session, [u.id for u in units]):
        per_piece = float(job.parameters.get("run_time_s", 1.0))
        remaining = max(Decimal(1), job.quantity - job.good_quantity)
        duration = max(1, round(per_piece * float(remaining)))
        jid = job_id_of(job)
        problem_jobs.append({"id": jid, "quantity": float(remaining), "operations": [{
            "id": str(job.sequence),
            "eligible": [{"work_unit": u.path, "fixed_time": 0, "time_per_piece": per_piece} for u in units]}]})
        assert job.work_unit_id is not None
        start = clock[job.work_unit_id] if job.status != JobOrderStatus.DISPATCHED else max(
            now, clock[job.work_unit_id])
        clock[job.work_unit_id] = start + duration
        plan_ops.append({"job_order": jid, "operation": str(job.sequence), "index": 0,
                         "work_unit": get_equipment(session, equipment_id=job.work_unit_id).path,
                         "start": start, "end": start + duration})
    problem = {"work_units": [{"id": u.path, "name": u.name} for u in units], "job_orders": problem_jobs}
    return {"problem": problem, "plan": {"status": "feasible", "operations": plan_ops}, "now": now,
            "events": [{"type": "breakdown", "work_unit": work_unit, "start": now,
                        "end": now + max(1, int(expected_repair_s)), "reason": "breakdown"}],
            "jobs": len(problem_jobs)}


def _job_by_id(session: Session, job_id: str) -> JobOrder | None:
    number, _, sequence = job_id.rpartition("-")
    if not sequence.isdigit():
        return None
    from mom.db.models import ProductionOrder

    return session.scalars(sa.select(JobOrder).join(JobOrder.production_order).where(
        ProductionOrder.order_number == number, JobOrder.sequence == int(sequence))).first()


def resume_jobs(session: Session, *, work_unit: str, work_order: str, plan: Mapping[str, Any],
                actor: str) -> dict[str, Any]:
    """After the repair: jobs the plan moved to another unit of the work center are re-dispatched
    there (rerouted, only if not started), the paused ones resume on the repaired unit."""
    done = recorded(session, action="maintenance.jobs_resumed", entity_id=work_order)
    if done is not None:
        return done
    unit = _work_unit(session, work_unit)
    planned = {str(op.get("job_order")): str(op.get("work_unit")) for op in plan.get("operations", [])}
    resumed, rerouted, stay = [], [], []
    for job in _open_jobs(session, [unit.id]):
        jid = job_id_of(job)
        target = planned.get(jid, unit.path)
        if job.status == JobOrderStatus.DISPATCHED and target != unit.path:
            change_job_order_status(session, job_order_id=job.id, to=JobOrderStatus.PLANNED, actor=actor,
                                    reason=f"rerouted to {target} (work order {work_order})")
            new_unit = get_equipment_by_path(session, path=target)
            dispatch_job_order(session, job_order_id=job.id, work_unit_id=new_unit.id, actor=actor)
            rerouted.append({"job_id": jid, "from": unit.path, "to": target, **machine_of(new_unit)})
        elif job.status == JobOrderStatus.PAUSED:
            change_job_order_status(session, job_order_id=job.id, to=JobOrderStatus.RUNNING, actor=actor,
                                    reason=f"machine repaired (work order {work_order})")
            resumed.append(jid)
        else:
            stay.append(jid)
    answer = {"work_order": work_order, "resumed": resumed, "rerouted": rerouted, "unchanged": stay}
    append_audit_entry(session, actor=actor, action="maintenance.jobs_resumed", entity_type="work unit",
                       entity_id=work_order, details=answer)
    return answer


def record_downtime(session: Session, *, work_unit: str, work_order: str, starts_at: datetime, ends_at: datetime,
                    reason: str, actor: str) -> dict[str, Any]:
    """Unplanned downtime of the work unit (a ``Downtime`` machine event the OEE reports by reason)."""
    done = recorded(session, action="maintenance.downtime_recorded", entity_id=work_order)
    if done is not None:
        return done
    if ends_at < starts_at:
        raise DomainError(f"work order {work_order}: downtime ends ({ends_at.isoformat()}) before it starts "
                          f"({starts_at.isoformat()})")
    unit = _work_unit(session, work_unit)
    seconds = round((ends_at - starts_at).total_seconds(), 3)
    value = {"work_order": work_order, "reason": reason, "starts_at": starts_at.isoformat(),
             "ends_at": ends_at.isoformat(), "seconds": seconds}
    record_machine_event(session, work_unit_id=unit.id, kind=MachineEventKind.COUNTER, name=DOWNTIME_EVENT,
                         at=starts_at, value=value)
    append_audit_entry(session, actor=actor, action="maintenance.downtime_recorded", entity_type="work unit",
                       entity_id=work_order, reason=reason, details={"work_unit": work_unit, **value})
    return {"work_unit": work_unit, **value}
