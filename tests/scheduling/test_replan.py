from __future__ import annotations

from mom.scheduling.feasibility import violations
from mom.scheduling.model import Eligibility, JobOrder, Objective, RoutingOperation, ShopProblem
from mom.scheduling.replan import Breakdown, QuantityChange, UrgentOrder, replan
from mom.scheduling.solver import SolveOptions, solve

FAST = SolveOptions(time_limit=1.5)


def _plan(plant: ShopProblem):  # type: ignore[no-untyped-def]
    return solve(plant, Objective(makespan=1.0, weighted_tardiness=1.0), FAST)


def test_breakdown_keeps_started_work_and_clears_the_broken_unit(plant: ShopProblem) -> None:
    before = _plan(plant)
    now = 12
    result = replan(plant, before, [Breakdown("MILL2", 12, 60)], now=now, options=FAST)
    after = result.plan
    assert violations(result.problem, after.operations) == []
    old = before.by_key()
    for op in after.operations:
        if old[op.key].start < now:  # started before the breakdown: pinned
            assert op.fixed and op.start == old[op.key].start and op.work_unit == old[op.key].work_unit
        elif op.work_unit == "MILL2":
            assert op.end <= 12 or op.start >= 60
    moved = {(c.job_order, c.operation) for c in result.changes}
    for op in after.operations:
        o = old[op.key]
        if (o.work_unit, o.start, o.end) != (op.work_unit, op.start, op.end):
            assert op.key in moved


def test_running_operation_hit_by_a_breakdown_resumes_after_it(plant: ShopProblem) -> None:
    before = _plan(plant)
    running = min((op for op in before.operations if op.end - op.start >= 4), key=lambda o: o.start)
    cut = running.start + 2
    result = replan(
        plant, before, [Breakdown(running.work_unit, cut, cut + 20)], now=cut, options=FAST
    )
    assert violations(result.problem, result.plan.operations) == []
    after = result.plan.by_key()[running.key]
    assert after.start == running.start and after.end == running.end + 20
    kinds = {(c.job_order, c.operation): c.kind for c in result.changes}
    assert kinds[running.key] == "interrupted"


def test_nothing_moves_without_a_reason(plant: ShopProblem) -> None:
    before = _plan(plant)
    result = replan(plant, before, [], now=0, options=SolveOptions(time_limit=1))
    assert violations(result.problem, result.plan.operations) == []
    assert result.plan.objective_value <= before.objective_value + 1e-9
    assert result.changes == ()


def test_quantity_change_and_urgent_order(plant: ShopProblem) -> None:
    before = _plan(plant)
    urgent = JobOrder(
        "JO-9",
        (RoutingOperation("10", (Eligibility("MILL1", 5), Eligibility("MILL2", 5))),
         RoutingOperation("20", (Eligibility("PRESS", 4),))),
        release=0, due=30, weight=10.0,
    )  # fmt: skip
    events = [QuantityChange("JO-3", 20), UrgentOrder(urgent)]
    result = replan(plant, before, events, now=5, freeze_window=5, options=FAST)
    assert violations(result.problem, result.plan.operations) == []
    kinds = {(c.job_order, c.operation): c.kind for c in result.changes}
    assert kinds[("JO-9", "10")] == "added" and kinds[("JO-9", "20")] == "added"
    jo3 = result.plan.by_key()[("JO-3", "10")]
    assert jo3.end - jo3.start == 22  # 2 + 1 x 20 pieces
