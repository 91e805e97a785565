"""Shared fixtures: one real Temporal dev server per test session (SQLite file, loopback)."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from support.leftovers import opcua_leftovers, opcua_tasks
from temporalio.client import Client

from mom.stack.temporal_server import TemporalDevServer, connect_when_ready

ROOT = Path(__file__).resolve().parent.parent
DIAGRAMS = Path(__file__).resolve().parent / "diagrams"


@pytest.fixture(autouse=True)
async def no_opcua_left_running() -> AsyncIterator[None]:
    """Every OPC UA client and server a test starts is closed when it ends (see support/leftovers)."""
    before = set(opcua_tasks())
    yield
    left = await opcua_leftovers(before)
    assert not left, f"OPC UA tasks left running after the test: {left}"


@pytest.fixture(scope="session")
def temporal_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TemporalDevServer]:
    base = tmp_path_factory.mktemp("temporal")
    server = TemporalDevServer(db_file=base / "temporal.db", log_file=base / "temporal.log")
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
async def temporal_client(temporal_server: TemporalDevServer) -> AsyncIterator[Client]:
    client = await connect_when_ready(temporal_server.address)
    yield client


@pytest.fixture
def task_queue() -> str:
    return f"test-{uuid.uuid4().hex[:12]}"


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    path = tmp_path / "data"
    path.mkdir()
    return path


@pytest.fixture(scope="session")
def artifacts_dir() -> Path:
    path = Path(os.environ.get("MOM_TEST_ARTIFACTS", ROOT / "test-artifacts"))
    path.mkdir(parents=True, exist_ok=True)
    return path
