"""An activity failing with a business error raises the BPMN error; uncaught it is an incident."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from support.processes import DIAGRAMS, start, wait_for_state
from temporalio.client import Client

from mom import instances
from mom.deployment import deploy_bytes
from mom.process_store import ProcessStore
from mom.settings import load_settings
from worker import build_worker


@pytest.mark.parametrize(("code", "path"), [
    ("MACHINE_HELD", ["start", "job_start", "held", "note_hold", "held_end", "run_job", "end"]),
    ("MACHINE_ABORTED", ["start", "job_start", "job_failed", "failed_end"]),
])
async def test_error_boundary_events_catch_by_code(code: str, path: list[str], temporal_client: Client,
                                                  task_queue: str, data_dir: Path) -> None:
    async with build_worker(temporal_client, load_settings(data_dir=data_dir), queue=task_queue):
        wid = await start(temporal_client, data_dir, "error_paths.bpmn", task_queue, {"machine_error": code})
        result = await asyncio.wait_for(instances.wait_result(temporal_client, wid), 90)
    assert result.completed == path
    assert result.variables["error_code"] == code


async def test_an_uncaught_business_error_is_an_incident(temporal_client: Client, task_queue: str,
                                                        data_dir: Path) -> None:
    text = (DIAGRAMS / "error_paths.bpmn").read_text()
    start_of = text.index('<bpmn:boundaryEvent id="job_failed"')
    end_of = text.index("</bpmn:boundaryEvent>", start_of) + len("</bpmn:boundaryEvent>")
    text = text[:start_of] + text[end_of:]
    text = text.replace('<bpmn:endEvent id="failed_end"><bpmn:incoming>f_failed</bpmn:incoming></bpmn:endEvent>', "")
    text = text.replace('<bpmn:sequenceFlow id="f_failed" sourceRef="job_failed" targetRef="failed_end" />', "")
    store = ProcessStore(data_dir)
    deploy_bytes(store, text.encode(), "error_paths_uncaught.bpmn", deployed_by="test")
    async with build_worker(temporal_client, load_settings(data_dir=data_dir), queue=task_queue):
        started = await instances.start_instance(temporal_client, store, "error_paths", task_queue=task_queue,
                                                 variables={"machine_error": "MACHINE_ABORTED"})
        state = await wait_for_state(temporal_client, started.workflow_id, lambda s: s["status"] == "incident")
    assert state["incident"]["element_id"] == "start_job"
    assert "machine says MACHINE_ABORTED" in state["incident"]["message"]
