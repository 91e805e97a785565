"""Disjunctive MILP on a time window of the current plan, modelled with PuLP.

Operations starting inside the window are free: their order (and, for flexible ones, their work
unit) is decided by binaries. Every other operation keeps its order on its unit but all start
times are variables, so improving the window lets the rest of the plan shift left. With the
window covering everything this is the full disjunctive model, whose proven optimum is reported
honestly: ``optimal`` only when the solver proved it (a time-limited stop is ``feasible``).

HiGHS (through highspy) is used with the current plan as a warm start; CBC is the fallback.
"""

from __future__ import annotations

import itertools
import logging
import os
import sys
import threading
import warnings
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pulp

from mom.scheduling.shop import Sequencing, Shop, Timing, sequencing_from_starts

log = logging.getLogger(__name__)

MilpStatus = Literal["optimal", "feasible", "infeasible", "no solution"]


@dataclass
class MilpOutcome:
    status: MilpStatus
    sequencing: Sequencing | None
    objective: float | None
    bound: float | None
    solver: str


_banner_lock = threading.Lock()
_banner_shown = False


def _silence_banner() -> None:
    """HiGHS prints a banner on stdout (C level) when the first instance is created; swallow it
    once so that ``--json`` output stays clean."""
    global _banner_shown
    with _banner_lock:
        if _banner_shown:
            return
        import highspy

        sys.stdout.flush()
        saved = os.dup(1)
        try:
            with open(os.devnull, "w") as devnull:
                os.dup2(devnull.fileno(), 1)
                highspy.Highs()
        finally:
            os.dup2(saved, 1)
            os.close(saved)
        _banner_shown = True


class _HighsWarm(pulp.HiGHS):  # type: ignore[misc, name-defined]
    """pulp's HiGHS API solver, passing the variables' initial values as a MIP start."""

    def createAndConfigureSolver(self, lp: Any) -> None:
        _silence_banner()
        super().createAndConfigureSolver(lp)

    def callSolver(self, lp: Any) -> None:
        values = [v.varValue for v in lp.variables()]
        if all(v is not None for v in values):
            index = np.arange(len(values), dtype=np.int32)
            lp.solverModel.setSolution(len(values), index, np.array(values, dtype=np.float64))
        lp.solverModel.run()


def _cbc(limit: float) -> Any:
    """CBC: an installed ``cbc`` (COIN_CMD), else the binary bundled with PuLP."""
    coin = pulp.COIN_CMD(msg=False, timeLimit=limit, warmStart=True)
    if coin.available():
        return coin
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        return pulp.PULP_CBC_CMD(msg=False, timeLimit=limit, warmStart=True)


def highs_available() -> bool:
    return bool(_HighsWarm(msg=False).available())


def solve_window(
    shop: Shop,
    sol: Sequencing,
    timing: Timing,
    window: tuple[int, int],
    time_limit: float,
    *,
    units: set[int] | None = None,
    improve_only: bool = True,
) -> MilpOutcome:
    """Re-optimise the operations on ``units`` (default: all) starting in ``window = [a, b)``;
    they may move among those units. Every other operation keeps its order on its unit."""
    model = _WindowModel(shop, sol, timing, window, units, improve_only)
    return model.solve(time_limit)


class _WindowModel:
    def __init__(
        self,
        shop: Shop,
        sol: Sequencing,
        timing: Timing,
        window: tuple[int, int],
        units: set[int] | None,
        improve_only: bool,
    ) -> None:
        self.shop, self.sol, self.timing = shop, sol, timing
        a, b = window
        self.window_start = a
        self.units = set(range(shop.n_machines)) if units is None else units
        self.free = [
            i
            for i in range(shop.n)
            if a <= timing.start[i] < b and sol.machine_of[i] in self.units
        ]
        self.free_set = set(self.free)
        self.allowed = {
            i: [(m, d) for m, d in shop.options[i] if m in self.units] for i in self.free
        }
        objective = shop.objective
        upper = timing.makespan
        if not (improve_only and objective.makespan_only):
            longest_setup = max((max(map(max, t)) for t in shop.setup or []), default=0)
            upper = (
                timing.makespan
                + sum(max(d for _, d in self.allowed[i]) + longest_setup for i in self.free)
                + sum(b - a for blocked in shop.blocked for a, b in blocked)
            )
        self.horizon = upper
        self.prob = pulp.LpProblem("window", pulp.LpMinimize)
        n = shop.n
        self.start = [
            self._var(f"S_{i}", shop.release[i], upper) for i in range(n)
        ]
        self.cmax = self._var("Cmax", shop.fixed_makespan, upper)
        self.assign: dict[tuple[int, int], pulp.LpVariable] = {}
        self.duration: list[Any] = []
        for i in range(n):
            options = self.allowed.get(i, [])
            if len(options) > 1:
                for m, _ in options:
                    self.assign[i, m] = self._var(f"x_{i}_{m}", 0, 1, pulp.LpInteger)
                self.prob += (
                    pulp.lpSum(self.assign[i, m] for m, _ in options) == 1,
                    f"one_unit_{i}",
                )
                self.duration.append(pulp.lpSum(d * self.assign[i, m] for m, d in options))
            else:
                self.duration.append(sol.dur[i])
        self._precedences()
        self._units()
        self._objective()
        self._warm_start()

    def _var(
        self, name: str, low: float, up: float | None = None, cat: str = pulp.LpContinuous
    ) -> Any:
        """A variable of the model (``add_variable`` on PuLP >= 3.3, the old way before)."""
        add = getattr(self.prob, "add_variable", None)
        if add is not None:
            return add(name, lowBound=low, upBound=up, cat=cat)
        return pulp.LpVariable(name, lowBound=low, upBound=up, cat=cat)

    def _on(self, i: int, m: int) -> Any:
        """1 - [i runs on m], as an expression (0 when i's unit is fixed to m)."""
        if (i, m) in self.assign:
            return 1 - self.assign[i, m]
        return 0 if self.sol.machine_of[i] == m else None

    def _units_of(self, i: int) -> list[int]:
        if i in self.free_set:
            return [m for m, _ in self.allowed[i]]
        return [self.sol.machine_of[i]]

    def _precedences(self) -> None:
        shop, prob, start = self.shop, self.prob, self.start
        for i in range(shop.n):
            js = shop.jsucc[i]
            if js >= 0:
                prob += start[js] >= start[i] + self.duration[i], f"route_{i}"
            else:
                prob += self.cmax >= start[i] + self.duration[i], f"cmax_{i}"

    def _units(self) -> None:
        shop, sol, timing, prob, start = self.shop, self.sol, self.timing, self.prob, self.start
        big = self.horizon
        self.order: dict[tuple[int, int], pulp.LpVariable] = {}
        self.side: dict[tuple[int, int, int], pulp.LpVariable] = {}
        for m, seq in enumerate(sol.seqs):
            kept = [i for i in seq if i not in self.free_set]
            for a, b in itertools.pairwise(kept):
                prob += start[b] >= start[a] + sol.dur[a] + shop.setup_time(m, a, b), f"seq_{a}_{b}"
            for i in kept:
                self._fixed_side_of_blocked(i, m)
            candidates = [i for i in self.free if m in self._units_of(i)]
            window_start = self.window_start
            before = [i for i in kept if timing.start[i] < window_start]
            after = [i for i in kept if timing.start[i] >= window_start]
            for i in candidates:
                off = self._on(i, m)
                if before:
                    p = before[-1]
                    setup = shop.setup_time(m, p, i)
                    prob += start[i] >= start[p] + sol.dur[p] + setup - big * off, f"pre_{i}_{m}"
                if after:
                    s = after[0]
                    setup = shop.setup_time(m, i, s)
                    prob += (
                        start[s] >= start[i] + self.duration[i] + setup - big * off,
                        f"post_{i}_{m}",
                    )
                self._free_side_of_blocked(i, m, off)
            for x, i in enumerate(candidates):
                for j in candidates[x + 1 :]:
                    if shop.job[i] == shop.job[j]:
                        continue
                    y = self._var(f"y_{i}_{j}_{m}", 0, 1, pulp.LpInteger)
                    self.order[i, j] = y
                    off = self._on(i, m) + self._on(j, m)
                    sij, sji = shop.setup_time(m, i, j), shop.setup_time(m, j, i)
                    prob += (
                        start[j] >= start[i] + self.duration[i] + sij - big * (1 - y + off),
                        f"d1_{i}_{j}_{m}",
                    )
                    prob += (
                        start[i] >= start[j] + self.duration[j] + sji - big * (y + off),
                        f"d2_{i}_{j}_{m}",
                    )

    def _fixed_side_of_blocked(self, i: int, m: int) -> None:
        start, end = self.timing.start[i], self.timing.end[i]
        before = [b for a, b in self.shop.blocked[m] if b <= start - self.timing.setup[i]]
        after = [a for a, b in self.shop.blocked[m] if a >= end]
        if before:
            self.prob += self.start[i] >= max(before) + self.timing.setup[i], f"cal_a_{i}"
        if after:
            self.prob += self.start[i] + self.sol.dur[i] <= min(after), f"cal_b_{i}"

    def _free_side_of_blocked(self, i: int, m: int, off: Any) -> None:
        big = self.horizon
        for k, (a, b) in enumerate(self.shop.blocked[m]):
            if a >= self.horizon or b <= self.shop.release[i]:
                continue
            z = self._var(f"z_{i}_{m}_{k}", 0, 1, pulp.LpInteger)
            self.side[i, m, k] = z
            self.prob += (
                self.start[i] + self.duration[i] <= a + big * (1 - z + off),
                f"cal_{i}_{m}_{k}_before",
            )
            self.prob += self.start[i] >= b - big * (z + off), f"cal_{i}_{m}_{k}_after"

    def _objective(self) -> None:
        shop, objective = self.shop, self.shop.objective
        terms: list[Any] = [objective.makespan * self.cmax]
        self.late: dict[int, pulp.LpVariable] = {}
        self.shift: dict[int, pulp.LpVariable] = {}
        if objective.weighted_tardiness:
            for j, last in enumerate(shop.job_last):
                due = shop.due[j]
                if last < 0 or due is None:
                    continue
                late = self._var(f"T_{j}", 0)
                self.late[j] = late
                self.prob += late >= self.start[last] + self.duration[last] - due, f"late_{j}"
                terms.append(objective.weighted_tardiness * shop.weight[j] * late)
        if objective.stability:
            for i in range(shop.n):
                ref = shop.ref_machine[i]
                if ref < 0:
                    continue
                shift = self._var(f"D_{i}", 0)
                self.shift[i] = shift
                self.prob += shift >= self.start[i] - shop.ref_start[i], f"shift_a_{i}"
                self.prob += shift >= shop.ref_start[i] - self.start[i], f"shift_b_{i}"
                weight = objective.stability * shop.stability_weight[i]
                terms.append(weight * shift)
                if (i, ref) in self.assign:
                    terms.append(weight * self.sol.dur[i] * (1 - self.assign[i, ref]))
        self.prob += pulp.lpSum(terms)

    def _warm_start(self) -> None:
        shop, sol, timing = self.shop, self.sol, self.timing
        for i, var in enumerate(self.start):
            var.setInitialValue(timing.start[i])
        self.cmax.setInitialValue(max(timing.makespan, shop.fixed_makespan))
        for (i, m), var in self.assign.items():
            var.setInitialValue(1 if sol.machine_of[i] == m else 0)
        for (i, j), var in self.order.items():
            var.setInitialValue(1 if timing.start[i] < timing.start[j] else 0)
        for (i, m, k), var in self.side.items():
            a = shop.blocked[m][k][0]
            var.setInitialValue(1 if timing.end[i] <= a else 0)
        for j, var in self.late.items():
            due = shop.due[j]
            assert due is not None
            var.setInitialValue(max(0, timing.end[shop.job_last[j]] - due))
        for i, var in self.shift.items():
            var.setInitialValue(abs(timing.start[i] - shop.ref_start[i]))

    def solve(self, time_limit: float) -> MilpOutcome:
        limit = max(0.05, time_limit)
        solver_name = "highs"
        bound: float | None = None
        solver: Any = _HighsWarm(msg=False, timeLimit=limit, threads=1)
        if solver.available():
            self.prob.solve(solver)
            highs = self.prob.solverModel
            info = highs.getInfo()
            proven = highs.getModelStatus() == highspy_optimal()
            has_solution = info.primal_solution_status == 2
            if has_solution or proven:
                bound = float(info.mip_dual_bound)
        else:  # CBC: a time-limited stop has sol_status IntegerFeasible, not Optimal
            solver_name = "cbc"
            self.prob.solve(_cbc(limit))
            proven = self.prob.sol_status == pulp.LpSolutionOptimal
            has_solution = self.prob.sol_status in (
                pulp.LpSolutionOptimal,
                pulp.LpSolutionIntegerFeasible,
            )
        if self.prob.status == pulp.LpStatusInfeasible:
            return MilpOutcome("infeasible", None, None, None, solver_name)
        if not has_solution:
            return MilpOutcome("no solution", None, None, bound, solver_name)
        return MilpOutcome(
            "optimal" if proven else "feasible",
            self._extract(),
            pulp.value(self.prob.objective),
            bound,
            solver_name,
        )

    def _extract(self) -> Sequencing:
        shop, sol = self.shop, self.sol
        machine_of = list(sol.machine_of)
        for (i, m), var in self.assign.items():
            if (var.varValue or 0) > 0.5:
                machine_of[i] = m
        starts = [round(var.varValue or 0.0, 6) for var in self.start]
        return sequencing_from_starts(shop, machine_of, starts)


def highspy_optimal() -> Any:
    import highspy

    return highspy.HighsModelStatus.kOptimal
