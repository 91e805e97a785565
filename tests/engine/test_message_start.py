"""Message start events (an ERP message starts an order), and spiffworkflow correlation properties."""

from __future__ import annotations

import asyncio
from pathlib import Path

from support.processes import DIAGRAMS, start, wait_for_state
from temporalio.client import Client

from mom import instances
from mom.deployment import deploy_file
from mom.messages import publish_message
from mom.process_store import ProcessStore
from mom.settings import load_settings
from worker import build_worker


async def test_a_message_starts_the_latest_version_once_per_message_id(temporal_client: Client, task_queue: str,
                                                                       data_dir: Path) -> None:
    store = ProcessStore(data_dir)
    deploy_file(store, DIAGRAMS / "order_by_message.bpmn", deployed_by="test")
    assert [v.process_id for v in store.started_by_message("order_received")] == ["order_by_message"]
    assert store.started_by_message("something_else") == []
    async with build_worker(temporal_client, load_settings(data_dir=data_dir), queue=task_queue):
        for _ in range(2):  # the ERP retries: the same message id starts one instance
            await publish_message(temporal_client, "order_received", "PO-7", {"order_id": "PO-7"},
                                  task_queue=task_queue, ttl_seconds=0, message_id=f"erp-{task_queue}", store=store)
        wid = f"order_by_message-msg-erp-{task_queue}"
        result = await asyncio.wait_for(instances.wait_result(temporal_client, wid), 90)
    assert result.completed == ["order_received", "log_order", "end"]
    assert result.variables["order_id"] == "PO-7"
    listed = [e async for e in temporal_client.list_workflows(f"WorkflowId = '{wid}'")]
    assert len(listed) == 1


async def test_spiffworkflow_correlation_property_correlates_by_key(temporal_client: Client, task_queue: str,
                                                                   data_dir: Path) -> None:
    async with build_worker(temporal_client, load_settings(data_dir=data_dir), queue=task_queue):
        mine = await start(temporal_client, data_dir, "spiff_correlation.bpmn", task_queue,
                           {"lot_id": f"A-{task_queue}"})
        other = await start(temporal_client, data_dir, "spiff_correlation.bpmn", task_queue,
                            {"lot_id": f"B-{task_queue}"})
        for wid in (mine, other):
            await wait_for_state(temporal_client, wid, lambda s: s["active"] == ["lab_result"])
        await publish_message(temporal_client, "lot_tested", f"A-{task_queue}", {"passed": True},
                              task_queue=task_queue, ttl_seconds=60)
        result = await asyncio.wait_for(instances.wait_result(temporal_client, mine), 90)
        state = await instances.instance_state(temporal_client, other)
        await temporal_client.get_workflow_handle(other).terminate("test done")
    assert result.variables["passed"] is True
    assert state["active"] == ["lab_result"]  # the other lot's instance is still waiting
