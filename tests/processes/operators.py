"""Scripted people: wait for a user task of an instance and complete it as a person would."""

from __future__ import annotations

import asyncio
from typing import Any

from temporalio.client import Client

from mom import instances
from mom.instances import StartedInstance
from mom.process_store import ProcessStore


async def next_task(client: Client, workflow_id: str, element_id: str, timeout: float = 30.0) -> dict[str, Any]:
    """The pending user task ``element_id``; fails with the instance state when it does not come."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    state: dict[str, Any] = {}
    while loop.time() < deadline:
        state = await instances.instance_state(client, workflow_id)
        for task in state["user_tasks"]:
            if task["element_id"] == element_id:
                return dict(task)
        assert state["status"] not in ("completed", "incident"), f"{element_id} never came: {state}"
        await asyncio.sleep(0.1)
    raise AssertionError(f"user task {element_id} not pending within {timeout} s; state: {state}")


async def complete(client: Client, workflow_id: str, element_id: str, data: dict[str, Any],
                   user: str = "tester") -> dict[str, Any]:
    task = await next_task(client, workflow_id, element_id)
    await instances.complete_user_task(client, workflow_id, task["task_id"], data, user=user,
                                       signature=task.get("signature"))  # the tester signs (J.3)
    return task


async def start(client: Client, store: ProcessStore, process_id: str, task_queue: str,
                variables: dict[str, Any], started_by: str | None = None) -> StartedInstance:
    return await instances.start_instance(client, store, process_id, task_queue=task_queue, variables=variables,
                                          started_by=started_by)


async def run_order(client: Client, store: ProcessStore, task_queue: str, order_number: str,
                    measured: dict[int, float], *, schedule_first: bool = False) -> str:
    """An operator runs both operations of an order: stages lots (first a held lot and a lot of
    the wrong material, both refused), measures as given per operation sequence. Each step is
    completed as the user whose badge the form gives."""
    started = await start(client, store, "production_order", task_queue,
                          {"order_number": order_number, "schedule_first": schedule_first})
    wid = started.workflow_id
    await complete(client, wid, "stage_material", {"operator_id": "op-ann", "lot_ids": "SHEET-002"}, user="op-ann")
    await complete(client, wid, "stage_material", {"operator_id": "op-ann", "lot_ids": "PAINT-001"}, user="op-ann")
    await complete(client, wid, "stage_material", {"operator_id": "op-ann", "lot_ids": "SHEET-001"}, user="op-ann")
    await complete(client, wid, "quality_check", {"inspector_id": "qa-bob", "measured_value": measured[10]},
                   user="qa-bob")
    await complete(client, wid, "stage_material", {"operator_id": "op-carl",
                                                   "lot_ids": f"{order_number}-10\nPAINT-001"}, user="op-carl")
    await complete(client, wid, "quality_check", {"inspector_id": "qa-bob", "measured_value": measured[20]},
                   user="qa-bob")
    return wid
