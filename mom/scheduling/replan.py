"""Repair a plan after a disturbance: a work unit breaks down, an order's quantity changes, an
urgent order arrives.

Operations that started before ``now`` stay where they are (a running one hit by a breakdown
resumes after it, so its end moves). Operations starting inside the freeze window are kept too,
unless the disturbance makes that impossible. Everything else is re-planned starting from the
previous plan, with a stability term in the objective so that what does not need to move stays.
The result says what moved.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

from mom.scheduling.model import (
    Downtime,
    FixedOperation,
    FixedState,
    JobOrder,
    Objective,
    OperationKey,
    Plan,
    ProblemError,
    ScheduledOperation,
    ShopProblem,
)
from mom.scheduling.shop import Sequencing, Shop, compile_shop, sequencing_from_starts
from mom.scheduling.solver import SolveOptions, plan_from, solve_shop


@dataclass(frozen=True)
class Breakdown:
    work_unit: str
    start: int
    end: int
    reason: str = "breakdown"


@dataclass(frozen=True)
class QuantityChange:
    job_order: str
    quantity: float


@dataclass(frozen=True)
class UrgentOrder:
    job_order: JobOrder


Event = Breakdown | QuantityChange | UrgentOrder
ChangeKind = Literal["moved", "reassigned", "added", "removed", "interrupted", "resized"]

REPLAN_OBJECTIVE = Objective(makespan=1.0, weighted_tardiness=1.0, stability=0.1)


@dataclass(frozen=True)
class Change:
    job_order: str
    operation: str
    kind: ChangeKind
    before: ScheduledOperation | None
    after: ScheduledOperation | None


@dataclass(frozen=True)
class ReplanResult:
    plan: Plan
    changes: tuple[Change, ...]
    problem: ShopProblem


def apply_events(problem: ShopProblem, events: list[Event]) -> ShopProblem:
    units = {u.id: u for u in problem.work_units}
    orders = {o.id: o for o in problem.job_orders}
    order_ids = [o.id for o in problem.job_orders]
    for event in events:
        if isinstance(event, Breakdown):
            if event.work_unit not in units:
                raise ProblemError(f"breakdown: unknown work unit {event.work_unit!r}")
            unit = units[event.work_unit]
            down = Downtime(event.start, event.end, event.reason)
            units[unit.id] = replace(unit, downtimes=(*unit.downtimes, down))
        elif isinstance(event, QuantityChange):
            if event.job_order not in orders:
                raise ProblemError(f"quantity change: unknown job order {event.job_order!r}")
            orders[event.job_order] = replace(orders[event.job_order], quantity=event.quantity)
        else:
            if event.job_order.id in orders:
                raise ProblemError(f"urgent order: job order {event.job_order.id!r} exists")
            orders[event.job_order.id] = event.job_order
            order_ids.append(event.job_order.id)
    return replace(
        problem,
        work_units=tuple(units[u.id] for u in problem.work_units),
        job_orders=tuple(orders[i] for i in order_ids),
    )


def _duration(problem: ShopProblem, key: OperationKey, unit: str) -> int | None:
    order = problem.job_order(key[0])
    for op in order.operations:
        if op.id == key[1]:
            for option in op.eligible:
                if option.work_unit == unit:
                    return option.duration(order.quantity)
    return None


def _pin(
    problem: ShopProblem, previous: Plan, now: int, freeze_until: int
) -> tuple[list[FixedOperation], set[OperationKey]]:
    """Fixed operations of the repaired plan, and the frozen-window ones that had to be released."""
    downtimes = {u.id: u.downtimes for u in problem.work_units}
    known = {(o.id, op.id) for o in problem.job_orders for op in o.operations}
    pinned: list[FixedOperation] = []
    released: set[OperationKey] = set()
    busy: dict[str, list[tuple[int, int]]] = {}
    for op in sorted(previous.operations, key=lambda o: (o.start, o.index)):
        if op.key not in known:
            continue
        if op.start < now or op.fixed:
            end = op.end
            duration = _duration(problem, op.key, op.work_unit)
            if duration is not None and op.end > now:
                end = max(now, op.start + duration)
            for down in downtimes[op.work_unit]:
                if op.start < down.end and down.start < end and down.start >= op.start:
                    end = down.end + (end - max(down.start, op.start))
            state: FixedState = "done" if end <= now else "running"
            pinned.append(FixedOperation(*op.key, op.work_unit, op.start, end, state))
            busy.setdefault(op.work_unit, []).append((op.start, end))
    fixed_keys = {(f.job_order, f.operation) for f in pinned}
    ends = {(f.job_order, f.operation): f.end for f in pinned}
    for op in sorted(previous.operations, key=lambda o: (o.start, o.index)):
        if op.key not in known or op.key in fixed_keys or op.start >= freeze_until:
            continue
        duration = _duration(problem, op.key, op.work_unit)
        end = op.start + duration if duration is not None else op.end
        predecessor = _predecessor(problem, op.key)
        intervals = busy.get(op.work_unit, []) + [
            (d.start, d.end) for d in downtimes[op.work_unit]
        ]
        ok = (
            duration is not None
            and op.start >= now
            and (predecessor is None or (predecessor in ends and ends[predecessor] <= op.start))
            and not any(op.start < b and a < end for a, b in intervals)
        )
        if not ok:
            released.add(op.key)
            continue
        pinned.append(FixedOperation(*op.key, op.work_unit, op.start, end, "frozen"))
        busy.setdefault(op.work_unit, []).append((op.start, end))
        ends[op.key] = end
    return pinned, released


def _predecessor(problem: ShopProblem, key: OperationKey) -> OperationKey | None:
    ids = [op.id for op in problem.job_order(key[0]).operations]
    k = ids.index(key[1])
    return (key[0], ids[k - 1]) if k > 0 else None


def replan(
    problem: ShopProblem,
    previous: Plan,
    events: list[Event],
    *,
    now: int,
    freeze_window: int = 0,
    objective: Objective = REPLAN_OBJECTIVE,
    options: SolveOptions | None = None,
) -> ReplanResult:
    """Repair ``previous`` (a plan of ``problem``) after ``events``, within the time budget."""
    changed = replace(apply_events(problem, events), now=now, fixed=())
    pinned, released = _pin(changed, previous, now, now + freeze_window)
    prepared = set(problem.prepared) | released
    repaired = replace(changed, fixed=tuple(pinned), prepared=frozenset(prepared))
    repaired.validate()
    shop = compile_shop(repaired, objective, previous)
    start = _previous_order(shop, previous)
    outcome = solve_shop(shop, options or SolveOptions(time_limit=5.0), [start])
    plan = plan_from(shop, outcome)
    return ReplanResult(plan, tuple(compare(previous, plan)), repaired)


def _previous_order(shop: Shop, previous: Plan) -> Sequencing:
    """The previous plan's units and order, new operations placed at their earliest release."""
    planned = previous.by_key()
    index = {mid: m for m, mid in enumerate(shop.machine_ids)}
    machine_of: list[int] = []
    keys: list[float] = []
    for i, key in enumerate(shop.keys):
        old = planned.get(key)
        options = shop.options[i]
        if old is not None and old.work_unit in index and any(
            m == index[old.work_unit] for m, _ in options
        ):
            machine_of.append(index[old.work_unit])
            keys.append(float(old.start))
        else:
            machine_of.append(min(options, key=lambda o: o[1])[0])
            keys.append(float(shop.release[i]))
        jp = shop.jpred[i]
        if jp >= 0 and keys[i] <= keys[jp]:
            keys[i] = keys[jp] + 1e-3
    return sequencing_from_starts(shop, machine_of, keys)


def compare(previous: Plan, plan: Plan) -> list[Change]:
    """What moved between two plans of (mostly) the same operations."""
    before = previous.by_key()
    after = plan.by_key()
    changes: list[Change] = []
    for key, new in after.items():
        old = before.get(key)
        kind: ChangeKind | None = None
        if old is None:
            kind = "added"
        elif old.work_unit != new.work_unit:
            kind = "reassigned"
        elif new.fixed and old.end != new.end and old.start == new.start:
            kind = "interrupted" if new.end > old.end else "resized"
        elif old.start != new.start:
            kind = "moved"
        elif old.end != new.end:
            kind = "resized"
        if kind is not None:
            changes.append(Change(key[0], key[1], kind, old, new))
    for key, old in before.items():
        if key not in after:
            changes.append(Change(key[0], key[1], "removed", old, None))
    changes.sort(key=lambda c: (c.after.start if c.after else c.before.start if c.before else 0))
    return changes
