"""The restricted script engine for BPMN scripts, conditions and expressions.

Diagrams are data, not code: a script can read and set process variables and use a small set of
pure built-ins, but it cannot import, open files, reach the network, or climb the object graph.
Every expression is checked (AST) and compiled once, then cached.

The sandbox is built from allowlists, not from a list of blocked words (issue J.1: ``match`` class
patterns did a ``getattr`` by keyword, walked ``int.mro()[-1].__subclasses__()`` to ``os.popen`` and
passed a dunder denylist). :mod:`bpmn.script_allowlist` holds the design and the lists:

- **syntax**: every node class of the running Python's :mod:`ast` is allowed or refused (a test
  enumerates them all, so a new Python version cannot add syntax silently); ``match`` class
  patterns, classes, ``with``, ``yield``, ``async``, imports and annotations are refused;
- **names**: no identifier starting with ``__`` in any position (names, arguments, keywords,
  pattern captures), so ``__builtins__`` and the budget's ``__budget__`` stay out of reach;
- **attributes**: only the listed plain methods and properties of ``str``, numbers, containers,
  ``datetime``/``timedelta`` values and :mod:`math`, checked by name at lint (the refusal names
  the line) and again when the code runs, on the object's actual type (every ``a.b`` is rewritten
  into a call of :meth:`~bpmn.script_budget.Budget.attribute`);
- **globals**: :data:`SAFE_BUILTINS` (pure functions and a few exception classes: no ``type``,
  ``object``, ``getattr``, ``vars``, ``open``...), ``now``, ``timedelta``, ``UTC`` and ``math``.

From these starting values nothing listed returns a class, module, function globals, frame or
code object, so a script can only reach more plain values. Defence in depth beyond the sandbox:
test runs are audited (who, the diagram's SHA-256), trial instances ending in an incident are
ended, and the production image runs as an unprivileged user.

Every evaluation also runs against a budget (:mod:`bpmn.script_budget`): operations, sizes,
integer digits and call depth are counted deterministically, and a script that runs away fails
with :class:`~bpmn.script_budget.ScriptBudgetExceeded` naming its element, which the engine turns
into an incident of that instance.
"""

from __future__ import annotations

import ast
import builtins
import contextlib
import copy
import math
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any

from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine, TaskDataEnvironment

from bpmn.clock import current_time
from bpmn.script_allowlist import node_refusal
from bpmn.script_budget import (
    HOOK_NAME,
    Budget,
    ScriptBudgetExceeded,
    ScriptLimits,
    configured_limits,
    instrument,
)

_SAFE_NAMES = (
    "abs", "all", "any", "bool", "dict", "divmod", "enumerate", "filter", "float", "format", "frozenset",
    "int", "isinstance", "len", "list", "map", "max", "min", "pow", "range", "repr", "reversed", "round",
    "set", "slice", "sorted", "str", "sum", "tuple", "zip", "ArithmeticError", "Exception", "KeyError",
    "TypeError", "ValueError", "ZeroDivisionError", "IndexError",
)
SAFE_BUILTINS: dict[str, Any] = {name: getattr(builtins, name) for name in _SAFE_NAMES}
_FORBIDDEN_CALLS = {
    "eval", "exec", "compile", "open", "__import__", "globals", "locals", "vars", "getattr", "setattr",
    "delattr", "breakpoint", "input", "memoryview", "type", "object", "super", "help", "exit", "quit",
}


class ScriptNotAllowed(ValueError):
    """A script or expression uses a construct diagrams may not use; ``line`` is its line in the code."""

    def __init__(self, message: str, line: int | None = None) -> None:
        super().__init__(message if line is None else f"line {line}: {message}")
        self.reason = message
        self.line = line


def _refusals(node: ast.AST, line: int) -> Iterator[tuple[ast.AST, int]]:
    """Every node under ``node`` with the line it is on (operators and contexts take their parent's)."""
    stack = [(node, line)]
    while stack:
        node, line = stack.pop()
        line = getattr(node, "lineno", None) or line
        yield node, line
        stack.extend((child, line) for child in reversed(list(ast.iter_child_nodes(node))))


def check_source(source: str, mode: str) -> ast.AST:
    """Parse ``source`` and refuse any syntax, name or attribute not on the allowlists of
    :mod:`bpmn.script_allowlist`; the refusal names the line of the code."""
    try:
        tree = ast.parse(source, mode=mode)
    except SyntaxError as exc:
        raise ScriptNotAllowed(f"syntax error at line {exc.lineno}: {exc.msg}") from None
    except (ValueError, RecursionError, MemoryError) as exc:  # null bytes, nesting too deep for the parser
        raise ScriptNotAllowed(f"the code cannot be parsed: {type(exc).__name__}") from None
    for node, line in _refusals(tree, 1):
        refusal = node_refusal(node)
        if refusal is None and isinstance(node, ast.Name) and node.id in _FORBIDDEN_CALLS:
            refusal = f"name '{node.id}' is not allowed in diagram scripts"
        if refusal is not None:
            raise ScriptNotAllowed(refusal, line)
    return tree


@lru_cache(maxsize=4096)
def compile_checked(source: str, mode: str) -> Any:
    """The checked source, instrumented with the budget's checks, compiled."""
    tree = instrument(check_source(source, mode))
    return compile(tree, "<diagram>", mode)  # type: ignore[call-overload]


def _now() -> datetime:
    return current_time()


SCRIPT_GLOBALS: dict[str, Any] = {
    "__builtins__": SAFE_BUILTINS,
    "timedelta": timedelta,
    "now": _now,
    "UTC": UTC,
    "math": math,
}


class RestrictedEnvironment(TaskDataEnvironment):  # type: ignore[misc]
    """Runs checked, instrumented code; each evaluation gets a fresh :class:`Budget` of ``limits``
    (default: the ``MOM_SCRIPT_*`` settings of this process)."""

    def __init__(self, limits: ScriptLimits | None = None) -> None:
        super().__init__(dict(SCRIPT_GLOBALS))
        self.limits = limits
        self.where: str | None = None  # "script of task 'calc'", set by RestrictedScriptEngine

    def _budget(self, default_where: str) -> Budget:
        return Budget(self.limits or configured_limits(), self.where or default_where)

    def evaluate(self, expression: str, context: dict[str, Any], external_context: Any = None) -> Any:
        code = compile_checked(expression.strip(), "eval")
        budget = self._budget("expression")
        my_globals = copy.copy(self.globals)
        my_globals.update(external_context or {})
        my_globals.update(context)
        my_globals.update(budget.hooks())
        my_globals["__builtins__"] = SAFE_BUILTINS
        result = eval(code, my_globals)
        budget.check()
        budget.check_data(result)
        return result

    def execute(self, script: str, context: dict[str, Any], external_context: Any = None) -> bool:
        code = compile_checked(script, "exec")
        self.check_for_overwrite(context, external_context or {})
        budget = self._budget("script")
        context.update(copy.copy(self.globals))
        context.update(external_context or {})
        context.update(budget.hooks())
        context["__builtins__"] = SAFE_BUILTINS
        try:
            exec(code, context)
            budget.check()
        finally:
            context.pop(HOOK_NAME, None)
            self._remove_globals_and_functions_from_context(context, external_context)
        budget.check_data(context)
        return True


def _shorten(text: str, limit: int = 60) -> str:
    text = " ".join(text.split())
    return repr(text if len(text) <= limit else text[: limit - 3] + "...")


class RestrictedScriptEngine(PythonScriptEngine):  # type: ignore[misc]
    """SpiffWorkflow's engine with the restricted environment; a budget error names the element."""

    environment: RestrictedEnvironment

    def evaluate(self, task: Any, expression: str, external_context: Any = None) -> Any:
        spec = task.task_spec
        element = getattr(spec, "bpmn_id", None) or spec.name
        kind = "condition at gateway" if "Gateway" in type(spec).__name__ else "expression of"
        with self._at(task, f"{kind} '{element}' ({_shorten(expression)})"):
            return super().evaluate(task, expression, external_context)

    def execute(self, task: Any, script: str, external_context: Any = None) -> Any:
        spec = task.task_spec
        element = getattr(spec, "bpmn_id", None) or spec.name
        with self._at(task, f"script of task '{element}'"):
            return super().execute(task, script, external_context)

    @contextlib.contextmanager
    def _at(self, task: Any, where: str) -> Iterator[None]:
        """Budget errors name ``where``; SpiffWorkflow's wrapper would drop or mangle their text."""
        previous, self.environment.where = self.environment.where, where
        try:
            yield
        except WorkflowTaskException as exc:
            cause = exc.__cause__ or exc.__context__
            if isinstance(cause, ScriptBudgetExceeded):
                raise WorkflowTaskException(str(cause), task=task, exception=cause) from cause
            raise
        finally:
            self.environment.where = previous


def restricted_script_engine(limits: ScriptLimits | None = None) -> PythonScriptEngine:
    return RestrictedScriptEngine(environment=RestrictedEnvironment(limits))
