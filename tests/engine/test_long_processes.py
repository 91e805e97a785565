"""Loops of thousands of iterations end at their end event; long histories continue as new."""

from __future__ import annotations

import asyncio
from pathlib import Path

from support.processes import DIAGRAMS
from temporalio.client import Client

from bpmn.deploy import compile_file
from bpmn.engine import ProcessRun
from bpmn.spec_bundle import spec_from_json
from mom import instances
from mom.deployment import deploy_file
from mom.process_store import ProcessStore
from mom.settings import load_settings
from worker import build_worker
from workflows.contracts import WORKFLOW_NAME, ProcessInput


def test_a_loop_of_2000_iterations_really_reaches_its_end() -> None:
    compiled, _ = compile_file(DIAGRAMS / "counting_loop.bpmn", set())
    run = ProcessRun.start(spec_from_json(compiled.spec_json), {"counted": 0, "batch_size": 2000})
    run.advance()
    assert run.is_completed
    assert run.completed[-1] == "end"  # not SpiffWorkflow's silent "completed" at depth 1000
    assert run.completed.count("count_part") == 2000
    assert run.variables()["counted"] == 2000
    assert len(run.workflow.tasks) < 100  # the finished history was compacted


async def test_a_long_loop_continues_as_new_and_keeps_its_state(temporal_client: Client, task_queue: str,
                                                                data_dir: Path) -> None:
    store = ProcessStore(data_dir)
    version = deploy_file(store, DIAGRAMS / "batch_loop.bpmn", deployed_by="test").version
    async with build_worker(temporal_client, load_settings(data_dir=data_dir), queue=task_queue):
        handle = await temporal_client.start_workflow(
            WORKFLOW_NAME,
            ProcessInput(process_id="batch_loop", spec_sha256=version.spec_sha256, version=version.version,
                         variables={"counted": 0, "batch_size": 60}, history_limit=100),
            id="batch-loop-can", task_queue=task_queue)
        result = await asyncio.wait_for(instances.wait_result(temporal_client, handle.id), 120)
        state = await instances.instance_state(temporal_client, handle.id)
    assert result.variables["counted"] == 60
    assert result.completed.count("record_part") == 60 and result.completed[-1] == "end"
    assert state["runs"] >= 3  # it continued as new at least twice, carrying its state
