"""Construction, tabu search and MILP neighbourhoods, each checked on its own."""

from __future__ import annotations

import random
import time
from pathlib import Path

import pytest

from mom.scheduling import milp
from mom.scheduling.dispatching import RULES, giffler_thompson
from mom.scheduling.feasibility import violations
from mom.scheduling.instances import parse_orlib, read_instance
from mom.scheduling.milp import solve_window
from mom.scheduling.model import Objective, ShopProblem
from mom.scheduling.shop import compile_shop, decode, scheduled_operations, tails
from mom.scheduling.tabu import _swap_estimate, block_moves, critical_path, tabu_search


def _la01(data_dir: Path) -> ShopProblem:
    return read_instance(data_dir / "la01.txt", "orlib").to_problem()


def test_every_dispatching_rule_builds_a_feasible_plan(data_dir: Path, plant: ShopProblem) -> None:
    for problem in (_la01(data_dir), plant):
        shop = compile_shop(problem, Objective())
        for rule in RULES:
            sol = giffler_thompson(shop, rule, random.Random(3))
            timing = decode(shop, sol)
            assert timing is not None
            assert violations(problem, scheduled_operations(shop, sol, timing)) == []


def test_swap_estimate_is_a_lower_bound_and_exact_on_the_critical_path(data_dir: Path) -> None:
    shop = compile_shop(_la01(data_dir), Objective())
    sol = giffler_thompson(shop, "spt", random.Random(0))
    timing = decode(shop, sol)
    assert timing is not None
    q = tails(shop, sol, timing)
    assert max(timing.end[i] + q[i] for i in range(shop.n)) == timing.makespan
    path = critical_path(shop, timing, max(range(shop.n), key=lambda i: timing.end[i]))
    assert sum(sol.dur[i] for i in path) == timing.makespan  # no idle time on a critical path
    for move in block_moves(timing, path, sol, everything=True):
        estimate = _swap_estimate(shop, sol, timing, q, move)
        trial = sol.copy()
        seq = trial.seqs[move[2]]
        seq[move[1]], seq[move[1] + 1] = seq[move[1] + 1], seq[move[1]]
        after = decode(shop, trial)
        assert after is not None  # swapping a critical pair never creates a cycle
        assert estimate <= after.makespan


def test_tabu_search_improves_a_dispatching_plan(data_dir: Path) -> None:
    problem = read_instance(data_dir / "ft06.txt", "orlib").to_problem()
    shop = compile_shop(problem, Objective())
    start = giffler_thompson(shop, "lpt", random.Random(0))
    first = decode(shop, start)
    assert first is not None
    result = tabu_search(shop, start, time.perf_counter() + 2, random.Random(0), stop_at=55)
    assert result.timing.makespan < first.makespan
    assert result.timing.makespan <= 57
    assert violations(problem, scheduled_operations(shop, result.best, result.timing)) == []


def test_milp_window_never_returns_a_worse_or_infeasible_plan(plant: ShopProblem) -> None:
    objective = Objective(makespan=1.0, weighted_tardiness=1.0)
    shop = compile_shop(plant, objective)
    sol = giffler_thompson(shop, "random", random.Random(5))
    timing = decode(shop, sol)
    assert timing is not None
    outcome = solve_window(shop, sol, timing, (0, 25), 2.0)
    assert outcome.sequencing is not None
    after = decode(shop, outcome.sequencing)
    assert after is not None
    assert violations(plant, scheduled_operations(shop, outcome.sequencing, after)) == []


def test_full_milp_proves_a_small_optimum_and_reports_a_bound() -> None:
    problem = parse_orlib("3 2\n0 3 1 2\n1 4 0 1\n0 2 1 3\n", "tiny").to_problem()
    shop = compile_shop(problem, Objective())
    sol = giffler_thompson(shop, "lpt", random.Random(0))
    timing = decode(shop, sol)
    assert timing is not None
    outcome = solve_window(shop, sol, timing, (-(10**9), 10**9), 5.0)
    assert outcome.status == "optimal"
    assert outcome.bound is not None and outcome.objective is not None
    assert abs(outcome.bound - outcome.objective) < 1e-6
    best = decode(shop, outcome.sequencing) if outcome.sequencing else None
    assert best is not None and best.makespan == round(outcome.objective)


def test_time_limited_milp_is_feasible_not_optimal(data_dir: Path) -> None:
    shop = compile_shop(_la01(data_dir), Objective())
    sol = giffler_thompson(shop, "random", random.Random(1))
    timing = decode(shop, sol)
    assert timing is not None
    outcome = solve_window(shop, sol, timing, (-(10**9), 10**9), 0.2, improve_only=False)
    assert outcome.status in ("feasible", "no solution")


def test_cbc_fallback_reads_the_solution_status(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(milp._HighsWarm, "available", lambda self: False)
    problem = parse_orlib("3 2\n0 3 1 2\n1 4 0 1\n0 2 1 3\n", "tiny").to_problem()
    shop = compile_shop(problem, Objective())
    sol = giffler_thompson(shop, "lpt", random.Random(0))
    timing = decode(shop, sol)
    assert timing is not None
    outcome = solve_window(shop, sol, timing, (-(10**9), 10**9), 5.0)
    assert outcome.solver == "cbc"
    assert outcome.status == "optimal" and outcome.bound is None
    assert outcome.sequencing is not None and decode(shop, outcome.sequencing) is not None
