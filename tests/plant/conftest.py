"""Fixtures of the plant tests: fast simulated machines served on free loopback ports."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest

from mom.plant.machine import MachineConfig, SimulatedMachine
from mom.plant.server import MachineServer

FAST = {"cycle_time_s": 0.02, "acting_time_s": 0.02, "mtbf_s": 0.0}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture
async def machine_server() -> AsyncIterator[Callable[..., Awaitable[MachineServer]]]:
    """Factory: ``await machine_server(name="Press1", **config)`` starts a fast machine server."""
    servers: list[MachineServer] = []

    async def start(name: str = "Press1", seed: int = 1, server: dict[str, Any] | None = None, **config: Any):
        machine = SimulatedMachine(MachineConfig(name=name, **{**FAST, **config}), seed=seed)
        srv = MachineServer(machine, free_port(), tick_s=0.01, **(server or {}))
        await srv.start()
        servers.append(srv)
        return srv

    yield start
    for srv in servers:
        await srv.stop()
