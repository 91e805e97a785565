"""JSON documents of the scheduler: problems, objectives and plans as plain dicts.

These are the shapes the BPMN activities and the CLI exchange. Errors name the path of the bad
field, e.g. ``job_orders[2].operations[0].eligible[0].work_unit: expected a string``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mom.scheduling.model import (
    Downtime,
    Eligibility,
    FixedOperation,
    JobOrder,
    Objective,
    Plan,
    ProblemError,
    RoutingOperation,
    ScheduledOperation,
    SetupRule,
    ShopProblem,
    WorkUnit,
)
from mom.scheduling.replan import Breakdown, Change, Event, QuantityChange, UrgentOrder


class _Reader:
    def __init__(self, data: Any, path: str) -> None:
        if not isinstance(data, Mapping):
            raise ProblemError(f"{path or 'document'}: expected an object")
        self.data, self.path = data, path

    def _where(self, key: str) -> str:
        return f"{self.path}.{key}" if self.path else key

    def text(self, key: str, default: str | None = None) -> str:
        value = self.data.get(key, default)
        if value is None:
            raise ProblemError(f"{self._where(key)}: missing")
        if isinstance(value, int | float) and not isinstance(value, bool):
            value = str(value)
        if not isinstance(value, str):
            raise ProblemError(f"{self._where(key)}: expected a string, got {value!r}")
        return value

    def integer(self, key: str, default: int | None = None) -> int:
        value = self.data.get(key, default)
        if value is None:
            raise ProblemError(f"{self._where(key)}: missing")
        if isinstance(value, bool) or not isinstance(value, int | float) or value != int(value):
            raise ProblemError(f"{self._where(key)}: expected an integer, got {value!r}")
        return int(value)

    def optional_integer(self, key: str) -> int | None:
        return None if self.data.get(key) is None else self.integer(key)

    def number(self, key: str, default: float) -> float:
        value = self.data.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ProblemError(f"{self._where(key)}: expected a number, got {value!r}")
        return float(value)

    def items(self, key: str, required: bool = False) -> list[_Reader]:
        value = self.data.get(key)
        if value is None:
            if required:
                raise ProblemError(f"{self._where(key)}: missing")
            return []
        if not isinstance(value, list):
            raise ProblemError(f"{self._where(key)}: expected a list")
        return [_Reader(item, f"{self._where(key)}[{k}]") for k, item in enumerate(value)]


def _job_order(r: _Reader) -> JobOrder:
    operations = []
    for op in r.items("operations", required=True):
        eligible = tuple(
            Eligibility(
                work_unit=e.text("work_unit"),
                fixed_time=e.integer("fixed_time", e.data.get("duration")),
                time_per_piece=e.number("time_per_piece", 0.0),
            )
            for e in op.items("eligible", required=True)
        )
        if not eligible:
            raise ProblemError(f"{op.path}.eligible: needs at least one work unit")
        operations.append(
            RoutingOperation(op.text("id"), eligible, op.text("setup_family", ""))
        )
    return JobOrder(
        id=r.text("id"),
        operations=tuple(operations),
        quantity=r.number("quantity", 1.0),
        release=r.integer("release", 0),
        due=r.optional_integer("due"),
        weight=r.number("weight", 1.0),
    )


def problem_from_dict(data: Mapping[str, Any]) -> ShopProblem:
    """Build and validate a problem; raises :class:`ProblemError` naming the bad field."""
    r = _Reader(data, "")
    units = tuple(
        WorkUnit(
            id=u.text("id"),
            name=u.text("name", ""),
            downtimes=tuple(
                Downtime(d.integer("start"), d.integer("end"), d.text("reason", ""))
                for d in u.items("downtimes")
            ),
        )
        for u in r.items("work_units", required=True)
    )
    setups = tuple(
        SetupRule(
            from_family=s.text("from"),
            to_family=s.text("to"),
            time=s.integer("time"),
            work_unit=s.text("work_unit") if s.data.get("work_unit") is not None else None,
        )
        for s in r.items("setups")
    )
    fixed = tuple(
        FixedOperation(
            job_order=f.text("job_order"),
            operation=f.text("operation"),
            work_unit=f.text("work_unit"),
            start=f.integer("start"),
            end=f.integer("end"),
            state=_state(f),
        )
        for f in r.items("fixed")
    )
    prepared = frozenset((p.text("job_order"), p.text("operation")) for p in r.items("prepared"))
    problem = ShopProblem(
        job_orders=tuple(_job_order(o) for o in r.items("job_orders", required=True)),
        work_units=units,
        setups=setups,
        fixed=fixed,
        now=r.integer("now", 0),
        prepared=prepared,
    )
    problem.validate()
    return problem


def _state(r: _Reader) -> Any:
    state = r.text("state", "running")
    if state not in ("running", "frozen", "done"):
        raise ProblemError(f"{r.path}.state: expected running, frozen or done, got {state!r}")
    return state


def problem_to_dict(problem: ShopProblem) -> dict[str, Any]:
    return {
        "now": problem.now,
        "work_units": [
            {
                "id": u.id,
                "name": u.name,
                "downtimes": [
                    {"start": d.start, "end": d.end, "reason": d.reason} for d in u.downtimes
                ],
            }
            for u in problem.work_units
        ],
        "job_orders": [
            {
                "id": o.id,
                "quantity": o.quantity,
                "release": o.release,
                "due": o.due,
                "weight": o.weight,
                "operations": [
                    {
                        "id": op.id,
                        "setup_family": op.setup_family,
                        "eligible": [
                            {
                                "work_unit": e.work_unit,
                                "fixed_time": e.fixed_time,
                                "time_per_piece": e.time_per_piece,
                            }
                            for e in op.eligible
                        ],
                    }
                    for op in o.operations
                ],
            }
            for o in problem.job_orders
        ],
        "setups": [
            {"from": s.from_family, "to": s.to_family, "time": s.time, "work_unit": s.work_unit}
            for s in problem.setups
        ],
        "fixed": [
            {
                "job_order": f.job_order,
                "operation": f.operation,
                "work_unit": f.work_unit,
                "start": f.start,
                "end": f.end,
                "state": f.state,
            }
            for f in problem.fixed
        ],
        "prepared": [{"job_order": a, "operation": b} for a, b in sorted(problem.prepared)],
    }


def objective_from_dict(data: Mapping[str, Any] | None) -> Objective:
    if not data:
        return Objective()
    r = _Reader(data, "objective")
    return Objective(
        makespan=r.number("makespan", 1.0),
        weighted_tardiness=r.number("weighted_tardiness", 0.0),
        stability=r.number("stability", 0.0),
        prepared_factor=r.number("prepared_factor", 10.0),
    )


def plan_to_dict(plan: Plan) -> dict[str, Any]:
    return {
        "status": plan.status,
        "makespan": plan.makespan,
        "weighted_tardiness": plan.weighted_tardiness,
        "lower_bound": plan.lower_bound,
        "objective_value": plan.objective_value,
        "stability_cost": plan.stability_cost,
        "solve_seconds": round(plan.solve_seconds, 3),
        "first_feasible_seconds": (
            None if plan.first_feasible_seconds is None else round(plan.first_feasible_seconds, 3)
        ),
        "notes": list(plan.notes),
        "operations": [
            {
                "job_order": op.job_order,
                "operation": op.operation,
                "index": op.index,
                "work_unit": op.work_unit,
                "start": op.start,
                "end": op.end,
                "setup": op.setup,
                "fixed": op.fixed,
            }
            for op in plan.operations
        ],
    }


def plan_from_dict(data: Mapping[str, Any]) -> Plan:
    r = _Reader(data, "plan")
    operations = tuple(
        ScheduledOperation(
            job_order=o.text("job_order"),
            operation=o.text("operation"),
            index=o.integer("index", 0),
            work_unit=o.text("work_unit"),
            start=o.integer("start"),
            end=o.integer("end"),
            setup=o.integer("setup", 0),
            fixed=bool(o.data.get("fixed", False)),
        )
        for o in r.items("operations", required=True)
    )
    status = r.text("status", "feasible")
    if status not in ("optimal", "feasible"):
        status = "feasible"
    return Plan(
        operations=operations,
        makespan=r.integer("makespan", max((o.end for o in operations), default=0)),
        weighted_tardiness=r.number("weighted_tardiness", 0.0),
        status=status,  # type: ignore[arg-type]
        lower_bound=r.optional_integer("lower_bound"),
        objective_value=r.number("objective_value", 0.0),
    )


def events_from_dicts(items: Any) -> list[Event]:
    """``[{"type": "breakdown", "work_unit", "start", "end"}, {"type": "quantity_change",
    "job_order", "quantity"}, {"type": "urgent_order", "job_order": {...}}]``."""
    if not isinstance(items, list):
        raise ProblemError("events: expected a list")
    events: list[Event] = []
    for k, item in enumerate(items):
        r = _Reader(item, f"events[{k}]")
        kind = r.text("type")
        if kind == "breakdown":
            events.append(
                Breakdown(
                    r.text("work_unit"), r.integer("start"), r.integer("end"), r.text("reason", "")
                )
            )
        elif kind == "quantity_change":
            if "quantity" not in item:
                raise ProblemError(f"events[{k}].quantity: missing")
            events.append(QuantityChange(r.text("job_order"), r.number("quantity", 0.0)))
        elif kind == "urgent_order":
            events.append(UrgentOrder(_job_order(_Reader(item.get("job_order"), r.path))))
        else:
            raise ProblemError(
                f"events[{k}].type: expected breakdown, quantity_change or urgent_order, "
                f"got {kind!r}"
            )
    return events


def changes_to_dicts(changes: tuple[Change, ...]) -> list[dict[str, Any]]:
    def where(op: ScheduledOperation | None) -> dict[str, Any] | None:
        if op is None:
            return None
        return {"work_unit": op.work_unit, "start": op.start, "end": op.end}

    return [
        {
            "job_order": c.job_order,
            "operation": c.operation,
            "kind": c.kind,
            "before": where(c.before),
            "after": where(c.after),
        }
        for c in changes
    ]
