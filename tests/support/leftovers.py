"""What a test must not leave running: OPC UA clients and servers (asyncua tasks) in the session's
event loop. A machine session left open after its server stopped reconnects and re-publishes for
the rest of the run, logging a traceback a second, and slows every later test."""

from __future__ import annotations

import asyncio
import time
from collections import Counter

ASYNCUA = "/asyncua/"


def _name(task: asyncio.Task[object]) -> str:
    coro = task.get_coro()
    return getattr(coro, "__qualname__", repr(coro))


def _is_opcua(task: asyncio.Task[object]) -> bool:
    code = getattr(task.get_coro(), "cr_code", None)
    return code is not None and ASYNCUA in code.co_filename


def opcua_tasks() -> list[asyncio.Task[object]]:
    return [t for t in asyncio.all_tasks() if not t.done() and _is_opcua(t)]


async def opcua_leftovers(before: set[asyncio.Task[object]], grace_s: float = 2.0) -> dict[str, int]:
    """The asyncua tasks started since ``before`` that are still running after ``grace_s``
    (a closed client's tasks end within a few loop turns), by coroutine name."""
    deadline = time.monotonic() + grace_s
    while True:
        left = [t for t in opcua_tasks() if t not in before]
        if not left or time.monotonic() >= deadline:
            return dict(Counter(_name(t) for t in left))
        await asyncio.sleep(0.05)
