"""Change activities: engineering changes (ECO from PLM) and ERP demand changes.

- ``changes.eco_impact``: what a new product revision touches (:func:`mom.db.engineering.eco_impact`);
- ``changes.apply_eco``: the revision becomes effective, each in-flight order finishes on the old
  revision, migrates or goes to rework (once per ECO number); a released or running order that
  migrates has its remaining job orders whose operation moved to another work center re-dispatched
  (:func:`redispatch_unassigned`) to the work unit of the new work center that is free first, so its
  next operation runs there; an order finishing on the old revision keeps its assignment;
- ``changes.migrate_instances``: running instances of a process (``production_order``) for the
  migrated orders move to its latest version where replaying their history says it is safe;
- ``changes.notify``: a notification to a group (an audit entry the inbox and station pages show);
- ``changes.demand_schedule`` / ``changes.demand_impact`` / ``changes.update_demand``: the
  scheduler's view of a quantity or due-date change, its impact after ``schedule.replan``, and the
  approved update of the order and its planned times.

Recipes are pushed to the machines by machine tasks in the diagram (edge worker), never from here.
Refusals the diagram handles are ``BpmnError`` with codes ECO_INVALID, ORDER_NOT_CHANGEABLE.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session, sessionmaker
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.acting import acting_actor, acting_person, said
from activities.maintenance import SYSTEM, DataWork, text_input, time_input
from mom.db import engineering as data
from mom.db.audit import append_audit_entry, noting
from mom.db.maintenance import job_id_of, recorded
from mom.db.models import Equipment, JobOrder, ProductionOrder
from mom.db.orders import dispatch_job_order, get_production_order_by_number
from mom.domain import EquipmentLevel, JobOrderStatus, ProductionOrderStatus

logger = logging.getLogger("mom.changes")


def demand_impact(*, order_number: str, plan_before: Mapping[str, Any], plan_after: Mapping[str, Any],
                  due_s: int | None) -> dict[str, Any]:
    """The order's finish before and after the replan, against its due time (seconds from now)."""
    def finish(plan: Mapping[str, Any]) -> int | None:
        ends = [int(op["end"]) for op in plan.get("operations", []) if op.get("job_order") == order_number]
        return max(ends) if ends else None

    before, after = finish(plan_before), finish(plan_after)
    late = None if due_s is None or after is None else max(0, after - due_s)
    others = sorted({str(op["job_order"]) for op in plan_after.get("operations", [])} - {order_number})
    return {"finish_before_s": before, "finish_after_s": after, "due_s": due_s, "late_by_s": late,
            "feasible": late in (None, 0), "other_orders": others,
            "summary": f"{order_number} finishes at +{after} s (was +{before} s)"
                       + ("" if due_s is None else f", due at +{due_s} s" + (f", LATE by {late} s" if late else ""))}


# Jobs still to be done on the unit they are dispatched to (its queue, for choosing a unit).
QUEUED_ON_UNIT = (JobOrderStatus.DISPATCHED, JobOrderStatus.RUNNING, JobOrderStatus.PAUSED)
DISPATCHABLE_ORDERS = (ProductionOrderStatus.RELEASED, ProductionOrderStatus.IN_PROGRESS)


def _queued_seconds(session: Session, unit: Equipment) -> float:
    """Run time of the jobs dispatched to ``unit`` and not done yet (quantity x run time per piece)."""
    jobs = session.scalars(sa.select(JobOrder).where(JobOrder.work_unit_id == unit.id,
                                                     JobOrder.status.in_(QUEUED_ON_UNIT)))
    return sum(max(0.0, float(j.quantity) - float(j.good_quantity or 0)) * float(j.parameters.get("run_time_s") or 1.0)
               for j in jobs)


def first_free_unit(session: Session, work_center_id: int) -> Equipment | None:
    """The work unit of the work center that is free first: a machine reachable over OPC UA before
    one without an endpoint, then the least queued work, then the equipment path."""
    units = list(session.scalars(sa.select(Equipment).where(Equipment.parent_id == work_center_id,
                                                            Equipment.level == EquipmentLevel.WORK_UNIT)))
    if not units:
        return None
    return min(units, key=lambda u: (u.opcua_endpoint is None, _queued_seconds(session, u), u.path))


def redispatch_unassigned(session: Session, order: ProductionOrder, *, actor: str, reason: str,
                          sequence: int | None = None) -> list[dict[str, Any]]:
    """Dispatch the order's planned job orders that have no work unit (an ECO moved their operation
    to another work center) to the first free unit of their work center; only ``sequence`` when
    given. Orders not released yet are left to their own dispatch step. Returns what was dispatched."""
    if order.status not in DISPATCHABLE_ORDERS:
        return []
    done = []
    for job in order.job_orders:
        if job.work_unit_id is not None or job.status != JobOrderStatus.PLANNED or job.work_center_id is None:
            continue
        if sequence is not None and job.sequence != sequence:
            continue
        unit = first_free_unit(session, job.work_center_id)
        if unit is None:
            continue  # current_assignment names the job order without a work unit (NO_WORK_UNIT)
        dispatch_job_order(session, job_order_id=job.id, work_unit_id=unit.id, actor=actor)
        entry = {"job_id": job_id_of(job), "sequence": job.sequence, "work_unit": unit.path, "machine": unit.name}
        append_audit_entry(session, actor=actor, action="job_order.redispatched", entity_type="job order",
                           entity_id=job_id_of(job), reason=reason, details=entry)
        done.append(entry)
    return done


def redispatch_migrated(session: Session, *, eco_number: str, applied: dict[str, Any],
                        actor: str) -> list[dict[str, Any]]:
    """After an ECO was applied: re-dispatch the migrated orders' job orders left without a work
    unit. Once per ECO number (a retried activity gets the first answer)."""
    done = recorded(session, action="eco.redispatched", entity_id=eco_number)
    if done is not None:
        return list(done.get("jobs") or [])
    jobs = []
    for number in applied.get("migrated_orders") or []:
        order = get_production_order_by_number(session, order_number=str(number))
        jobs += redispatch_unassigned(session, order, actor=actor, reason=f"{eco_number}: operation moved to "
                                      "another work center")
    append_audit_entry(session, actor=actor, action="eco.redispatched", entity_type="engineering change",
                       entity_id=eco_number, details={"jobs": jobs})
    return jobs


class ChangeActivities:
    def __init__(self, session_factory: sessionmaker[Session], *, data_dir: Path | None = None,
                 proof_key: bytes | None = None, database_url: str | None = None) -> None:
        self._data = DataWork(session_factory)
        self._data_dir = data_dir
        self._database_url = database_url  # where deployed processes are (mom.process_store)
        self._proof_key = proof_key  # migrations are Updates acting for a person (workflows.update_proof)

    @activity.defn(name="changes.eco_impact")
    async def eco_impact(self, inputs: dict[str, Any]) -> dict[str, Any]:
        product = text_input(inputs, "product_code", "changes.eco_impact")
        revision = self._revision(inputs, "changes.eco_impact")
        return await self._data.write(lambda s: data.eco_impact(s, product_code=product, revision=revision),
                                      data.ChangeRefused)

    @activity.defn(name="changes.apply_eco")
    async def apply_eco(self, inputs: dict[str, Any]) -> dict[str, Any]:
        where = "changes.apply_eco"
        eco, product = text_input(inputs, "eco_number", where), text_input(inputs, "product_code", where)
        revision = self._revision(inputs, where)
        given = inputs.get("impact")
        impact: dict[str, Any] = given if isinstance(given, dict) else {}
        at = time_input(inputs, "effective_at", where, default=datetime.now(UTC))

        def work(session: Session) -> dict[str, Any]:
            choices = data.parse_choices(inputs.get("order_choices"))
            actor = acting_actor(inputs)
            applied = data.apply_eco(session, eco_number=eco, product_code=product, revision=revision,
                                     choices=choices, impact=impact, actor=actor, at=at)
            session.flush()
            return {**applied, "redispatched": redispatch_migrated(session, eco_number=eco, applied=applied,
                                                                   actor=actor)}
        with noting(said(inputs, "approved_by")):
            return await self._data.write(work, data.ChangeRefused)

    @activity.defn(name="changes.migrate_instances")
    async def migrate_instances(self, inputs: dict[str, Any]) -> dict[str, Any]:
        """Migrate the running instances of ``process_id`` whose ``order_number`` is in ``orders``."""
        from mom.migration import check_instance, running_instances, send_migration
        from mom.process_store import ProcessStore

        process_id = str(inputs.get("process_id") or "production_order")
        orders = {str(o) for o in inputs.get("orders") or []}
        if self._data_dir is None or not orders:
            return {"migrated": [], "unsafe": [], "process_id": process_id}
        store = ProcessStore(self._data_dir, database_url=self._database_url)
        target = store.latest(process_id)
        if target is None:
            return {"migrated": [], "unsafe": [], "process_id": process_id, "note": "not deployed"}
        client = activity.client()
        migrated, unsafe = [], []
        for instance_id, sha in await running_instances(client, process_id):
            state = await client.get_workflow_handle(instance_id).query("state")
            if str((state.get("variables") or {}).get("order_number")) not in orders or sha == target.spec_sha256:
                continue
            verdict = await check_instance(client, store, instance_id, sha, target)
            if not verdict.safe:
                unsafe.append({"instance": instance_id, "reasons": verdict.reasons})
                continue
            await send_migration(client, instance_id, target, user=acting_person(inputs) or SYSTEM,
                                 reason=str(inputs.get("reason") or "engineering change"), proof_key=self._proof_key)
            migrated.append(instance_id)
        return {"migrated": migrated, "unsafe": unsafe, "process_id": process_id, "to_version": target.version}

    @activity.defn(name="changes.notify")
    async def notify(self, inputs: dict[str, Any]) -> dict[str, Any]:
        group, message = text_input(inputs, "group", "changes.notify"), text_input(inputs, "message", "changes.notify")
        info = activity.info()
        key = f"{info.workflow_id}/{info.activity_id}"

        def work(session: Session) -> dict[str, Any]:
            from mom.db.maintenance import recorded

            done = recorded(session, action="notification.sent", entity_id=key)
            if done is not None:
                return done
            answer = {"group": group, "message": message, "about": inputs.get("about")}
            append_audit_entry(session, actor=acting_actor(inputs), action="notification.sent",
                               entity_type="notification", entity_id=key, details=answer)
            return answer
        return await self._data.write(work)

    @activity.defn(name="changes.demand_schedule")
    async def demand_schedule(self, inputs: dict[str, Any]) -> dict[str, Any]:
        where = "changes.demand_schedule"
        number = text_input(inputs, "order_number", where)
        due = time_input(inputs, "new_due_at", where) if inputs.get("new_due_at") else None
        now = time_input(inputs, "now", where, default=datetime.now(UTC))
        return await self._data.write(lambda s: data.demand_schedule(
            s, order_number=number, quantity=inputs.get("new_quantity"), due_at=due, now=now), data.ChangeRefused)

    @activity.defn(name="changes.demand_impact")
    async def demand_impact(self, inputs: dict[str, Any]) -> dict[str, Any]:
        number = text_input(inputs, "order_number", "changes.demand_impact")
        before, after = inputs.get("plan_before"), inputs.get("plan_after")
        if not isinstance(before, dict) or not isinstance(after, dict):
            raise ApplicationError("changes.demand_impact: plan_before and plan_after must be plan documents",
                                   type="InvalidInput", non_retryable=True)
        due = inputs.get("due_s")
        return demand_impact(order_number=number, plan_before=before, plan_after=after,
                             due_s=None if due is None else int(due))

    @activity.defn(name="changes.update_demand")
    async def update_demand(self, inputs: dict[str, Any]) -> dict[str, Any]:
        where = "changes.update_demand"
        number = text_input(inputs, "order_number", where)
        due = time_input(inputs, "new_due_at", where) if inputs.get("new_due_at") else None
        now = time_input(inputs, "now", where, default=datetime.now(UTC))
        plan = inputs.get("plan") if isinstance(inputs.get("plan"), dict) else None
        request = str(activity.info().workflow_id)
        with noting(said(inputs, "approved_by")):
            return await self._data.write(lambda s: data.update_order_demand(
                s, order_number=number, quantity=inputs.get("new_quantity"), due_at=due, plan=plan, now=now,
                actor=acting_actor(inputs), request=request,
                reason=str(inputs.get("reason") or "ERP demand change")), data.ChangeRefused)

    @staticmethod
    def _revision(inputs: dict[str, Any], where: str) -> dict[str, Any]:
        revision = inputs.get("revision")
        if not isinstance(revision, dict) or not revision.get("revision"):
            raise ApplicationError(f"{where}: input 'revision' must be the new revision document from PLM "
                                   "({'revision': 'B', 'bom': [...], 'operations': [...]})", type="InvalidInput",
                                   non_retryable=True)
        return revision
