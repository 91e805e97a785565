"""Data functions of engineering and demand changes: ECO impact analysis, applying a new product
revision per in-flight order (finish on the old revision, migrate, rework), and ERP's last-minute
quantity or due-date changes.

A new revision from PLM is a JSON document::

    {"revision": "B", "change_note": "...",
     "bom": [{"line": 10, "material": "STEEL-SHEET", "quantity": "0.55", "operation": 10}, ...],
     "operations": [{"sequence": 10, "name": "Press", "work_center": "Acme.SITE.Fabrication.PressLine",
                     "run_time_s": 0.05, "setup_time_s": 0, "recipe": {"recipe_id": ..., "setpoints": {...}}}]}
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from mom.db.audit import append_audit_entry
from mom.db.equipment import get_equipment, get_equipment_by_path, setpoint_limits
from mom.db.errors import RecordNotFound
from mom.db.maintenance import job_id_of, machine_of, recorded
from mom.db.materials import change_lot_status, get_lot_by_number
from mom.db.models import Equipment, ProductDefinition, ProductionOrder, ProductRevision
from mom.db.orders import change_production_order_quantity, get_production_order_by_number
from mom.db.products import BomLineSpec, OperationSpec, add_revision, effective_revision, end_revision, get_revision
from mom.domain import DomainError, EquipmentLevel, JobOrderStatus, LotStatus, ProductionOrderStatus
from mom.domain.values import format_amount

IN_FLIGHT = (ProductionOrderStatus.RECEIVED, ProductionOrderStatus.RELEASED, ProductionOrderStatus.IN_PROGRESS,
             ProductionOrderStatus.HELD)
NOT_STARTED = (JobOrderStatus.PLANNED, JobOrderStatus.DISPATCHED)
ACTIONS = ("finish_old", "migrate", "rework")


class ChangeRefused(DomainError):
    """A refusal the process handles; ``code`` is the BPMN error code."""

    def __init__(self, code: str, message: str) -> None:
        self.code = code
        super().__init__(message)


def _operations(spec: Mapping[str, Any]) -> dict[int, dict[str, Any]]:
    ops = {}
    for k, op in enumerate(spec.get("operations") or []):
        if not isinstance(op, Mapping) or "sequence" not in op or "work_center" not in op:
            raise ChangeRefused("ECO_INVALID", f"revision {spec.get('revision')!r}: operations[{k}] needs sequence "
                                "and work_center")
        ops[int(op["sequence"])] = {"name": str(op.get("name") or op["sequence"]),
                                    "work_center": str(op["work_center"]),
                                    "run_time_s": float(op.get("run_time_s") or 0.0),
                                    "setup_time_s": float(op.get("setup_time_s") or 0.0),
                                    "recipe": dict(op.get("recipe") or {})}
    if not ops:
        raise ChangeRefused("ECO_INVALID", f"revision {spec.get('revision')!r} has no routing operations")
    return ops


def _current_operations(session: Session, rev: ProductRevision) -> dict[int, dict[str, Any]]:
    return {op.sequence: {"name": op.name, "work_center": get_equipment(session, equipment_id=op.work_center_id).path,
                          "run_time_s": float(op.run_time_s), "setup_time_s": float(op.setup_time_s),
                          "recipe": dict(op.recipe_parameters)} for op in rev.operations}


def _bom(session: Session, rev: ProductRevision) -> set[tuple[str, str, int | None]]:
    from mom.db.models import MaterialDefinition

    lines = set()
    for line in rev.bom_lines:
        material = session.get(MaterialDefinition, line.material_definition_id)
        lines.add((material.code if material else "?", format_amount(line.quantity), line.operation_sequence))
    return lines


def _spec_bom(spec: Mapping[str, Any]) -> set[tuple[str, str, int | None]]:
    return {(str(b["material"]), format_amount(Decimal(str(b["quantity"]))),
             None if b.get("operation") is None else int(b["operation"])) for b in spec.get("bom") or []}


def _orders_on(session: Session, product: ProductDefinition, rev: ProductRevision) -> list[ProductionOrder]:
    return list(session.scalars(sa.select(ProductionOrder).where(
        ProductionOrder.product_definition_id == product.id, ProductionOrder.product_revision_id == rev.id,
        ProductionOrder.status.in_(IN_FLIGHT)).order_by(ProductionOrder.order_number)))


def _units(session: Session, work_center: str) -> list[Equipment]:
    try:
        center = get_equipment_by_path(session, path=work_center)
    except RecordNotFound:
        return []
    return list(session.scalars(sa.select(Equipment).where(Equipment.parent_id == center.id,
                                                           Equipment.level == EquipmentLevel.WORK_UNIT)
                                .order_by(Equipment.path)))


def _wip_lots(session: Session, order: ProductionOrder) -> list[dict[str, Any]]:
    lots = []
    for job in order.job_orders:
        if job.status != JobOrderStatus.COMPLETED:
            continue
        try:
            lot = get_lot_by_number(session, lot_number=job_id_of(job))
        except RecordNotFound:
            continue
        if lot.status in (LotStatus.AVAILABLE, LotStatus.ON_HOLD):
            lots.append({"lot": lot.lot_number, "operation": job.sequence, "status": lot.status.value,
                         "quantity": format_amount(lot.quantity)})
    return lots


def eco_impact(session: Session, *, product_code: str, revision: Mapping[str, Any]) -> dict[str, Any]:
    """What the new revision changes and whom it touches: operations and BOM lines changed, in-flight
    orders with their current step and a proposed action, WIP lots, machines and recipes affected,
    the schedule impact (seconds of remaining run time added per order), and the recipe pushes."""
    current = effective_revision(session, product_code=product_code)
    new_ops, old_ops = _operations(revision), _current_operations(session, current)
    changed = sorted(s for s in set(new_ops) | set(old_ops) if new_ops.get(s) != old_ops.get(s))
    bom_new, bom_old = _spec_bom(revision), _bom(session, current)
    orders = []
    product = current.product
    for order in _orders_on(session, product, current):
        current_job = next((j for j in order.job_orders if j.status != JobOrderStatus.COMPLETED), None)
        started = any(j.status not in NOT_STARTED for j in order.job_orders)
        wip = _wip_lots(session, order)
        done_changed = [j.sequence for j in order.job_orders
                        if j.status == JobOrderStatus.COMPLETED and j.sequence in changed]
        proposed = "migrate" if not started else "rework" if done_changed and wip else "finish_old"
        delta = sum((new_ops.get(j.sequence, {}).get("run_time_s", 0.0) - old_ops.get(j.sequence, {}).get(
            "run_time_s", 0.0)) * float(j.quantity) for j in order.job_orders if j.status in NOT_STARTED)
        orders.append({
            "order_number": order.order_number, "status": order.status.value, "quantity": format_amount(order.quantity),
            "current_step": None if current_job is None else {
                "sequence": current_job.sequence, "operation": current_job.operation,
                "status": current_job.status.value, "job_id": job_id_of(current_job)},
            "wip_lots": wip, "proposed": proposed, "run_time_change_s": round(delta, 3)})
    machines: list[dict[str, Any]] = []
    recipes: list[dict[str, Any]] = []
    pushes: list[dict[str, Any]] = []
    for sequence in changed:
        new = new_ops.get(sequence)
        old = old_ops.get(sequence)
        recipes.append({"operation": sequence, "from": (old or {}).get("recipe", {}).get("recipe_id"),
                        "to": (new or {}).get("recipe", {}).get("recipe_id")})
        if new is None:
            continue
        for unit in _units(session, new["work_center"]):
            where = machine_of(unit)
            machines.append({**where, "operation": sequence})
            if where["endpoint"] and where["site"]:
                setpoints = new["recipe"].get("setpoints") or {}
                limits = setpoint_limits(unit, str(new["recipe"].get("recipe_id")), setpoints,
                                         new["recipe"].get("limits"))
                pushes.extend({**where, "node": f"Setpoints.{name}", "value": value, "limits": limits.get(name, [])}
                              for name, value in sorted(setpoints.items()))
    return {"product": product_code, "from_revision": current.revision, "to_revision": str(revision.get("revision")),
            "changed_operations": changed,
            "bom_added": sorted(map(list, bom_new - bom_old), key=str),
            "bom_removed": sorted(map(list, bom_old - bom_new), key=str),
            "orders": orders, "machines": machines, "recipes": recipes, "recipe_pushes": pushes,
            "schedule_impact_s": round(sum(o["run_time_change_s"] for o in orders), 3)}


def parse_choices(text: Any) -> dict[str, str]:
    """The supervisor's per-order choices: a dict, or a text ``PO-1=migrate, PO-2=rework``."""
    if isinstance(text, Mapping):
        pairs = {str(k): str(v) for k, v in text.items()}
    else:
        pairs = {}
        for part in str(text or "").replace("\n", ",").split(","):
            if part.strip():
                number, sep, action = part.partition("=")
                if not sep:
                    raise ChangeRefused("ECO_INVALID", f"order choice {part.strip()!r}: expected ORDER=ACTION")
                pairs[number.strip()] = action.strip()
    bad = {k: v for k, v in pairs.items() if v not in ACTIONS}
    if bad:
        raise ChangeRefused("ECO_INVALID", f"order choices {bad}: each must be one of {', '.join(ACTIONS)}")
    return pairs


def _add_new_revision(session: Session, product_code: str, spec: Mapping[str, Any], at: datetime) -> ProductRevision:
    name = str(spec["revision"])
    try:
        return get_revision(session, product_code=product_code, revision=name)
    except RecordNotFound:
        pass
    current = effective_revision(session, product_code=product_code, at=at)
    end_revision(session, product_code=product_code, revision=current.revision, effective_to=at)
    ops = _operations(spec)
    return add_revision(
        session, product_code=product_code, revision=name, effective_from=at, change_note=spec.get("change_note"),
        bom=[BomLineSpec(int(b.get("line") or 10 * (k + 1)), str(b["material"]), str(b["quantity"]),
                         operation_sequence=None if b.get("operation") is None else int(b["operation"]))
             for k, b in enumerate(spec.get("bom") or [])],
        operations=[OperationSpec(seq, op["name"], op["work_center"], setup_time_s=op["setup_time_s"],
                                  run_time_s=op["run_time_s"], recipe_parameters=op["recipe"])
                    for seq, op in sorted(ops.items())])


def _migrate(session: Session, order: ProductionOrder, rev: ProductRevision, actor: str) -> list[str]:
    """Not-started job orders take the new routing's operation (recipe, work center, times)."""
    by_sequence = {op.sequence: op for op in rev.operations}
    updated = []
    for job in order.job_orders:
        op = by_sequence.get(job.sequence)
        if job.status not in NOT_STARTED or op is None:
            continue
        job.routing_operation_id, job.operation = op.id, op.name
        job.parameters = dict(op.recipe_parameters)
        if job.work_center_id != op.work_center_id:
            job.work_center_id, job.work_unit_id = op.work_center_id, None
            job.status = JobOrderStatus.PLANNED
        updated.append(job_id_of(job))
    order.product_revision_id = rev.id
    return updated


def apply_eco(session: Session, *, eco_number: str, product_code: str, revision: Mapping[str, Any],
              choices: Mapping[str, str], impact: Mapping[str, Any], actor: str, at: datetime) -> dict[str, Any]:
    """Make the revision effective at ``at`` and treat each in-flight order as chosen (the proposal
    of the impact analysis unless the supervisor chose otherwise). Once per ECO number."""
    done = recorded(session, action="eco.applied", entity_id=eco_number)
    if done is not None:
        return done
    rev = _add_new_revision(session, product_code, revision, at)
    results = []
    for entry in impact.get("orders", []):
        number = str(entry["order_number"])
        action = choices.get(number, str(entry["proposed"]))
        order = get_production_order_by_number(session, order_number=number)
        result: dict[str, Any] = {"order_number": number, "action": action}
        if action == "migrate":
            result["updated_jobs"] = _migrate(session, order, rev, actor)
        elif action == "rework":
            held = []
            for lot in _wip_lots(session, order):
                if lot["status"] == LotStatus.AVAILABLE.value:
                    change_lot_status(session, lot_id=get_lot_by_number(session, lot_number=lot["lot"]).id,
                                      to=LotStatus.ON_HOLD, actor=actor, reason=f"{eco_number}: rework to revision "
                                      f"{rev.revision}")
                held.append(lot["lot"])
            result["held_lots"] = held
        append_audit_entry(session, actor=actor, action="production_order.eco_applied", entity_type="production order",
                           entity_id=number, reason=eco_number, details=result)
        results.append(result)
    answer = {"eco_number": eco_number, "product": product_code, "revision": rev.revision,
              "effective_from": at.isoformat(), "orders": results,
              "migrated_orders": [r["order_number"] for r in results if r["action"] == "migrate"]}
    append_audit_entry(session, actor=actor, action="eco.applied", entity_type="engineering change",
                       entity_id=eco_number, details=answer)
    return answer


# --- demand changes -------------------------------------------------------------------------

def _seconds(at: datetime | None, now: datetime) -> int | None:
    return None if at is None else int((at - now).total_seconds())


def demand_schedule(session: Session, *, order_number: str, quantity: Any, due_at: datetime | None,
                    now: datetime) -> dict[str, Any]:
    """The open orders sharing work centers with ``order_number`` as a scheduling problem (time in
    seconds from ``now``), the current plan (each order's remaining operations in sequence on its
    dispatched unit, orders by due date) and the quantity change as a replan event."""
    target = get_production_order_by_number(session, order_number=order_number)
    if target.status not in IN_FLIGHT:
        raise ChangeRefused("ORDER_NOT_CHANGEABLE", f"production order {order_number} is {target.status.value}; "
                            "a demand change needs an order not yet completed")
    centers = {j.work_center_id for j in target.job_orders}
    orders = [target] + [o for o in session.scalars(sa.select(ProductionOrder).where(
        ProductionOrder.status.in_(IN_FLIGHT), ProductionOrder.id != target.id).order_by(ProductionOrder.due_at))
        if any(j.work_center_id in centers for j in o.job_orders)]
    units: dict[str, dict[str, Any]] = {}
    free: dict[str, int] = {}
    jobs, plan_ops = [], []
    for order in sorted(orders, key=lambda o: (o.due_at is None, o.due_at or now, o.order_number)):
        operations, ready = [], 0
        for job in order.job_orders:
            if job.status in (JobOrderStatus.COMPLETED, JobOrderStatus.CANCELLED, JobOrderStatus.ABORTED):
                continue
            candidates = [get_equipment(session, equipment_id=job.work_unit_id)] if job.work_unit_id else []
            candidates += [u for u in _units(session, get_equipment(session, equipment_id=job.work_center_id).path)
                           if u not in candidates] if job.work_center_id else []
            if not candidates:
                continue
            per_piece = float(job.parameters.get("run_time_s", 1.0))
            for unit in candidates:
                units[unit.path] = {"id": unit.path, "name": unit.name}
            operations.append({"id": str(job.sequence), "eligible": [
                {"work_unit": u.path, "fixed_time": 0, "time_per_piece": per_piece} for u in candidates]})
            first = candidates[0].path
            start = max(free.get(first, 0), ready)
            end = start + max(1, round(per_piece * float(order.quantity)))
            plan_ops.append({"job_order": order.order_number, "operation": str(job.sequence),
                             "index": len(operations) - 1, "work_unit": first, "start": start, "end": end})
            free[first], ready = end, end
        if operations:
            due = due_at if order is target and due_at is not None else order.due_at
            jobs.append({"id": order.order_number, "quantity": float(order.quantity), "due": _seconds(due, now),
                         "operations": operations})
    if not any(j["id"] == order_number for j in jobs):
        raise ChangeRefused("ORDER_NOT_CHANGEABLE", f"production order {order_number} has no operation left to plan")
    events = [] if quantity is None else [{"type": "quantity_change", "job_order": order_number,
                                           "quantity": float(quantity)}]
    return {"problem": {"work_units": list(units.values()), "job_orders": jobs},
            "plan": {"status": "feasible", "operations": plan_ops}, "events": events, "now": 0,
            "due_s": _seconds(due_at or target.due_at, now)}


def update_order_demand(session: Session, *, order_number: str, quantity: Any, due_at: datetime | None,
                        plan: Mapping[str, Any] | None, now: datetime, actor: str, request: str,
                        reason: str) -> dict[str, Any]:
    """ERP's change, approved: the order's quantity and due date, and the job orders' planned times
    from the repaired plan. ``request`` keys the change (a repeat returns the first answer)."""
    done = recorded(session, action="production_order.demand_changed", entity_id=f"{order_number}@{request}")
    if done is not None:
        return done
    order = get_production_order_by_number(session, order_number=order_number)
    before = {"quantity": format_amount(order.quantity), "due_at": order.due_at.isoformat() if order.due_at else None}
    if quantity is not None and Decimal(str(quantity)) != order.quantity:
        change_production_order_quantity(session, order_id=order.id, quantity=str(quantity), actor=actor,
                                         reason=reason)
    if due_at is not None:
        order.due_at = due_at
    planned = 0
    for op in (plan or {}).get("operations", []):
        if op.get("job_order") != order_number:
            continue
        job = next((j for j in order.job_orders if str(j.sequence) == str(op.get("operation"))), None)
        if job is not None and job.status != JobOrderStatus.COMPLETED:
            job.planned_start = now + timedelta(seconds=int(op["start"]))
            job.planned_end = now + timedelta(seconds=int(op["end"]))
            planned += 1
    session.flush()
    answer = {"order_number": order_number, "before": before,
              "after": {"quantity": format_amount(order.quantity),
                        "due_at": order.due_at.isoformat() if order.due_at else None},
              "planned_jobs": planned}
    append_audit_entry(session, actor=actor, action="production_order.demand_changed", entity_type="production order",
                       entity_id=f"{order_number}@{request}", reason=reason, details=answer)
    return answer
