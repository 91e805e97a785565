"""Fixtures of the connector tests: real asyncua machine servers on free loopback ports, a TCP
proxy that can cut or refuse the link, and short client timeouts."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from opcua_testing import FAST, OPTIONS, TcpProxy, free_port

from connectors.opcua import EndpointSession, SessionOptions, SessionPool
from mom.plant.machine import MachineConfig, SimulatedMachine
from mom.plant.server import MachineServer


@pytest.fixture
async def machine_server() -> AsyncIterator[Callable[..., Awaitable[MachineServer]]]:
    """Factory: ``await machine_server(name="Press1", port=None, server={...}, **machine_config)``."""
    servers: list[MachineServer] = []

    async def start(
        name: str = "Press1",
        seed: int = 1,
        port: int | None = None,
        server: dict[str, Any] | None = None,
        **config: Any,
    ) -> MachineServer:
        machine = SimulatedMachine(MachineConfig(name=name, **{**FAST, **config}), seed=seed)
        srv = MachineServer(machine, port or free_port(), tick_s=0.01, **(server or {}))
        await srv.start()
        servers.append(srv)
        return srv

    yield start
    for srv in servers:
        await srv.stop()


@pytest.fixture
async def proxy() -> AsyncIterator[Callable[[int], Awaitable[TcpProxy]]]:
    proxies: list[TcpProxy] = []

    async def start(target_port: int) -> TcpProxy:
        p = TcpProxy(target_port)
        await p.start()
        proxies.append(p)
        return p

    yield start
    for p in proxies:
        await p.stop()


@pytest.fixture
async def open_session() -> AsyncIterator[Callable[..., Awaitable[EndpointSession]]]:
    sessions: list[EndpointSession] = []

    async def open_(endpoint: str, options: SessionOptions = OPTIONS) -> EndpointSession:
        session = await EndpointSession.open(endpoint, options)
        sessions.append(session)
        return session

    yield open_
    for s in sessions:
        await s.close()


@pytest.fixture
async def pool() -> AsyncIterator[SessionPool]:
    p = SessionPool(OPTIONS)
    yield p
    await p.close()
