"""Messages: correlated by name and key through mailboxes, buffered when nobody waits yet."""

from __future__ import annotations

import asyncio
from pathlib import Path

from support.processes import start, wait_for_state
from temporalio.client import Client

from mom import instances
from mom.messages import publish_message
from mom.settings import load_settings
from worker import build_worker


async def test_message_reaches_the_instance_with_its_key_only(temporal_client: Client, task_queue: str,
                                                              data_dir: Path) -> None:
    async with build_worker(temporal_client, load_settings(data_dir=data_dir), queue=task_queue):
        diagram = "job_messages.bpmn"
        one = await start(temporal_client, data_dir, diagram, task_queue, {"order_id": "PO-1", "job_id": "J-1"})
        two = await start(temporal_client, data_dir, diagram, task_queue, {"order_id": "PO-2", "job_id": "J-2"})
        listener = await start(temporal_client, data_dir, "job_report_listener.bpmn", task_queue, {"order_id": "PO-1"})
        await wait_for_state(temporal_client, one, lambda s: s["active"] == ["wait_job_end", "cancelled"])
        await asyncio.sleep(0.5)  # let the subscriptions reach their mailboxes

        await publish_message(temporal_client, "job_completed", "J-1", {"good": 48, "bad": 2}, task_queue=task_queue)
        result = await asyncio.wait_for(instances.wait_result(temporal_client, one), 90)
        assert result.completed == ["start", "wait_job_end", "report", "done"]
        assert result.variables["good"] == 48

        # the thrown job_reported message (key PO-1) reached the listener
        heard = await asyncio.wait_for(instances.wait_result(temporal_client, listener), 90)
        assert heard.variables["good"] == 48 and heard.variables["job_id"] == "J-1"

        state = await instances.instance_state(temporal_client, two)
        assert state["active"] == ["wait_job_end", "cancelled"]  # J-2 is still waiting
        await publish_message(temporal_client, "order_cancelled", "PO-2", {"reason": "customer"}, task_queue=task_queue)
        cancelled = await asyncio.wait_for(instances.wait_result(temporal_client, two), 90)
        assert cancelled.completed == ["start", "cancelled", "aborted"]
        assert cancelled.variables["reason"] == "customer"


async def test_a_message_published_before_anyone_waits_is_kept(temporal_client: Client, task_queue: str,
                                                               data_dir: Path) -> None:
    async with build_worker(temporal_client, load_settings(data_dir=data_dir), queue=task_queue):
        await publish_message(temporal_client, "job_completed", "J-9", {"good": 5}, task_queue=task_queue,
                              message_id="m-1")
        await publish_message(temporal_client, "job_completed", "J-9", {"good": 5}, task_queue=task_queue,
                              message_id="m-1")  # a retried sender: one message
        variables = {"order_id": "PO-9", "job_id": "J-9"}
        wid = await start(temporal_client, data_dir, "job_messages.bpmn", task_queue, variables)
        result = await asyncio.wait_for(instances.wait_result(temporal_client, wid), 90)
        assert result.completed == ["start", "wait_job_end", "report", "done"]
        assert result.variables["good"] == 5
