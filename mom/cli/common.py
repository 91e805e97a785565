"""Helpers shared by the command modules: settings, Temporal connection, output."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Coroutine
from typing import Any, TypeVar

from rich.console import Console

from mom.settings import Settings, load_settings

T = TypeVar("T")
# emoji=False: diagram text such as the connector type ``io.camunda:email:1`` must print as written,
# not with ``:email:`` turned into an envelope. Text from a diagram or an instance is printed with
# markup=False or as rich.text.Text, never as markup.
console = Console(emoji=False)
errors = Console(stderr=True, emoji=False)


def parse_vars(items: list[str] | None) -> dict[str, Any]:
    """``k=v`` pairs; values are JSON when they parse (``qty=25`` is 25), else strings."""
    variables: dict[str, Any] = {}
    for item in items or []:
        if "=" not in item:
            raise SystemExit(f"--var {item!r}: expected NAME=VALUE")
        name, raw = item.split("=", 1)
        try:
            variables[name.strip()] = json.loads(raw)
        except json.JSONDecodeError:
            variables[name.strip()] = raw
    return variables


def parse_json_arg(text: str, option: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise SystemExit(f"{option}: not valid JSON ({exc.msg} at column {exc.colno})") from None


def settings() -> Settings:
    return load_settings()


def run_async(coro: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coro)


def print_json(value: Any) -> None:
    sys.stdout.write(json.dumps(value, indent=2, default=str) + "\n")


async def connect(settings: Settings) -> Any:
    from mom.temporal_connection import connect as connect_temporal

    try:
        return await connect_temporal(settings)
    except Exception as exc:
        raise SystemExit(
            f"cannot reach Temporal at {settings.temporal_address} ({exc}); start the stack with 'mom up'"
        ) from None
