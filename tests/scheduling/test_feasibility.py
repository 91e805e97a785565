"""The independent checker must itself catch each kind of violation."""

from __future__ import annotations

from dataclasses import replace

from mom.scheduling.feasibility import violations
from mom.scheduling.model import (
    Downtime,
    Eligibility,
    JobOrder,
    RoutingOperation,
    ScheduledOperation,
    SetupRule,
    ShopProblem,
    WorkUnit,
)


def _problem() -> ShopProblem:
    a = RoutingOperation("a", (Eligibility("M1", 5),), setup_family="x")
    b = RoutingOperation("b", (Eligibility("M2", 3),), setup_family="x")
    c = RoutingOperation("c", (Eligibility("M1", 4),), setup_family="y")
    return ShopProblem(
        job_orders=(JobOrder("J1", (a, b)), JobOrder("J2", (c,), release=2)),
        work_units=(WorkUnit("M1"), WorkUnit("M2", downtimes=(Downtime(20, 30),))),
        setups=(SetupRule("x", "y", 2),),
    )


def _good() -> list[ScheduledOperation]:
    return [
        ScheduledOperation("J1", "a", 0, "M1", 0, 5),
        ScheduledOperation("J1", "b", 1, "M2", 5, 8),
        ScheduledOperation("J2", "c", 0, "M1", 7, 11, setup=2),
    ]


def test_a_good_plan_has_no_violation() -> None:
    assert violations(_problem(), _good()) == []


def test_each_violation_is_found() -> None:
    problem = _problem()
    plan = _good()
    no_setup = [*plan[:2], replace(plan[2], start=5, end=9)]
    assert any("overlaps" in v for v in violations(problem, no_setup))
    early = [plan[0], replace(plan[1], start=4, end=7), plan[2]]
    assert any("before its predecessor" in v for v in violations(problem, early))
    in_downtime = [plan[0], replace(plan[1], start=19, end=22), plan[2]]
    assert any("downtime" in v for v in violations(problem, in_downtime))
    wrong_unit = [plan[0], replace(plan[1], work_unit="M1"), plan[2]]
    assert any("not eligible" in v for v in violations(problem, wrong_unit))
    too_short = [plan[0], replace(plan[1], end=7), plan[2]]
    assert any("lasts 2" in v for v in violations(problem, too_short))
    before_release = [plan[0], plan[1], replace(plan[2], start=1, end=5)]
    assert any("release" in v for v in violations(problem, before_release))
    assert any("not planned" in v for v in violations(problem, plan[:2]))
