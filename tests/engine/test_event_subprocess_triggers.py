"""Event subprocesses started by a signal, an escalation, a condition or a timer cycle, interrupting
and not; event subprocesses scoped to an embedded subprocess; listeners across a continue-as-new.
All on the real Temporal dev server."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from support.processes import DIAGRAMS, start, wait_for_state
from support.signal_boards import wait_board_closed, wait_subscribed
from temporalio.client import Client

from bpmn.lint import lint_diagram
from mom import instances
from mom.deployment import deploy_file
from mom.messages import broadcast_signal, publish_message
from mom.process_store import ProcessStore
from mom.settings import load_settings
from mom.task_catalog import known_task_types
from worker import build_worker
from workflows.contracts import SIGNAL_SIGNAL, WORKFLOW_NAME, MessageDelivery, ProcessInput


async def _complete(client: Client, wid: str, element_id: str, data: dict[str, object]) -> None:
    state = await wait_for_state(client, wid, lambda s: any(t["element_id"] == element_id for t in s["user_tasks"]))
    task = next(t for t in state["user_tasks"] if t["element_id"] == element_id)
    await instances.complete_user_task(client, wid, task["task_id"], data)


async def test_signal_event_subprocesses_non_interrupting_each_time_then_interrupting(
        temporal_client: Client, task_queue: str, data_dir: Path) -> None:
    async with build_worker(temporal_client, load_settings(data_dir=data_dir), queue=task_queue):
        wid = await start(temporal_client, data_dir, "esp_signal.bpmn", task_queue)
        await wait_for_state(temporal_client, wid, lambda s: s["user_tasks"])
        await wait_subscribed(temporal_client, "quality_note")
        await wait_subscribed(temporal_client, "line_halt")
        for number in (1, 2):  # non-interrupting: it listens again after each signal
            await broadcast_signal(temporal_client, "quality_note", {"note": number}, task_queue=task_queue)
            state = await wait_for_state(temporal_client, wid, lambda s, n=number: s["completed"].count("on_note") == n)
            assert state["active"] == ["work"]
        await broadcast_signal(temporal_client, "line_halt", {"reason": "jam"}, task_queue=task_queue)
        result = await asyncio.wait_for(instances.wait_result(temporal_client, wid), 90)
        await wait_board_closed(temporal_client, "quality_note")
        await wait_board_closed(temporal_client, "line_halt")
    assert result.completed[-4:] == ["halt_signal", "mark_halted", "halted_end", "on_halt"]
    assert "work" not in result.completed and "done" not in result.completed  # interrupted
    assert result.completed.count("noted_end") == 2
    assert result.variables["halted"] is True and result.variables["reason"] == "jam"


@pytest.mark.parametrize("abort", [False, True])
async def test_escalation_event_subprocesses_catch_escalations_thrown_inside_a_subprocess(
        abort: bool, temporal_client: Client, task_queue: str, data_dir: Path) -> None:
    async with build_worker(temporal_client, load_settings(data_dir=data_dir), queue=task_queue):
        wid = await start(temporal_client, data_dir, "esp_escalation.bpmn", task_queue)
        # The intermediate escalation LATE ran the non-interrupting event subprocess: the check goes on.
        state = await wait_for_state(temporal_client, wid, lambda s: "on_late" in s["completed"])
        assert "check" in state["active"]
        await _complete(temporal_client, wid, "check", {"abort": abort})
        result = await asyncio.wait_for(instances.wait_result(temporal_client, wid), 90)
    assert result.completed[:7] == ["start", "inspect_start", "report_late", "late_escalated", "tell_supervisor",
                                    "told", "on_late"]
    if abort:  # the escalation end event ABORT ran the interrupting one: the process ends there
        assert result.completed[-4:] == ["abort_escalated", "mark_aborted", "aborted_end", "on_abort"]
        assert "done" not in result.completed and result.variables["aborted"] is True
    else:
        assert result.completed[-3:] == ["inspect_end", "inspect", "done"]
        assert "on_abort" not in result.completed


async def test_conditional_event_subprocesses_fire_when_their_condition_becomes_true(
        temporal_client: Client, task_queue: str, data_dir: Path) -> None:
    async with build_worker(temporal_client, load_settings(data_dir=data_dir), queue=task_queue):
        wid = await start(temporal_client, data_dir, "esp_conditional.bpmn", task_queue, {"last": False})
        # temperature is not set yet: the condition counts as false, nothing fired
        for number, (temperature, fired) in enumerate(((90, 1), (95, 1), (50, 1), (85, 2)), start=1):
            await _complete(temporal_client, wid, "measure", {"temperature": temperature})
            state = await wait_for_state(
                temporal_client, wid,
                lambda s, n=number: s["completed"].count("measure") == n  # type: ignore[misc]
                and any(t["element_id"] == "measure" for t in s["user_tasks"]))
            # non-interrupting: fires on false -> true only, not again while it stays true
            assert state["completed"].count("cooled") == fired, (temperature, state["completed"])
        await _complete(temporal_client, wid, "measure", {"scrap": True})
        result = await asyncio.wait_for(instances.wait_result(temporal_client, wid), 90)
    assert result.completed[-4:] == ["scrap_set", "mark_scrapped", "scrapped", "on_scrap"]  # interrupting
    assert "done" not in result.completed and result.completed.count("cooled") == 2
    assert result.variables["scrapped_at"] == 85


async def test_timer_cycle_event_subprocesses_non_interrupting_every_round_and_interrupting_once(
        temporal_client: Client, task_queue: str, data_dir: Path) -> None:
    async with build_worker(temporal_client, load_settings(data_dir=data_dir), queue=task_queue):
        wid = await start(temporal_client, data_dir, "esp_timer_cycle.bpmn", task_queue,
                          {"remind_every": "R3/PT1S", "expire_every": "R/PT1H"})
        state = await wait_for_state(temporal_client, wid, lambda s: s["completed"].count("on_round") >= 3)
        await asyncio.sleep(2.5)  # R3: three rounds, then it listens no more
        state = await instances.instance_state(temporal_client, wid)
        assert state["completed"].count("on_round") == 3 and state["active"] == ["work"]
        await _complete(temporal_client, wid, "work", {})
        result = await asyncio.wait_for(instances.wait_result(temporal_client, wid), 90)
        assert result.completed[-2:] == ["work", "done"]  # the hourly interrupting cycle did not hold it open

        wid = await start(temporal_client, data_dir, "esp_timer_cycle.bpmn", task_queue,
                          {"remind_every": "R/PT1H", "expire_every": "R5/PT1S"})
        result = await asyncio.wait_for(instances.wait_result(temporal_client, wid), 90)
    assert result.completed[-4:] == ["expiry_due", "expire", "expired_end", "on_expiry"]
    assert result.completed.count("on_expiry") == 1 and "work" not in result.completed


async def test_event_subprocesses_of_an_embedded_subprocess_act_on_that_subprocess_only(
        temporal_client: Client, task_queue: str, data_dir: Path) -> None:
    key = f"S-{task_queue}"
    async with build_worker(temporal_client, load_settings(data_dir=data_dir), queue=task_queue):
        wid = await start(temporal_client, data_dir, "esp_embedded.bpmn", task_queue, {"order_id": key})
        state = await wait_for_state(temporal_client, wid, lambda s: s["user_tasks"])
        assert "on_short" in state["completed"] and "stage_work" in state["active"]  # non-interrupting escalation
        await asyncio.sleep(0.5)
        await publish_message(temporal_client, "stage_abort", key, {"why": "material"}, task_queue=task_queue)
        # The interrupting message event subprocess ended the stage, not the process: "after" is next.
        state = await wait_for_state(temporal_client, wid, lambda s: "after" in s["active"])
        assert "stage_work" not in state["completed"] and "on_stage_abort" in state["completed"]
        await _complete(temporal_client, wid, "after", {})
        result = await asyncio.wait_for(instances.wait_result(temporal_client, wid), 90)
    assert result.completed[-5:] == ["stage_aborted_end", "on_stage_abort", "stage", "after", "done"]
    assert result.variables["stage_aborted"] is True and result.variables["why"] == "material"


async def test_event_subprocesses_keep_listening_across_continue_as_new(
        temporal_client: Client, task_queue: str, data_dir: Path) -> None:
    version = deploy_file(ProcessStore(data_dir), DIAGRAMS / "esp_timer_cycle.bpmn", deployed_by="test").version
    async with build_worker(temporal_client, load_settings(data_dir=data_dir), queue=task_queue):
        handle = await temporal_client.start_workflow(
            WORKFLOW_NAME,
            ProcessInput(process_id="esp_timer_cycle", spec_sha256=version.spec_sha256, version=version.version,
                         variables={"remind_every": "R6/PT1S", "expire_every": "R/PT1H"}, history_limit=25),
            id=f"esp-can-{task_queue}", task_queue=task_queue)
        state = await wait_for_state(temporal_client, handle.id, lambda s: s["completed"].count("on_round") == 6)
        assert state["runs"] >= 2, state["runs"]  # it continued as new while the cycle listened
        assert state["active"] == ["work"]
        await _complete(temporal_client, handle.id, "work", {})
        result = await asyncio.wait_for(instances.wait_result(temporal_client, handle.id), 90)
    assert result.completed.count("reminded_end") == 6 and result.completed[-2:] == ["work", "done"]


async def test_an_escalation_thrown_after_a_continue_as_new_reaches_its_event_subprocess(
        temporal_client: Client, task_queue: str, data_dir: Path) -> None:
    version = deploy_file(ProcessStore(data_dir), DIAGRAMS / "esp_escalation.bpmn", deployed_by="test").version
    async with build_worker(temporal_client, load_settings(data_dir=data_dir), queue=task_queue):
        handle = await temporal_client.start_workflow(
            WORKFLOW_NAME,
            ProcessInput(process_id="esp_escalation", spec_sha256=version.spec_sha256, version=version.version,
                         history_limit=6),  # a fresh run has 3 events: it continues as new once per wait
            id=f"esp-esc-can-{task_queue}", task_queue=task_queue)
        await wait_for_state(temporal_client, handle.id, lambda s: s["user_tasks"])
        # A signal nobody waits for wakes the instance: over its history limit, it continues as new.
        await handle.signal(SIGNAL_SIGNAL, MessageDelivery("nobody_waits", None, message_id=f"nudge-{task_queue}"))
        await wait_for_state(temporal_client, handle.id, lambda s: s["runs"] >= 2 and s["user_tasks"])
        await _complete(temporal_client, handle.id, "check", {"abort": True})
        result = await asyncio.wait_for(instances.wait_result(temporal_client, handle.id), 90)
    # The ABORT escalation end event was thrown in a later run: the listener had to be registered again.
    assert result.completed[-4:] == ["abort_escalated", "mark_aborted", "aborted_end", "on_abort"]
    assert "done" not in result.completed


def _event_subprocess(start: str) -> str:
    return ('<?xml version="1.0" encoding="UTF-8"?>'
            '<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d" targetNamespace="t">'
            '<bpmn:signal id="Sig" name="stop" /><bpmn:escalation id="Esc" name="late" escalationCode="LATE" />'
            '<bpmn:process id="p" isExecutable="true">'
            '<bpmn:startEvent id="s" /><bpmn:subProcess id="esp" triggeredByEvent="true">'
            f'{start}<bpmn:endEvent id="e" /><bpmn:sequenceFlow id="f" sourceRef="es" targetRef="e" />'
            '</bpmn:subProcess></bpmn:process></bpmn:definitions>')


@pytest.mark.parametrize(("start", "refused"), [
    ('<bpmn:startEvent id="es"><bpmn:signalEventDefinition signalRef="Sig" /></bpmn:startEvent>', None),
    ('<bpmn:startEvent id="es" isInterrupting="false"><bpmn:escalationEventDefinition escalationRef="Esc" />'
     '</bpmn:startEvent>', None),
    ('<bpmn:startEvent id="es"><bpmn:conditionalEventDefinition><bpmn:condition>=qty &gt; 5</bpmn:condition>'
     '</bpmn:conditionalEventDefinition></bpmn:startEvent>', None),
    ('<bpmn:startEvent id="es"><bpmn:timerEventDefinition><bpmn:timeCycle>"R/PT1S"</bpmn:timeCycle>'
     '</bpmn:timerEventDefinition></bpmn:startEvent>', None),
    ('<bpmn:startEvent id="es"><bpmn:conditionalEventDefinition /></bpmn:startEvent>', "no <condition>"),
    ('<bpmn:startEvent id="es"><bpmn:conditionalEventDefinition><bpmn:condition>__import__("os")</bpmn:condition>'
     '</bpmn:conditionalEventDefinition></bpmn:startEvent>', "expression"),
    ('<bpmn:startEvent id="es"><bpmn:timerEventDefinition><bpmn:timeCycle>"every day"</bpmn:timeCycle>'
     '</bpmn:timerEventDefinition></bpmn:startEvent>', "not a valid ISO 8601 cycle"),
    ('<bpmn:startEvent id="es"><bpmn:cancelEventDefinition /></bpmn:startEvent>', "must have one"),
    ('<bpmn:startEvent id="es" />', "must have one"),
])
def test_lint_accepts_the_event_subprocess_triggers_this_engine_runs(start: str, refused: str | None) -> None:
    problems = [p for p in lint_diagram(_event_subprocess(start), "esp.bpmn", known_task_types())
                if p.severity == "error"]
    if refused is None:
        assert problems == []
    else:
        assert len(problems) == 1 and refused in problems[0].message, problems
        assert problems[0].element_id == "es"


def test_a_conditional_boundary_event_is_still_refused() -> None:
    diagram = ('<?xml version="1.0" encoding="UTF-8"?>'
               '<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d" targetNamespace="t">'
               '<bpmn:process id="p" isExecutable="true"><bpmn:startEvent id="s" /><bpmn:userTask id="u" />'
               '<bpmn:boundaryEvent id="b" attachedToRef="u"><bpmn:conditionalEventDefinition>'
               '<bpmn:condition>=x</bpmn:condition></bpmn:conditionalEventDefinition></bpmn:boundaryEvent>'
               '</bpmn:process></bpmn:definitions>')
    problems = lint_diagram(diagram, "b.bpmn", known_task_types())
    assert any("conditionalEventDefinition" in p.message and p.element_id == "b" for p in problems), problems
