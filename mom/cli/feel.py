"""``mom feel``: the FEEL playground (Camunda 8's expression language, mom.feel).

    mom feel 'if x > 5 then "big" else "small"' --vars '{"x": 7}'     -> "big"
    mom feel '[250..1000]' --input 300                                -> true (unary tests, a DMN input entry)
    mom feel --batch cases.jsonl     one {"expr": ..., "vars": {...}} (optional "input") per line ->
                                     one {"ok": true, "value": ...} or {"ok": false, "error": ...} per line

Results print as JSON (see mom.feel.values: a number is an int when integral, else a float; dates,
times and durations are ISO 8601 strings). ``now()``/``today()`` read ``--now`` (default: this machine's
clock, UTC); the engine will pass the workflow's deterministic time instead.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from pathlib import Path
from typing import Any

from mom.cli.common import parse_json_arg


def register(subparsers: argparse._SubParsersAction[Any]) -> None:
    feel = subparsers.add_parser("feel", help="evaluate a FEEL expression (Camunda 8's expression language)")
    feel.add_argument("expression", nargs="?", help="the FEEL expression (or unary tests with --input)")
    feel.add_argument("--vars", default="{}", help='variables as a JSON object, e.g. \'{"x": 7}\'')
    feel.add_argument("--input", default=None,
                      help="a JSON value: evaluate EXPRESSION as unary tests (a DMN input entry) against it")
    feel.add_argument("--json", action="store_true",
                      help='print {"ok": true, "value": ...} or {"ok": false, "error": ..., "position": N}')
    feel.add_argument("--batch", type=Path, metavar="FILE.jsonl",
                      help='evaluate one {"expr": ..., "vars": {...}} per line ("-" reads standard input)')
    feel.add_argument("--now", default=None, help="the clock of now()/today(), ISO 8601 (default: now, UTC)")
    feel.set_defaults(func=cmd_feel)


def _clock(text: str | None) -> dt.datetime:
    if text is None:
        return dt.datetime.now(dt.UTC).replace(microsecond=0)
    try:
        value = dt.datetime.fromisoformat(text)
    except ValueError:
        raise SystemExit(f"--now {text!r}: expected ISO 8601, e.g. 2026-01-01T12:00:00Z") from None
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def _outcome(case: dict[str, Any], now: dt.datetime) -> dict[str, Any]:
    from mom.feel import FeelError, compile_expression, compile_unary_tests, to_json

    expr, variables = case.get("expr"), case.get("vars") or {}
    if not isinstance(expr, str):
        return {"ok": False, "error": 'each line needs "expr", a string'}
    if not isinstance(variables, dict):
        return {"ok": False, "error": '"vars" must be a JSON object'}
    try:
        if "input" in case:
            value: Any = compile_unary_tests(expr).matches(case["input"], variables, now=now)
        else:
            value = compile_expression(expr).evaluate(variables, now=now)
    except FeelError as error:
        return {"ok": False, "error": str(error), "position": error.position}
    return {"ok": True, "value": to_json(value)}


def _batch(path: Path, now: dt.datetime) -> int:
    try:
        lines = sys.stdin.read().splitlines() if str(path) == "-" else path.read_text().splitlines()
    except OSError as error:
        sys.stderr.write(f"--batch {path}: cannot read ({error.strerror})\n")
        return 1
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            case = json.loads(line)
        except json.JSONDecodeError as error:
            outcome = {"ok": False, "error": f"{path} line {number}: not JSON ({error.msg})"}
        else:
            if not isinstance(case, dict):
                outcome = {"ok": False, "error": f"{path} line {number}: expected a JSON object"}
            elif "header" in case and "expr" not in case:
                continue
            else:
                outcome = _outcome(case, now)
        sys.stdout.write(json.dumps(outcome, ensure_ascii=False) + "\n")
    return 0


def cmd_feel(args: argparse.Namespace) -> int:
    now = _clock(args.now)
    if args.batch is not None:
        if args.expression:
            raise SystemExit("mom feel: give an EXPRESSION or --batch FILE, not both")
        return _batch(args.batch, now)
    if not args.expression:
        raise SystemExit("mom feel: give an EXPRESSION (or --batch FILE.jsonl)")
    variables = parse_json_arg(args.vars, "--vars")
    if not isinstance(variables, dict):
        raise SystemExit("--vars: expected a JSON object, e.g. '{\"x\": 7}'")
    case: dict[str, Any] = {"expr": args.expression, "vars": variables}
    if args.input is not None:
        case["input"] = parse_json_arg(args.input, "--input")
    outcome = _outcome(case, now)
    if args.json:
        sys.stdout.write(json.dumps(outcome, ensure_ascii=False) + "\n")
    elif outcome["ok"]:
        sys.stdout.write(json.dumps(outcome["value"], ensure_ascii=False) + "\n")
    else:
        sys.stderr.write(outcome["error"] + "\n")
    return 0 if outcome["ok"] else 1
