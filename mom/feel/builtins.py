"""FEEL's built-in functions (Camunda 8's set, as documented for feel-scala), as FeelFunction values.

Each built-in is registered with its parameter names (for named arguments) and may have several
overloads by number of parameters. A built-in given arguments of the wrong kinds answers null, as
Camunda 8 does. ``now()`` and ``today()`` read the clock passed to the evaluation (the workflow passes
its deterministic time), never the machine's clock. Regular expressions (``matches``, ``replace``,
``split``, ``extract``) use Python's ``re``; the input and pattern lengths are bounded (``MAX_REGEX_TEXT``)
but a pathological pattern can still take long on a long input: this is the one place the step
budget cannot count.
"""

from __future__ import annotations

import calendar
import datetime as dt
import decimal
import math
import re
import statistics
import threading
from collections.abc import Callable
from typing import Any

from mom.feel.interpreter import Evaluator, Scope, _Failure, compare, equal, in_range, kind, less
from mom.feel.values import (
    CONTEXT,
    FeelFunction,
    Range,
    YearsMonths,
    number,
    parse_date,
    parse_datetime,
    parse_duration,
    parse_time,
    to_string,
)

MAX_REGEX_TEXT = 100_000

Overloads = list[FeelFunction]
_BUILTINS: dict[str, Overloads] = {}


class _Null(Exception):
    """A built-in given arguments it cannot use: its result is null."""


def builtin(name: str, *params: str, variadic: bool = False) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    def register(fn: Callable[..., Any]) -> Callable[..., Any]:
        _BUILTINS.setdefault(name, []).append(FeelFunction(name, params, fn, variadic))
        return fn

    return register


def function_value(name: str) -> Any:
    overloads = _BUILTINS.get(name)
    if not overloads:
        return None
    if len(overloads) == 1:
        return overloads[0]
    return FeelFunction(name, (), lambda *a: None, variadic=True)


def _choose(name: str, overloads: Overloads, args: list[Any] | dict[str, Any]) -> FeelFunction | None:
    for candidate in overloads:
        if isinstance(args, dict):
            if set(args) <= set(candidate.params) and all(p in args for p in candidate.params
                                                          if not p.endswith("?")):
                return candidate
            continue
        if len(args) == len(candidate.params) or (candidate.variadic and len(args) >= len(candidate.params) - 1):
            return candidate
    return None


def call_function(evaluator: Evaluator, function: FeelFunction, args: list[Any] | dict[str, Any],
                  position: int) -> Any:
    overloads = _BUILTINS.get(function.name) if function.name != "anonymous function" else None
    chosen = _choose(function.name, overloads, args) if overloads else function
    if chosen is None or (chosen is function and not overloads and _mismatch(function, args)):
        count = len(args)
        raise _Failure(f"no function found with name {function.name!r} and {count} parameters", position)
    if isinstance(args, dict):
        names = [p.rstrip("?") for p in chosen.params]
        unknown = set(args) - set(names) - set(chosen.params)
        if unknown:
            raise _Failure(f"{function.name}() has no parameter {sorted(unknown)[0]!r}", position)
        positional = [args.get(p, args.get(p + "?")) for p in names]
    else:
        positional = list(args)
    if chosen.name == "anonymous function" and len(positional) != len(chosen.params):
        raise _Failure(f"the function takes {len(chosen.params)} parameters, given {len(positional)}", position)
    evaluator.budget.step(1 + sum(len(a) for a in positional if isinstance(a, list | str)), position)
    stack = _current()
    stack.append(evaluator)
    try:
        return chosen.call(*positional)
    except _Null:
        return None
    except _Failure:
        raise
    except (ArithmeticError, TypeError, ValueError, AttributeError, IndexError, KeyError, OverflowError,
            re.error, statistics.StatisticsError):
        return None
    finally:
        stack.pop()


_LOCAL = threading.local()


def _current() -> list[Evaluator]:
    """The evaluations in progress on this thread (workers evaluate on several threads at once: each
    built-in must see its own evaluation's clock and budget)."""
    stack: list[Evaluator] | None = getattr(_LOCAL, "stack", None)
    if stack is None:
        stack = _LOCAL.stack = []
    return stack


def _mismatch(function: FeelFunction, args: list[Any] | dict[str, Any]) -> bool:
    if isinstance(args, dict):
        return not set(args) <= set(function.params)
    return len(args) != len(function.params)


def _evaluator() -> Evaluator:
    return _current()[-1]


def is_defined(evaluator: Evaluator, node: Any, scope: Scope) -> bool:
    if node[0] == "var":
        return scope.lookup(node[2])[0]
    if node[0] == "path":
        base = evaluator.eval(node[2], scope) if node[2][0] != "var" or is_defined(evaluator, node[2], scope) else None
        return isinstance(base, dict) and node[3] in base
    return evaluator.eval(node, scope) is not None


# --- argument checks -----------------------------------------------------------------------------------

def _num(value: Any) -> decimal.Decimal:
    if isinstance(value, decimal.Decimal):
        return value
    raise _Null


def _int(value: Any) -> int:
    n = _num(value)
    if n != n.to_integral_value():
        raise _Null
    return int(n)


def _str(value: Any) -> str:
    if isinstance(value, str):
        return value
    raise _Null


def _list(value: Any) -> list[Any]:
    if isinstance(value, list):
        return value
    raise _Null


def _items(args: tuple[Any, ...]) -> list[Any]:
    if len(args) == 1 and isinstance(args[0], list):
        return args[0]
    return list(args)


def _ctx(value: Any) -> dict[str, Any]:
    if isinstance(value, dict):
        return value
    raise _Null


# --- conversion ----------------------------------------------------------------------------------------

@builtin("string", "from")
def _string(value: Any) -> Any:
    return None if value is None else to_string(value)


@builtin("number", "from")
def _number(text: Any) -> Any:
    if isinstance(text, decimal.Decimal):
        return text
    if not re.fullmatch(r"-?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?", _str(text).strip()):
        return None
    return number(decimal.Decimal(text.strip()))


@builtin("number", "from", "grouping separator")
@builtin("number", "from", "grouping separator", "decimal separator")
def _number_sep(text: Any, grouping: Any, decimal_sep: Any = None) -> Any:
    s = _str(text)
    if grouping is not None:
        if _str(grouping) not in (" ", ",", "."):
            return None
        s = s.replace(grouping, "")
    if decimal_sep is not None:
        if _str(decimal_sep) not in (",", ".") or decimal_sep == grouping:
            return None
        s = s.replace(decimal_sep, ".")
    return _number(s)


@builtin("context", "entries")
def _context(entries: Any) -> Any:
    result: dict[str, Any] = {}
    for entry in _list(entries):
        if not isinstance(entry, dict) or "value" not in entry or not isinstance(entry.get("key"), str):
            return None
        result[entry["key"]] = entry["value"]
    return result


def _to_json_text(value: Any) -> Any:
    import json

    from mom.feel.values import to_json

    def convert(v: Any) -> Any:
        if isinstance(v, dt.datetime) and v.tzinfo is not None and hasattr(v.tzinfo, "key"):
            return v.isoformat() + "[" + v.tzinfo.key + "]"
        if isinstance(v, FeelFunction):
            return "function(" + ", ".join(v.params) + ")"
        if isinstance(v, list):
            return [convert(x) for x in v]
        if isinstance(v, dict):
            return {k: convert(x) for k, x in v.items()}
        return to_json(v)

    return json.dumps(convert(value), separators=(",", ":"), ensure_ascii=False)


def _from_json_text(text: Any) -> Any:
    import json

    from mom.feel.values import from_python

    value = json.loads(_str(text), parse_float=decimal.Decimal)
    if isinstance(value, str):
        for parse in (parse_datetime, parse_date, parse_time, parse_duration):
            parsed = parse(value)  # type: ignore[operator]
            if parsed is not None:
                return parsed
    return from_python(value)


builtin("to json", "value")(_to_json_text)
builtin("from json", "value")(_from_json_text)

# --- boolean -------------------------------------------------------------------------------------------

@builtin("get or else", "value", "default")
def _get_or_else(value: Any, default: Any) -> Any:
    return default if value is None else value


def _assert(value: Any, condition: Any, cause: Any = None) -> Any:
    if condition is not True:
        message = cause if isinstance(cause, str) else "The condition is not true"
        raise _Failure(f"assert failed: {message}", 0)
    return value


builtin("assert", "value", "condition")(_assert)
builtin("assert", "value", "condition", "cause")(_assert)


@builtin("is", "value1", "value2")
def _is(a: Any, b: Any) -> Any:
    if isinstance(a, dt.time | dt.datetime) and kind(a) == kind(b):  # the same instant in another zone is not
        return to_string(a) == to_string(b)
    return kind(a) == kind(b) and bool(equal(a, b))


# --- strings -------------------------------------------------------------------------------------------

def _substring(text: Any, start: Any, length: Any = None) -> Any:
    s, i = _str(text), _int(start)
    chars = list(s)
    begin = i - 1 if i > 0 else len(chars) + i
    if i == 0:
        raise _Null
    begin = max(begin, 0)
    if length is None:
        return "".join(chars[begin:])
    return "".join(chars[begin:begin + max(_int(length), 0)])


builtin("substring", "string", "start position")(_substring)
builtin("substring", "string", "start position", "length")(_substring)
builtin("string length", "string")(lambda s: decimal.Decimal(len(_str(s))))
builtin("upper case", "string")(lambda s: _str(s).upper())
builtin("lower case", "string")(lambda s: _str(s).lower())
builtin("substring before", "string", "match")(lambda s, m: _str(s).partition(_str(m))[0]
                                               if _str(m) and _str(m) in s else "")
builtin("substring after", "string", "match")(lambda s, m: _str(s).partition(_str(m))[2]
                                              if _str(m) and _str(m) in s else (s if not m else ""))


def _to_base64(value: Any) -> Any:
    import base64

    return base64.b64encode(_str(value).encode()).decode()


def _from_base64(value: Any) -> Any:
    import base64
    import binascii

    try:
        return base64.b64decode(_str(value), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return None


builtin("to base64", "value")(_to_base64)
builtin("from base64", "value")(_from_base64)
builtin("contains", "string", "match")(lambda s, m: _str(m) in _str(s))
builtin("starts with", "string", "match")(lambda s, m: _str(s).startswith(_str(m)))
builtin("ends with", "string", "match")(lambda s, m: _str(s).endswith(_str(m)))
builtin("trim", "string")(lambda s: _str(s).strip())
builtin("is blank", "string")(lambda s: _str(s).strip() == "")


def _flags(flags: Any) -> int:
    if flags is None:
        return 0
    value = 0
    for ch in _str(flags):
        value |= {"i": re.I, "s": re.S, "m": re.M, "x": re.X, "q": 0}.get(ch, -1)
        if ch not in "ismxq":
            raise _Null
    return value


def _regex(pattern: Any, flags: Any = None) -> re.Pattern[str]:
    text = _str(pattern)
    if len(text) > MAX_REGEX_TEXT:
        raise _Null
    if flags is not None and "q" in _str(flags):
        text = re.escape(text)
    return re.compile(text, _flags(flags))


def _bounded(text: Any) -> str:
    s = _str(text)
    if len(s) > MAX_REGEX_TEXT:
        raise _Null
    return s


def _matches(s: Any, pattern: Any, flags: Any = None) -> Any:
    return _regex(pattern, flags).search(_bounded(s)) is not None


builtin("matches", "input", "pattern")(_matches)
builtin("matches", "input", "pattern", "flags")(_matches)


def _replace(s: Any, pattern: Any, replacement: Any, flags: Any = None) -> Any:
    repl = re.sub(r"\$(\d+)", r"\\g<\1>", _str(replacement))
    return _regex(pattern, flags).sub(repl, _bounded(s))


builtin("replace", "input", "pattern", "replacement")(_replace)
builtin("replace", "input", "pattern", "replacement", "flags")(_replace)
builtin("split", "string", "delimiter")(lambda s, d: _regex(d).split(_bounded(s)))
builtin("extract", "string", "pattern")(lambda s, p: [m.group(0) for m in _regex(p).finditer(_bounded(s))])


def _string_join(items: Any, delimiter: Any = None, prefix: Any = None, suffix: Any = None) -> Any:
    values = _list(items)
    if any(v is not None and not isinstance(v, str) for v in values):
        raise _Null
    joined = ("" if delimiter is None else _str(delimiter)).join(v for v in values if v is not None)
    return ("" if prefix is None else _str(prefix)) + joined + ("" if suffix is None else _str(suffix))


builtin("string join", "list")(_string_join)
builtin("string join", "list", "delimiter")(_string_join)
builtin("string join", "list", "delimiter", "prefix", "suffix")(_string_join)

# --- lists ---------------------------------------------------------------------------------------------

builtin("list contains", "list", "element")(lambda items, e: any(equal(x, e) is True for x in _list(items)))
builtin("count", "list")(lambda items: decimal.Decimal(len(_list(items))))


def _extreme(pick_less: bool) -> Callable[..., Any]:
    def pick(*args: Any) -> Any:
        values = _items(args)
        if not values:
            return None
        best = values[0]
        for value in values[1:]:
            verdict = less(value, best) if pick_less else less(best, value)
            if verdict is None:
                return None
            if verdict:
                best = value
        if len(values) == 1 and less(best, best) is None:
            return None
        return best

    return pick


builtin("min", "list", variadic=True)(_extreme(True))
builtin("max", "list", variadic=True)(_extreme(False))


def _numbers(args: tuple[Any, ...]) -> list[decimal.Decimal]:
    return [_num(v) for v in _items(args)]


def _sum(*args: Any) -> Any:
    values = _numbers(args)
    total = decimal.Decimal(0)
    for v in values:
        total = CONTEXT.add(total, v)
    return total if values else None


builtin("sum", "list", variadic=True)(_sum)
builtin("product", "list", variadic=True)(lambda *a: math.prod(_numbers(a), start=decimal.Decimal(1))
                                          if _numbers(a) else None)
builtin("mean", "list", variadic=True)(lambda *a: CONTEXT.divide(_sum(*a), len(_numbers(a)))
                                       if _numbers(a) else None)


def _median(*args: Any) -> Any:
    values = sorted(_numbers(args))
    if not values:
        return None
    mid = len(values) // 2
    return values[mid] if len(values) % 2 else CONTEXT.divide(values[mid - 1] + values[mid], 2)


builtin("median", "list", variadic=True)(_median)


def _stddev(*args: Any) -> Any:
    values = _numbers(args)
    if len(values) < 2:
        return None
    mean = CONTEXT.divide(sum(values), len(values))
    return CONTEXT.sqrt(CONTEXT.divide(sum((v - mean) ** 2 for v in values), len(values) - 1))


builtin("stddev", "list", variadic=True)(_stddev)


def _mode(*args: Any) -> Any:
    if not args:
        raise _Null
    values = _numbers(args)
    if not values:
        return []
    counts: dict[decimal.Decimal, int] = {}
    for v in values:
        counts[v] = counts.get(v, 0) + 1
    top = max(counts.values())
    return sorted(v for v, c in counts.items() if c == top)


builtin("mode", "list", variadic=True)(_mode)


def _bools(args: tuple[Any, ...]) -> list[Any]:
    if not args:
        raise _Null
    values = _items(args)
    if any(v is not None and not isinstance(v, bool) for v in values):
        raise _Null
    return values


def _all(*args: Any) -> Any:
    values = _bools(args)
    if any(v is False for v in values):
        return False
    return True if all(v is True for v in values) else None


def _any(*args: Any) -> Any:
    values = _bools(args)
    if any(v is True for v in values):
        return True
    return False if all(v is False for v in values) else None


builtin("all", "list", variadic=True)(_all)
builtin("and", "list", variadic=True)(_all)
builtin("any", "list", variadic=True)(_any)
builtin("or", "list", variadic=True)(_any)


def _sublist(items: Any, start: Any, length: Any = None) -> Any:
    values, i = _list(items), _int(start)
    begin = i - 1 if i > 0 else len(values) + i
    if i == 0 or begin < 0 or begin >= len(values):
        raise _Null
    return values[begin:] if length is None else values[begin:begin + _int(length)]


builtin("sublist", "list", "start position")(_sublist)
builtin("sublist", "list", "start position", "length")(_sublist)
builtin("append", "list", "items", variadic=True)(lambda items, *more: _list(items) + list(more))
builtin("concatenate", "lists", variadic=True)(lambda *lists: [x for part in lists for x in _list(part)])


def _insert_before(items: Any, position: Any, new_item: Any) -> Any:
    values, i = list(_list(items)), _int(position)
    index = i - 1 if i > 0 else len(values) + i
    if i == 0 or index < 0 or index > len(values):
        raise _Null
    values.insert(index, new_item)
    return values


builtin("insert before", "list", "position", "newItem")(_insert_before)


def _remove(items: Any, position: Any) -> Any:
    values, i = list(_list(items)), _int(position)
    index = i - 1 if i > 0 else len(values) + i
    if i == 0 or index < 0 or index >= len(values):
        raise _Null
    del values[index]
    return values


builtin("remove", "list", "position")(_remove)
builtin("reverse", "list")(lambda items: list(reversed(_list(items))))
builtin("index of", "list", "match")(lambda items, m: [decimal.Decimal(i + 1) for i, x in enumerate(_list(items))
                                                       if equal(x, m) is True])


def _distinct(items: list[Any]) -> list[Any]:
    result: list[Any] = []
    for item in items:
        if not any(equal(item, seen) is True or (item is None and seen is None) for seen in result):
            result.append(item)
    return result




def _union(*lists: Any) -> Any:
    if len(lists) == 1 and isinstance(lists[0], list) and all(isinstance(p, list) for p in lists[0]):
        lists = tuple(lists[0])
    return _distinct([x for part in lists for x in _list(part)])


builtin("union", "lists", variadic=True)(_union)
builtin("distinct values", "list")(lambda items: _distinct(_list(items)))


def _duplicates(items: Any) -> Any:
    values = _list(items)
    result: list[Any] = []
    for i, item in enumerate(values):
        if any(equal(item, other) is True for other in values[i + 1:]) and not any(
                equal(item, r) is True for r in result):
            result.append(item)
    return result


builtin("duplicate values", "list")(_duplicates)


def _flatten(items: Any) -> list[Any]:
    result: list[Any] = []
    for item in _list(items):
        if isinstance(item, list):
            result.extend(_flatten(item))
        else:
            result.append(item)
    return result


builtin("flatten", "list")(_flatten)
builtin("is empty", "list")(lambda items: len(_list(items)) == 0)


def _sort(items: Any, precedes: Any = None) -> Any:
    values = list(_list(items))
    if precedes is None:
        kinds = {kind(v) for v in values}
        if len(kinds) > 1 or kinds & {"boolean", "list", "context", "null", "function", "range"}:
            raise _Null
        return sorted(values)
    if not isinstance(precedes, FeelFunction):
        raise _Null
    evaluator = _evaluator()
    evaluator.budget.step(len(values) * max(1, len(values).bit_length()))
    import functools

    def order(a: Any, b: Any) -> int:
        if call_function(evaluator, precedes, [a, b], 0) is True:
            return -1
        if call_function(evaluator, precedes, [b, a], 0) is True:
            return 1
        return 0

    return sorted(values, key=functools.cmp_to_key(order))


builtin("sort", "list")(_sort)
builtin("sort", "list", "precedes")(_sort)


def _list_replace(items: Any, position: Any, new_item: Any) -> Any:
    values = list(_list(items))
    if isinstance(position, FeelFunction):
        evaluator = _evaluator()
        return [new_item if call_function(evaluator, position, [v, new_item], 0) is True else v for v in values]
    i = _int(position)
    index = i - 1 if i > 0 else len(values) + i
    if i == 0 or index < 0 or index >= len(values):
        raise _Null
    values[index] = new_item
    return values


builtin("list replace", "list", "position", "newItem")(_list_replace)


def _partition(items: Any, size: Any) -> Any:
    values, n = _list(items), _int(size)
    if n <= 0:
        raise _Null
    return [values[i:i + n] for i in range(0, len(values), n)]


builtin("partition", "list", "size")(_partition)

# --- numbers -------------------------------------------------------------------------------------------


def _scale_round(value: Any, scale: Any, rounding: str) -> Any:
    n, s = _num(value), _int(scale)
    if s < -6111 or s > 6176:
        raise _Null
    return n.quantize(decimal.Decimal(1).scaleb(-s), rounding=rounding, context=CONTEXT)


builtin("decimal", "n", "scale")(lambda n, s: _scale_round(n, s, decimal.ROUND_HALF_EVEN))
_MODES = {"UP": decimal.ROUND_UP, "DOWN": decimal.ROUND_DOWN, "CEILING": decimal.ROUND_CEILING,
          "FLOOR": decimal.ROUND_FLOOR, "HALF_UP": decimal.ROUND_HALF_UP, "HALF_DOWN": decimal.ROUND_HALF_DOWN,
          "HALF_EVEN": decimal.ROUND_HALF_EVEN}


def _decimal_mode(n: Any, scale: Any, mode: Any) -> Any:
    name = _str(mode).upper()
    if name == "UNNECESSARY":
        rounded = _scale_round(n, scale, decimal.ROUND_HALF_EVEN)
        return rounded if rounded == n else None
    return _scale_round(n, scale, _MODES[name])


builtin("decimal", "n", "scale", "mode")(_decimal_mode)
builtin("floor", "n")(lambda n: _scale_round(n, decimal.Decimal(0), decimal.ROUND_FLOOR))
builtin("floor", "n", "scale")(lambda n, s: _scale_round(n, s, decimal.ROUND_FLOOR))
builtin("ceiling", "n")(lambda n: _scale_round(n, decimal.Decimal(0), decimal.ROUND_CEILING))
builtin("ceiling", "n", "scale")(lambda n, s: _scale_round(n, s, decimal.ROUND_CEILING))
builtin("round up", "n", "scale")(lambda n, s: _scale_round(n, s, decimal.ROUND_UP))
builtin("round down", "n", "scale")(lambda n, s: _scale_round(n, s, decimal.ROUND_DOWN))
builtin("round half up", "n", "scale")(lambda n, s: _scale_round(n, s, decimal.ROUND_HALF_UP))
builtin("round half down", "n", "scale")(lambda n, s: _scale_round(n, s, decimal.ROUND_HALF_DOWN))
builtin("round half even", "n", "scale")(lambda n, s: _scale_round(n, s, decimal.ROUND_HALF_EVEN))


def _abs(value: Any) -> Any:
    if isinstance(value, dt.timedelta):
        return abs(value)
    if isinstance(value, YearsMonths):
        return YearsMonths(abs(value.months))
    return abs(_num(value))


builtin("abs", "n")(_abs)
builtin("abs", "number")(_abs)


def _modulo(dividend: Any, divisor: Any) -> Any:
    a, b = _num(dividend), _num(divisor)
    if b == 0:
        raise _Null
    return CONTEXT.subtract(a, CONTEXT.multiply(b, CONTEXT.divide(a, b).to_integral_value(decimal.ROUND_FLOOR)))


builtin("modulo", "dividend", "divisor")(_modulo)
builtin("sqrt", "number")(lambda n: CONTEXT.sqrt(_num(n)) if _num(n) >= 0 else None)
builtin("log", "number")(lambda n: CONTEXT.ln(_num(n)) if _num(n) > 0 else None)
builtin("exp", "number")(lambda n: CONTEXT.exp(_num(n)))
builtin("odd", "number")(lambda n: _num(n) == _num(n).to_integral_value() and int(_num(n)) % 2 == 1)
builtin("even", "number")(lambda n: _num(n) == _num(n).to_integral_value() and int(_num(n)) % 2 == 0)

# --- contexts ------------------------------------------------------------------------------------------


def _get_value(context: Any, key: Any) -> Any:
    value: Any = _ctx(context)
    keys = key if isinstance(key, list) else [_str(key)]
    if not keys:
        return None
    for k in keys:
        if not isinstance(value, dict):
            return None
        value = value.get(_str(k))
    return value


builtin("get value", "context", "key")(_get_value)
builtin("get value", "m", "key")(_get_value)
builtin("get value", "context", "keys")(_get_value)
builtin("get entries", "m")(lambda c: [{"key": k, "value": v} for k, v in _ctx(c).items()])
builtin("get entries", "context")(lambda c: [{"key": k, "value": v} for k, v in _ctx(c).items()])


def _context_put(context: Any, key: Any, value: Any) -> Any:
    keys = key if isinstance(key, list) else [key]
    if not keys:
        raise _Null
    result = dict(_ctx(context))
    head = _str(keys[0])
    if len(keys) == 1:
        result[head] = value
    else:
        inner = result.get(head)
        result[head] = _context_put(inner if isinstance(inner, dict) else {}, keys[1:], value)
    return result


builtin("context put", "context", "key", "value")(_context_put)
builtin("context put", "context", "keys", "value")(_context_put)
builtin("put", "context", "key", "value")(_context_put)


def _context_merge(*contexts: Any) -> Any:
    result: dict[str, Any] = {}
    for c in _items(contexts):
        result.update(_ctx(c))
    return result


builtin("context merge", "contexts", variadic=True)(_context_merge)
builtin("put all", "contexts", variadic=True)(_context_merge)

# --- temporal ------------------------------------------------------------------------------------------


def _date(*args: Any) -> Any:
    if len(args) == 1:
        value = args[0]
        if isinstance(value, dt.datetime):
            return value.date()
        if isinstance(value, dt.date):
            return value
        return parse_date(_str(value)) or (d.date() if (d := parse_datetime(_str(value))) else None)
    year, month, day = (_int(a) for a in args)
    return dt.date(year, month, day)


builtin("date", "from")(_date)
builtin("date", "year", "month", "day")(_date)


def _time(*args: Any) -> Any:
    if len(args) == 1:
        value = args[0]
        if isinstance(value, dt.datetime):
            return value.timetz()
        if isinstance(value, dt.time):
            return value
        if isinstance(value, dt.date):
            return dt.time(0, 0, tzinfo=dt.UTC)
        return parse_time(_str(value))
    hour, minute = _int(args[0]), _int(args[1])
    second = _num(args[2])
    offset = args[3] if len(args) > 3 else None
    tz = None
    if offset is not None:
        if not isinstance(offset, dt.timedelta):
            raise _Null
        tz = dt.timezone(offset)
    micro = int((second - int(second)) * 1_000_000)
    return dt.time(hour, minute, int(second), micro, tzinfo=tz)


builtin("time", "from")(_time)
builtin("time", "hour", "minute", "second")(_time)
builtin("time", "hour", "minute", "second", "offset")(_time)


def _date_and_time(*args: Any) -> Any:
    if len(args) == 1:
        value = args[0]
        if isinstance(value, dt.datetime):
            return value
        if isinstance(value, dt.date):
            return dt.datetime.combine(value, dt.time())
        text = _str(value)
        return parse_datetime(text) or (dt.datetime.combine(d, dt.time()) if (d := parse_date(text)) else None)
    date, time = args
    if isinstance(time, str):
        return _date_and_time_zone(date, time)
    if isinstance(date, dt.datetime):
        date = date.date()
    if not isinstance(date, dt.date) or not isinstance(time, dt.time):
        if isinstance(time, str):
            raise _Null
        if isinstance(date, dt.date) and isinstance(time, dt.datetime):
            return dt.datetime.combine(date, time.timetz())
        raise _Null
    return dt.datetime.combine(date, time)


builtin("date and time", "from")(_date_and_time)
builtin("date and time", "date", "time")(_date_and_time)


def _date_and_time_zone(date: Any, timezone: Any) -> Any:
    from zoneinfo import ZoneInfo

    if not isinstance(date, dt.datetime):
        raise _Null
    zone: dt.tzinfo = dt.UTC if _str(timezone) == "Z" else ZoneInfo(timezone)
    if not isinstance(date, dt.datetime):
        raise _Null
    if date.tzinfo is None:
        return date.replace(tzinfo=zone)
    return date.astimezone(zone)


builtin("duration", "from")(lambda s: parse_duration(_str(s)))


def _years_and_months(start: Any, end: Any) -> Any:
    if not isinstance(start, dt.date) or not isinstance(end, dt.date):
        raise _Null
    if isinstance(start, dt.datetime) != isinstance(end, dt.datetime):
        start = start if isinstance(start, dt.datetime) else dt.datetime.combine(start, dt.time())
        end = end if isinstance(end, dt.datetime) else dt.datetime.combine(end, dt.time())
    months = (end.year - start.year) * 12 + end.month - start.month
    a, b = (start.day, getattr(start, "time", lambda: 0)()), (end.day, getattr(end, "time", lambda: 0)())
    if months > 0 and b < a:
        months -= 1
    elif months < 0 and b > a:
        months += 1
    return YearsMonths(months)


builtin("years and months duration", "from", "to")(_years_and_months)


def _clock() -> dt.datetime:
    now = _evaluator().budget.now
    if now is None:
        raise _Failure("now() and today() need the evaluation's clock (none was given)", 0)
    return now


builtin("now")(lambda: _clock())
builtin("today")(lambda: _clock().date())
builtin("day of week", "date")(lambda d: calendar.day_name[_dateish(d).weekday()])
builtin("day of year", "date")(lambda d: decimal.Decimal(_dateish(d).timetuple().tm_yday))
builtin("week of year", "date")(lambda d: decimal.Decimal(_dateish(d).isocalendar()[1]))
builtin("month of year", "date")(lambda d: calendar.month_name[_dateish(d).month])
builtin("last day of month", "date")(lambda d: _dateish(d).replace(
    day=calendar.monthrange(_dateish(d).year, _dateish(d).month)[1]) if not isinstance(d, dt.datetime)
    else d.date().replace(day=calendar.monthrange(d.year, d.month)[1]))


def _dateish(value: Any) -> dt.date:
    if isinstance(value, dt.date):
        return value
    raise _Null


def property_of(value: Any, name: str) -> Any:
    """A date's, time's or duration's property (``d.year``, ``t.hour``, ``duration.days``)."""
    if isinstance(value, dt.date):
        dateprops: dict[str, Callable[[], Any]] = {
            "year": lambda: decimal.Decimal(value.year), "month": lambda: decimal.Decimal(value.month),
            "day": lambda: decimal.Decimal(value.day), "weekday": lambda: decimal.Decimal(value.isoweekday()),
        }
        if name in dateprops:
            return dateprops[name]()
    if isinstance(value, dt.datetime | dt.time):
        off = value.utcoffset()
        timeprops: dict[str, Callable[[], Any]] = {
            "hour": lambda: decimal.Decimal(value.hour), "minute": lambda: decimal.Decimal(value.minute),
            "second": lambda: decimal.Decimal(value.second),
            "time offset": lambda: off,
            "timezone": lambda: getattr(value.tzinfo, "key", None),
        }
        if name in timeprops:
            return timeprops[name]()
    if isinstance(value, dt.timedelta):
        total = int(value.total_seconds())
        sign = -1 if total < 0 else 1
        total = abs(total)
        props = {"days": total // 86400, "hours": total % 86400 // 3600, "minutes": total % 3600 // 60,
                 "seconds": total % 60}
        if name in props:
            return decimal.Decimal(sign * props[name])
    if isinstance(value, YearsMonths):
        sign = -1 if value.months < 0 else 1
        if name == "years":
            return decimal.Decimal(sign * (abs(value.months) // 12))
        if name == "months":
            return decimal.Decimal(sign * (abs(value.months) % 12))
    if isinstance(value, Range):
        return {"start": value.start, "end": value.end, "start included": value.start_included,
                "end included": value.end_included}.get(name)
    return None


# --- ranges --------------------------------------------------------------------------------------------

def _as_range(value: Any) -> Range:
    if isinstance(value, Range):
        return value
    if value is None or isinstance(value, list | dict | bool | str):
        raise _Null
    return Range(value, value, True, True)


def _point(value: Any) -> bool:
    return not isinstance(value, Range)


def _lt(a: Any, b: Any) -> bool:
    verdict = less(a, b)
    if verdict is None:
        raise _Null
    return verdict


def _eq(a: Any, b: Any) -> bool:
    verdict = equal(a, b)
    if verdict is None:
        raise _Null
    return verdict


def _before(a: Any, b: Any) -> Any:
    r, s = _as_range(a), _as_range(b)
    return _lt(r.end, s.start) or (_eq(r.end, s.start) and not (r.end_included and s.start_included))


for _params in (("point1", "point2"), ("point", "range"), ("range", "point"), ("range1", "range2")):
    builtin("before", *_params)(_before)
    builtin("after", *_params)(lambda a, b: _before(b, a))
builtin("meets", "range1", "range2")(lambda a, b: _as_range(a).end_included and _as_range(b).start_included
                                     and _eq(_as_range(a).end, _as_range(b).start))
builtin("met by", "range1", "range2")(lambda a, b: _as_range(b).end_included and _as_range(a).start_included
                                      and _eq(_as_range(b).end, _as_range(a).start))


def _overlaps(a: Any, b: Any) -> Any:
    r, s = _as_range(a), _as_range(b)
    return not _before(r, s) and not _before(s, r)


builtin("overlaps", "range1", "range2")(_overlaps)


def _starts_cmp(r: Range, s: Range) -> int:
    """-1 when r starts before s, 0 together, 1 after."""
    if _eq(r.start, s.start):
        if r.start_included == s.start_included:
            return 0
        return -1 if r.start_included else 1
    return -1 if _lt(r.start, s.start) else 1


def _ends_cmp(r: Range, s: Range) -> int:
    if _eq(r.end, s.end):
        if r.end_included == s.end_included:
            return 0
        return 1 if r.end_included else -1
    return -1 if _lt(r.end, s.end) else 1




def _overlaps_before(a: Any, b: Any) -> Any:
    r, s = _as_range(a), _as_range(b)
    if not _overlaps(r, s) or _starts_cmp(r, s) >= 0:
        return False
    return _ends_cmp(r, s) < 0 or (_eq(r.end, s.end) and (not r.end_included or s.end_included))


builtin("overlaps before", "range1", "range2")(_overlaps_before)
builtin("overlaps after", "range1", "range2")(lambda a, b: _overlaps_before(b, a))
builtin("finishes", "range1", "range2")(
    lambda a, b: _ends_cmp(_as_range(a), _as_range(b)) == 0 and _starts_cmp(_as_range(b), _as_range(a)) <= 0)
builtin("finished by", "range1", "range2")(
    lambda a, b: _ends_cmp(_as_range(a), _as_range(b)) == 0 and _starts_cmp(_as_range(a), _as_range(b)) <= 0)
builtin("includes", "range1", "range2")(
    lambda a, b: _starts_cmp(_as_range(a), _as_range(b)) <= 0 and _ends_cmp(_as_range(a), _as_range(b)) >= 0)
builtin("during", "range1", "range2")(
    lambda a, b: _starts_cmp(_as_range(b), _as_range(a)) <= 0 and _ends_cmp(_as_range(b), _as_range(a)) >= 0)
builtin("starts", "range1", "range2")(
    lambda a, b: _starts_cmp(_as_range(a), _as_range(b)) == 0 and _ends_cmp(_as_range(a), _as_range(b)) <= 0)
builtin("started by", "range1", "range2")(
    lambda a, b: _starts_cmp(_as_range(a), _as_range(b)) == 0 and _ends_cmp(_as_range(b), _as_range(a)) <= 0)
builtin("coincides", "range1", "range2")(
    lambda a, b: _starts_cmp(_as_range(a), _as_range(b)) == 0 and _ends_cmp(_as_range(a), _as_range(b)) == 0)

__all__ = ["call_function", "compare", "function_value", "in_range", "is_defined", "property_of"]
