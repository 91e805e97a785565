"""A deterministic operation budget and size guard for diagram scripts and expressions.

A diagram script runs inside a Temporal workflow task: if it loops forever or builds a value of
a billion items, the worker thread stalls, Temporal times the task out and retries it, forever.
So every script, condition and io-mapping expression runs against a :class:`Budget`:

- **operations** — every loop iteration (``for``, ``while``, comprehensions), every call, and the
  items a built-in walks over (``sum``, ``sorted``, ``in``, ``join``, slicing, ...: one operation
  per :data:`BULK_ITEMS` items, charged *before* the built-in runs) count against
  ``MOM_SCRIPT_MAX_OPERATIONS``; big-integer arithmetic is charged by the size of its operands;
- **comparisons and hashing** — by the items they walk, not by the outer length: ``==``, ``<``,
  ``in``, ``sorted``, ``min``/``max``, ``list.count``/``index``/``remove`` compare nested lists item by
  item (``[l] * 8000 == [l2] * 8000`` compares 8,000 x ``len(l)`` items), and a tuple is hashed
  anew, whole, each time it is a dict key or set item. :func:`comparison_items` estimates that
  work before it is done (shared containers measured once, identical items skipped as Python skips
  them), stopping as soon as it is past what the budget has left;
- **size** — a list, string, dict or set a script builds may hold at most ``MOM_SCRIPT_MAX_SIZE``
  items or characters (``'x' * 10**12`` and ``[0] * 10**10`` are refused before they are built),
  and the data it leaves at most ``MOM_SCRIPT_MAX_DATA`` characters as JSON;
- **integers** — ``**``, ``*``, ``<<``, ``pow``, ``math.factorial`` ... may not produce integers of
  more than ``MOM_SCRIPT_MAX_INT_DIGITS`` decimal digits (``9**9**9**9`` is refused before it runs);
- **depth** — calls may nest ``MOM_SCRIPT_MAX_DEPTH`` deep (recursion through lambdas).

The budget counts operations, never time, so the same script fails the same way on every worker
and on replay. The checks are put into the script by rewriting its AST (:func:`instrument`) after
:func:`bpmn.script_engine.check_source` accepted it: they call the budget of the evaluation
through the global ``__budget__``, a dunder name that diagram code cannot name. A script that
catches :class:`ScriptBudgetExceeded` gains nothing: the budget stays exceeded, and every later
check (and the end of the script) raises it again.
"""

from __future__ import annotations

import ast
import builtins
import math
import operator
import re
import sys
import types
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from bpmn.script_allowlist import get_attribute
from mom.settings import load_settings

BUILTIN_CALL_OPERATIONS = 3  # a call of a built-in (with its guards) costs about three loop iterations
# Items a built-in handles (copies, compares, sums) per operation: about the time of one loop iteration, and
# with it the memory a script can fill: operations x BULK_ITEMS references (16M, 128 MB by default).
BULK_ITEMS = 16
# Big integers, measured on CPython 3.11 (bench-free estimate, deliberately on the safe side):
INT_WORK_PER_OPERATION = 64  # 30-bit digit products per operation (*, //, %, **)
INT_TEXT_WORK_PER_OPERATION = 32  # the same for int <-> str conversion (quadratic, slower per digit)
INT_LINEAR_WORDS_PER_OPERATION = 16  # 30-bit digits per operation of linear work (x // 7, x + y)
_LOG2_10 = math.log2(10)
_SMALL_INT = 1 << 64
_SMALL_BASE = 1 << 16


@dataclass(frozen=True)
class ScriptLimits:
    """Limits of one script or expression evaluation (see :mod:`mom.settings`, ``MOM_SCRIPT_*``)."""

    operations: int = 250_000  # spent within ~0.1-0.6 s, well inside Temporal's 2 s workflow-task deadlock limit
    size: int = 1_000_000  # items of one list/dict/set/tuple, characters of one string
    data: int = 10_000_000  # characters of the process data a script leaves, as JSON
    int_digits: int = 4_300  # CPython's own int <-> str limit (sys.int_info)
    depth: int = 100
    instances: int = 10_000  # instances a parallel multi-instance starts in one engine step

    @property
    def int_bits(self) -> int:
        return int(self.int_digits * _LOG2_10) + 1

    @classmethod
    def from_settings(cls, settings: Any) -> ScriptLimits:
        return cls(operations=settings.script_max_operations, size=settings.script_max_size,
                   data=settings.script_max_data, int_digits=settings.script_max_int_digits,
                   depth=settings.script_max_depth, instances=settings.max_parallel_instances)


@lru_cache(maxsize=1)
def configured_limits() -> ScriptLimits:
    """The limits of this process, read once from the ``MOM_SCRIPT_*`` settings.

    Every worker of a task queue must run with the same limits: a script that fits on one worker
    and not on another would take different paths on replay.
    """
    return ScriptLimits.from_settings(load_settings())


class ScriptBudgetExceeded(RuntimeError):
    """A script or expression used more operations, memory or depth than its budget allows."""


# -- the budget ------------------------------------------------------------------------------------
_SEQUENCES = frozenset({str, bytes, list, tuple})
_SIZED = frozenset({str, bytes, list, tuple, dict, set, frozenset})
_NUMBERS = frozenset({int, float, bool, type(None), complex})
_PLAIN_SCALARS = frozenset({int, float, bool, type(None), str})
_METHOD_TYPES = frozenset({types.BuiltinMethodType, types.MethodDescriptorType, types.WrapperDescriptorType,
                           types.MethodWrapperType, types.ClassMethodDescriptorType})


def _length(value: Any) -> int:
    """``len(value)``, also for ranges too long for ``len``."""
    try:
        return len(value)
    except OverflowError:
        return sys.maxsize


def _digits(bits: int) -> int:
    return int(bits / _LOG2_10) + 1


class Budget:
    """The operation counter and guards of one evaluation; instrumented code calls its methods."""

    def __init__(self, limits: ScriptLimits, where: str = "expression") -> None:
        self.limits = limits
        self.where = where
        self.used = 0
        self.depth = 0
        self.error: ScriptBudgetExceeded | None = None
        self._ceiling = limits.operations  # -1 once exceeded: every later check raises again
        self._int_bits = limits.int_bits
        self._short_spec = len(str(limits.size))  # a format spec shorter than this has no number past the size

    # -- accounting -----------------------------------------------------------------------
    def _fail(self, what: str) -> None:
        if self.error is None:
            self.error = ScriptBudgetExceeded(f"{self.where} {what}")
            self._ceiling = -1
        raise self.error

    def check(self) -> None:
        """Raise again if the budget was exceeded (a script that swallowed the error gains nothing)."""
        if self.error is not None:
            raise self.error

    def tick(self) -> bool:
        self.used += 1
        if self.used > self._ceiling:
            self._exceeded_operations()
        return True

    def charge(self, operations: int) -> None:
        self.used += operations
        if self.used > self._ceiling:
            self._exceeded_operations()

    def _exceeded_operations(self) -> None:
        if self.error is not None:
            raise self.error
        self._fail(f"exceeded {self.limits.operations:,} operations (MOM_SCRIPT_MAX_OPERATIONS; "
                   "an endless loop, or a loop over too many items?)")

    def charge_items(self, items: int) -> None:
        self.charge(items // BULK_ITEMS)

    def charge_int_work(self, a_bits: int, b_bits: int, text: bool = False) -> None:
        """Big-integer arithmetic (or, with ``text``, decimal conversion) costs about the product of
        the operands' 30-bit digit counts; small integers cost nothing extra."""
        if a_bits > 256 or b_bits > 256:
            a_words, b_words = a_bits // 30 + 1, b_bits // 30 + 1
            per_operation = INT_TEXT_WORK_PER_OPERATION if text else INT_WORK_PER_OPERATION
            self.charge(a_words * b_words // per_operation + (a_words + b_words) // INT_LINEAR_WORDS_PER_OPERATION)

    def check_size(self, size: int, what: str) -> None:
        if size > self.limits.size:
            self._fail(f"exceeded the size limit: {what} of {size:,} items or characters "
                       f"(limit {self.limits.size:,}, MOM_SCRIPT_MAX_SIZE)")

    def check_int_bits(self, bits: float) -> None:
        if bits > self._int_bits:
            self._fail(f"exceeded the integer limit: a number of about {_digits(int(min(bits, 1e18))):,} digits "
                       f"(limit {self.limits.int_digits:,} digits, MOM_SCRIPT_MAX_INT_DIGITS)")

    # -- iteration ------------------------------------------------------------------------
    def counted(self, iterator: Any) -> Iterator[Any]:
        """An iterator that a built-in consumes in C, made to pay one operation per item."""
        for item in iterator:
            self.tick()
            yield item

    def _wrap(self, value: Any) -> Any:
        """Sized values are charged by length; lazy iterators (map, zip, generators) are counted."""
        kind = type(value)
        if kind in _NUMBERS:
            return value
        if hasattr(kind, "__len__"):  # containers, strings, ranges, dict views
            size = _length(value)
            if size >= BULK_ITEMS:
                self.charge_items(size)
            return value
        if hasattr(kind, "__next__"):
            return self.counted(value)
        return value

    def star(self, value: Any) -> Any:
        """``f(*x)``, ``[*x]``, ``a, *b = x``: the unpacking copies ``x``; count it first."""
        kind = type(value)
        if kind in _SIZED or kind is range:
            self.check_size(len(value), "an unpacked sequence")
            self.charge_items(len(value))
            return value
        if kind is dict or not hasattr(value, "__iter__"):
            return value
        return list(self.counted(iter(value)))

    def each_starred(self, iterable: Any) -> Iterator[Any]:
        """``for a, *b in x``: every item is unpacked with a star."""
        for item in iterable:
            yield self.star(item)

    # -- operators -------------------------------------------------------------------------
    def binop(self, op: str, left: Any, right: Any) -> Any:
        self.used += 1
        if self.used > self._ceiling:
            self._exceeded_operations()
        kind = type(left)
        if kind is float:
            return _OPERATORS[op](left, right)
        if kind is int and type(right) is int:  # small numbers: nothing to guard
            if op in _LINEAR_OPERATORS:
                if -_SMALL_INT < left < _SMALL_INT and -_SMALL_INT < right < _SMALL_INT:
                    return _OPERATORS[op](left, right)
            elif op == "**" and -_SMALL_BASE < left < _SMALL_BASE and right <= 16:  # at most 256 bits
                return left**right
        self._guard_binop(op, left, right)
        return _OPERATORS[op](left, right)

    def _guard_binop(self, op: str, left: Any, right: Any) -> None:
        lt, rt = type(left), type(right)
        left_int = lt is int or lt is bool
        right_int = rt is int or rt is bool
        if op == "**":
            if left_int and right_int and right > 0 and abs(left) > 1:
                bits = right * math.log2(abs(left))
                self.check_int_bits(bits)
                self.charge_int_work(int(bits), int(bits))
        elif op == "*":
            if left_int and right_int:
                bits = left.bit_length() + right.bit_length()
                self.check_int_bits(bits)
                self.charge_int_work(left.bit_length(), right.bit_length())
            elif right_int and lt in _SEQUENCES:
                self._repeat(left, right)
            elif left_int and rt in _SEQUENCES:
                self._repeat(right, left)
        elif op == "<<":
            if left_int and right_int and left and right > 0:
                self.check_int_bits(left.bit_length() + right)
                self.charge_int_work(left.bit_length() + right, 0)
        elif op == "+":
            if left_int and right_int:
                self.charge_int_work(max(left.bit_length(), right.bit_length()), 0)
            elif lt in _SEQUENCES and rt in _SEQUENCES:
                size = len(left) + len(right)
                self.check_size(size, f"a {lt.__name__} concatenation")
                self.charge_items(size)
        elif op in ("//", "%", "divmod"):
            if left_int and right_int:
                self.charge_int_work(left.bit_length(), right.bit_length())
            elif op == "%" and lt is str:
                self._guard_percent_format(left, right)
            elif op == "%" and lt is bytes:
                self._guard_percent_format(left.decode("latin-1"), right)

    def _repeat(self, sequence: Any, times: int) -> None:
        size = len(sequence) * max(times, 0)
        self.check_size(size, f"a repeated {type(sequence).__name__}")
        self.charge_items(size)

    def augitem(self, container: Any, key: Any, op: str, value: Any) -> None:
        """``container[key] op= value`` with ``container`` and ``key`` evaluated once."""
        container[key] = self.inplace(op, container[key], value)

    def inplace(self, op: str, left: Any, right: Any) -> Any:
        """``name op= value``: lists grow in place (``+=`` keeps aliasing), the rest like ``op``."""
        self.tick()
        if op == "+" and type(left) is list:
            right = self._wrap(right)
            if type(right) in _SIZED:
                self.check_size(len(left) + len(right), "a list")
            left += right
            self.check_size(len(left), "a list")
            return left
        self._guard_binop(op, left, right)
        return _INPLACE_OPERATORS[op](left, right)  # a list *= n stays the same list

    def compare(self, op: str, left: Any, right: Any) -> Any:
        self.used += 1
        if self.used > self._ceiling:
            self._exceeded_operations()
        kind = type(right)
        if kind in _NUMBERS:
            return _COMPARISONS[op](left, right)
        if kind is str:  # substring search / text comparison: linear in the text
            if len(right) >= BULK_ITEMS:
                self.charge_items(len(right))
            return _COMPARISONS[op](left, right)
        if op in ("in", "not in"):
            kind = type(right)
            if kind in _HASHED:
                self.hashed(left)
            elif kind in _SEQUENCES or (kind is range and type(left) not in (int, bool)):
                if type(left) in _COMPARED and kind in (list, tuple):  # each item compared with a container
                    self.charge_items(comparison_items(left, right, self._items_left(), self, membership=True))
                else:
                    self.charge_items(_length(right))
            elif hasattr(kind, "__next__"):
                right = self.counted(right)
        elif type(left) in _COMPARED and type(right) in _COMPARED:
            self.charge_items(comparison_items(left, right, self._items_left(), self, equality=op in ("==", "!=")))
        return _COMPARISONS[op](left, right)

    def matched(self, value: Any) -> Any:
        """The subject of a ``match`` whose patterns copy it (``*rest``, ``**rest``)."""
        if type(value) in _COMPARED:
            self.charge_items(nested_items(value, self))
        return value

    def hashed(self, value: Any) -> Any:
        """A dict key or set item about to be hashed: a tuple's hash is not cached, so hashing it walks
        all it holds, every time (``{t: 1 for _ in range(8000)}`` with ``t`` of 1,000,000 items)."""
        if type(value) is tuple and (len(value) >= BULK_ITEMS or not set(map(type, value)).isdisjoint(_COMPARED)):
            self.charge_items(nested_items(value, self))
        return value

    def _items_left(self) -> int:
        """Items the remaining operations pay for: an estimate may stop counting past this."""
        return max(self._ceiling - self.used, 0) * BULK_ITEMS + BULK_ITEMS

    def operand(self, value: Any) -> Any:
        """An operand of a chain (``a < b < c``): charged by all it holds, nested containers too (a
        comparison of it with anything compares at most that many items)."""
        if type(value) in _COMPARED:
            self.charge_items(comparison_items(value, value, self._items_left(), self, same=False))
        elif type(value) in _SEQUENCES:
            self.charge_items(len(value))
        return value

    def getslice(self, value: Any, part: slice) -> Any:
        self.tick()
        if type(value) in _SEQUENCES:
            self.charge_items(len(range(*part.indices(len(value)))))
        return value[part]

    def materialized(self, value: Any) -> Any:
        """The value of ``a[i:j] = value`` or ``a, *b = value``, counted before it is copied."""
        return self.star(value)

    # -- formatting ------------------------------------------------------------------------
    def format_value(self, value: Any, conversion: int, spec: str) -> str:
        """One ``{value!r:spec}`` of an f-string."""
        self.tick()
        if conversion == -1 and not spec:
            kind = type(value)
            if kind is str or kind is float or kind is bool or value is None or (
                    kind is int and -_SMALL_INT < value < _SMALL_INT):
                return format(value)
        if conversion == ord("r"):
            value = self.call(builtins.repr, value)
        elif conversion == ord("s"):
            value = self.call(builtins.str, value)
        elif conversion == ord("a"):
            value = self.call(builtins.ascii, value)
        return str(self.call(builtins.format, value, spec))

    def _check_text_size(self, value: Any, what: str) -> None:
        """``str(value)``: estimated before it is built (a list of lists repeats its items)."""
        kind = type(value)
        if kind in _PLAIN_SCALARS and (kind is not int or -_SMALL_INT < value < _SMALL_INT):
            return
        if kind is str and len(value) < self.limits.size:
            return
        length = text_length(value, self.limits.size, self)
        self.check_size(length, what)

    def _check_format_spec(self, spec: Any) -> None:
        if type(spec) is str and len(spec) >= self._short_spec:
            for number in re.findall(r"\d+", spec):
                if len(number) > 9 or int(number) > self.limits.size:
                    self.check_size(int(number) if len(number) < 30 else 10**30, "a formatted field width")

    def _guard_percent_format(self, template: str, args: Any) -> None:
        values = list(args) if type(args) is tuple else [args]
        self._check_text_size(values, "a %-formatted string")
        spec = re.compile(r"%(?:\([^)]*\))?[#0\- +]*(\*|\d+)?(?:\.(\*|\d+))?[hlL]?([a-zA-Z%])")
        position = 0
        for width, precision, conversion in spec.findall(template):
            for number in (width, precision):
                if number == "*":
                    star = values[position] if position < len(values) else 0
                    position += 1
                    if type(star) is int and star > self.limits.size:
                        self.check_size(star, "a %-formatted field width")
                elif number and (len(number) > 9 or int(number) > self.limits.size):
                    self.check_size(int(number) if len(number) < 30 else 10**30, "a %-formatted field width")
            if conversion != "%":
                position += 1

    # -- calls -----------------------------------------------------------------------------
    def call(self, fn: Any, /, *args: Any, **kwargs: Any) -> Any:
        self.used += 1
        if self.used > self._ceiling:
            self._exceeded_operations()
        if self.depth >= self.limits.depth:
            self._fail(f"exceeded the call depth limit of {self.limits.depth} (MOM_SCRIPT_MAX_DEPTH; "
                       "endless recursion?)")
        self.depth += 1
        try:
            if type(fn) is types.FunctionType:  # a lambda or def of the script itself: it pays its own way
                return fn(*args, **kwargs)
            return self._call_builtin(fn, args, kwargs)
        finally:
            self.depth -= 1

    def _call_builtin(self, fn: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        """A built-in, a method or a class: its arguments are counted, its result measured."""
        self.charge(BUILTIN_CALL_OPERATIONS - 1)
        try:
            guard = _FUNCTION_GUARDS.get(fn)
        except TypeError:  # an unhashable callable
            guard = None
        if guard is None and type(fn) in _METHOD_TYPES:
            guard = _guard_method
        if guard is not _free:
            wrap = self._wrap
            if args:
                args = tuple([wrap(a) for a in args])
            if kwargs:
                kwargs = {k: wrap(v) for k, v in kwargs.items()}
            if guard is not None:
                args = guard(self, fn, args, kwargs) or args
        result = fn(*args, **kwargs)
        kind = type(result)
        if kind in _SIZED:
            if len(result) > self.limits.size:
                self.check_size(len(result), f"a {kind.__name__}")
        elif kind is int and result.bit_length() > 64:
            self.check_int_bits(result.bit_length())
        return result

    # -- the data a script leaves ---------------------------------------------------------
    def check_data(self, data: Any) -> None:
        kind = type(data)
        if kind in _NUMBERS and (kind is not int or data.bit_length() <= 64):
            return
        length = text_length(data, self.limits.data, self)
        if length > self.limits.data:
            self._fail(f"exceeded the data limit: the process data would take {length:,}+ characters "
                       f"(limit {self.limits.data:,}, MOM_SCRIPT_MAX_DATA)")

    def attribute(self, value: Any, name: str) -> Any:
        """``value.name``: only the attributes :mod:`bpmn.script_allowlist` lists for the type of ``value``."""
        return get_attribute(value, name)

    def make_slice(self, lower: Any, upper: Any, step: Any) -> slice:
        return slice(lower, upper, step)

    def hooks(self) -> dict[str, Any]:
        """The globals instrumented code needs: the budget itself, under a name scripts cannot write."""
        return {HOOK_NAME: self}


HOOK_NAME = "__budget__"

_OPERATORS: dict[str, Callable[[Any, Any], Any]] = {
    "**": lambda a, b: a ** b, "*": lambda a, b: a * b, "<<": lambda a, b: a << b, "+": lambda a, b: a + b,
    "//": lambda a, b: a // b, "%": lambda a, b: a % b,
}
_INPLACE_OPERATORS: dict[str, Callable[[Any, Any], Any]] = {
    "**": operator.ipow, "*": operator.imul, "<<": operator.ilshift, "+": operator.iadd,
    "//": operator.ifloordiv, "%": operator.imod,
}
_LINEAR_OPERATORS = frozenset({"*", "+", "//", "%"})
_COMPARISONS: dict[str, Callable[[Any, Any], Any]] = {
    "in": lambda a, b: a in b, "not in": lambda a, b: a not in b, "==": lambda a, b: a == b,
    "!=": lambda a, b: a != b, "<": lambda a, b: a < b, "<=": lambda a, b: a <= b, ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
}


_COMPARED = frozenset({list, tuple, dict, set, frozenset})


def comparison_items(left: Any, right: Any, limit: int, budget: Budget, *, equality: bool = False,
                     membership: bool = False, same: bool = True) -> int:
    """About how many items Python compares for ``left <op> right``: nested lists compare item by
    item (``[l] * 8000 == [l2] * 8000`` compares 8,000 x len(l) items, not 8,000). Stops counting
    once past ``limit`` (the caller is then charged more than its budget holds).

    Pairs already measured are taken from a memo (``[l] * 8000`` measures ``l`` once), identical
    objects cost one item (Python skips them: ``x is y``), and with ``equality`` lists, tuples and
    dicts of different lengths cost one. ``membership``: ``left in right``, one comparison per item
    of ``right``. ``same=False``: an upper bound for ``left`` against anything (its nested size).
    """
    memo: dict[tuple[int, int], int] = {}
    max_depth = budget.limits.depth

    def pair(a: Any, b: Any, depth: int) -> int:
        kind = type(a)
        if (same and a is b) or kind not in _COMPARED or (same and type(b) is not kind):
            if kind is str or kind is bytes:
                return 1 + len(a) // BULK_ITEMS
            # x == x walks x once, skipping each identical item; nested, Python skips the pair
            return 1 + (len(a) if depth == 0 and a is b and kind in _COMPARED else 0)
        key = (id(a), id(b))
        known = memo.get(key)
        if known is not None:
            return known
        if depth >= max_depth:
            budget._fail(f"exceeded the nesting limit: data nested more than {max_depth} deep, or refers to "
                         "itself (MOM_SCRIPT_MAX_DEPTH)")
        if equality and kind is not set and kind is not frozenset and len(a) != len(b):
            return 1
        size = min(len(a), len(b)) if same else len(a)
        total = size + 1
        if kind is set or kind is frozenset or total > limit:
            memo[key] = total
            return total
        values_a = list(a.values()) if kind is dict else a
        if not set(map(type, values_a)) & _COMPARED:  # flat: compared in C, one item each
            memo[key] = total
            return total
        if kind is dict:
            missing = object()
            pairs: Any = ((v, b.get(k, missing) if same else v) for k, v in a.items())
        else:
            pairs = zip(a, b, strict=False) if same else ((v, v) for v in a)
        for x, y in pairs:
            if type(x) in _COMPARED:
                total += pair(x, y, depth + 1) - 1
                if total > limit:
                    break
        memo[key] = total
        return total

    if membership:
        total = len(right)
        for item in right:
            if type(item) is type(left):
                total += pair(left, item, 1) - 1
                if total > limit:
                    break
        return total
    return pair(left, right, 0)


def nested_items(value: Any, budget: Budget) -> int:
    """All ``value`` holds, nested containers counted each time they occur (bounded by the budget left):
    what a comparison of ``value`` with anything, or hashing it, may walk at most."""
    return comparison_items(value, value, budget._items_left(), budget, same=False)


def _contained_items(budget: Budget, values: Any, kinds: frozenset[type] = _COMPARED) -> int:
    """The nested items of the containers among ``values`` (0 when it holds none of ``kinds``)."""
    if type(values) is dict:
        values = list(values)
    if type(values) not in _COMPARED or set(map(type, values)).isdisjoint(kinds):
        return 0
    return nested_items(values, budget)


def text_length(value: Any, limit: int, budget: Budget) -> int:
    """About how many characters ``repr(value)`` / JSON of ``value`` take; stops once past ``limit``.

    A container met again is counted again (``repr`` and JSON repeat it too), from a memo, so
    shared lists cost one walk; lists of plain numbers or strings are measured by C loops.
    """
    memo: dict[int, int] = {}
    max_depth = budget.limits.depth

    def walk(item: Any, depth: int) -> int:
        kind = type(item)
        if kind is str or kind is bytes:
            return len(item) + 2
        if kind is int:
            bits = item.bit_length()
            if bits <= 64:
                return 20
            budget.check_int_bits(bits)
            budget.charge_int_work(bits, bits, text=True)
            return _digits(bits) + 1
        if kind not in (list, tuple, dict, set, frozenset):
            return 24  # floats, None, booleans, dates, timedeltas: short
        known = memo.get(id(item))
        if known is not None:
            return known
        if depth >= max_depth:
            budget._fail(f"exceeded the nesting limit: data nested more than {max_depth} deep, or refers to "
                         "itself (MOM_SCRIPT_MAX_DEPTH)")
        budget.tick()
        budget.charge_items(len(item))
        if kind is dict:
            total = 2 * len(item) + 2 + measure(list(item), depth)
            if total <= limit:
                total += measure(list(item.values()), depth)
        else:
            total = 2 * len(item) + 2 + measure(item, depth)
        memo[id(item)] = total
        return total

    def measure(values: Any, depth: int) -> int:
        """The items of one container: plain numbers and strings by C loops, the rest one by one."""
        if not values:
            return 0
        kinds = set(map(type, values))
        if kinds <= _SMALL_SCALARS:
            return 24 * len(values)
        if kinds <= {int, bool}:
            widest = max(map(int.bit_length, values))
            if widest <= 64:
                return 20 * len(values)
            bits = sum(map(int.bit_length, values))
            budget.check_int_bits(widest)
            budget.charge_int_work(bits, widest, text=True)
            return _digits(bits) + len(values)
        if kinds <= {str}:
            return int(sum(map(len, values))) + 2 * len(values)
        total = 0
        for element in values:
            element_kind = type(element)
            if element_kind in _SMALL_SCALARS:
                total += 24
            elif element_kind is int and -_SMALL_INT < element < _SMALL_INT:
                total += 20
            elif element_kind is str:
                total += len(element) + 2
            else:
                total += walk(element, depth + 1)
                if total > limit:
                    break
        return total

    return walk(value, 0)


_SMALL_SCALARS = {float, bool, type(None)}


# -- guards of built-ins -------------------------------------------------------------------------
# A guard raises (through the budget) before an expensive call; it may return replacement arguments.
Guard = Callable[[Budget, Any, tuple[Any, ...], dict[str, Any]], "tuple[Any, ...] | None"]


def _guard_text(budget: Budget, fn: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    if args:
        budget._check_text_size(args[0], f"the text of {getattr(fn, '__name__', 'a value')}()")
    if fn is builtins.format and len(args) > 1:
        budget._check_format_spec(args[1])


def _guard_int(budget: Budget, fn: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    if args and type(args[0]) is str and len(args[0]) > 64:
        bits = int(len(args[0]) * _LOG2_10)
        budget.charge_int_work(bits, bits, text=True)


def _guard_pow(budget: Budget, fn: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    if len(args) == 2:
        budget._guard_binop("**", args[0], args[1])


def _guard_divmod(budget: Budget, fn: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    if len(args) == 2:
        budget._guard_binop("divmod", args[0], args[1])


def _guard_round(budget: Budget, fn: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    digits = args[1] if len(args) > 1 else kwargs.get("ndigits")
    if type(args[0] if args else None) is int and type(digits) is int and digits < 0:
        budget.check_int_bits(-digits * _LOG2_10)


def _guard_sum(budget: Budget, fn: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    start = args[1] if len(args) > 1 else kwargs.get("start", 0)
    if type(start) in _SEQUENCES and args and type(args[0]) in (list, tuple):
        # sum(lists, []) copies the growing result once per item: quadratic
        total = sum(len(x) for x in args[0] if type(x) in _SEQUENCES)
        budget.check_size(total + len(start), "a summed sequence")
        budget.charge_items(total * len(args[0]) // 2)


def _charged_key(budget: Budget, key: Any, factor: int) -> Any:
    """``key`` whose container results are charged by their nested items, ``factor`` comparisons each."""
    def charged(item: Any) -> Any:
        result = key(item)
        if type(result) in _COMPARED:
            budget.charge_items(nested_items(result, budget) * factor)
        return result
    return charged


def _guard_ordering(budget: Budget, values: Any, kwargs: dict[str, Any], comparisons_per_item: int) -> None:
    """sorted/list.sort/min/max compare items (or their keys): nested lists compare item by item."""
    if kwargs.get("key") is not None:
        kwargs["key"] = _charged_key(budget, kwargs["key"], comparisons_per_item)
    elif type(values) in _COMPARED:
        budget.charge_items(_contained_items(budget, values) * comparisons_per_item)


def _materialized(args: tuple[Any, ...]) -> tuple[Any, ...]:
    """A lazy first argument (already counted per item) as a list, so its items can be measured."""
    if args and hasattr(type(args[0]), "__next__"):
        return (list(args[0]), *args[1:])
    return args


def _guard_sorted(budget: Budget, fn: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[Any, ...]:
    args = _materialized(args)
    if args and hasattr(type(args[0]), "__len__"):
        n = _length(args[0])
        budget.charge_items(n * max(n.bit_length(), 1))
        _guard_ordering(budget, args[0], kwargs, max(n.bit_length(), 1))
    return args


def _guard_min_max(budget: Budget, fn: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[Any, ...]:
    args = _materialized(args) if len(args) == 1 else args
    _guard_ordering(budget, args[0] if len(args) == 1 else args, kwargs, 1)
    return args


def _guard_hashing(budget: Budget, fn: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    """set(), frozenset(), dict(), dict.fromkeys(): every tuple among the items is hashed."""
    for value in args:
        budget.charge_items(_contained_items(budget, value, _TUPLES))


def _guard_factorial(budget: Budget, fn: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    if args and type(args[0]) is int and args[0] > 20:
        n = args[0]
        budget.check_int_bits(n * math.log2(n))


def _guard_comb(budget: Budget, fn: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    """comb(n, k) < 2**n; perm(n, k) <= n**k (perm(n) is n!)."""
    if len(args) >= 1 and type(args[0]) is int and args[0] > 64:
        n = args[0]
        k = args[1] if len(args) > 1 and type(args[1]) is int else n
        bits = max(k, 1) * math.log2(n)
        budget.check_int_bits(min(n, bits) if fn is math.comb else bits)


def _guard_product(budget: Budget, fn: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[Any, ...] | None:
    """math.prod / math.lcm: the result has at most the sum of the factors' bits."""
    replaced = None
    if fn is math.prod and args:
        if type(args[0]) not in (list, tuple):
            replaced = (budget.star(args[0]), *args[1:])  # counted, then multiplied
            args = replaced
        values = args[0]
    else:
        values = args
    bits = sum(v.bit_length() for v in values if type(v) is int)
    budget.check_int_bits(bits)
    budget.charge_int_work(bits, bits)
    return replaced


def _free(budget: Budget, fn: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    """Built-ins that take constant time whatever their arguments."""


_FUNCTION_GUARDS: dict[Any, Guard] = {
    builtins.str: _guard_text, builtins.repr: _guard_text, builtins.ascii: _guard_text,
    builtins.format: _guard_text, builtins.int: _guard_int, builtins.pow: _guard_pow,
    builtins.divmod: _guard_divmod, builtins.round: _guard_round, builtins.sum: _guard_sum,
    builtins.sorted: _guard_sorted, math.factorial: _guard_factorial, math.comb: _guard_comb,
    math.perm: _guard_comb, math.prod: _guard_product, math.lcm: _guard_product,
    builtins.min: _guard_min_max, builtins.max: _guard_min_max, builtins.set: _guard_hashing,
    builtins.frozenset: _guard_hashing, builtins.dict: _guard_hashing,
    builtins.len: _free, builtins.isinstance: _free, builtins.abs: _free, builtins.bool: _free,
    builtins.float: _free, builtins.range: _free, builtins.slice: _free,
    # lazy: whoever consumes them pays (a loop per item, a built-in per item or by size)
    builtins.enumerate: _free, builtins.zip: _free, builtins.map: _free, builtins.filter: _free,
    builtins.reversed: _free,
}

# Methods of containers that take constant time: everything else is charged by the container's length.
_CONSTANT_METHODS = {
    "append", "pop", "get", "setdefault", "add", "discard", "keys", "values", "items", "popitem", "clear",
    "isdigit", "isalpha", "isalnum", "isspace", "isupper", "islower", "startswith", "endswith", "fromkeys",
}


def _guard_method(budget: Budget, fn: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    name = fn.__name__
    if type(fn) is types.MethodDescriptorType or type(fn) is types.WrapperDescriptorType:
        if not args:
            return
        owner, args = args[0], args[1:]
    else:
        owner = getattr(fn, "__self__", None)
    kind = type(owner)
    if kind in _SIZED:
        if name not in _CONSTANT_METHODS and len(owner) >= BULK_ITEMS:
            budget.charge_items(len(owner))
        if kind is str:
            if name in _TEXT_METHODS:
                _guard_text_method(budget, name, owner, args, kwargs)
        elif kind is list and name == "insert":
            budget.check_size(len(owner) + 1, "a list")
        elif kind is list and name == "sort":
            budget.charge_items(len(owner) * len(owner).bit_length())
            _guard_ordering(budget, owner, kwargs, max(len(owner).bit_length(), 1))
        if kind in (list, tuple) and name in ("index", "count", "remove") and args and type(args[0]) in _COMPARED:
            budget.charge_items(comparison_items(args[0], owner, budget._items_left(), budget, membership=True))
        elif kind in _HASHED:
            for value in args:
                budget.hashed(value)
                if name in _HASHING_METHODS:
                    budget.charge_items(_contained_items(budget, value, _TUPLES))
    elif name == "fromkeys" and args and type(args[0]) in _COMPARED:
        budget.charge_items(_contained_items(budget, args[0], _TUPLES))
        budget.check_size(_length(args[0]), "a dict")
    elif name == "fromkeys" and args and hasattr(type(args[0]), "__len__"):
        budget.check_size(_length(args[0]), "a dict")
    elif name == "to_bytes" and args and type(args[0]) is int:
        budget.check_size(args[0], "a bytes value")


_TUPLES = frozenset({tuple})
_HASHED = frozenset({dict, set, frozenset, type({}.keys()), type({}.items())})
# methods of sets and dicts that hash every item of their argument
_HASHING_METHODS = frozenset({"update", "union", "intersection", "difference", "symmetric_difference",
                              "intersection_update", "difference_update", "symmetric_difference_update",
                              "issubset", "issuperset", "isdisjoint", "fromkeys"})
_TEXT_METHODS = frozenset({"center", "ljust", "rjust", "zfill", "expandtabs", "replace", "join"})


def _guard_text_method(budget: Budget, name: str, text: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    if name in ("center", "ljust", "rjust", "zfill") and args and type(args[0]) is int:
        budget.check_size(args[0], f"a padded string (str.{name})")
    elif name == "expandtabs":
        tabsize = args[0] if args else kwargs.get("tabsize", 8)
        if type(tabsize) is int:
            budget.check_size(len(text) + text.count("\t") * max(tabsize, 0), "an expanded string")
    elif name == "replace" and len(args) >= 2 and type(args[0]) is str and type(args[1]) is str:
        count = text.count(args[0]) if args[0] else len(text) + 1
        if len(args) > 2 and type(args[2]) is int and args[2] >= 0:
            count = min(count, args[2])
        budget.check_size(len(text) + count * (len(args[1]) - len(args[0])), "a replaced string")
    elif name == "join" and args and type(args[0]) in (list, tuple):
        parts = args[0]
        try:
            size = sum(map(len, parts)) + len(text) * max(len(parts) - 1, 0)
        except TypeError:
            return  # not all strings: join says so itself
        budget.check_size(size, "a joined string")
        budget.charge_items(size)


# -- the AST rewriting ---------------------------------------------------------------------------
_BINOPS: dict[type[ast.operator], str] = {
    ast.Pow: "**", ast.Mult: "*", ast.LShift: "<<", ast.Add: "+", ast.FloorDiv: "//", ast.Mod: "%",
}
_CMPOPS: dict[type[ast.cmpop], str] = {
    ast.In: "in", ast.NotIn: "not in", ast.Eq: "==", ast.NotEq: "!=", ast.Lt: "<", ast.LtE: "<=",
    ast.Gt: ">", ast.GtE: ">=",
}


def _hook(name: str, *args: ast.expr, keywords: list[ast.keyword] | None = None) -> ast.Call:
    """``__budget__.<method>(*args)``: a call of the budget of this evaluation."""
    method = {"format": "format_value", "slice": "make_slice"}.get(name, name)
    func = ast.Attribute(value=ast.Name(id=HOOK_NAME, ctx=ast.Load()), attr=method, ctx=ast.Load())
    return ast.Call(func=func, args=list(args), keywords=keywords or [])


def _hashed(key: ast.expr) -> ast.expr:
    """A key about to be hashed, charged if it is a big tuple (constants are small: left alone)."""
    return key if isinstance(key, ast.Constant | ast.Slice) else _hook("hashed", key)


def _has_starred(target: ast.AST) -> bool:
    return any(isinstance(n, ast.Starred) for n in ast.walk(target))


def _has_slice_store(target: ast.AST) -> bool:
    return any(isinstance(n, ast.Subscript) and isinstance(n.slice, ast.Slice) for n in ast.walk(target))


def _slice_value(part: ast.Slice) -> ast.Call:
    none = ast.Constant(value=None)
    return _hook("slice", part.lower or none, part.upper or none, part.step or none)


class _Instrument(ast.NodeTransformer):
    def _tick_statement(self) -> ast.stmt:
        return ast.Expr(value=_hook("tick"))

    def visit_While(self, node: ast.While) -> ast.AST:
        self.generic_visit(node)
        node.body.insert(0, self._tick_statement())
        return node

    def visit_For(self, node: ast.For) -> ast.AST:
        self.generic_visit(node)
        if _has_starred(node.target):
            node.iter = _hook("each_starred", node.iter)
        node.body.insert(0, self._tick_statement())
        return node

    def visit_comprehension(self, node: ast.comprehension) -> ast.AST:
        self.generic_visit(node)
        if _has_starred(node.target):
            node.iter = _hook("each_starred", node.iter)
        node.ifs.insert(0, _hook("tick"))
        return node

    def visit_Lambda(self, node: ast.Lambda) -> ast.AST:
        """A lambda pays for each call, also when a built-in calls it (``sorted(key=...)``)."""
        self.generic_visit(node)
        node.body = ast.BoolOp(op=ast.And(), values=[_hook("tick"), node.body])
        return node

    def visit_FunctionDef(self, node: ast.FunctionDef) -> ast.AST:
        self.generic_visit(node)
        node.body.insert(0, self._tick_statement())
        return node

    def visit_ExceptHandler(self, node: ast.ExceptHandler) -> ast.AST:
        self.generic_visit(node)
        node.body.insert(0, ast.Expr(value=_hook("check")))
        return node

    def visit_Try(self, node: ast.Try) -> ast.AST:
        self.generic_visit(node)
        if node.finalbody:
            node.finalbody.insert(0, ast.Expr(value=_hook("check")))
        return node

    def visit_BinOp(self, node: ast.BinOp) -> ast.AST:
        self.generic_visit(node)
        op = _BINOPS.get(type(node.op))
        if op is None:
            return node
        return _hook("binop", ast.Constant(value=op), node.left, node.right)

    def visit_AugAssign(self, node: ast.AugAssign) -> ast.AST:
        self.generic_visit(node)
        op = _BINOPS.get(type(node.op))
        if op is None:
            return node
        target = node.target
        if isinstance(target, ast.Name):
            current = ast.Name(id=target.id, ctx=ast.Load())
            return ast.Assign(targets=[target], value=_hook("inplace", ast.Constant(value=op), current, node.value))
        if isinstance(target, ast.Subscript):
            key = _slice_value(target.slice) if isinstance(target.slice, ast.Slice) else target.slice
            return ast.Expr(value=_hook("augitem", target.value, key, ast.Constant(value=op), node.value))
        return node

    def visit_Assign(self, node: ast.Assign) -> ast.AST:
        self.generic_visit(node)
        if any(_has_starred(t) or _has_slice_store(t) for t in node.targets):
            node.value = _hook("materialized", node.value)
        return node

    def visit_Compare(self, node: ast.Compare) -> ast.AST:
        self.generic_visit(node)
        if len(node.ops) == 1:
            op = _CMPOPS.get(type(node.ops[0]))
            if op is None:
                return node
            return _hook("compare", ast.Constant(value=op), node.left, node.comparators[0])
        # a chain (a < b < c): each operand is charged by its size, the comparison stays native
        node.left = _hook("operand", node.left)
        node.comparators = [_hook("operand", c) for c in node.comparators]
        return node

    def visit_Subscript(self, node: ast.Subscript) -> ast.AST:
        self.generic_visit(node)
        if isinstance(node.slice, ast.Slice) and isinstance(node.ctx, ast.Load):
            return _hook("getslice", node.value, _slice_value(node.slice))
        node.slice = _hashed(node.slice)
        return node

    def visit_Dict(self, node: ast.Dict) -> ast.AST:
        self.generic_visit(node)
        node.keys = [None if key is None else _hashed(key) for key in node.keys]
        return node

    def visit_Set(self, node: ast.Set) -> ast.AST:
        self.generic_visit(node)
        node.elts = [e if isinstance(e, ast.Starred) else _hashed(e) for e in node.elts]
        return node

    def visit_DictComp(self, node: ast.DictComp) -> ast.AST:
        self.generic_visit(node)
        node.key = _hashed(node.key)
        return node

    def visit_SetComp(self, node: ast.SetComp) -> ast.AST:
        self.generic_visit(node)
        node.elt = _hashed(node.elt)
        return node

    def visit_Starred(self, node: ast.Starred) -> ast.AST:
        self.generic_visit(node)
        if isinstance(node.ctx, ast.Load):
            node.value = _hook("star", node.value)
        return node

    def visit_FormattedValue(self, node: ast.FormattedValue) -> ast.AST:
        self.generic_visit(node)
        spec: ast.expr = node.format_spec if node.format_spec is not None else ast.Constant(value="")
        value = _hook("format", node.value, ast.Constant(value=node.conversion), spec)
        return ast.FormattedValue(value=value, conversion=-1, format_spec=None)

    def visit_Match(self, node: ast.Match) -> ast.AST:
        """``case [first, *rest]`` and ``case {**rest}`` copy the subject: it is charged by all it holds."""
        self.generic_visit(node)
        copies = any(isinstance(p, ast.MatchStar) or (isinstance(p, ast.MatchMapping) and p.rest)
                     for case in node.cases for p in ast.walk(case.pattern))
        if copies:
            node.subject = _hook("matched", node.subject)
        return node

    def visit_match_case(self, node: ast.match_case) -> ast.AST:
        """Patterns are literals (refused otherwise by check_source): only the guard and body are rewritten."""
        if node.guard is not None:
            node.guard = self.visit(node.guard)
        node.body = [self.visit(statement) for statement in node.body]
        return node

    def visit_Attribute(self, node: ast.Attribute) -> ast.AST:
        """``a.b`` is read through the allowlist of the type ``a`` has when the code runs."""
        self.generic_visit(node)
        if not isinstance(node.ctx, ast.Load):
            return node  # refused by check_source
        return _hook("attribute", node.value, ast.Constant(value=node.attr))

    def visit_Call(self, node: ast.Call) -> ast.AST:
        self.generic_visit(node)
        return _hook("call", node.func, *node.args, keywords=node.keywords)


def instrument(tree: ast.AST) -> ast.AST:
    """Put the budget's checks into a checked script or expression (a new tree; ``tree`` is kept)."""
    import copy

    rewritten = _Instrument().visit(copy.deepcopy(tree))
    return ast.fix_missing_locations(rewritten)
