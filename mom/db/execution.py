"""Data functions of order execution: release, dispatch, material staging, job results with
genealogy, inspections against routing tolerances, lot holds and dispositions.

Each function is safe to call again with the same business keys (activities run at least once):
a second call finds what the first one recorded and returns the same answer. Refusals that the
process handles (a lot that is not available, a material not in the BOM) raise
:class:`ExecutionRefused` with a stable ``code``; everything else is a plain data-layer error.

Where the routing keeps its execution data: ``RoutingOperation.recipe_parameters`` (copied to
the job order's ``parameters``) holds ``recipe_id``, ``setpoints`` (sent to the machine),
``output_material`` (the material the operation makes; the product's material by default),
``tolerances`` (``{characteristic: {"lower": x, "upper": y, "unit": u}}``) and ``limits`` of the
setpoints (``{"Pressure": {"min": 4, "max": 7}}``). The recipe handed to the machine task carries,
per setpoint, the ranges it must be in: the work unit's binding ``Setpoints.<name>`` limits and the
recipe's own (the edge worker has no database; it checks these and the machine's EURange).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from mom.db.audit import append_audit_entry
from mom.db.equipment import get_equipment, get_equipment_by_path, setpoint_limits
from mom.db.errors import RecordNotFound
from mom.db.materials import change_lot_status, consume_lot, create_lot, get_lot_by_number
from mom.db.models import (
    AuditEntry,
    BomLine,
    Equipment,
    GenealogyLink,
    JobOrder,
    MaterialDefinition,
    MaterialLot,
    ProductDefinition,
    ProductionOrder,
)
from mom.db.orders import (
    change_job_order_status,
    change_production_order_status,
    create_production_order,
    dispatch_job_order,
    get_production_order_by_number,
    report_job_order_quantities,
)
from mom.db.quality import record_quality_result
from mom.domain import DomainError, EquipmentLevel, JobOrderStatus, LotStatus, ProductionOrderStatus, QualityResult
from mom.domain.values import format_amount, to_decimal

DISPOSITIONS = ("use_as_is", "rework", "scrap")


class ExecutionRefused(DomainError):
    """A refusal the process is drawn to handle; ``code`` is the BPMN error code."""

    def __init__(self, code: str, message: str, **details: Any) -> None:
        self.code = code
        self.details = details
        super().__init__(message)


def _recorded(session: Session, *, action: str, entity_id: str) -> dict[str, Any] | None:
    """The details of an audit entry already written for this business key, if any."""
    entry = session.scalars(
        sa.select(AuditEntry).where(AuditEntry.action == action, AuditEntry.entity_id == entity_id)
        .order_by(AuditEntry.seq.desc()).limit(1)
    ).first()
    return dict(entry.details) if entry is not None else None


def _job(order: ProductionOrder, sequence: int) -> JobOrder:
    for job in order.job_orders:
        if job.sequence == sequence:
            return job
    raise RecordNotFound("job order", f"{order.order_number}/{sequence}")


def _site_of(unit: Equipment) -> Equipment:
    node: Equipment | None = unit
    while node is not None and node.level != EquipmentLevel.SITE:
        node = node.parent
    if node is None:
        raise DomainError(f"work unit '{unit.path}' is not under a site")
    return node


def _work_units(session: Session, work_center_id: int | None) -> list[Equipment]:
    if work_center_id is None:
        return []
    return list(session.scalars(
        sa.select(Equipment).where(Equipment.parent_id == work_center_id,
                                   Equipment.level == EquipmentLevel.WORK_UNIT).order_by(Equipment.path)
    ))


def _bom_lines(session: Session, order: ProductionOrder, sequence: int) -> list[BomLine]:
    if order.product_revision_id is None:
        return []
    return list(session.scalars(
        sa.select(BomLine).where(BomLine.product_revision_id == order.product_revision_id,
                                 BomLine.operation_sequence == sequence).order_by(BomLine.line_number)
    ))


def _material_code(session: Session, material_id: int) -> str:
    material = session.get(MaterialDefinition, material_id)
    return material.code if material else "?"


def _operation(session: Session, job: JobOrder, unit: Equipment | None) -> dict[str, Any]:
    """What the process needs to run one operation (the multi-instance element)."""
    params = dict(job.parameters)
    order = job.production_order
    answer: dict[str, Any] = {
        "order_number": order.order_number,
        "sequence": job.sequence,
        "operation": job.operation,
        "job_id": f"{order.order_number}-{job.sequence}",
        "quantity": int(job.quantity) if job.quantity == int(job.quantity) else float(job.quantity),
        "recipe": {"recipe_id": params.get("recipe_id", job.operation), "quantity": int(job.quantity),
                   "setpoints": dict(params.get("setpoints") or {})},
        "tolerances": dict(params.get("tolerances") or {}),
        "characteristic": next(iter(params.get("tolerances") or {}), None),
        "materials": [
            {"material": _material_code(session, line.material_definition_id),
             "quantity": format_amount(line.quantity * job.quantity), "unit": line.unit}
            for line in _bom_lines(session, order, job.sequence)
        ],
        "work_unit": None, "machine": None, "endpoint": None, "site": None,
    }
    limits = setpoint_limits(unit, answer["recipe"]["recipe_id"], answer["recipe"]["setpoints"],
                             params.get("limits"))
    if limits:
        answer["recipe"]["limits"] = limits
    if unit is not None:
        answer.update(work_unit=unit.path, machine=unit.name, site=_site_of(unit).name,
                      endpoint=unit.opcua_endpoint.url if unit.opcua_endpoint else None)
    return answer



# --- release and dispatch -------------------------------------------------------------------

def release_order(session: Session, *, order_number: str, actor: str, product_code: str | None = None,
                  quantity: Decimal | int | str | None = None) -> ProductionOrder:
    """Release the order received from ERP (creating it first when product and quantity are
    given and it is not stored yet); an order already released or running is returned as is."""
    try:
        order = get_production_order_by_number(session, order_number=order_number)
    except RecordNotFound:
        if product_code is None or quantity is None:
            raise ExecutionRefused("ORDER_UNKNOWN", f"production order {order_number} is not stored; "
                                   "import it from ERP or give product_code and quantity") from None
        order = create_production_order(session, order_number=order_number, product_code=product_code,
                                        quantity=quantity, actor=actor)
    if order.status == ProductionOrderStatus.RECEIVED:
        if not order.job_orders:
            raise ExecutionRefused("ORDER_WITHOUT_OPERATIONS",
                                   f"production order {order_number} has no job orders (no routing in effect)")
        change_production_order_status(session, order_id=order.id, to=ProductionOrderStatus.RELEASED,
                                       actor=actor, reason="released for production")
    elif order.status not in (ProductionOrderStatus.RELEASED, ProductionOrderStatus.IN_PROGRESS):
        raise ExecutionRefused("ORDER_NOT_RELEASABLE",
                               f"production order {order_number} is {order.status.value}; only a received order "
                               "can be released")
    return order


def operations_of(session: Session, order: ProductionOrder) -> list[dict[str, Any]]:
    return [_operation(session, job, None if job.work_unit_id is None else get_equipment(
        session, equipment_id=job.work_unit_id)) for job in order.job_orders]


def schedule_problem(session: Session, order: ProductionOrder) -> dict[str, Any]:
    """The order as a scheduling problem (see mom.scheduling.exchange): one job order whose
    operations may run on any work unit of their work center."""
    units: dict[str, dict[str, Any]] = {}
    operations = []
    for job in order.job_orders:
        eligible = []
        run_time = float(job.parameters.get("run_time_s", 1.0))
        for unit in _work_units(session, job.work_center_id):
            units[unit.path] = {"id": unit.path, "name": unit.name}
            eligible.append({"work_unit": unit.path, "fixed_time": 0, "time_per_piece": run_time})
        operations.append({"id": str(job.sequence), "eligible": eligible})
    return {"job_orders": [{"id": order.order_number, "quantity": float(order.quantity), "operations": operations}],
            "work_units": list(units.values())}


def dispatch_order(session: Session, *, order_number: str, actor: str,
                   plan: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
    """Dispatch each planned job order to the work unit of the plan (or the first work unit of its
    work center without a plan); returns the operations with machine, endpoint and site."""
    order = get_production_order_by_number(session, order_number=order_number)
    planned = {str(op.get("operation")): str(op.get("work_unit"))
               for op in (plan or {}).get("operations", []) if op.get("job_order") == order_number}
    for job in order.job_orders:
        if job.status != JobOrderStatus.PLANNED:
            continue
        path = planned.get(str(job.sequence))
        if path is not None:
            unit = get_equipment_by_path(session, path=path)
        else:
            units = _work_units(session, job.work_center_id)
            if not units:
                raise ExecutionRefused("NO_WORK_UNIT", f"job order {order_number}/{job.sequence} "
                                       f"({job.operation}): its work center has no work unit")
            unit = units[0]
        dispatch_job_order(session, job_order_id=job.id, work_unit_id=unit.id, actor=actor)
    return operations_of(session, order)


def current_assignment(session: Session, *, order_number: str, sequence: int) -> dict[str, Any]:
    """The job order as it is now: its work unit (machine, endpoint, site) and recipe, which a
    reroute (machine breakdown), an ECO migration or a demand change may have changed since the
    order was dispatched. A plain read: the process calls it right before loading the recipe."""
    order = get_production_order_by_number(session, order_number=order_number)
    job = _job(order, sequence)
    if job.work_unit_id is None:
        raise ExecutionRefused("NO_WORK_UNIT", f"job order {order_number}/{sequence} ({job.operation}) is "
                               f"{job.status.value} without a work unit; dispatch it before it can run")
    operation = _operation(session, job, get_equipment(session, equipment_id=job.work_unit_id))
    # no key "operation": the BPMN output mapping merges this into the process's ``operation``
    answer = {key: operation[key] for key in ("order_number", "sequence", "job_id", "quantity", "work_unit",
                                              "machine", "endpoint", "site", "recipe", "tolerances",
                                              "characteristic")}
    answer.update(operation_name=job.operation, status=job.status.value, parameters=dict(job.parameters))
    return answer


# --- staging --------------------------------------------------------------------------------

def check_staged_lots(session: Session, *, order_number: str, sequence: int,
                      lot_numbers: Sequence[str]) -> list[dict[str, Any]]:
    """Check the scanned lots against the operation's BOM lines and their status; returns what
    each lot gives to the job (``quantity`` to consume for the ordered quantity)."""
    order = get_production_order_by_number(session, order_number=order_number)
    job = _job(order, sequence)
    where = f"order {order_number} operation {sequence} ({job.operation})"
    bom = _bom_lines(session, order, sequence)
    lines = {_material_code(session, line.material_definition_id): line for line in bom}
    staged: dict[str, list[MaterialLot]] = {}
    for number in dict.fromkeys(n.strip() for n in lot_numbers if n.strip()):
        try:
            lot = get_lot_by_number(session, lot_number=number)
        except RecordNotFound:
            raise ExecutionRefused("LOT_NOT_AVAILABLE", f"{where}: lot {number} does not exist",
                                   lot=number) from None
        code = _material_code(session, lot.material_definition_id)
        if code not in lines:
            raise ExecutionRefused("LOT_NOT_IN_BOM", f"{where}: lot {number} is {code}, which is not in the BOM "
                                   f"of this operation (expected: {', '.join(sorted(lines)) or 'no material'})",
                                   lot=number, material=code)
        if lot.status != LotStatus.AVAILABLE:
            raise ExecutionRefused("LOT_NOT_AVAILABLE", f"{where}: lot {number} is {lot.status.value}, not available",
                                   lot=number, status=lot.status.value)
        staged.setdefault(code, []).append(lot)
    result = []
    for code, line in lines.items():
        need = line.quantity * job.quantity
        lots = staged.get(code, [])
        have = sum((lot.quantity for lot in lots), Decimal(0))
        if have < need:
            raise ExecutionRefused("LOT_NOT_AVAILABLE", f"{where}: {code} needs {format_amount(need)} {line.unit}; "
                                   f"the lots scanned hold {format_amount(have)} {line.unit}", material=code)
        for lot in lots:
            take = min(lot.quantity, need)
            need -= take
            if take > 0:
                result.append({"lot": lot.lot_number, "material": code, "per_unit": format_amount(line.quantity),
                               "quantity": format_amount(take), "unit": lot.unit})
    return result


# --- job results and genealogy -------------------------------------------------------------

def output_lot_number(order_number: str, sequence: int) -> str:
    return f"{order_number}-{sequence}"


def _output_material(session: Session, order: ProductionOrder, job: JobOrder) -> str:
    code = job.parameters.get("output_material")
    if code:
        return str(code)
    product = session.get(ProductDefinition, order.product_definition_id)
    if product is None or product.material_definition_id is None:
        raise DomainError(f"job order {order.order_number}/{job.sequence}: the routing gives no output_material "
                          "and the product has no material")
    return _material_code(session, product.material_definition_id)


def record_job_result(session: Session, *, order_number: str, sequence: int, staged: Sequence[Mapping[str, Any]],
                      good: int, bad: int, performed_by: str) -> dict[str, Any]:
    """The job ran: its counts, the output lot (good parts) and what each staged lot gave to it
    (genealogy at this operation on this work unit, by this person). Once per job order."""
    order = get_production_order_by_number(session, order_number=order_number)
    job = _job(order, sequence)
    lot_number = output_lot_number(order_number, sequence)
    if job.status == JobOrderStatus.COMPLETED:
        return {"lot": lot_number, "good": int(job.good_quantity), "bad": int(job.scrap_quantity), "already": True}
    if job.status == JobOrderStatus.DISPATCHED:
        change_job_order_status(session, job_order_id=job.id, to=JobOrderStatus.RUNNING, actor=performed_by,
                                reason="job started on the machine")
    report_job_order_quantities(session, job_order_id=job.id, good=good, scrap=bad)
    output = create_lot(session, lot_number=lot_number, material_code=_output_material(session, order, job),
                        quantity=good, location_id=job.work_unit_id)
    made = good + bad
    consumed = []
    for entry in staged:
        lot = get_lot_by_number(session, lot_number=str(entry["lot"]))
        amount = min(to_decimal(entry["per_unit"]) * made, lot.quantity)
        if amount <= 0:
            continue
        consume_lot(session, consumed_lot_id=lot.id, produced_lot_id=output.id, quantity=amount,
                    performed_by=performed_by, job_order_id=job.id, operation=job.operation,
                    work_unit_id=job.work_unit_id)
        consumed.append({"lot": lot.lot_number, "quantity": format_amount(amount), "unit": lot.unit})
    change_job_order_status(session, job_order_id=job.id, to=JobOrderStatus.COMPLETED, actor=performed_by,
                            reason=f"{good} good, {bad} bad")
    append_audit_entry(session, actor=performed_by, action="lot.produced", entity_type="lot", entity_id=lot_number,
                       details={"order": order_number, "operation": sequence, "consumed": consumed,
                                "work_unit_id": job.work_unit_id, "good": good, "bad": bad})
    return {"lot": lot_number, "good": good, "bad": bad, "consumed": consumed, "already": False}


# --- inspection -----------------------------------------------------------------------------

@dataclass(frozen=True)
class Judgement:
    characteristic: str
    value: str
    lower: str | None
    upper: str | None
    result: str


def inspect_lot(session: Session, *, lot_number: str, measurements: Mapping[str, Any], inspected_by: str,
                inspection: str, order_number: str | None = None, sequence: int | None = None) -> dict[str, Any]:
    """Store the measurements of one inspection of a lot and judge them against the tolerances
    of the routing operation (``order_number``/``sequence``, or the operation that made the lot).
    ``inspection`` keys this inspection (workflow, run, activity): a repeat returns the first answer."""
    key = f"{lot_number}/{inspection}"
    done = _recorded(session, action="lot.inspected", entity_id=key)
    if done is not None:
        return done
    lot = get_lot_by_number(session, lot_number=lot_number)
    job = _job_of(session, lot, order_number, sequence)
    tolerances: dict[str, Any] = dict(job.parameters.get("tolerances") or {}) if job else {}
    judgements = []
    for name, raw in measurements.items():
        limits = tolerances.get(name) or {}
        low, high = limits.get("lower"), limits.get("upper")
        value = to_decimal(raw, field=f"lot {lot_number} measurement {name}")
        record = record_quality_result(session, characteristic=name, recorded_by=inspected_by, value_number=value,
                                       unit=limits.get("unit"), lower_limit=low, upper_limit=high, lot_id=lot.id,
                                       job_order_id=job.id if job else None,
                                       work_unit_id=job.work_unit_id if job else None)
        judgements.append(Judgement(name, format_amount(value), None if low is None else str(low),
                                    None if high is None else str(high), record.result.value))
    missing = sorted(set(tolerances) - set(measurements))
    if missing:
        raise DomainError(f"lot {lot_number}: measurements lack {', '.join(missing)} (the operation's tolerances)")
    failed = [j.characteristic for j in judgements if j.result == QualityResult.FAIL.value]
    answer = {"lot": lot_number, "in_tolerance": not failed, "failed": failed,
              "judgements": [j.__dict__ for j in judgements]}
    append_audit_entry(session, actor=inspected_by, action="lot.inspected", entity_type="inspection",
                       entity_id=key, details=answer)
    return answer


def _job_of(session: Session, lot: MaterialLot, order_number: str | None, sequence: int | None) -> JobOrder | None:
    if order_number is not None and sequence is not None:
        return _job(get_production_order_by_number(session, order_number=order_number), int(sequence))
    job_id = session.scalar(sa.select(GenealogyLink.job_order_id).where(GenealogyLink.produced_lot_id == lot.id)
                            .limit(1))
    return None if job_id is None else session.get(JobOrder, job_id)


# --- holds and dispositions -----------------------------------------------------------------

def hold_lot(session: Session, *, lot_number: str, actor: str, reason: str) -> dict[str, Any]:
    lot = get_lot_by_number(session, lot_number=lot_number)
    if lot.status == LotStatus.ON_HOLD:
        return {"lot": lot_number, "status": lot.status.value, "changed": False}
    if lot.status != LotStatus.AVAILABLE:
        raise ExecutionRefused("LOT_NOT_HOLDABLE", f"lot {lot_number} is {lot.status.value}; only an available lot "
                               "can be put on hold", lot=lot_number, status=lot.status.value)
    change_lot_status(session, lot_id=lot.id, to=LotStatus.ON_HOLD, actor=actor, reason=reason)
    return {"lot": lot_number, "status": LotStatus.ON_HOLD.value, "changed": True}


def disposition_lot(session: Session, *, lot_number: str, disposition: str, decided_by: str, reason: str,
                    request: str) -> dict[str, Any]:
    """Use as is (release the hold), rework (stays on hold for the rework) or scrap; the lot's
    genealogy is never touched. ``request`` keys this decision: a repeat returns the first answer."""
    key = f"{lot_number}@{request}"
    done = _recorded(session, action="lot.dispositioned", entity_id=key)
    if done is not None:
        return done
    if disposition not in DISPOSITIONS:
        raise DomainError(f"lot {lot_number}: disposition {disposition!r} is not one of {', '.join(DISPOSITIONS)}")
    lot = get_lot_by_number(session, lot_number=lot_number)
    if lot.status != LotStatus.ON_HOLD:
        raise ExecutionRefused("LOT_NOT_ON_HOLD", f"lot {lot_number} is {lot.status.value}; a disposition needs "
                               "the lot on hold", lot=lot_number, status=lot.status.value)
    target = {"use_as_is": LotStatus.AVAILABLE, "scrap": LotStatus.SCRAPPED, "rework": LotStatus.ON_HOLD}[disposition]
    if target != lot.status:
        change_lot_status(session, lot_id=lot.id, to=target, actor=decided_by,
                          reason=f"disposition {disposition}: {reason}")
    answer = {"lot": lot_number, "disposition": disposition, "status": target.value}
    append_audit_entry(session, actor=decided_by, action="lot.dispositioned", entity_type="lot disposition",
                       entity_id=key, reason=reason, details=answer)
    return answer


# --- completion -----------------------------------------------------------------------------

def complete_order(session: Session, *, order_number: str, actor: str) -> ProductionOrder:
    order = get_production_order_by_number(session, order_number=order_number)
    if order.status == ProductionOrderStatus.COMPLETED:
        return order
    open_jobs = [f"{j.sequence} ({j.operation}: {j.status.value})" for j in order.job_orders
                 if j.status != JobOrderStatus.COMPLETED]
    if open_jobs:
        raise ExecutionRefused("ORDER_NOT_DONE", f"production order {order_number}: job orders not completed: "
                               f"{', '.join(open_jobs)}")
    if order.status == ProductionOrderStatus.RELEASED:
        change_production_order_status(session, order_id=order.id, to=ProductionOrderStatus.IN_PROGRESS, actor=actor)
    change_production_order_status(session, order_id=order.id, to=ProductionOrderStatus.COMPLETED, actor=actor,
                                   reason="all operations completed")
    return order
