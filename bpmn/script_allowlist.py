"""What diagram code may write and reach: the syntax allowlist and the attribute allowlist.

Both lists are allowlists on purpose. A denylist ("no dunder attribute, no ``getattr``") has to
foresee every road to the interpreter's internals, and Python keeps adding roads: ``match`` class
patterns look attributes up by keyword (``case o(__subclasses__=sub)`` is ``getattr(o,
'__subclasses__')``) and, positionally, through ``__match_args__``; ``str.format`` walks
attributes named in a string; generators and frames lead back to module globals without a dunder.
An allowlist fails closed: syntax or an attribute nobody thought about is refused until it is
classified here.

**Syntax** — :data:`ALLOWED_NODES` are the AST node classes diagram code may use; every other
class of the running Python's :mod:`ast` module is in :data:`REFUSED_NODES` with the reason (the
test ``tests/bpmn/test_script_allowlist.py`` enumerates every ``ast.AST`` subclass and fails when
one is in neither, so a new Python cannot add syntax silently). Node classes are compared exactly
(``type(node) in ALLOWED_NODES``), never with ``isinstance``. Refused, among others: imports,
``global``, classes (they would define dunder methods), ``with``, ``async``/``await``/``yield``
(frames and generators of the script's own making), annotations (they write ``__annotations__``),
and ``match`` *class* patterns altogether: a class pattern is an attribute lookup by name
(keyword patterns) or through ``__match_args__`` (positional patterns), and its class is any name
the script may have rebound, so no check of the pattern's text can make it safe. ``case int():``
is written ``case x if isinstance(x, int):``. Value patterns (``case 3``, ``case -1``) take
constants only (a dotted name there is an attribute lookup the run-time check cannot see); all
other patterns (sequence, mapping, ``|``, ``as``, ``*rest``, ``None``/``True``) only compare.

**Names** — no identifier (name, argument, keyword, pattern capture) may start with ``__``: that
keeps ``__builtins__``, ``__budget__`` and every dunder out of reach by any syntax.

**Attributes** — an attribute is reachable only if it is in the list of its object's exact type
(:data:`ATTRIBUTES`): the plain methods and properties of ``str``, ``int``, ``float``, ``bool``,
``list``, ``dict``, ``set``, ``frozenset``, ``tuple``, ``range``, ``slice``, ``datetime``,
``date``, ``time``, ``timedelta``, ``timezone``, the functions and constants of :mod:`math`, and
``args`` of a caught exception. It is checked twice: when the diagram is linted (the name must be
in one of the lists, so ``mro``, ``format``, ``gi_frame`` and every dunder are refused with the
line) and when the code runs (:func:`get_attribute`, which :func:`bpmn.script_budget.instrument`
puts in place of every ``a.b``), on the type of the object actually there, so ``x.real`` works on
a number and is refused on anything else. Nothing in the lists returns a class, a module, a
function's globals, a frame or a code object, and no dunder is in any list: from the values a
script starts with (process data: JSON values; ``now()``, ``timedelta``, ``UTC``, ``math`` and the
built-ins of :data:`bpmn.script_engine.SAFE_BUILTINS`), it can only reach more such values.
Left out on purpose: ``str.format``/``format_map`` (they walk attributes named in the text; use
an f-string), ``mro``, and the clock readers of ``datetime`` (``now``, ``today``, ``utcnow``:
scripts read the workflow's clock with ``now()``, which is the same on replay).
"""

from __future__ import annotations

import ast
import math
from datetime import date, datetime, time, timedelta, timezone
from typing import Any

_ABSTRACT = "an abstract base class, never in a parsed tree"
_DEPRECATED = "a deprecated class the parser no longer produces"

ALLOWED_NODES: frozenset[type[ast.AST]] = frozenset({
    # modules: a script (exec) or an expression (eval)
    ast.Module, ast.Expression,
    # statements
    ast.FunctionDef, ast.Return, ast.Delete, ast.Assign, ast.AugAssign, ast.For, ast.While, ast.If,
    ast.Match, ast.Raise, ast.Try, ast.Assert, ast.Expr, ast.Pass, ast.Break, ast.Continue,
    # expressions
    ast.BoolOp, ast.NamedExpr, ast.BinOp, ast.UnaryOp, ast.Lambda, ast.IfExp, ast.Dict, ast.Set, ast.ListComp,
    ast.SetComp, ast.DictComp, ast.GeneratorExp, ast.Compare, ast.Call, ast.FormattedValue, ast.JoinedStr,
    ast.Constant, ast.Attribute, ast.Subscript, ast.Starred, ast.Name, ast.List, ast.Tuple, ast.Slice,
    # contexts and operators
    ast.Load, ast.Store, ast.Del, ast.And, ast.Or,
    ast.Add, ast.Sub, ast.Mult, ast.MatMult, ast.Div, ast.Mod, ast.Pow, ast.LShift, ast.RShift, ast.BitOr,
    ast.BitXor, ast.BitAnd, ast.FloorDiv, ast.Invert, ast.Not, ast.UAdd, ast.USub,
    ast.Eq, ast.NotEq, ast.Lt, ast.LtE, ast.Gt, ast.GtE, ast.Is, ast.IsNot, ast.In, ast.NotIn,
    # parts
    ast.comprehension, ast.ExceptHandler, ast.arguments, ast.arg, ast.keyword, ast.match_case,
    # patterns that only compare (MatchValue: constants only, see check_node)
    ast.MatchValue, ast.MatchSingleton, ast.MatchSequence, ast.MatchMapping, ast.MatchStar, ast.MatchAs,
    ast.MatchOr,
})

REFUSED_NODES: dict[str, str] = {
    "Import": "imports are not allowed in diagram scripts",
    "ImportFrom": "imports are not allowed in diagram scripts",
    "alias": "imports are not allowed in diagram scripts",
    "Global": "global/nonlocal are not allowed in diagram scripts",
    "Nonlocal": "global/nonlocal are not allowed in diagram scripts",
    "ClassDef": "classes are not allowed in diagram scripts (they define dunder methods)",
    "MatchClass": "match class patterns are not allowed (they look attributes up by name); "
                  "use 'case x if isinstance(x, int):'",
    "With": "'with' is not allowed in diagram scripts",
    "withitem": "'with' is not allowed in diagram scripts",
    "AsyncFunctionDef": "async code is not allowed in diagram scripts",
    "AsyncFor": "async code is not allowed in diagram scripts",
    "AsyncWith": "async code is not allowed in diagram scripts",
    "Await": "async code is not allowed in diagram scripts",
    "Yield": "'yield' is not allowed in diagram scripts (generators expose their frames)",
    "YieldFrom": "'yield' is not allowed in diagram scripts (generators expose their frames)",
    "TryStar": "'except*' is not allowed in diagram scripts",
    "AnnAssign": "annotated assignments are not allowed in diagram scripts (they write __annotations__)",
    "Interactive": "only scripts and expressions are compiled",
    "FunctionType": "only scripts and expressions are compiled",
    "TypeIgnore": "type comments are not parsed",
    # abstract bases and deprecated classes (never met in a tree; refused should they ever be)
    **dict.fromkeys(["AST", "mod", "stmt", "expr", "expr_context", "boolop", "operator", "unaryop", "cmpop",
                     "excepthandler", "pattern", "type_ignore", "slice", "type_param"], _ABSTRACT),
    **dict.fromkeys(["Num", "Str", "Bytes", "NameConstant", "Ellipsis", "Index", "ExtSlice", "Suite", "AugLoad",
                     "AugStore", "Param"], _DEPRECATED),
    # newer Pythons (3.12+): type parameters and aliases
    **dict.fromkeys(["TypeVar", "ParamSpec", "TypeVarTuple", "TypeAlias"], "type parameters are not allowed"),
}


# -- attributes ------------------------------------------------------------------------------------
_STR = frozenset({
    "capitalize", "casefold", "center", "count", "encode", "endswith", "expandtabs", "find", "index", "isalnum",
    "isalpha", "isascii", "isdecimal", "isdigit", "isidentifier", "islower", "isnumeric", "isprintable", "isspace",
    "istitle", "isupper", "join", "ljust", "lower", "lstrip", "partition", "removeprefix", "removesuffix",
    "replace", "rfind", "rindex", "rjust", "rpartition", "rsplit", "rstrip", "split", "splitlines", "startswith",
    "strip", "swapcase", "title", "upper", "zfill",
})
_BYTES = frozenset({"decode", "hex", "startswith", "endswith", "count", "find"})
_INT = frozenset({"as_integer_ratio", "bit_count", "bit_length", "conjugate", "denominator", "imag", "numerator",
                  "real", "to_bytes"})
_FLOAT = frozenset({"as_integer_ratio", "conjugate", "hex", "imag", "is_integer", "real"})
_LIST = frozenset({"append", "clear", "copy", "count", "extend", "index", "insert", "pop", "remove", "reverse",
                   "sort"})
_TUPLE = frozenset({"count", "index"})
_DICT = frozenset({"clear", "copy", "get", "items", "keys", "pop", "popitem", "setdefault", "update", "values"})
_FROZENSET = frozenset({"copy", "difference", "intersection", "isdisjoint", "issubset", "issuperset",
                        "symmetric_difference", "union"})
_SET = _FROZENSET | {"add", "clear", "difference_update", "discard", "intersection_update", "pop", "remove",
                     "symmetric_difference_update", "update"}
_DATE = frozenset({"day", "month", "year", "isocalendar", "isoformat", "isoweekday", "replace", "strftime",
                   "toordinal", "weekday"})
_TIME = frozenset({"hour", "minute", "second", "microsecond", "tzinfo", "fold", "isoformat", "replace", "strftime",
                   "utcoffset", "tzname", "dst"})
_DATETIME = _DATE | _TIME | {"astimezone", "date", "time", "timestamp", "timetz"}
_TIMEDELTA = frozenset({"days", "seconds", "microseconds", "total_seconds"})
_TIMEZONE = frozenset({"utcoffset", "tzname", "dst"})
MATH_NAMES = frozenset(name for name in dir(math) if not name.startswith("_"))

ATTRIBUTES: dict[type, frozenset[str]] = {
    str: _STR, bytes: _BYTES, int: _INT, bool: _INT, float: _FLOAT, complex: frozenset({"real", "imag", "conjugate"}),
    list: _LIST, tuple: _TUPLE, dict: _DICT, set: _SET, frozenset: _FROZENSET,
    range: frozenset({"start", "stop", "step", "count", "index"}),
    slice: frozenset({"start", "stop", "step", "indices"}),
    date: _DATE, time: _TIME, datetime: _DATETIME, timedelta: _TIMEDELTA, timezone: _TIMEZONE,
}
# Attributes of a few classes themselves (``timedelta.max``, ``dict.fromkeys``, ``str.upper``).
CLASS_ATTRIBUTES: dict[type, frozenset[str]] = {
    str: _STR, int: frozenset({"from_bytes"}) | _INT, float: frozenset({"fromhex"}) | _FLOAT,
    list: _LIST, tuple: _TUPLE, dict: _DICT | {"fromkeys"}, set: _SET, frozenset: _FROZENSET,
    timedelta: _TIMEDELTA | {"max", "min", "resolution"},
}
EXCEPTION_ATTRIBUTES = frozenset({"args"})

KNOWN_ATTRIBUTES: frozenset[str] = frozenset().union(
    *ATTRIBUTES.values(), *CLASS_ATTRIBUTES.values(), MATH_NAMES, EXCEPTION_ATTRIBUTES)


class AttributeNotAllowed(AttributeError):
    """A script reached for an attribute its object's type does not list."""


def allowed_attribute(value: Any, name: str) -> bool:
    """Whether diagram code may read ``value.name``; the exact type decides, not the name alone."""
    kind = type(value)
    names = ATTRIBUTES.get(kind)
    if names is not None:
        return name in names
    if value is math:
        return name in MATH_NAMES
    if kind is type:
        return name in CLASS_ATTRIBUTES.get(value, ())
    if isinstance(value, BaseException):
        return name in EXCEPTION_ATTRIBUTES
    return False


def get_attribute(value: Any, name: str) -> Any:
    """``value.name`` for diagram code: refused unless its type lists ``name`` (see the module docstring)."""
    if not allowed_attribute(value, name):
        raise AttributeNotAllowed(f"attribute '{name}' of a {type(value).__name__} value is not allowed "
                                  "in diagram scripts")
    return getattr(value, name)


# -- the check of one node ---------------------------------------------------------------------------
# Name; arg and keyword; FunctionDef, ExceptHandler, MatchAs and MatchStar; MatchMapping
_IDENTIFIER_FIELDS = ("id", "arg", "name", "rest")


def node_refusal(node: ast.AST) -> str | None:
    """Why diagram code may not contain ``node`` (None: it may)."""
    kind = type(node)
    if kind not in ALLOWED_NODES:
        return REFUSED_NODES.get(kind.__name__, f"'{kind.__name__}' syntax is not allowed in diagram scripts")
    for field in _IDENTIFIER_FIELDS:
        identifier = getattr(node, field, None)
        if isinstance(identifier, str) and identifier.startswith("__"):
            return f"name '{identifier}' is not allowed in diagram scripts (names starting with __)"
    if kind is ast.Attribute:
        assert isinstance(node, ast.Attribute)
        if not isinstance(node.ctx, ast.Load):
            return f"setting attribute '{node.attr}' is not allowed; set process variables instead"
        if node.attr in ("format", "format_map"):
            return f"attribute '{node.attr}' is not allowed: str.format can reach object internals; use an f-string"
        if node.attr not in KNOWN_ATTRIBUTES:
            return f"attribute '{node.attr}' is not allowed in diagram scripts (not a listed method or property)"
    if kind is ast.MatchValue or kind is ast.MatchMapping:
        values = [node.value] if isinstance(node, ast.MatchValue) else getattr(node, "keys", [])
        if any(not isinstance(part, _LITERAL_PARTS) for value in values for part in ast.walk(value)):
            return "a pattern value that is not a constant is not allowed (write case 3: or case {'a': x}:)"
    return None


_LITERAL_PARTS = (ast.Constant, ast.UnaryOp, ast.BinOp, ast.USub, ast.Add, ast.Sub)
