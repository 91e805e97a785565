"""The restricted script engine for BPMN scripts, conditions and expressions.

Diagrams are data, not code: a script can read and set process variables and use a small set of
pure built-ins, but it cannot import, open files, reach the network, or climb the object graph
through dunder attributes. Every expression is checked (AST) and compiled once, then cached.

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


# Frames, generators, coroutines, tracebacks and code objects lead back to module globals (and so to
# ``builtins``) without a single dunder: ``(g.gi_frame.f_back for _ in [1])`` climbs out of the script.
_INTERNAL_ATTRIBUTE_PREFIXES = ("gi_", "cr_", "ag_", "f_", "tb_", "co_")


class ScriptNotAllowed(ValueError):
    """A script or expression uses a construct diagrams may not use."""


def check_source(source: str, mode: str) -> ast.AST:
    """Parse ``source`` and refuse imports, dunder names/attributes and forbidden built-ins."""
    try:
        tree = ast.parse(source, mode=mode)
    except SyntaxError as exc:
        raise ScriptNotAllowed(f"syntax error at line {exc.lineno}: {exc.msg}") from None
    for node in ast.walk(tree):
        if isinstance(node, ast.Import | ast.ImportFrom):
            raise ScriptNotAllowed("imports are not allowed in diagram scripts")
        if isinstance(node, ast.Global | ast.Nonlocal):
            raise ScriptNotAllowed("global/nonlocal are not allowed in diagram scripts")
        if isinstance(node, ast.Attribute) and node.attr.startswith("_"):
            raise ScriptNotAllowed(f"attribute '{node.attr}' is not allowed (names starting with _)")
        if isinstance(node, ast.Attribute) and node.attr.startswith(_INTERNAL_ATTRIBUTE_PREFIXES):
            raise ScriptNotAllowed(f"attribute '{node.attr}' is not allowed (frame, generator and code internals)")
        if isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store | ast.Del):
            raise ScriptNotAllowed(f"setting attribute '{node.attr}' is not allowed; set process variables instead")
        if isinstance(node, ast.Attribute) and node.attr in ("format", "format_map"):
            raise ScriptNotAllowed("str.format can reach object internals; use an f-string")
        if isinstance(node, ast.Name) and (node.id.startswith("__") or node.id in _FORBIDDEN_CALLS):
            raise ScriptNotAllowed(f"name '{node.id}' is not allowed in diagram scripts")
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
