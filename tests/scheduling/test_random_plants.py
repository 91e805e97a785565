"""Random flexible plants with setups, downtimes, releases and running operations: every plan the
solver returns must pass the independent feasibility check."""

from __future__ import annotations

import random

import pytest

from mom.scheduling.feasibility import violations
from mom.scheduling.model import (
    Downtime,
    Eligibility,
    FixedOperation,
    JobOrder,
    Objective,
    RoutingOperation,
    SetupRule,
    ShopProblem,
    WorkUnit,
)
from mom.scheduling.replan import Breakdown, replan
from mom.scheduling.solver import SolveOptions, solve


def random_plant(seed: int) -> ShopProblem:
    rng = random.Random(seed)
    units = []
    for m in range(rng.randint(2, 4)):
        downtimes = []
        t = rng.randint(5, 40)
        for _ in range(rng.randint(0, 3)):
            downtimes.append(Downtime(t, t + rng.randint(1, 15)))
            t += rng.randint(20, 60)
        units.append(WorkUnit(f"U{m}", tuple(downtimes)))
    families = ["a", "b", "c"]
    orders = []
    for j in range(rng.randint(3, 7)):
        ops = []
        for k in range(rng.randint(1, 4)):
            eligible = rng.sample(units, rng.randint(1, min(2, len(units))))
            ops.append(
                RoutingOperation(
                    str(k),
                    tuple(Eligibility(u.id, rng.randint(1, 12)) for u in eligible),
                    setup_family=rng.choice(families),
                )
            )
        orders.append(
            JobOrder(f"O{j}", tuple(ops), release=rng.randint(0, 20),
                     due=rng.randint(20, 80), weight=rng.choice([1.0, 2.0]))
        )  # fmt: skip
    setups = tuple(
        SetupRule(a, b, rng.randint(0, 5)) for a in families for b in families if a != b
    )
    fixed: tuple[FixedOperation, ...] = ()
    first = orders[0].operations[0]
    unit = first.eligible[0]
    if not any(d.start < 10 + unit.fixed_time for u in units if u.id == unit.work_unit
               for d in u.downtimes):  # fmt: skip
        fixed = (FixedOperation("O0", "0", unit.work_unit, 0, unit.fixed_time, "running"),)
    return ShopProblem(tuple(orders), tuple(units), setups, fixed, now=2)


@pytest.mark.parametrize("seed", range(8))
def test_random_plants_get_feasible_plans(seed: int) -> None:
    problem = random_plant(seed)
    objective = Objective(makespan=1.0, weighted_tardiness=0.5 if seed % 2 else 0.0)
    plan = solve(problem, objective, SolveOptions(time_limit=0.4, seed=seed))
    assert violations(problem, plan.operations) == []
    assert plan.lower_bound is not None and plan.makespan >= plan.lower_bound
    result = replan(
        problem, plan, [Breakdown(problem.work_units[0].id, 10, 30)], now=10,
        freeze_window=5, options=SolveOptions(time_limit=0.4, seed=seed),
    )  # fmt: skip
    assert violations(result.problem, result.plan.operations) == []
