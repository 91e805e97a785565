"""The search attributes the process instances publish (workflows.instance_status) exist wherever an
instance runs: the embedded dev server registers them at start (``mom up``, demo, tests), and a worker
registers those a server lacks (a cluster, docker-compose's Temporal) before it runs any instance."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from temporalio.api.operatorservice.v1 import ListSearchAttributesRequest

from mom.cli.stack import components
from mom.instance_list import register_search_attributes
from mom.settings import load_settings
from mom.stack.temporal_server import TemporalDevServer, connect_when_ready
from worker import build_worker
from workflows.instance_status import ATTRIBUTES


class BareDevServer(TemporalDevServer):
    """A dev server started without our ``--search-attribute`` options (as a cluster is set up)."""

    def command(self) -> list[str]:
        cmd = super().command()
        return [part for i, part in enumerate(cmd)
                if part != "--search-attribute" and (i == 0 or cmd[i - 1] != "--search-attribute")]


async def custom_attributes(server: TemporalDevServer) -> dict[str, int]:
    client = await connect_when_ready(server.address)
    answer = await client.operator_service.list_search_attributes(ListSearchAttributesRequest(namespace="default"))
    return dict(answer.custom_attributes)


def test_mom_up_registers_them(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MOM_DATA_DIR", str(tmp_path))
    temporal = next(c for c in components(load_settings(), 0, 1) if c.name == "temporal")
    for name, kind in ATTRIBUTES.items():
        assert f"{name}={kind}" in temporal.command, temporal.command


@pytest.mark.timeout(120)
async def test_the_dev_server_has_them_and_a_worker_adds_what_a_server_lacks(tmp_path: Path) -> None:
    server = TemporalDevServer(db_file=None).start()
    try:
        assert set(ATTRIBUTES) <= set(await custom_attributes(server))
    finally:
        server.stop()
    bare = BareDevServer(db_file=None).start()
    try:
        assert not set(ATTRIBUTES) & set(await custom_attributes(bare))
        client = await connect_when_ready(bare.address)
        assert await register_search_attributes(client) == sorted(ATTRIBUTES)
        assert set(ATTRIBUTES) <= set(await custom_attributes(bare))
        assert await register_search_attributes(client) == []
    finally:
        bare.stop()


@pytest.mark.timeout(120)
async def test_a_cloud_worker_registers_them_on_an_older_data_directory(tmp_path: Path) -> None:
    """A dev server's SQLite file from before them: ``start-dev --search-attribute`` adds nothing to an
    existing namespace, so the worker ``mom up`` starts registers them before it runs any instance."""
    older = BareDevServer(db_file=tmp_path / "temporal.db").start()
    older.stop()
    server = TemporalDevServer(db_file=tmp_path / "temporal.db").start()
    try:
        assert not set(ATTRIBUTES) & set(await custom_attributes(server))
        client = await connect_when_ready(server.address)
        async with build_worker(client, load_settings(data_dir=tmp_path / "data"), queue="attributes"):
            deadline = 50
            while not set(ATTRIBUTES) <= set(await custom_attributes(server)) and deadline:
                await asyncio.sleep(0.1)
                deadline -= 1
        assert set(ATTRIBUTES) <= set(await custom_attributes(server))
    finally:
        server.stop()
