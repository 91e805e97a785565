from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from mom.scheduling.bounds import jackson_preemptive
from mom.scheduling.feasibility import violations
from mom.scheduling.instances import read_instance
from mom.scheduling.model import (
    FixedOperation,
    Objective,
    ProblemError,
    ShopProblem,
)
from mom.scheduling.solver import SolveOptions, solve


def test_ft06_is_solved_to_its_proven_optimum(data_dir: Path) -> None:
    problem = read_instance(data_dir / "ft06.txt", "orlib").to_problem()
    plan = solve(problem, options=SolveOptions(time_limit=5))
    assert violations(problem, plan.operations) == []
    assert plan.makespan == 55
    assert plan.status == "optimal"
    assert plan.lower_bound == 55


def test_la01_reaches_its_optimum_and_the_bound_proves_it(data_dir: Path) -> None:
    problem = read_instance(data_dir / "la01.txt", "orlib").to_problem()
    plan = solve(problem, options=SolveOptions(time_limit=5))
    assert violations(problem, plan.operations) == []
    assert plan.makespan == 666
    assert plan.status == "optimal"


def test_time_limited_search_is_not_called_optimal(data_dir: Path) -> None:
    problem = read_instance(data_dir / "ft06.txt", "orlib").to_problem()
    plan = solve(problem, options=SolveOptions(time_limit=0.05, use_milp=False))
    assert violations(problem, plan.operations) == []
    if plan.makespan > 55:
        assert plan.status == "feasible"
    assert plan.lower_bound is not None and plan.lower_bound <= 55


def test_jackson_preemptive_bound() -> None:
    # (head, duration, tail): the preemptive schedule interrupts the first job for the second.
    assert jackson_preemptive([(0, 10, 0), (2, 3, 20)]) == 25
    assert jackson_preemptive([(0, 4, 1), (0, 4, 1)]) == 9


def test_plant_plan_respects_setups_downtimes_and_releases(plant: ShopProblem) -> None:
    objective = Objective(makespan=1.0, weighted_tardiness=1.0)
    plan = solve(plant, objective, SolveOptions(time_limit=2))
    assert violations(plant, plan.operations) == []
    by_key = plan.by_key()
    assert by_key[("JO-3", "10")].end - by_key[("JO-3", "10")].start == 12  # 2 + 1 x 10 pieces
    assert plan.lower_bound is not None and plan.makespan >= plan.lower_bound
    assert plan.first_feasible_seconds is not None and plan.first_feasible_seconds < 1


def test_tardiness_weight_pulls_the_urgent_order_forward(plant: ShopProblem) -> None:
    urgent = replace(plant.job_order("JO-4"), release=0, due=16, weight=50.0)
    problem = replace(
        plant, job_orders=tuple(urgent if o.id == "JO-4" else o for o in plant.job_orders)
    )
    plan = solve(problem, Objective(makespan=0.0, weighted_tardiness=1.0), SolveOptions(2))
    assert violations(problem, plan.operations) == []
    assert plan.by_key()[("JO-4", "20")].end <= 16


def test_fixed_operations_stay_put(plant: ShopProblem) -> None:
    running = FixedOperation("JO-1", "10", "PRESS", 0, 10, "running")
    problem = replace(plant, fixed=(running,), now=4)
    plan = solve(problem, options=SolveOptions(time_limit=1))
    assert violations(problem, plan.operations) == []
    fixed = plan.by_key()[("JO-1", "10")]
    assert (fixed.start, fixed.end, fixed.fixed) == (0, 10, True)
    assert all(op.start >= 4 for op in plan.operations if not op.fixed)


def test_infeasible_input_is_reported_clearly(plant: ShopProblem) -> None:
    a = FixedOperation("JO-1", "10", "PRESS", 0, 10)
    b = FixedOperation("JO-2", "10", "PRESS", 5, 13)
    with pytest.raises(ProblemError, match=r"infeasible: fixed operations JO-1/10 and JO-2/10 "
                                           r"overlap on work unit 'PRESS'"):  # fmt: skip
        solve(replace(plant, fixed=(a, b)), options=SolveOptions(time_limit=1))
    orphan = FixedOperation("JO-2", "20", "MILL1", 0, 10)
    with pytest.raises(ProblemError, match="predecessor '10' is neither running nor frozen"):
        solve(replace(plant, fixed=(orphan,)), options=SolveOptions(time_limit=1))


def test_unknown_work_unit_is_named(plant: ShopProblem) -> None:
    units = tuple(u for u in plant.work_units if u.id != "MILL2")
    with pytest.raises(ProblemError, match=r"JO-1.*'20': unknown work unit 'MILL2'"):
        solve(replace(plant, work_units=units))


def test_zero_duration_operations_are_planned() -> None:
    # orb07 has operations lasting 0: the Giffler-Thompson conflict set must not come out empty.
    from mom.scheduling.instances import parse_orlib

    problem = parse_orlib("3 2\n0 0 1 4\n1 0 0 3\n0 2 1 0\n", "zeros").to_problem()
    plan = solve(problem, options=SolveOptions(time_limit=1))
    assert violations(problem, plan.operations) == []
    assert plan.makespan == 5 and plan.status == "optimal"  # the load of M0
