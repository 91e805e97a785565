"""BPMN compensation on a real Temporal server: undo what completed activities did (bpmn/compensation.py).

The diagrams: compensation_order.bpmn (saved by Camunda Modeler, zeebe extensions: reserve material,
load a recipe, then cancel all, only the recipe, or nothing), compensation_lots.bpmn (a sequential
and a parallel multi-instance, each instance undone with its own data), compensation_subprocess.bpmn
(a setup subprocess that undoes itself through a compensation end event, with a user-task handler,
or is undone from outside by its default compensation), compensation_interrupted.bpmn (an activity
interrupted by an error boundary event is not compensated).

Record the replay histories again (tests/replay) with
``MOM_RECORD_HISTORIES=tests/replay/histories .venv/bin/pytest tests/engine/test_compensation.py``.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
from pathlib import Path

import pytest
from support.processes import DIAGRAMS, start, wait_for_state
from temporalio.client import Client

from bpmn import compensation
from bpmn.deploy import compile_file
from bpmn.engine import EngineIncident, ProcessRun
from bpmn.spec_bundle import SpecBundle, spec_from_json
from mom import instances
from mom.deployment import deploy_file
from mom.process_store import ProcessStore
from mom.settings import load_settings
from mom.task_catalog import known_task_types
from worker import build_worker
from workflows.contracts import WORKFLOW_NAME, ProcessInput

ORDER = {"order_id": "PO-7", "product": "P7", "undone": [], "release_note": "release the reservation"}


async def _record_history(client: Client, workflow_id: str, data_dir: Path, name: str) -> None:
    """With MOM_RECORD_HISTORIES=DIR, keep this instance's history and spec for tests/replay."""
    out = os.environ.get("MOM_RECORD_HISTORIES")
    if not out:
        return
    history = await client.get_workflow_handle(workflow_id).fetch_history()
    sha = json.loads(history.events[0].workflow_execution_started_event_attributes.input.payloads[0].data)[
        "spec_sha256"]
    key = hashlib.sha256(workflow_id.encode()).hexdigest()[:8]
    Path(out, f"{name}-{key}.history.json").write_text(history.to_json())
    Path(out, f"{sha}.spec.json").write_text(ProcessStore(data_dir).load_spec(sha))


@pytest.mark.parametrize(("cancel", "handlers", "undone"), [
    # every completed activity with a handler, the last completed first
    ("all", ["unload_recipe", "release_material"], ["unloaded RCP-P7", "released RES-PO-7"]),
    # activityRef="load_recipe": only that one
    ("recipe", ["unload_recipe"], ["unloaded RCP-P7"]),
    # nothing thrown: nothing undone
    ("none", [], []),
])
async def test_compensation_throw_undoes_completed_activities_in_reverse_order(
        cancel: str, handlers: list[str], undone: list[str], temporal_client: Client, task_queue: str,
        data_dir: Path) -> None:
    async with build_worker(temporal_client, load_settings(data_dir=data_dir), queue=task_queue):
        wid = await start(temporal_client, data_dir, "compensation_order.bpmn", task_queue, {**ORDER, "cancel": cancel})
        result = await asyncio.wait_for(instances.wait_result(temporal_client, wid), 90)
        if cancel == "all":
            await _record_history(temporal_client, wid, data_dir, "compensation_order")
    assert result.status == "completed"
    ran = [e for e in result.completed if e in ("unload_recipe", "release_material", "unbook_output")]
    assert ran == handlers
    assert result.variables["undone"] == undone
    if cancel == "all":
        assert result.completed[-4:] == ["unload_recipe", "release_material", "undo_all", "order_cancelled"]
        # book_output never ran: its handler did not run either
        assert "book_output" not in result.completed and "unbook_output" not in result.completed
    if cancel == "none":
        assert result.completed[-2:] == ["book_output", "order_done"]


async def test_each_instance_of_a_multi_instance_activity_is_compensated_with_its_own_data(
        temporal_client: Client, task_queue: str, data_dir: Path) -> None:
    lots = ["L1", "L2", "L3"]
    variables = {"lots": lots, "staged": [], "unstaged": [], "released": [], "scrap": True}
    async with build_worker(temporal_client, load_settings(data_dir=data_dir), queue=task_queue):
        wid = await start(temporal_client, data_dir, "compensation_lots.bpmn", task_queue, variables)
        result = await asyncio.wait_for(instances.wait_result(temporal_client, wid), 90)
    assert result.completed.count("release_lot") == 3 and result.completed.count("unstage_lot") == 3
    # the parallel reservations completed last: released first (in the reverse of their own order,
    # which the activities decided), then the sequential staging, L3 first
    assert sorted(result.variables["released"]) == ["R-L1", "R-L2", "R-L3"]
    assert result.variables["unstaged"] == ["L3", "L2", "L1"]
    handlers = [e for e in result.completed if e in ("release_lot", "unstage_lot")]
    assert handlers == ["release_lot"] * 3 + ["unstage_lot"] * 3
    assert result.completed[-2:] == ["undo_lots", "scrapped"]


async def test_the_compensation_log_survives_continue_as_new(
        temporal_client: Client, task_queue: str, data_dir: Path) -> None:
    lots = [f"L{n}" for n in range(1, 7)]
    store = ProcessStore(data_dir)
    version = deploy_file(store, DIAGRAMS / "compensation_lots.bpmn", deployed_by="test").version
    async with build_worker(temporal_client, load_settings(data_dir=data_dir), queue=task_queue):
        handle = await temporal_client.start_workflow(
            WORKFLOW_NAME,
            ProcessInput(process_id="compensation_lots", spec_sha256=version.spec_sha256, version=version.version,
                         variables={"lots": lots, "staged": [], "unstaged": [], "released": [], "scrap": True},
                         history_limit=25),
            id=f"compensation-can-{task_queue}", task_queue=task_queue)
        result = await asyncio.wait_for(instances.wait_result(temporal_client, handle.id), 180)
        state = await instances.instance_state(temporal_client, handle.id)
    assert state["runs"] >= 2  # it continued as new, carrying the log and the throw event's queue
    assert sorted(result.variables["released"]) == [f"R-{lot}" for lot in lots]
    assert result.variables["unstaged"] == lots[::-1]
    assert result.completed.count("release_lot") == 6 and result.completed[-1] == "scrapped"


async def test_compensation_inside_a_subprocess_undoes_only_its_scope_and_waits_for_a_user_task_handler(
        temporal_client: Client, task_queue: str, data_dir: Path) -> None:
    variables = {"order_id": "PO-9", "tool": "T1", "passed": False, "abandon": False, "undone": []}
    settings = load_settings(data_dir=data_dir)
    async with build_worker(temporal_client, settings, queue=task_queue):
        wid = await start(temporal_client, data_dir, "compensation_subprocess.bpmn", task_queue, variables)
        state = await wait_for_state(temporal_client, wid, lambda s: s["user_tasks"])
    task = state["user_tasks"][0]
    assert task["element_id"] == "unmount_tool" and task["candidate_groups"] == ["setters"]
    assert task["context"] == {"mounted": "T1@LINE-PO-9"}  # the data of mount_tool when it completed
    assert "setup_undone" in state["active"]  # the compensation end event waits for its handler
    assert "reset_calibration" in state["completed"]  # calibrate completed last: undone first
    # a new worker (replaying the history) finishes the compensation
    async with build_worker(temporal_client, settings, queue=task_queue):
        await instances.complete_user_task(temporal_client, wid, task["task_id"], {"unmounted_by": "op-1"})
        result = await asyncio.wait_for(instances.wait_result(temporal_client, wid), 90)
    assert result.completed[-7:] == ["reset_calibration", "unmount_tool", "setup_undone", "setup", "report",
                                     "abandon_order", "end"]
    assert "free_line" not in result.completed  # reserve_line is outside the subprocess's scope
    assert result.variables["undone"] == ["calibration reset"]
    assert result.variables["unmounted_by"] == "op-1" and result.variables["calibrated"] is False


async def test_a_completed_subprocess_is_compensated_from_outside_by_its_inner_handlers(
        temporal_client: Client, task_queue: str, data_dir: Path) -> None:
    """The setup subprocess has no handler of its own: its default compensation undoes its inner
    activities, in reverse order of completion together with the process's own."""
    variables = {"order_id": "PO-9", "tool": "T1", "passed": True, "abandon": True, "undone": []}
    async with build_worker(temporal_client, load_settings(data_dir=data_dir), queue=task_queue):
        wid = await start(temporal_client, data_dir, "compensation_subprocess.bpmn", task_queue, variables)
        state = await wait_for_state(temporal_client, wid, lambda s: s["user_tasks"])
        task = state["user_tasks"][0]
        assert task["element_id"] == "unmount_tool" and task["context"] == {"mounted": "T1@LINE-PO-9"}
        assert "undo_order" in state["active"] and "free_line" not in state["completed"]
        await instances.complete_user_task(temporal_client, wid, task["task_id"], {"unmounted_by": "op-2"})
        result = await asyncio.wait_for(instances.wait_result(temporal_client, wid), 90)
        await _record_history(temporal_client, wid, data_dir, "compensation_subprocess")
    assert result.completed[-7:] == ["report", "abandon_order", "reset_calibration", "unmount_tool", "free_line",
                                     "undo_order", "abandoned"]
    assert result.variables["undone"] == ["calibration reset", "freed LINE-PO-9"]
    assert result.variables["unmounted_by"] == "op-2"


async def test_a_service_task_handler_that_fails_is_an_incident_and_a_retry_completes_the_compensation(
        temporal_client: Client, task_queue: str, data_dir: Path) -> None:
    async with build_worker(temporal_client, load_settings(data_dir=data_dir), queue=task_queue):
        wid = await start(temporal_client, data_dir, "compensation_order.bpmn", task_queue,
                          {**ORDER, "cancel": "all", "release_note": None})  # mom.log refuses a missing message
        state = await wait_for_state(temporal_client, wid, lambda s: s["status"] == "incident")
        assert state["incident"]["element_id"] == "release_material"
        assert "mom.log" in state["incident"]["message"]
        assert state["completed"][-1] == "unload_recipe" and "undo_all" in state["active"]
        await instances.retry_incident(temporal_client, wid, {"release_note": "release, second try"})
        result = await asyncio.wait_for(instances.wait_result(temporal_client, wid), 90)
    assert result.completed[-4:] == ["unload_recipe", "release_material", "undo_all", "order_cancelled"]
    assert result.completed.count("release_material") == 1
    assert result.variables["undone"] == ["unloaded RCP-P7", "released RES-PO-7"]


async def test_an_activity_interrupted_by_a_boundary_event_is_not_compensated(
        temporal_client: Client, task_queue: str, data_dir: Path) -> None:
    async with build_worker(temporal_client, load_settings(data_dir=data_dir), queue=task_queue):
        wid = await start(temporal_client, data_dir, "compensation_interrupted.bpmn", task_queue,
                          {"undone": [], "dose_result": "DOSE_FAIL"})
        result = await asyncio.wait_for(instances.wait_result(temporal_client, wid), 90)
    # dose failed (its error boundary event interrupted it): only the completed weighing is undone
    assert result.completed == ["start", "weigh", "dose_failed", "unweigh", "undo", "failed"]
    assert result.variables["undone"] == ["weighing"]


def _compiled_order() -> SpecBundle:
    compiled, _ = compile_file(DIAGRAMS / "compensation_order.bpmn", known_task_types())
    return spec_from_json(compiled.spec_json)


def test_the_log_of_completed_activities_and_the_throw_in_progress_are_serialized() -> None:
    """In process (no Temporal): what continue-as-new carries is the serialized workflow."""
    bundle = _compiled_order()
    run = ProcessRun.start(bundle, {**ORDER, "cancel": "none"})
    run.advance()
    (call,) = run.ready_service_calls()
    run.complete_service_task(call.task_id, {"logged": True})  # reserve_material, then load_recipe ran
    state = json.loads(run.serialize())
    root = next(t for t in state["tasks"].values() if t["parent"] is None)
    log = root["internal_data"][compensation.LOG_KEY]
    assert [(r["activity"], r["handler"]) for r in log] == [("reserve_material", "release_material"),
                                                          ("load_recipe", "unload_recipe")]
    assert log[0]["data"]["reservation"] == "RES-PO-7" and log[1]["data"]["recipe"] == "RCP-P7"

    run = ProcessRun.start(bundle, {**ORDER, "cancel": "all"})
    run.advance()
    (call,) = run.ready_service_calls()
    run.complete_service_task(call.task_id, {"logged": True})
    assert run.active_elements() == ["undo_all", "release_material"]  # unload_recipe (a script) already ran
    restored = ProcessRun.restore(run.serialize(), run.completed, bundle)
    (handler,) = restored.ready_service_calls()
    assert handler.element_id == "release_material" and handler.inputs == {"message": "release the reservation"}
    restored.complete_service_task(handler.task_id, {"logged": True})
    assert restored.is_completed and restored.completed[-2:] == ["undo_all", "order_cancelled"]
    assert restored.variables()["undone"] == ["unloaded RCP-P7", "released RES-PO-7"]
    assert compensation.pending_records(restored.workflow) == []


def test_a_script_handler_that_fails_is_an_incident_and_a_retry_goes_on() -> None:
    run = ProcessRun.start(_compiled_order(), {**ORDER, "cancel": "all", "undone": None})
    run.advance()
    (call,) = run.ready_service_calls()
    with pytest.raises(EngineIncident) as incident:  # None + [...] in unload_recipe's script
        run.complete_service_task(call.task_id, {"logged": True})
    assert incident.value.element_id == "unload_recipe"
    assert run.ready_service_calls() == [] and "undo_all" in run.active_elements()
    run.retry_failed({"undone": []})
    (handler,) = run.ready_service_calls()
    assert handler.element_id == "release_material"
    run.complete_service_task(handler.task_id, {"logged": True})
    assert run.is_completed and run.variables()["undone"] == ["unloaded RCP-P7", "released RES-PO-7"]
