"""Waiting on a BPMN signal's board workflow: signals are not kept, so a test broadcasts only once the
waiting instances subscribed, and ends only once the board closed."""

from __future__ import annotations

import asyncio
import json

from temporalio.client import Client, WorkflowExecutionStatus

from workflows.contracts import signal_board_id


async def subscribers(client: Client, name: str) -> int:
    """How many subscribe signals the board of ``name`` received (minus unsubscribes)."""
    try:
        history = await client.get_workflow_handle(signal_board_id(name)).fetch_history()
    except Exception:
        return 0
    events = json.loads(history.to_json())["events"]
    count = 0
    for event in events:
        attributes = event.get("workflowExecutionSignaledEventAttributes") or {}
        count += {"subscribe": 1, "unsubscribe": -1}.get(attributes.get("signalName", ""), 0)
    started = events[0].get("workflowExecutionStartedEventAttributes", {})
    return count + (1 if started.get("startSignal") else 0)


async def wait_subscribed(client: Client, name: str, count: int = 1) -> None:
    for _ in range(600):
        if await subscribers(client, name) >= count:
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"{count} instance(s) did not subscribe to signal {name}")


async def wait_board_closed(client: Client, name: str) -> None:
    """Boards end when nobody waits any more (and must, before the test's worker stops)."""
    for _ in range(600):
        description = await client.get_workflow_handle(signal_board_id(name)).describe()
        if description.status != WorkflowExecutionStatus.RUNNING:
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"the board of signal {name} is still running")
