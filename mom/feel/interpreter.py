"""Evaluation of FEEL node trees (see mom.feel.grammar) against a workflow's variables.

Safe by construction: the evaluator walks the tree and reads only the variables it is given and FEEL's
built-in functions (mom.feel.builtins); nothing reaches Python's eval, attributes or imports. Work is
bounded: every node evaluated and every item a loop, filter, quantifier or built-in touches takes one
step from a budget (``MAX_STEPS``), and nesting (user functions calling themselves) is bounded by
``MAX_DEPTH``; past either the evaluation ends with a FeelError, so a hostile expression cannot hold a
worker. Semantics follow Camunda 8 (feel-scala): a name no variable supplies is null, an operation on
values of the wrong types is null, ``and``/``or`` are three-valued.
"""

from __future__ import annotations

import calendar
import datetime as dt
import decimal
from collections.abc import Iterator
from typing import Any

from mom.feel.values import CONTEXT, FeelFunction, Range, YearsMonths, parse_temporal

MAX_STEPS = 1_000_000
MAX_DEPTH = 120

Node = tuple[Any, ...]


class FeelError(Exception):
    """A FEEL expression that cannot be parsed or evaluated; names the expression and the position
    (1-based column; 0 when no single place is at fault)."""

    def __init__(self, message: str, expression: str = "", position: int = 0) -> None:
        self.message = message
        self.expression = expression
        self.position = position
        where = f" at position {position}" if position else ""
        super().__init__(f"FEEL expression {expression!r}{where}: {message}" if expression else message)


class _Failure(Exception):
    """An evaluation failure at a node's position (becomes a FeelError naming the expression)."""

    def __init__(self, message: str, position: int) -> None:
        super().__init__(message)
        self.message = message
        self.position = position


class _NotIterable(Exception):
    """A for/some/every over a value that is not a list or a range: the expression is null."""


class Budget:
    def __init__(self, now: dt.datetime | None, max_steps: int = MAX_STEPS) -> None:
        self.steps = 0
        self.max_steps = max_steps
        self.depth = 0
        self.now = now

    def step(self, count: int = 1, position: int = 0) -> None:
        self.steps += count
        if self.steps > self.max_steps:
            raise _Failure(f"evaluation exceeded its budget of {self.max_steps} steps", position)


class Scope:
    """Variables visible to a node: a chain of dicts, innermost first."""

    __slots__ = ("parent", "values")

    def __init__(self, values: dict[str, Any], parent: Scope | None = None) -> None:
        self.values = values
        self.parent = parent

    def lookup(self, name: str) -> tuple[bool, Any]:
        scope: Scope | None = self
        while scope is not None:
            if name in scope.values:
                return True, scope.values[name]
            scope = scope.parent
        return False, None

    def child(self, values: dict[str, Any]) -> Scope:
        return Scope(values, self)


# --- comparisons ---------------------------------------------------------------------------------------

_KINDS: list[tuple[type | tuple[type, ...], str]] = [
    (bool, "boolean"), (decimal.Decimal, "number"), (str, "string"), (dt.datetime, "date and time"),
    (dt.date, "date"), (dt.time, "time"), (dt.timedelta, "days and time duration"),
    (YearsMonths, "years and months duration"), (list, "list"), (dict, "context"), (Range, "range"),
    (FeelFunction, "function"),
]


def kind(value: Any) -> str:
    if value is None:
        return "null"
    for python_type, name in _KINDS:
        if isinstance(value, python_type):
            return name
    return "unknown"


def equal(a: Any, b: Any) -> bool | None:
    """FEEL's ``=``: null equals only null; values of different kinds are not comparable (null)."""
    if a is None or b is None:
        return a is None and b is None
    ka, kb = kind(a), kind(b)
    if ka != kb:
        return None
    if ka == "list":
        if len(a) != len(b):
            return False
        return all(equal(x, y) is True for x, y in zip(a, b, strict=True))
    if ka == "context":
        if set(a) != set(b):
            return False
        return all(equal(a[key], b[key]) is True for key in a)
    if ka in ("date and time", "time"):
        try:
            return bool(a == b) and (a.tzinfo is None) == (b.tzinfo is None)
        except TypeError:
            return None
    return bool(a == b)


def less(a: Any, b: Any) -> bool | None:
    ka, kb = kind(a), kind(b)
    if ka != kb or ka not in ("number", "string", "date", "date and time", "time", "days and time duration",
                              "years and months duration"):
        return None
    try:
        if ka == "time" and (a.tzinfo is None) != (b.tzinfo is None):
            return None
        return bool(a < b)
    except TypeError:
        return None


def compare(op: str, a: Any, b: Any) -> bool | None:
    if op == "=":
        return equal(a, b)
    if op == "!=":
        same = equal(a, b)
        return None if same is None else not same
    if a is None or b is None:
        return None
    if op == "<":
        return less(a, b)
    if op == ">":
        return less(b, a)
    lt = less(a, b) if op == "<=" else less(b, a)
    if lt is None:
        return None
    return lt or bool(equal(a, b))


def in_range(value: Any, r: Range) -> bool | None:
    if r.start is None or r.end is None:  # [null..10] has no start: unknown, as in DMN
        return None
    checks = []
    if r.start is not None:
        checks.append(compare(">=" if r.start_included else ">", value, r.start))
    if r.end is not None:
        checks.append(compare("<=" if r.end_included else "<", value, r.end))
    if any(c is False for c in checks):
        return False
    if any(c is None for c in checks):
        return None
    return True


# --- arithmetic ----------------------------------------------------------------------------------------

def _add_months(value: dt.date, months: int) -> dt.date:
    total = value.year * 12 + value.month - 1 + months
    year, month = divmod(total, 12)
    month += 1
    day = min(value.day, calendar.monthrange(year, month)[1])
    return value.replace(year=year, month=month, day=day)


def _time_plus(t: dt.time, delta: dt.timedelta) -> dt.time:
    base = dt.datetime.combine(dt.date(2000, 1, 1), t.replace(tzinfo=None)) + delta
    return base.time().replace(tzinfo=t.tzinfo)


def arithmetic(op: str, a: Any, b: Any) -> Any:
    if a is None or b is None:
        return None
    ka, kb = kind(a), kind(b)
    try:
        if ka == kb == "number":
            if op == "+":
                return CONTEXT.add(a, b)
            if op == "-":
                return CONTEXT.subtract(a, b)
            if op == "*":
                return CONTEXT.multiply(a, b)
            if op == "/":
                return None if b == 0 else CONTEXT.divide(a, b)
            if op == "**":
                if b == b.to_integral_value() and abs(b) <= 999_999:
                    return CONTEXT.power(a, b)
                return CONTEXT.create_decimal(repr(float(a) ** float(b)))
        if op == "+" and ka == kb == "string":
            return a + b
        if op in "+-":
            sign = 1 if op == "+" else -1
            if ka in ("date and time", "date") and kb == "days and time duration":
                return a + sign * b
            if ka in ("date and time", "date") and kb == "years and months duration":
                return _add_months(a, sign * b.months)
            if ka == "time" and kb == "days and time duration":
                return _time_plus(a, sign * b)
            if op == "+" and kb in ("date and time", "date", "time") and ka.endswith("duration"):
                return arithmetic("+", b, a)
            if ka == kb == "days and time duration":
                return a + sign * b
            if ka == kb == "years and months duration":
                return YearsMonths(a.months + sign * b.months)
            if op == "-" and ka == kb and ka in ("date and time", "date"):
                if ka == "date and time" and (a.tzinfo is None) != (b.tzinfo is None):
                    return None
                return a - b
            if op == "-" and ka == kb == "time":
                base = dt.date(2000, 1, 1)
                return dt.datetime.combine(base, a) - dt.datetime.combine(base, b)
            if op == "-" and {ka, kb} == {"date", "date and time"}:
                da = a if isinstance(a, dt.datetime) else dt.datetime.combine(a, dt.time(), b.tzinfo)
                db = b if isinstance(b, dt.datetime) else dt.datetime.combine(b, dt.time(), a.tzinfo)
                return da - db
        if op == "*" and {ka, kb} <= {"number", "days and time duration"} and ka != kb:
            duration, factor = (a, b) if ka != "number" else (b, a)
            return dt.timedelta(seconds=float(CONTEXT.multiply(decimal.Decimal(duration.total_seconds()), factor)))
        if op == "*" and {ka, kb} <= {"number", "years and months duration"} and ka != kb:
            duration, factor = (a, b) if ka != "number" else (b, a)
            return YearsMonths(int(duration.months * factor))
        if op == "/" and ka == "days and time duration" and kb == "number":
            return None if b == 0 else dt.timedelta(seconds=float(decimal.Decimal(a.total_seconds()) / b))
        if op == "/" and ka == "years and months duration" and kb == "number":
            return None if b == 0 else YearsMonths(int(a.months / b))
        if op == "/" and ka == kb == "days and time duration":
            return None if not b else CONTEXT.divide(decimal.Decimal(a.total_seconds()),
                                                     decimal.Decimal(b.total_seconds()))
        if op == "/" and ka == kb == "years and months duration":
            return None if not b.months else CONTEXT.divide(decimal.Decimal(a.months), decimal.Decimal(b.months))
    except (ArithmeticError, OverflowError, ValueError, TypeError):
        return None
    return None


# --- evaluation ----------------------------------------------------------------------------------------

class Evaluator:
    def __init__(self, budget: Budget) -> None:
        self.budget = budget

    def eval(self, node: Node, scope: Scope) -> Any:
        self.budget.step(1, node[1] if len(node) > 1 and isinstance(node[1], int) else 0)
        method = getattr(self, "eval_" + node[0])
        return method(node, scope)

    # literals and names
    def eval_num(self, node: Node, scope: Scope) -> Any:
        return node[2]

    def eval_str(self, node: Node, scope: Scope) -> Any:
        return node[2]

    def eval_const(self, node: Node, scope: Scope) -> Any:
        return node[2]

    def eval_temporal(self, node: Node, scope: Scope) -> Any:
        return node[3]  # null when the text is no valid date, time or duration, as in Camunda 8

    def eval_var(self, node: Node, scope: Scope) -> Any:
        found, value = scope.lookup(node[2])
        if found:
            return value
        from mom.feel.builtins import function_value

        return function_value(node[2])

    def eval_path(self, node: Node, scope: Scope) -> Any:
        return self.member(self.eval(node[2], scope), node[3])

    def member(self, base: Any, name: str) -> Any:
        if isinstance(base, dict):
            return base.get(name)
        if isinstance(base, list):
            self.budget.step(len(base))
            return [self.member(item, name) for item in base]
        from mom.feel.builtins import property_of

        return property_of(base, name)

    def eval_filter(self, node: Node, scope: Scope) -> Any:
        base = self.eval(node[2], scope)
        if base is None or not isinstance(base, list | dict):
            return None
        items = base if isinstance(base, list) else [base]
        condition = node[3]
        if condition[0] in ("num", "neg") or (condition[0] == "var" and scope.lookup(condition[2])[0]):
            index = self.eval(condition, scope)
            if isinstance(index, decimal.Decimal) and not isinstance(index, bool):
                return self.index(items, index)
            if not isinstance(index, bool):
                return None
            return items if index else []
        kept = []
        for item in items:
            self.budget.step(1, node[1])
            values = {"item": item}
            if isinstance(item, dict):
                values.update(item)
            verdict = self.eval(condition, scope.child(values))
            if isinstance(verdict, decimal.Decimal) and len(items) and verdict == verdict.to_integral_value():
                return self.index(items, verdict)
            if verdict is True:
                kept.append(item)
        return kept

    @staticmethod
    def index(items: list[Any], index: decimal.Decimal) -> Any:
        i = int(index)
        if i > 0 and i <= len(items):
            return items[i - 1]
        if i < 0 and -i <= len(items):
            return items[i]
        return None

    # operators
    def eval_neg(self, node: Node, scope: Scope) -> Any:
        value = self.eval(node[2], scope)
        if isinstance(value, decimal.Decimal):
            return -value
        if isinstance(value, dt.timedelta):
            return -value
        if isinstance(value, YearsMonths):
            return YearsMonths(-value.months)
        return None

    def eval_arith(self, node: Node, scope: Scope) -> Any:
        result = arithmetic(node[2], self.eval(node[3], scope), self.eval(node[4], scope))
        if isinstance(result, str):  # a concatenation costs its length: doubling a string in a loop ends
            self.budget.step(len(result), node[1])
        return result

    def eval_cmp(self, node: Node, scope: Scope) -> Any:
        return compare(node[2], self.eval(node[3], scope), self.eval(node[4], scope))

    def eval_and(self, node: Node, scope: Scope) -> Any:
        left = self.eval(node[2], scope)
        if left is False:
            return False
        right = self.eval(node[3], scope)
        if right is False:
            return False
        if left is True and right is True:
            return True
        return None

    def eval_or(self, node: Node, scope: Scope) -> Any:
        left = self.eval(node[2], scope)
        if left is True:
            return True
        right = self.eval(node[3], scope)
        if right is True:
            return True
        if left is False and right is False:
            return False
        return None

    def eval_between(self, node: Node, scope: Scope) -> Any:
        value = self.eval(node[2], scope)
        low, high = self.eval(node[3], scope), self.eval(node[4], scope)
        return in_range(value, Range(low, high, True, True)) if low is not None and high is not None else None

    def eval_in(self, node: Node, scope: Scope) -> Any:
        value = self.eval(node[2], scope)
        return self.any_test(node[3], value, scope, in_expression=True)

    def eval_instance(self, node: Node, scope: Scope) -> Any:
        return instance_of(self.eval(node[2], scope), node[3])

    def eval_if(self, node: Node, scope: Scope) -> Any:
        condition = self.eval(node[2], scope)
        return self.eval(node[3] if condition is True else node[4], scope)

    def iterate(self, source: Any, end: Any, position: int) -> list[Any] | None:
        if end is not None or (source is not None and isinstance(end, decimal.Decimal)):
            if not (isinstance(source, decimal.Decimal) and isinstance(end, decimal.Decimal)):
                return None
            a, b = int(source), int(end)
            count = abs(b - a) + 1
            self.budget.step(count, position)
            step = 1 if b >= a else -1
            return [decimal.Decimal(i) for i in range(a, b + step, step)]
        if isinstance(source, dt.date) and isinstance(end, dt.date) and not isinstance(source, dt.datetime) \
                and not isinstance(end, dt.datetime):
            days = (end - source).days
            self.budget.step(abs(days) + 1, position)
            step = 1 if days >= 0 else -1
            return [source + dt.timedelta(days=i) for i in range(0, days + step, step)]
        if isinstance(source, Range):
            if isinstance(source.start, decimal.Decimal) and isinstance(source.end, decimal.Decimal):
                a = int(source.start) + (0 if source.start_included else 1)
                b = int(source.end) - (0 if source.end_included else 1)
                self.budget.step(abs(b - a) + 1, position)
                return [decimal.Decimal(i) for i in range(a, b + 1)]
            return None
        return source if isinstance(source, list) else None

    def bindings(self, iterations: list[Node], scope: Scope, position: int) -> Iterator[Scope] | None:
        def nested(index: int, current: Scope) -> Iterator[Scope]:
            if index == len(iterations):
                yield current
                return
            name, source_node, end_node = iterations[index]
            source = self.eval(source_node, current)
            end = self.eval(end_node, current) if end_node is not None else None
            items = self.iterate(source, end, position)
            if items is None:
                raise _NotIterable
            for item in items:
                self.budget.step(1, position)
                yield from nested(index + 1, current.child({name: item}))

        return nested(0, scope)

    def eval_for(self, node: Node, scope: Scope) -> Any:
        results: list[Any] = []
        partial = {"partial": results}
        try:
            for inner in self.bindings(node[2], scope.child(partial), node[1]) or []:
                results.append(self.eval(node[3], inner))
        except _NotIterable:
            return None
        return results

    def eval_some(self, node: Node, scope: Scope) -> Any:
        try:
            return self._some(node, scope)
        except _NotIterable:
            return None

    def eval_every(self, node: Node, scope: Scope) -> Any:
        try:
            return self._every(node, scope)
        except _NotIterable:
            return None

    def _some(self, node: Node, scope: Scope) -> Any:
        verdicts = []
        for inner in self.bindings(node[2], scope, node[1]) or []:
            verdict = self.eval(node[3], inner)
            if verdict is True:
                return True
            verdicts.append(verdict)
        return False if all(v is False for v in verdicts) else None

    def _every(self, node: Node, scope: Scope) -> Any:
        verdicts = []
        for inner in self.bindings(node[2], scope, node[1]) or []:
            verdict = self.eval(node[3], inner)
            if verdict is False:
                return False
            verdicts.append(verdict)
        return True if all(v is True for v in verdicts) else None

    def eval_list(self, node: Node, scope: Scope) -> Any:
        return [self.eval(item, scope) for item in node[2]]

    def eval_context(self, node: Node, scope: Scope) -> Any:
        result: dict[str, Any] = {}
        inner = scope.child(result)
        for key, value_node in node[2]:
            if key in result:
                raise _Failure(f"the context has the key {key!r} twice", value_node[1])
            result[key] = self.eval(value_node, inner)
        return result

    def eval_interval(self, node: Node, scope: Scope) -> Any:
        return Range(self.eval(node[4], scope), self.eval(node[5], scope), node[2], node[3])

    def eval_lambda(self, node: Node, scope: Scope) -> Any:
        params, body = node[2], node[3]

        def call(*args: Any) -> Any:
            return self.eval(body, scope.child(dict(zip(params, args, strict=True))))

        return FeelFunction("anonymous function", tuple(params), call)

    def eval_not(self, node: Node, scope: Scope) -> Any:
        tests = node[2][2]
        if len(tests) == 1 and tests[0][0] == "ut_expr":
            value = self.eval(tests[0][2], scope)
            return (not value) if isinstance(value, bool) else None
        raise _Failure("not(...) of several tests is a unary test, not an expression", node[1])

    def eval_call(self, node: Node, scope: Scope) -> Any:
        from mom.feel.builtins import call_function, is_defined

        function_node, arguments = node[2], node[3]
        if function_node[0] == "var" and function_node[2] == "is defined" and len(arguments[1]) == 1:
            argument = arguments[1][0]
            return is_defined(self, argument[1] if arguments[0] == "named" else argument, scope)
        function = self.eval(function_node, scope)
        if not isinstance(function, FeelFunction):
            name = function_node[2] if function_node[0] == "var" else "the value"
            raise _Failure(f"no function found with name {name!r}", node[1])
        if arguments[0] == "named":
            named = {name: self.eval(value, scope) for name, value in arguments[1]}
            args: list[Any] | dict[str, Any] = named
        else:
            args = [self.eval(value, scope) for value in arguments[1]]
        self.budget.depth += 1
        try:
            if self.budget.depth > MAX_DEPTH:
                raise _Failure(f"function calls nested deeper than {MAX_DEPTH}", node[1])
            return call_function(self, function, args, node[1])
        finally:
            self.budget.depth -= 1

    # unary tests
    def any_test(self, tests: list[Node], value: Any, scope: Scope, in_expression: bool = False) -> Any:
        verdicts = []
        for test in tests:
            verdict = self.test(test, value, scope, in_expression)
            if verdict is True:
                return True
            verdicts.append(verdict)
        return False if all(v is False for v in verdicts) else None

    def test(self, test: Node, value: Any, scope: Scope, in_expression: bool) -> Any:
        if test[0] == "ut_cmp":
            return compare(test[2], value, self.eval(test[3], scope.child({"?": value})))
        expr = test[2]
        result = self.eval(expr, scope.child({"?": value}))
        if isinstance(result, Range):
            return in_range(value, result)
        if isinstance(result, list):
            for item in result:
                if (in_range(value, item) if isinstance(item, Range) else equal(value, item)) is True:
                    return True
            if not isinstance(value, list):
                return False
        if not in_expression and _mentions_input(expr):
            return result if isinstance(result, bool) else None
        same = equal(value, result)
        if same is True:
            return True
        if isinstance(result, bool) and not in_expression and not isinstance(value, bool) and value is not None:
            return result
        if same is None and value is not None and result is not None and kind(result) != kind(value):
            return None
        return False

    def eval_tests(self, node: Node, scope: Scope) -> Any:
        _found, value = scope.lookup("?")
        return self.any_test(node[2], value, scope)

    def eval_ut_not(self, node: Node, scope: Scope) -> Any:
        verdict = self.eval_tests(node[2], scope)
        return None if verdict is None else not verdict

    def eval_ut_any(self, node: Node, scope: Scope) -> Any:
        return True


def instance_of(value: Any, type_: Any) -> bool:
    """Whether a value is of a FEEL type (a name, or a tuple from mom.feel.grammar.parse_type)."""
    if isinstance(type_, tuple):
        if type_[0] == "function":
            return isinstance(value, FeelFunction)
        if type_[0] == "list":
            return isinstance(value, list) and all(v is None or instance_of(v, type_[1]) for v in value)
        if type_[0] == "range":
            return isinstance(value, Range) and all(v is None or instance_of(v, type_[1])
                                                    for v in (value.start, value.end))
        if type_[0] == "context":
            return isinstance(value, dict) and all(
                key in value and (value[key] is None or instance_of(value[key], t)) for key, t in type_[1])
        return False
    if type_ in ("Any", "any"):
        return value is not None
    if type_ == "Null":
        return value is None
    return kind(value) == type_


def _mentions_input(node: Any) -> bool:
    """Whether a unary test's expression reads the input value ``?``."""
    if isinstance(node, tuple):
        if len(node) == 3 and node[0] == "var" and node[2] == "?":
            return True
        return any(_mentions_input(part) for part in node)
    if isinstance(node, list):
        return any(_mentions_input(part) for part in node)
    return False


__all__ = ["Budget", "Evaluator", "FeelError", "Scope", "arithmetic", "compare", "equal", "parse_temporal"]
