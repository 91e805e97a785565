"""Plan a shop within a time budget: construction, tabu search, MILP on windows, honest status.

1. Giffler-Thompson with several dispatching rules, then randomised ones (warm start).
2. Tabu search on critical blocks.
3. Large-neighbourhood search: the disjunctive MILP on a time window around the critical path,
   the rest of the plan keeping its order; small problems get the full MILP, which can prove
   optimality.
4. Tabu search again from the best plan until the budget is spent.

The status is ``optimal`` only when proven: the makespan equals a valid lower bound, or the full
MILP was solved to optimality without hitting its time limit.
"""

from __future__ import annotations

import logging
import math
import random
import time
from dataclasses import dataclass, field

from mom.scheduling.bounds import makespan_lower_bound
from mom.scheduling.dispatching import RULES, giffler_thompson
from mom.scheduling.milp import solve_window
from mom.scheduling.model import Objective, Plan, ShopProblem
from mom.scheduling.shop import (
    Sequencing,
    Shop,
    Timing,
    compile_shop,
    decode,
    scheduled_operations,
)
from mom.scheduling.tabu import critical_path, tabu_search

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SolveOptions:
    time_limit: float = 10.0
    seed: int = 0
    use_milp: bool = True
    exact_milp_max_operations: int = 60
    """Problems with at most this many free operations get the full MILP (optimality proofs)."""
    lns_share: float = 0.1
    """Share of the budget spent on MILP windows for larger problems."""
    window_operations: int = 40


@dataclass
class SolveOutcome:
    sequencing: Sequencing
    timing: Timing
    proven_optimal: bool
    lower_bound: int
    first_feasible_seconds: float
    seconds: float
    notes: list[str] = field(default_factory=list)


class _Search:
    def __init__(self, shop: Shop, options: SolveOptions, started: float) -> None:
        self.shop, self.options, self.started = shop, options, started
        self.deadline = started + options.time_limit
        self.rng = random.Random(options.seed)
        self.best: Sequencing | None = None
        self.best_timing: Timing | None = None
        self.first_feasible = 0.0
        self.lower_bound = makespan_lower_bound(shop)
        self.proven = False
        self.notes: list[str] = []

    def offer(self, sol: Sequencing, timing: Timing | None = None) -> bool:
        timing = timing or decode(self.shop, sol)
        if timing is None:
            return False
        if self.best_timing is None:
            self.first_feasible = time.perf_counter() - self.started
        if self.best_timing is None or timing.cost < self.best_timing.cost:
            self.best, self.best_timing = sol.copy(), timing
            return True
        return False

    def done(self) -> bool:
        if self.proven or time.perf_counter() >= self.deadline:
            return True
        timing = self.best_timing
        if timing is not None and self.shop.objective.makespan_only:
            self.proven = timing.makespan <= self.lower_bound
        return self.proven

    def remaining(self) -> float:
        return max(0.0, self.deadline - time.perf_counter())

    def construct(self, initial: list[Sequencing]) -> None:
        for sol in initial:
            self.offer(sol)
        budget = time.perf_counter() + min(1.0, 0.05 * self.options.time_limit)
        for rule in RULES:
            self.offer(giffler_thompson(self.shop, rule, self.rng))
        while time.perf_counter() < budget and not self.done():
            rule = self.rng.choice(RULES[:4])
            self.offer(giffler_thompson(self.shop, rule, self.rng, noise=0.1))

    def tabu(self, seconds: float) -> None:
        if self.done() or self.best is None or self.shop.n == 0:
            return
        until = min(self.deadline, time.perf_counter() + seconds)
        stop_at = self.lower_bound if self.shop.objective.makespan_only else None
        result = tabu_search(self.shop, self.best, until, self.rng, stop_at=stop_at)
        self.offer(result.best, result.timing)

    def exact(self, seconds: float) -> None:
        if self.done() or self.best is None or self.best_timing is None:
            return
        outcome = solve_window(
            self.shop, self.best, self.best_timing, (-(10**18), 10**18), seconds
        )
        self.notes.append(f"full MILP ({outcome.solver}): {outcome.status}")
        if outcome.sequencing is not None:
            self.offer(outcome.sequencing)
        # The full model relaxes setups inside calendars and the setup after fixed operations,
        # so (with triangular setups) its optimum is a lower bound; it is the optimum only if
        # the decoded plan reaches it.
        assert self.best_timing is not None
        if not self.shop.setups_triangular:
            return
        if outcome.status == "optimal" and outcome.objective is not None:
            self.proven = self.best_timing.cost <= outcome.objective + 1e-6
        if outcome.bound is not None and self.shop.objective.makespan_only:
            weight = self.shop.objective.makespan
            self.lower_bound = max(self.lower_bound, math.ceil(outcome.bound / weight - 1e-6))

    def windows(self, seconds: float) -> None:
        """MILP neighbourhoods: a time window on all units, or a few units over the whole plan."""
        until = min(self.deadline, time.perf_counter() + seconds)
        improved = tried = 0
        while time.perf_counter() < until - 0.05 and not self.done():
            assert self.best is not None and self.best_timing is not None
            window, units = self._pick_neighbourhood(self.best_timing)
            limit = min(1.0, until - time.perf_counter())
            outcome = solve_window(
                self.shop, self.best, self.best_timing, window, limit, units=units
            )
            tried += 1
            if outcome.sequencing is not None and self.offer(outcome.sequencing):
                improved += 1
        self.notes.append(f"MILP neighbourhoods: {improved} improvements in {tried}")

    def _pick_neighbourhood(self, timing: Timing) -> tuple[tuple[int, int], set[int] | None]:
        shop, rng = self.shop, self.rng
        last = max(range(shop.n), key=lambda i: (timing.end[i], rng.random()))
        path = critical_path(shop, timing, last)
        if rng.random() < 0.5 and shop.n_machines > 2:
            on_path = sorted({self.best.machine_of[i] for i in path}) if self.best else []
            count = min(len(on_path), max(2, shop.n_machines // 4))
            return (-(10**18), 10**18), set(rng.sample(on_path, count))
        centre = timing.start[rng.choice(path)]
        starts = sorted(timing.start)
        k = min(self.options.window_operations, len(starts))
        pos = min(range(len(starts)), key=lambda x: abs(starts[x] - centre))
        lo = max(0, min(pos - k // 2, len(starts) - k))
        return (starts[lo], starts[lo + k - 1] + 1), None


def solve_shop(
    shop: Shop, options: SolveOptions, initial: list[Sequencing] | None = None
) -> SolveOutcome:
    started = time.perf_counter()
    search = _Search(shop, options, started)
    search.construct(initial or [])
    small = shop.n <= options.exact_milp_max_operations
    if options.use_milp and small:
        search.tabu(0.3 * search.remaining())
        search.exact(0.8 * search.remaining())
    elif options.use_milp:
        search.tabu((1 - options.lns_share) * 0.6 * search.remaining())
        search.windows(options.lns_share * search.remaining())
    search.tabu(search.remaining())
    assert search.best is not None and search.best_timing is not None
    search.done()
    return SolveOutcome(
        search.best,
        search.best_timing,
        search.proven,
        search.lower_bound,
        search.first_feasible,
        time.perf_counter() - started,
        search.notes,
    )


def plan_from(shop: Shop, outcome: SolveOutcome) -> Plan:
    timing = outcome.timing
    return Plan(
        operations=scheduled_operations(shop, outcome.sequencing, timing),
        makespan=timing.makespan,
        weighted_tardiness=timing.tardiness,
        status="optimal" if outcome.proven_optimal else "feasible",
        lower_bound=outcome.lower_bound,
        objective_value=timing.cost,
        stability_cost=timing.stability,
        solve_seconds=outcome.seconds,
        first_feasible_seconds=outcome.first_feasible_seconds,
        notes=tuple(outcome.notes),
    )


def solve(
    problem: ShopProblem,
    objective: Objective | None = None,
    options: SolveOptions | None = None,
) -> Plan:
    """Plan ``problem``; raises :class:`~mom.scheduling.model.ProblemError` on bad input."""
    objective = objective or Objective()
    options = options or SolveOptions()
    shop = compile_shop(problem, objective)
    return plan_from(shop, solve_shop(shop, options))
