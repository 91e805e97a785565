"""The real stack for the reference processes: Temporal dev server (session fixture), the cloud
worker and the site's edge worker in-process, two simulated machines on free loopback ports, the
demo plant in a SQLite database under the test's data dir, both processes deployed."""

from __future__ import annotations

import hashlib
import json
import os
import uuid
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from pathlib import Path

import pytest
from support.plant_stack import PROCESSES, Plant, free_port
from temporalio.client import Client

from mom.db import create_database_engine, create_session_factory, upgrade_database
from mom.db.transactions import writing
from mom.deployment import deploy_file
from mom.plant.machine import MachineConfig, SimulatedMachine
from mom.plant.server import MachineServer
from mom.plant_setup import create_demo_plant
from mom.process_store import ProcessStore
from mom.settings import load_settings
from mom.stack.temporal_server import TemporalDevServer
from worker import build_worker


@pytest.fixture
async def plant(temporal_client: Client, temporal_server: TemporalDevServer, data_dir: Path,
                task_queue: str) -> AsyncIterator[Plant]:
    site = f"site{uuid.uuid4().hex[:8]}"
    async with AsyncExitStack() as stack:
        machines = {}
        for name in ("Press1", "Coater1"):
            config = MachineConfig(name=name, cycle_time_s=0.02, acting_time_s=0.01, mtbf_s=0.0, bad_rate=0.0)
            server = MachineServer(SimulatedMachine(config, seed=1), free_port(), tick_s=0.01)
            await server.start()
            stack.push_async_callback(server.stop)
            machines[name] = server
        url = f"sqlite:///{data_dir / 'mom.db'}"
        upgrade_database(url)
        engine = create_database_engine(url)
        stack.callback(engine.dispose)
        sessions = create_session_factory(engine)
        with writing(sessions) as session:
            layout = create_demo_plant(session, site=site, endpoints={n: m.endpoint for n, m in machines.items()})
        store = ProcessStore(data_dir)
        for diagram in ("production_order.bpmn", "quality_deviation.bpmn"):
            deploy_file(store, PROCESSES / diagram, deployed_by="test")
        settings = load_settings(data_dir=data_dir, temporal_address=temporal_server.address)
        await stack.enter_async_context(build_worker(temporal_client, settings, queue=task_queue))
        await stack.enter_async_context(build_worker(temporal_client, settings, edge_site=site))
        yield Plant(temporal_client, task_queue, data_dir, store, sessions, layout, machines)
        record_to = os.environ.get("MOM_RECORD_HISTORIES")
        if record_to:
            await record_histories(temporal_client, task_queue, store, Path(record_to))


async def record_histories(client: Client, task_queue: str, store: ProcessStore, out: Path) -> None:
    """Keep the histories of the reference processes this test ran, for tests/replay (see there)."""
    out.mkdir(parents=True, exist_ok=True)
    query = f"WorkflowType = 'BpmnProcess' AND ExecutionStatus = 'Completed' AND TaskQueue = '{task_queue}'"
    async for execution in client.list_workflows(query):
        process_id = await execution.memo_value("process_id", default="process")
        history = await client.get_workflow_handle(execution.id, run_id=execution.run_id).fetch_history()
        first = history.events[0].workflow_execution_started_event_attributes
        sha = json.loads(first.input.payloads[0].data)["spec_sha256"]
        name = f"{process_id}-{hashlib.sha256(execution.id.encode()).hexdigest()[:8]}"
        (out / f"{name}.history.json").write_text(history.to_json())
        (out / f"{sha}.spec.json").write_text(store.load_spec(sha))
