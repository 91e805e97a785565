"""Diagram scripts and conditions cannot import, open files, reach the network or climb objects."""

from __future__ import annotations

import pytest

from bpmn.script_engine import RestrictedEnvironment, ScriptNotAllowed

ESCAPES = [
    "__import__('os').system('true')",
    "open('/etc/passwd').read()",
    "().__class__.__bases__[0].__subclasses__()",
    "getattr(1, '__class__')",
    "type(1)",
    "eval('1')",
    "exec('x = 1')",
    "compile('1', 'f', 'eval')",
    "globals()",
    "'{0.__class__}'.format(1)",
    "[c for c in ().__class__.__mro__]",
    "(lambda: 1).__globals__",
    "vars()",
]


@pytest.mark.parametrize("expression", ESCAPES)
def test_escape_attempt_is_refused(expression: str) -> None:
    env = RestrictedEnvironment()
    with pytest.raises(ScriptNotAllowed):
        env.evaluate(expression, {})


@pytest.mark.parametrize("script", ["import socket", "from os import path", "import urllib.request"])
def test_imports_are_refused_in_scripts(script: str) -> None:
    with pytest.raises(ScriptNotAllowed, match="imports are not allowed"):
        RestrictedEnvironment().execute(script, {})


def test_builtins_cannot_be_reached_through_data() -> None:
    env = RestrictedEnvironment()
    with pytest.raises(NameError):
        env.evaluate("socket", {})
    data: dict[str, object] = {"__builtins__": __builtins__}
    with pytest.raises(ScriptNotAllowed):
        env.evaluate("__builtins__", data)


def test_ordinary_plant_scripts_work() -> None:
    env = RestrictedEnvironment()
    data: dict[str, object] = {"good": 95, "bad": 5, "lots": ["L1", "L2"]}
    env.execute("scrap_rate = round(bad / (good + bad), 3)\nlabel = f'{len(lots)} lots'\n"
                "total = sum([1 for lot in lots if lot.startswith('L')])", data)
    assert data["scrap_rate"] == 0.05
    assert data["label"] == "2 lots"
    assert data["total"] == 2
    assert env.evaluate("max(good, bad) > 90 and 'L1' in lots", data) is True
