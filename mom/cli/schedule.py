"""``mom schedule``: solve classic job-shop files, plan and replan MOM problems, draw Gantt charts.

- ``mom schedule solve FILE --format orlib|taillard --time-limit S [--json] [--gantt OUT]``
- ``mom schedule plan PROBLEM.json [--time-limit S] [--json] [--gantt OUT]``
- ``mom schedule replan PROBLEM.json --plan PLAN.json --events EVENTS.json --now T``
- ``mom schedule gantt PLAN.json --out chart.svg|png [--problem PROBLEM.json]``

With ``--json`` the result is the only thing on stdout; errors go to stderr with exit code 2.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from mom.scheduling.exchange import (
    changes_to_dicts,
    events_from_dicts,
    objective_from_dict,
    plan_from_dict,
    plan_to_dict,
    problem_from_dict,
)
from mom.scheduling.gantt import write_gantt
from mom.scheduling.instances import InstanceError, read_instance
from mom.scheduling.model import Plan, ProblemError, ShopProblem
from mom.scheduling.replan import REPLAN_OBJECTIVE, replan
from mom.scheduling.solver import SolveOptions, solve


class _InputError(Exception):
    pass


def _fail(message: str) -> int:
    Console(stderr=True).print(f"[red]error:[/red] {message}", highlight=False)
    return 2


def _read_json(path: str) -> Any:
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise _InputError(f"{path}: cannot read: {exc.strerror}") from None
    except json.JSONDecodeError as exc:
        raise _InputError(f"{path}:{exc.lineno}: invalid JSON: {exc.msg}") from None


def _problem(path: str) -> ShopProblem:
    try:
        return problem_from_dict(_read_json(path))
    except ProblemError as exc:
        raise _InputError(f"{path}: {exc}") from None


def _show_plan(plan: Plan, title: str) -> None:
    console = Console()
    bound = "-" if plan.lower_bound is None else str(plan.lower_bound)
    console.print(
        f"[bold]{title}[/bold]: makespan {plan.makespan} ({plan.status}), lower bound {bound}, "
        f"weighted tardiness {plan.weighted_tardiness:g}, {plan.solve_seconds:.1f} s"
    )
    table = Table("work unit", "job order", "operation", "start", "end", "setup")
    for op in sorted(plan.operations, key=lambda o: (o.work_unit, o.start)):
        fixed = " (fixed)" if op.fixed else ""
        table.add_row(
            op.work_unit, op.job_order, op.operation + fixed, str(op.start), str(op.end),
            str(op.setup) if op.setup else "",
        )  # fmt: skip
    console.print(table)


def _solve(args: argparse.Namespace) -> int:
    try:
        instance = read_instance(args.file, args.format)
        plan = solve(
            instance.to_problem(), options=SolveOptions(time_limit=args.time_limit, seed=args.seed)
        )
    except (InstanceError, ProblemError) as exc:
        return _fail(str(exc))
    if args.gantt:
        write_gantt(plan, args.gantt)
    if not args.json:
        _show_plan(plan, instance.name)
        return 0
    operations = [
        {
            "job": int(op.job_order[1:]),
            "index": op.index,
            "machine": int(op.work_unit[1:]),
            "start": op.start,
            "end": op.end,
        }
        for op in sorted(plan.operations, key=lambda o: (int(o.job_order[1:]), o.index))
    ]
    result = {
        "makespan": plan.makespan,
        "status": plan.status,
        "lower_bound": plan.lower_bound,
        "operations": operations,
    }
    sys.stdout.write(json.dumps(result) + "\n")
    return 0


def _plan(args: argparse.Namespace) -> int:
    try:
        problem = _problem(args.problem)
        objective = objective_from_dict(_read_json(args.objective) if args.objective else None)
        plan = solve(problem, objective, SolveOptions(time_limit=args.time_limit, seed=args.seed))
    except (_InputError, ProblemError) as exc:
        return _fail(str(exc))
    if args.gantt:
        write_gantt(plan, args.gantt, problem)
    if args.json:
        sys.stdout.write(json.dumps(plan_to_dict(plan)) + "\n")
    else:
        _show_plan(plan, args.problem)
    return 0


def _replan(args: argparse.Namespace) -> int:
    try:
        problem = _problem(args.problem)
        previous = plan_from_dict(_read_json(args.plan))
        events = events_from_dicts(_read_json(args.events)) if args.events else []
        result = replan(
            problem,
            previous,
            events,
            now=args.now,
            freeze_window=args.freeze,
            objective=REPLAN_OBJECTIVE,
            options=SolveOptions(time_limit=args.time_limit, seed=args.seed),
        )
    except (_InputError, ProblemError) as exc:
        return _fail(str(exc))
    if args.gantt:
        write_gantt(result.plan, args.gantt, result.problem)
    changes = changes_to_dicts(result.changes)
    if args.json:
        out = {"plan": plan_to_dict(result.plan), "changes": changes}
        sys.stdout.write(json.dumps(out) + "\n")
        return 0
    _show_plan(result.plan, "replanned")
    table = Table("job order", "operation", "change", "before", "after")
    for c in changes:
        before, after = c["before"], c["after"]
        table.add_row(
            c["job_order"], c["operation"], c["kind"],
            f"{before['work_unit']} {before['start']}-{before['end']}" if before else "",
            f"{after['work_unit']} {after['start']}-{after['end']}" if after else "",
        )  # fmt: skip
    Console().print(table)
    return 0


def _gantt(args: argparse.Namespace) -> int:
    try:
        plan = plan_from_dict(_read_json(args.plan))
        problem = _problem(args.problem) if args.problem else None
        path = write_gantt(plan, args.out, problem)
    except (_InputError, ProblemError, ValueError) as exc:
        return _fail(str(exc))
    Console(stderr=True).print(f"wrote {path}")
    return 0


def register(subparsers: argparse._SubParsersAction[Any]) -> None:
    parser = subparsers.add_parser("schedule", help="plan job orders on work units")
    commands = parser.add_subparsers(dest="schedule_command", metavar="SUBCOMMAND")
    parser.set_defaults(func=lambda args: (parser.print_help(), 2)[1])

    def common(p: argparse.ArgumentParser, default_limit: float) -> None:
        p.add_argument("--time-limit", type=float, default=default_limit, metavar="S")
        p.add_argument("--seed", type=int, default=0)
        p.add_argument("--json", action="store_true", help="print JSON only")
        p.add_argument("--gantt", metavar="OUT", help="also write a Gantt chart (.svg or .png)")

    solve_parser = commands.add_parser("solve", help="solve a classic job-shop instance file")
    solve_parser.add_argument("file")
    solve_parser.add_argument("--format", choices=["orlib", "taillard"], default="orlib")
    common(solve_parser, 10.0)
    solve_parser.set_defaults(func=_solve)

    plan_parser = commands.add_parser("plan", help="plan a problem document (JSON)")
    plan_parser.add_argument("problem")
    plan_parser.add_argument("--objective", metavar="JSON_FILE", help="objective weights")
    common(plan_parser, 10.0)
    plan_parser.set_defaults(func=_plan)

    replan_parser = commands.add_parser("replan", help="repair a plan after events")
    replan_parser.add_argument("problem")
    replan_parser.add_argument("--plan", required=True, help="the current plan (JSON)")
    replan_parser.add_argument("--events", help="events (JSON list)")
    replan_parser.add_argument("--now", type=int, required=True)
    replan_parser.add_argument("--freeze", type=int, default=0, help="freeze window length")
    common(replan_parser, 5.0)
    replan_parser.set_defaults(func=_replan)

    gantt_parser = commands.add_parser("gantt", help="draw a plan (JSON) as SVG or PNG")
    gantt_parser.add_argument("plan")
    gantt_parser.add_argument("--out", required=True)
    gantt_parser.add_argument("--problem", help="problem document, to draw downtimes")
    gantt_parser.set_defaults(func=_gantt)
