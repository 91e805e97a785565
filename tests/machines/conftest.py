"""Fixtures of the end-to-end machine tests: a simulated machine on a free loopback port, the cloud
worker in-process, and ONE edge worker process per module that a test may SIGKILL and restart."""

from __future__ import annotations

import socket
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from support.worker_process import WorkerProcess

from mom.plant.machine import MachineConfig, SimulatedMachine
from mom.plant.server import MachineServer
from mom.settings import load_settings
from mom.stack.temporal_server import TemporalDevServer
from worker import build_worker


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class EdgeWorker:
    """The site's edge worker process; ``kill()`` is a crash (SIGKILL), ``restart()`` a new process."""

    def __init__(self, server: TemporalDevServer, data_dir: Path, log_dir: Path) -> None:
        self.site = f"site-{uuid.uuid4().hex[:8]}"
        self.server, self.data_dir, self.log_dir = server, data_dir, log_dir
        self.processes: list[WorkerProcess] = []

    def start(self) -> EdgeWorker:
        process = WorkerProcess(self.server.address, self.data_dir, "", self.log_dir / "edge.log", edge=self.site)
        self.processes.append(process.start())
        return self

    def kill(self) -> None:
        self.processes[-1].kill()

    def stop(self) -> None:
        for process in self.processes:
            process.stop()


@pytest.fixture(scope="module")
def edge_worker(temporal_server: TemporalDevServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[EdgeWorker]:
    base = tmp_path_factory.mktemp("edge")
    (base / "data").mkdir()
    worker = EdgeWorker(temporal_server, base / "data", base).start()
    yield worker
    worker.stop()


@pytest.fixture
async def cloud_worker(temporal_client: Any, temporal_server: TemporalDevServer, data_dir: Path,
                       task_queue: str) -> AsyncIterator[None]:
    settings = load_settings(data_dir=data_dir, temporal_address=temporal_server.address)
    async with build_worker(temporal_client, settings, queue=task_queue):
        yield


@pytest.fixture
async def machine_server() -> AsyncIterator[Callable[..., Awaitable[MachineServer]]]:
    """Factory: ``await machine_server(name, server={...}, **machine_config)``; Idle, no breakdowns."""
    servers: list[MachineServer] = []

    async def start(name: str = "Press1", server: dict[str, Any] | None = None, **config: Any) -> MachineServer:
        settings = {"cycle_time_s": 0.05, "acting_time_s": 0.02, "mtbf_s": 0.0, **config}
        srv = MachineServer(SimulatedMachine(MachineConfig(name=name, **settings), seed=1), free_port(),
                            tick_s=0.01, **(server or {}))
        await srv.start()
        servers.append(srv)
        return srv

    yield start
    for srv in servers:
        await srv.stop()
