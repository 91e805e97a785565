"""Scenarios whose histories are stored for replay tests. Record them again with

    .venv/bin/python tests/replay/scenarios.py [NAME ...]

(only the scenarios named, or all) only when a change to the interpreter is meant to be incompatible
with running instances (and then plan their migration): the stored histories are what running
instances look like. A scenario answers the instances to keep, history name -> workflow id; an
instance that continued as new is kept run by run (``NAME-run1``, ``NAME-run2``...).
"""

from __future__ import annotations

import asyncio
import json
import sys
import tempfile
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from temporalio.client import Client, WorkflowExecutionStatus, WorkflowHistory

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE.parents[1]))

from support.processes import start, wait_for_state  # noqa: E402

from mom import instances  # noqa: E402
from mom.deployment import deploy_file  # noqa: E402
from mom.messages import broadcast_signal, publish_message  # noqa: E402
from mom.process_store import ProcessStore  # noqa: E402
from mom.settings import load_settings  # noqa: E402
from mom.stack.temporal_server import TemporalDevServer, connect_when_ready  # noqa: E402
from worker import build_worker  # noqa: E402
from workflows.contracts import SIGNAL_SIGNAL, WORKFLOW_NAME, MessageDelivery, ProcessInput, signal_board_id  # noqa: E402

Scenario = Callable[[Client, Path, str], Awaitable[str | dict[str, str]]]
# history name -> the workflow id it ran under (a replay must use it: child ids derive from it)
WORKFLOW_IDS = "workflow_ids.json"
DIAGRAMS = HERE.parent / "diagrams"


async def approval(client: Client, data_dir: Path, queue: str) -> str:
    wid = await start(client, data_dir, "approval.bpmn", queue, {"order_id": "PO-1", "qty": 120, "new_qty": 150})
    state = await wait_for_state(client, wid, lambda s: s["user_tasks"])
    task_id = state["user_tasks"][0]["task_id"]
    await instances.complete_user_task(client, wid, task_id, {"approved": True, "comment": "ok"})
    await instances.wait_result(client, wid)
    return wid


async def parallel(client: Client, data_dir: Path, queue: str) -> str:
    wid = await start(client, data_dir, "parallel_logs.bpmn", queue, {"order_id": "PO-2"})
    await instances.wait_result(client, wid)
    return wid


async def timers_escalated(client: Client, data_dir: Path, queue: str) -> str:
    variables = {"cool_down": "PT1S", "reminder_after": "PT1S", "escalate_after": "PT2S"}
    wid = await start(client, data_dir, "timers.bpmn", queue, variables)
    state = await wait_for_state(client, wid, lambda s: s["user_tasks"]
                                 and s["user_tasks"][0]["element_id"] == "supervisor_decides")
    await instances.complete_user_task(client, wid, state["user_tasks"][0]["task_id"], {"decision": "scrap"})
    await instances.wait_result(client, wid)
    return wid


async def incident_retried(client: Client, data_dir: Path, queue: str) -> str:
    wid = await start(client, data_dir, "incident.bpmn", queue, {"good": 0, "bad": 0, "settle_seconds": 0})
    await wait_for_state(client, wid, lambda s: s["status"] == "incident")
    await instances.retry_incident(client, wid, {"good": 9, "bad": 1})
    await instances.wait_result(client, wid)
    return wid


# -- event subprocesses (signal, escalation, conditional, timer cycle, embedded, continue-as-new) ----
async def _subscribed(client: Client, name: str) -> None:
    """Signals are not kept: wait until the instance's subscription reached the board of ``name``."""
    for _ in range(600):
        try:
            events = json.loads((await client.get_workflow_handle(signal_board_id(name)).fetch_history()).to_json())
            if any(e.get("workflowExecutionStartedEventAttributes", {}).get("startSignal") == "subscribe"
                   or (e.get("workflowExecutionSignaledEventAttributes") or {}).get("signalName") == "subscribe"
                   for e in events["events"]):
                return
        except Exception:
            pass
        await asyncio.sleep(0.1)
    raise AssertionError(f"nobody subscribed to signal {name}")


async def _complete(client: Client, wid: str, element_id: str, data: dict[str, Any]) -> None:
    state = await wait_for_state(client, wid, lambda s: any(t["element_id"] == element_id for t in s["user_tasks"]))
    task = next(t for t in state["user_tasks"] if t["element_id"] == element_id)
    await instances.complete_user_task(client, wid, task["task_id"], data)


async def _start_limited(client: Client, data_dir: Path, diagram: str, queue: str, variables: dict[str, Any],
                         history_limit: int, workflow_id: str) -> str:
    """An instance with a small history limit: it continues as new while it waits."""
    version = deploy_file(ProcessStore(data_dir), DIAGRAMS / diagram, deployed_by="replay").version
    handle = await client.start_workflow(
        WORKFLOW_NAME, ProcessInput(process_id=version.process_id, spec_sha256=version.spec_sha256,
                                    version=version.version, variables=variables, history_limit=history_limit),
        id=workflow_id, task_queue=queue)
    return handle.id


async def esp_signal(client: Client, data_dir: Path, queue: str) -> str:
    """A non-interrupting signal event subprocess twice, then an interrupting one."""
    wid = await start(client, data_dir, "esp_signal.bpmn", queue)
    await wait_for_state(client, wid, lambda s: s["user_tasks"])
    await _subscribed(client, "quality_note")
    await _subscribed(client, "line_halt")
    for number in (1, 2):
        await broadcast_signal(client, "quality_note", {"note": number}, task_queue=queue)
        await wait_for_state(client, wid, lambda s, n=number: s["completed"].count("on_note") == n)
    await broadcast_signal(client, "line_halt", {"reason": "jam"}, task_queue=queue)
    await instances.wait_result(client, wid)
    return wid


async def esp_escalation(client: Client, data_dir: Path, queue: str) -> str:
    """A non-interrupting escalation event subprocess (intermediate throw), then an interrupting one (end event)."""
    wid = await start(client, data_dir, "esp_escalation.bpmn", queue)
    await wait_for_state(client, wid, lambda s: "on_late" in s["completed"])
    await _complete(client, wid, "check", {"abort": True})
    await instances.wait_result(client, wid)
    return wid


async def esp_conditional(client: Client, data_dir: Path, queue: str) -> str:
    wid = await start(client, data_dir, "esp_conditional.bpmn", queue, {"last": False})
    for number, temperature in enumerate((90, 95, 50, 85), start=1):
        await _complete(client, wid, "measure", {"temperature": temperature})
        await wait_for_state(client, wid, lambda s, n=number: s["completed"].count("measure") == n
                             and any(t["element_id"] == "measure" for t in s["user_tasks"]))
    await _complete(client, wid, "measure", {"scrap": True})
    await instances.wait_result(client, wid)
    return wid


async def esp_timer_cycle(client: Client, data_dir: Path, queue: str) -> dict[str, str]:
    """Three non-interrupting rounds, then the task completes; another instance expires (interrupting)."""
    rounds = await start(client, data_dir, "esp_timer_cycle.bpmn", queue,
                         {"remind_every": "R3/PT1S", "expire_every": "R/PT1H"})
    await wait_for_state(client, rounds, lambda s: s["completed"].count("on_round") >= 3)
    await asyncio.sleep(1.5)
    await _complete(client, rounds, "work", {})
    expired = await start(client, data_dir, "esp_timer_cycle.bpmn", queue,
                          {"remind_every": "R/PT1H", "expire_every": "R5/PT1S"})
    await instances.wait_result(client, rounds)
    await instances.wait_result(client, expired)
    return {"esp_timer_cycle_rounds": rounds, "esp_timer_cycle_expired": expired}


async def esp_embedded(client: Client, data_dir: Path, queue: str) -> str:
    """Event subprocesses of an embedded subprocess: an escalation (non-interrupting), a message (interrupting)."""
    key = "S-replay"
    wid = await start(client, data_dir, "esp_embedded.bpmn", queue, {"order_id": key})
    await wait_for_state(client, wid, lambda s: s["user_tasks"] and "on_short" in s["completed"])
    await asyncio.sleep(0.5)
    await publish_message(client, "stage_abort", key, {"why": "material"}, task_queue=queue)
    await wait_for_state(client, wid, lambda s: "after" in s["active"])
    await _complete(client, wid, "after", {})
    await instances.wait_result(client, wid)
    return wid


async def esp_continue_as_new(client: Client, data_dir: Path, queue: str) -> dict[str, str]:
    """A timer cycle that keeps firing across continue-as-new; an escalation thrown after one."""
    cycle = await _start_limited(client, data_dir, "esp_timer_cycle.bpmn", queue,
                                 {"remind_every": "R6/PT1S", "expire_every": "R/PT1H"}, 25, "esp-cycle-can")
    await wait_for_state(client, cycle, lambda s: s["completed"].count("on_round") == 6 and s["runs"] >= 2)
    await _complete(client, cycle, "work", {})
    escalation = await _start_limited(client, data_dir, "esp_escalation.bpmn", queue, {}, 6, "esp-escalation-can")
    await wait_for_state(client, escalation, lambda s: s["user_tasks"])
    await client.get_workflow_handle(escalation).signal(
        SIGNAL_SIGNAL, MessageDelivery("nobody_waits", None, message_id="nudge-replay"))
    await wait_for_state(client, escalation, lambda s: s["runs"] >= 2 and s["user_tasks"])
    await _complete(client, escalation, "check", {"abort": True})
    await instances.wait_result(client, cycle)
    await instances.wait_result(client, escalation)
    return {"esp_timer_cycle_can": cycle, "esp_escalation_can": escalation}


# -- call activities whose parent continued as new while the child ran --------------------------
async def _child_of_first_run(client: Client, workflow_id: str) -> str:
    description = await client.get_workflow_handle(workflow_id).describe()
    first_run = description.raw_description.workflow_execution_info.first_run_id
    history = await client.get_workflow_handle(workflow_id, run_id=first_run).fetch_history()
    events = json.loads(history.to_json())["events"]
    return next(str(e["startChildWorkflowExecutionInitiatedEventAttributes"]["workflowId"]) for e in events
                if "startChildWorkflowExecutionInitiatedEventAttributes" in e)


async def call_continue_as_new(client: Client, data_dir: Path, queue: str) -> dict[str, str]:
    """The parent continues as new while its call activity's child waits for a decision: the child's
    child_finished signal ends the call activity in a later parent run."""
    deploy_file(ProcessStore(data_dir), DIAGRAMS / "call_long_child.bpmn", deployed_by="replay")
    parent = await _start_limited(client, data_dir, "call_long_parent.bpmn", queue, {"lot": "L7"}, 6,
                                  "call-long-replay")
    await wait_for_state(client, parent, lambda s: s["runs"] >= 2)
    child = await _child_of_first_run(client, parent)
    await _complete(client, child, "decide", {"decision": "accept"})
    await instances.wait_result(client, parent)
    return {"call_can_parent": parent, "call_can_child": child}


async def call_child_terminated(client: Client, data_dir: Path, queue: str) -> dict[str, str]:
    """The child is terminated after the parent continued as new: an incident at the call activity
    (from the outcome activity), retried: a new child runs and completes."""
    deploy_file(ProcessStore(data_dir), DIAGRAMS / "call_long_child.bpmn", deployed_by="replay")
    parent = await _start_limited(client, data_dir, "call_long_parent.bpmn", queue, {"lot": "L9"}, 6,
                                  "call-lost-replay")
    await wait_for_state(client, parent, lambda s: s["runs"] >= 2)
    child = await _child_of_first_run(client, parent)
    await wait_for_state(client, child, lambda s: s["user_tasks"])
    await client.get_workflow_handle(child).terminate(reason="replay scenario: operator ended it")
    await wait_for_state(client, parent, lambda s: s["incident"] is not None)
    await instances.retry_incident(client, parent, {})
    await wait_for_state(client, parent, lambda s: s["running_activities"] == ["approve"])
    second = f"{child}:retry1"
    await _complete(client, second, "decide", {"decision": "accept"})
    await instances.wait_result(client, parent)
    return {"call_lost_parent": parent}


async def runs_of(client: Client, workflow_id: str) -> list[WorkflowHistory]:
    """Every closed run of ``workflow_id``, first to last (following continue-as-new)."""
    first = await client.get_workflow_handle(workflow_id).describe()
    run_id: str | None = first.raw_description.workflow_execution_info.first_run_id or None
    histories: list[WorkflowHistory] = []
    while run_id:
        handle = client.get_workflow_handle(workflow_id, run_id=run_id)
        for _ in range(600):  # wait until the run closed
            if (await handle.describe()).status != WorkflowExecutionStatus.RUNNING:
                break
            await asyncio.sleep(0.1)
        history = await handle.fetch_history()
        histories.append(history)
        last = json.loads(history.to_json())["events"][-1]
        run_id = (last.get("workflowExecutionContinuedAsNewEventAttributes") or {}).get("newExecutionRunId")
    return histories


SCENARIOS: dict[str, Scenario] = {
    "approval": approval,
    "parallel": parallel,
    "timers_escalated": timers_escalated,
    "incident_retried": incident_retried,
    "esp_signal": esp_signal,
    "esp_escalation": esp_escalation,
    "esp_conditional": esp_conditional,
    "esp_timer_cycle": esp_timer_cycle,
    "esp_embedded": esp_embedded,
    "esp_continue_as_new": esp_continue_as_new,
    "call_continue_as_new": call_continue_as_new,
    "call_child_terminated": call_child_terminated,
}


async def record(out_dir: Path, names: list[str]) -> None:
    unknown = sorted(set(names) - set(SCENARIOS))
    if unknown:
        raise SystemExit(f"unknown scenario(s) {unknown}; known: {sorted(SCENARIOS)}")
    with tempfile.TemporaryDirectory() as tmp:
        server = TemporalDevServer(db_file=None).start()
        try:
            client = await connect_when_ready(server.address)
            data_dir = Path(tmp)
            store = ProcessStore(data_dir)
            index = out_dir / WORKFLOW_IDS
            ids: dict[str, str] = json.loads(index.read_text()) if index.is_file() else {}
            async with build_worker(client, load_settings(data_dir=data_dir), queue="replay"):
                for name, scenario in SCENARIOS.items():
                    if names and name not in names:
                        continue
                    kept = await scenario(client, data_dir, "replay")
                    for history_name, workflow_id in ({name: kept} if isinstance(kept, str) else kept).items():
                        runs = await runs_of(client, workflow_id)
                        for number, history in enumerate(runs, start=1):
                            stored = history_name if len(runs) == 1 else f"{history_name}-run{number}"
                            (out_dir / f"{stored}.history.json").write_text(history.to_json())
                            ids[stored] = workflow_id
                            first = history.events[0].workflow_execution_started_event_attributes
                            payload: Any = first.input.payloads[0].data
                            sha = json.loads(payload)["spec_sha256"]
                            (out_dir / f"{sha}.spec.json").write_text(store.load_spec(sha))
                            print(f"recorded {stored}: {len(history.events)} events")
            index.write_text(json.dumps(dict(sorted(ids.items())), indent=1) + "\n")
        finally:
            server.stop()


if __name__ == "__main__":
    asyncio.run(record(HERE / "histories", sys.argv[1:]))
