"""Driving process instances in tests: deploy, start, wait for a state."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

from temporalio.client import Client

from mom import instances
from mom.deployment import deploy_file
from mom.process_store import ProcessStore

DIAGRAMS = Path(__file__).resolve().parent.parent / "diagrams"


async def wait_for_state(client: Client, workflow_id: str, predicate: Callable[[dict[str, Any]], Any],
                         timeout: float = 60.0) -> dict[str, Any]:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    state: dict[str, Any] = {}
    while loop.time() < deadline:
        try:
            state = await instances.instance_state(client, workflow_id)
        except Exception:  # not started yet / worker restarting
            await asyncio.sleep(0.2)
            continue
        if predicate(state):
            return state
        await asyncio.sleep(0.1)
    raise AssertionError(f"condition not reached within {timeout} s; last state: {state}")


async def start(client: Client, data_dir: Path, diagram: str, task_queue: str,
                variables: dict[str, Any] | None = None) -> str:
    store = ProcessStore(data_dir)
    deployment = deploy_file(store, DIAGRAMS / diagram, deployed_by="test")
    started = await instances.start_instance(client, store, deployment.version.process_id,
                                             task_queue=task_queue, variables=variables or {})
    return started.workflow_id
