"""Process data too large for a Temporal payload is an incident naming the element, and the state
query still answers (J.7). Before, 1.5 MB of variables plus a 1.5 MB comment completed, then the
workflow task failed with PayloadsTooLarge every 10 s, /state answered 500 and there was no incident;
a script leaving megabytes of data did the same."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from support.processes import DIAGRAMS, wait_for_state
from temporalio.client import Client

from mom import instances
from mom.deployment import deploy_bytes, deploy_file
from mom.process_store import ProcessStore
from mom.settings import load_settings
from worker import build_worker

MB = 1024 * 1024
SCRIPT_THEN_TASK = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d"
                  targetNamespace="http://bpmn.io/schema/bpmn">
  <bpmn:process id="big_script" isExecutable="true">
    <bpmn:startEvent id="start"/>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="make"/>
    <bpmn:scriptTask id="make" scriptFormat="python"><bpmn:script>a = 'x' * 900000
b = 'y' * 900000</bpmn:script></bpmn:scriptTask>
    <bpmn:sequenceFlow id="f2" sourceRef="make" targetRef="wait"/>
    <bpmn:intermediateCatchEvent id="wait"><bpmn:timerEventDefinition>
      <bpmn:timeDuration>PT0.1S</bpmn:timeDuration></bpmn:timerEventDefinition></bpmn:intermediateCatchEvent>
    <bpmn:sequenceFlow id="f3" sourceRef="wait" targetRef="end"/>
    <bpmn:endEvent id="end"/>
  </bpmn:process>
</bpmn:definitions>
"""


def not_running(state: dict[str, Any]) -> bool:
    return state["status"] != "running"


async def test_a_script_leaving_megabytes_is_an_incident_then_a_retry_goes_on(
        temporal_client: Client, task_queue: str, data_dir: Path) -> None:
    store = ProcessStore(data_dir)
    version = deploy_bytes(store, SCRIPT_THEN_TASK.encode(), "big_script.bpmn", deployed_by="test").version
    async with build_worker(temporal_client, load_settings(data_dir=data_dir), queue=task_queue):
        started = await instances.start_instance(temporal_client, store, "big_script", task_queue=task_queue,
                                                 variables={}, version=version.version)
        state = await wait_for_state(temporal_client, started.workflow_id, not_running, timeout=30)
        incident = state["incident"]
        assert state["status"] == "incident" and incident["element_id"] == "make", state["incident"]
        assert "MOM_MAX_PAYLOAD_BYTES" in incident["message"] and "a (900,002 bytes)" in incident["message"]
        assert state["variables"]["a"] == {"too_large": True, "bytes": 900_002}  # the query answers, marked
        await instances.retry_incident(temporal_client, started.workflow_id, {"a": None}, user="sam")
        result = await asyncio.wait_for(instances.wait_result(temporal_client, started.workflow_id), 30)
    assert result.variables["a"] is None and len(result.variables["b"]) == 900_000


async def test_a_completion_that_makes_the_data_too_large_is_an_incident_at_the_task(
        temporal_client: Client, task_queue: str, data_dir: Path) -> None:
    store = ProcessStore(data_dir)
    deploy_file(store, DIAGRAMS / "approval.bpmn", deployed_by="test")
    async with build_worker(temporal_client, load_settings(data_dir=data_dir), queue=task_queue):
        started = await instances.start_instance(  # past the API (it refuses this much): straight to Temporal
            temporal_client, store, "approval", task_queue=task_queue, started_by="sam",
            variables={"order_id": "PO-BIG", "qty": 1, "new_qty": 2, "notes": "n" * (MB + MB // 4)})
        state = await wait_for_state(temporal_client, started.workflow_id, lambda s: s["user_tasks"], timeout=30)
        task_id = state["user_tasks"][0]["task_id"]
        await instances.complete_user_task(temporal_client, started.workflow_id, task_id,
                                           {"approved": True, "comment": "c" * MB}, user="sue")
        state = await wait_for_state(temporal_client, started.workflow_id, not_running, timeout=30)
    incident = state["incident"]
    assert state["status"] == "incident" and incident["element_id"] == "approve", incident
    assert "MOM_MAX_PAYLOAD_BYTES" in incident["message"] and "notes" in incident["message"]
    assert state["variables"]["notes"]["too_large"] is True and state["variables"]["order_id"] == "PO-BIG"
