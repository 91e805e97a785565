"""The scheduling model in the plant's words: job orders, routing operations, work units, plans.

Times are integers in one unit chosen by the caller (minutes from an epoch, or the unit of a
benchmark instance). Until ``mom.domain`` exists these dataclasses are the scheduler's own; the
domain team maps ISA-95 objects onto them.

A job order runs its routing operations in order (operation ``k`` starts after ``k-1`` ends). Each
operation may run on one of several eligible work units, each with its own processing time
(``fixed_time + time_per_piece * quantity``). Work units have downtimes (breakdowns, maintenance,
closed shifts) during which nothing runs, including setups. Setup times depend on the setup family
of the previous and the next operation on the same work unit (the first operation planned on a unit
follows the family of the last fixed operation on it, if any). Operations already running or frozen
(prepared by people) are given with their work unit and times and are not moved.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field
from typing import Literal

OperationKey = tuple[str, str]
"""(job order id, operation id): the identity of a routing operation across the plan."""

FixedState = Literal["running", "frozen", "done"]
SolveStatus = Literal["optimal", "feasible", "infeasible", "no solution"]


class ProblemError(ValueError):
    """The scheduling input is inconsistent; the message names the element and field at fault."""


@dataclass(frozen=True)
class Downtime:
    """A period [start, end) during which a work unit cannot run or be set up."""

    start: int
    end: int
    reason: str = ""


@dataclass(frozen=True)
class WorkUnit:
    id: str
    downtimes: tuple[Downtime, ...] = ()
    name: str = ""


@dataclass(frozen=True)
class Eligibility:
    """A work unit that can run an operation, with its processing time for a given quantity."""

    work_unit: str
    fixed_time: int
    time_per_piece: float = 0.0

    def duration(self, quantity: float) -> int:
        return self.fixed_time + math.ceil(self.time_per_piece * quantity - 1e-9)


@dataclass(frozen=True)
class RoutingOperation:
    id: str
    eligible: tuple[Eligibility, ...]
    setup_family: str = ""


@dataclass(frozen=True)
class JobOrder:
    id: str
    operations: tuple[RoutingOperation, ...]
    quantity: float = 1.0
    release: int = 0
    due: int | None = None
    weight: float = 1.0


@dataclass(frozen=True)
class SetupRule:
    """Setup time when ``to_family`` follows ``from_family``; ``work_unit`` None means any unit."""

    from_family: str
    to_family: str
    time: int
    work_unit: str | None = None


@dataclass(frozen=True)
class FixedOperation:
    """An operation that must keep its work unit and times (running, frozen or already done)."""

    job_order: str
    operation: str
    work_unit: str
    start: int
    end: int
    state: FixedState = "running"


@dataclass(frozen=True)
class Objective:
    """Weights of the terms minimised together.

    ``stability`` weighs, per operation of the reference plan, the shift of its start plus its
    duration if it changes work unit; operations listed as prepared count ``prepared_factor`` times.
    """

    makespan: float = 1.0
    weighted_tardiness: float = 0.0
    stability: float = 0.0
    prepared_factor: float = 10.0

    @property
    def makespan_only(self) -> bool:
        return self.weighted_tardiness == 0 and self.stability == 0


@dataclass(frozen=True)
class ScheduledOperation:
    job_order: str
    operation: str
    index: int
    work_unit: str
    start: int
    end: int
    setup: int = 0
    fixed: bool = False

    @property
    def key(self) -> OperationKey:
        return (self.job_order, self.operation)


@dataclass(frozen=True)
class ShopProblem:
    job_orders: tuple[JobOrder, ...]
    work_units: tuple[WorkUnit, ...]
    setups: tuple[SetupRule, ...] = ()
    fixed: tuple[FixedOperation, ...] = ()
    now: int = 0
    """Nothing that is not fixed starts before ``now``."""
    prepared: frozenset[OperationKey] = frozenset()
    """Operations people already prepared: moving them costs more in the stability term."""

    def job_order(self, job_order_id: str) -> JobOrder:
        for order in self.job_orders:
            if order.id == job_order_id:
                return order
        raise ProblemError(f"job order {job_order_id!r} is not in the problem")

    def validate(self) -> None:
        """Raise :class:`ProblemError` naming the first inconsistent element."""
        unit_ids = [unit.id for unit in self.work_units]
        if len(set(unit_ids)) != len(unit_ids):
            raise ProblemError(f"work unit ids are not unique: {sorted(unit_ids)}")
        units = set(unit_ids)
        for unit in self.work_units:
            for downtime in unit.downtimes:
                if downtime.end < downtime.start:
                    raise ProblemError(
                        f"work unit {unit.id!r}: downtime ends ({downtime.end}) before it starts "
                        f"({downtime.start})"
                    )
        order_ids: set[str] = set()
        for order in self.job_orders:
            if order.id in order_ids:
                raise ProblemError(f"job order {order.id!r} appears twice")
            order_ids.add(order.id)
            if order.quantity < 0:
                raise ProblemError(f"job order {order.id!r}: quantity must be >= 0")
            op_ids = [op.id for op in order.operations]
            if len(set(op_ids)) != len(op_ids):
                raise ProblemError(f"job order {order.id!r}: operation ids are not unique")
            for op in order.operations:
                if not op.eligible:
                    raise ProblemError(
                        f"job order {order.id!r}, operation {op.id!r}: no eligible work unit"
                    )
                for option in op.eligible:
                    if option.work_unit not in units:
                        raise ProblemError(
                            f"job order {order.id!r}, operation {op.id!r}: unknown work unit "
                            f"{option.work_unit!r} (known: {sorted(units)})"
                        )
                    if option.duration(order.quantity) < 0:
                        raise ProblemError(
                            f"job order {order.id!r}, operation {op.id!r}: negative processing time"
                        )
        for rule in self.setups:
            if rule.time < 0:
                raise ProblemError(
                    f"setup {rule.from_family!r} -> {rule.to_family!r}: time must be >= 0"
                )
            if rule.work_unit is not None and rule.work_unit not in units:
                raise ProblemError(f"setup rule names unknown work unit {rule.work_unit!r}")
        self._validate_fixed(units)

    def _validate_fixed(self, units: set[str]) -> None:
        fixed_keys = {(f.job_order, f.operation) for f in self.fixed}
        if len(fixed_keys) != len(self.fixed):
            raise ProblemError("an operation is listed twice among the fixed operations")
        by_unit = sorted(self.fixed, key=lambda f: (f.work_unit, f.start, f.end))
        for first, second in itertools.pairwise(by_unit):
            if first.work_unit == second.work_unit and second.start < first.end:
                raise ProblemError(
                    f"infeasible: fixed operations {first.job_order}/{first.operation} and "
                    f"{second.job_order}/{second.operation} overlap on work unit "
                    f"{first.work_unit!r} ([{first.start}, {first.end}) and "
                    f"[{second.start}, {second.end}))"
                )
        for item in self.fixed:
            where = f"fixed operation {item.job_order!r}/{item.operation!r}"
            if item.work_unit not in units:
                raise ProblemError(f"{where}: unknown work unit {item.work_unit!r}")
            if item.end < item.start:
                raise ProblemError(f"{where}: ends before it starts")
            order = self.job_order(item.job_order)
            ids = [op.id for op in order.operations]
            if item.operation not in ids:
                raise ProblemError(f"{where}: job order has no such operation (has {ids})")
            for earlier in ids[: ids.index(item.operation)]:
                if (item.job_order, earlier) not in fixed_keys:
                    raise ProblemError(
                        f"{where}: its predecessor {earlier!r} is neither running nor frozen; "
                        "fixed operations must be a prefix of their job order's routing"
                    )


@dataclass(frozen=True)
class Plan:
    """A schedule and what is known about its quality."""

    operations: tuple[ScheduledOperation, ...]
    makespan: int
    weighted_tardiness: float
    status: SolveStatus
    lower_bound: int | None
    objective_value: float
    stability_cost: float = 0.0
    solve_seconds: float = 0.0
    first_feasible_seconds: float | None = None
    notes: tuple[str, ...] = field(default=())

    def by_key(self) -> dict[OperationKey, ScheduledOperation]:
        return {op.key: op for op in self.operations}
