"""FEEL, Camunda 8's expression language, evaluated safely (phase 1 of issue N: not yet used by the engine).

API for the engine (phase 2) and the ``mom feel`` command::

    compiled = compile_expression("if x > 5 then \\"big\\" else \\"small\\"")   # parsed once, cached
    compiled.evaluate({"x": 7})                     # -> "big"
    compile_unary_tests("[250..1000]").matches(300, {})  # a DMN input entry -> True
    to_json(value)                                  # a result as JSON (see mom.feel.values)

Errors are ``FeelError`` with ``expression`` and ``position`` (1-based column). Evaluation is
deterministic: ``now()``/``today()`` read the ``now`` argument (the workflow passes Temporal's time).
The modules: ``grammar`` (lark LALR grammar and node tree), ``interpreter`` (evaluation, budget),
``builtins`` (FEEL's functions), ``values`` (FEEL values, JSON).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken

from mom.feel import builtins as _builtins  # noqa: F401  (registers the built-in functions)
from mom.feel.grammar import Node, ReservedName, parse
from mom.feel.interpreter import MAX_DEPTH, MAX_STEPS, Budget, Evaluator, FeelError, Scope, _Failure
from mom.feel.values import from_python, to_json, to_string

MAX_EXPRESSION_LENGTH = 20_000

__all__ = ["MAX_STEPS", "CompiledFeel", "CompiledUnaryTests", "FeelError", "compile_expression",
           "compile_unary_tests", "evaluate", "to_json", "to_string"]


def _parse(text: str, start: str) -> Node:
    if len(text) > MAX_EXPRESSION_LENGTH:
        raise FeelError(f"longer than {MAX_EXPRESSION_LENGTH} characters", text[:60] + "...", 0)
    if not text.strip():
        raise FeelError("the expression is empty", text, 1)
    try:
        return parse(text, start)
    except UnexpectedInput as error:
        raise FeelError(_syntax_message(error, text), text, int(getattr(error, "column", 0) or 0)) from None
    except ReservedName as error:
        raise FeelError(str(error), text, error.position) from None
    except RecursionError:
        raise FeelError(f"nested deeper than FEEL allows (about {MAX_DEPTH} levels)", text, 0) from None


def _syntax_message(error: UnexpectedInput, text: str) -> str:
    if isinstance(error, UnexpectedCharacters):
        return f"unexpected character {text[error.pos_in_stream or 0]!r}"
    if isinstance(error, UnexpectedEOF) or (isinstance(error, UnexpectedToken) and error.token.type == "$END"):
        return "the expression ends too early"
    if isinstance(error, UnexpectedToken):
        return f"unexpected {str(error.token)!r}"
    return "syntax error"


def _run(node: Node, text: str, scope: Scope, now: dt.datetime | None, max_steps: int) -> Any:
    evaluator = Evaluator(Budget(now, max_steps))
    try:
        return evaluator.eval(node, scope)
    except _Failure as failure:
        raise FeelError(failure.message, text, failure.position) from None
    except RecursionError:
        raise FeelError(f"evaluation nested deeper than {MAX_DEPTH} levels", text, 0) from None


@dataclass(frozen=True)
class CompiledFeel:
    """A parsed FEEL expression; ``evaluate`` may be called any number of times."""

    text: str
    node: Node

    def evaluate(self, variables: dict[str, Any] | None = None, *, now: dt.datetime | None = None,
                 max_steps: int = MAX_STEPS) -> Any:
        try:
            scope = Scope({str(k): from_python(v) for k, v in (variables or {}).items()})
        except RecursionError:
            raise FeelError(f"the variables are nested deeper than {MAX_DEPTH * 8} levels", self.text, 0) from None
        return _run(self.node, self.text, scope, now, max_steps)


@dataclass(frozen=True)
class CompiledUnaryTests:
    """Parsed unary tests (a DMN input entry such as ``< 10``, ``[250..1000]``, ``"a","b"``, ``-``)."""

    text: str
    node: Node

    def matches(self, input_value: Any, variables: dict[str, Any] | None = None, *,
                now: dt.datetime | None = None, max_steps: int = MAX_STEPS) -> bool | None:
        values = {str(k): from_python(v) for k, v in (variables or {}).items()}
        values["?"] = from_python(input_value)
        result = _run(self.node, self.text, Scope(values), now, max_steps)
        return result if isinstance(result, bool) else None


@lru_cache(maxsize=4096)
def compile_expression(text: str) -> CompiledFeel:
    """Parse a FEEL expression (cached); raises FeelError naming the position of a syntax error."""
    return CompiledFeel(text, _parse(text, "start"))


@lru_cache(maxsize=4096)
def compile_unary_tests(text: str) -> CompiledUnaryTests:
    return CompiledUnaryTests(text, _parse(text, "unary_tests"))


def evaluate(text: str, variables: dict[str, Any] | None = None, *, now: dt.datetime | None = None) -> Any:
    return compile_expression(text).evaluate(variables, now=now)
