"""Run FEEL cases (``{"expr", "vars", "input"?, "expected" | "error"}``) and judge them against their
expected results: the conformance corpus extracted from camunda/feel-scala's tests
(bench/feel/feel_scala_corpus.jsonl) and ``mom feel --batch``'s input.

A case with ``"input"`` is a unary-tests case (a DMN input entry tested against that value). Expected
typed values ``{"@type": "date"|"time"|"date and time"|"duration", "value": text}`` are compared by
their canonical text; numbers with a relative tolerance of 1e-9 (JSON numbers are floats).
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mom.feel import FeelError, compile_expression, compile_unary_tests, to_json
from mom.feel.values import parse_date, parse_datetime, parse_duration, parse_time, to_string

CLOCK = dt.datetime(2026, 1, 1, 12, 0, tzinfo=dt.UTC)


def evaluate_case(case: dict[str, Any], now: dt.datetime | None = CLOCK) -> dict[str, Any]:
    """``{"ok": true, "value": <JSON>}`` or ``{"ok": false, "error": <message>}`` for one case."""
    try:
        expr = case.get("expr")
        variables = case.get("vars") or {}
        if not isinstance(expr, str):
            return {"ok": False, "error": "the case has no \"expr\" string"}
        if not isinstance(variables, dict):
            return {"ok": False, "error": "\"vars\" must be a JSON object"}
        if "input" in case:
            value: Any = compile_unary_tests(expr).matches(case["input"], variables, now=now)
        else:
            value = compile_expression(expr).evaluate(variables, now=now)
        return {"ok": True, "value": to_json(value)}
    except FeelError as error:
        return {"ok": False, "error": str(error)}


def _canonical(expected: Any) -> Any:
    if isinstance(expected, dict) and "@type" in expected and set(expected) == {"@type", "value"}:
        kind, text = expected["@type"], expected["value"]
        parse = {"date": parse_date, "time": parse_time, "date and time": parse_datetime,
                 "duration": parse_duration}[kind]
        value = parse(text)  # type: ignore[operator]
        return to_string(value) if value is not None else text
    if isinstance(expected, list):
        return [_canonical(v) for v in expected]
    if isinstance(expected, dict):
        return {k: _canonical(v) for k, v in expected.items()}
    return expected


def same(actual: Any, expected: Any) -> bool:
    if isinstance(expected, bool) or isinstance(actual, bool):
        return actual is expected
    if isinstance(expected, int | float) and isinstance(actual, int | float):
        return math.isclose(actual, expected, rel_tol=1e-9, abs_tol=1e-12)
    if isinstance(expected, list) and isinstance(actual, list):
        return len(actual) == len(expected) and all(same(a, e) for a, e in zip(actual, expected, strict=True))
    if isinstance(expected, dict) and isinstance(actual, dict):
        return set(actual) == set(expected) and all(same(actual[k], expected[k]) for k in expected)
    return bool(actual == expected)


def passes(case: dict[str, Any], outcome: dict[str, Any]) -> bool:
    if case.get("error"):
        return not outcome["ok"]
    if case.get("error_or_null") and (not outcome["ok"] or outcome["value"] is None):
        return True
    return bool(outcome["ok"]) and same(outcome["value"], _canonical(case.get("expected")))


def load(path: Path) -> list[dict[str, Any]]:
    cases = []
    for line in path.read_text().splitlines():
        if line.strip():
            row = json.loads(line)
            if "header" not in row:
                cases.append(row)
    return cases


def case_id(case: dict[str, Any]) -> str:
    """A stable name of a case: its category, expression, input and variables."""
    parts = [case["category"], " ".join(case["expr"].split())]
    if "input" in case:
        parts.append("input=" + json.dumps(case["input"], sort_keys=True))
    if case.get("vars"):
        parts.append("vars=" + json.dumps(case["vars"], sort_keys=True))
    return " | ".join(parts)


@dataclass
class Tally:
    passed: int = 0
    total: int = 0

    @property
    def rate(self) -> float:
        return self.passed / self.total if self.total else 0.0


def run(cases: Iterable[dict[str, Any]]) -> Iterator[tuple[dict[str, Any], dict[str, Any], bool]]:
    for case in cases:
        outcome = evaluate_case(case)
        yield case, outcome, passes(case, outcome)
