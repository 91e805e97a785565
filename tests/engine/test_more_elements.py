"""The last elements of issue B on a real Temporal server: cycle boundary timers, event subprocesses."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest
from support.processes import start, wait_for_state
from temporalio.client import Client

from bpmn.lint import lint_diagram
from mom import instances
from mom.messages import publish_message
from mom.settings import load_settings
from mom.task_catalog import known_task_types
from worker import build_worker


@pytest.mark.parametrize(("cycle", "expected"), [("R3/PT1S", 3), ("R/PT1S", None)])
async def test_non_interrupting_cycle_timer_reminds_every_interval_until_the_task_completes(
        cycle: str, expected: int | None, temporal_client: Client, task_queue: str, data_dir: Path) -> None:
    async with build_worker(temporal_client, load_settings(data_dir=data_dir), queue=task_queue):
        wid = await start(temporal_client, data_dir, "reminder_cycle.bpmn", task_queue, {"remind_every": cycle})
        wanted = expected or 4
        state = await wait_for_state(temporal_client, wid,
                                     lambda s: s["completed"].count("reminder_sent") >= wanted, timeout=15)
        assert "inspect" in state["active"]  # reminders do not interrupt the task
        if expected is not None:  # R3: three reminders, then the timer is done while the task still waits
            await asyncio.sleep(1.5)
            state = await instances.instance_state(temporal_client, wid)
            assert state["completed"].count("reminder_sent") == 3 and "remind" not in state["active"]
            assert "inspect" in state["active"]
        task = state["user_tasks"][0]
        await instances.complete_user_task(temporal_client, wid, task["task_id"], {})
        result = await asyncio.wait_for(instances.wait_result(temporal_client, wid), 90)
    sent = result.completed.count("reminder_sent")
    assert sent == 3 if expected is not None else sent >= 4
    # Once the task completed the cycle stopped: the instance ended, no reminder after "inspected".
    assert result.completed[-2:] == ["inspect", "inspected"]


ORDER = {"remind_after": "PT30S", "deadline": "PT30S", "fail": False}


async def test_interrupting_message_event_subprocess_cancels_the_main_flow(
        temporal_client: Client, task_queue: str, data_dir: Path) -> None:
    key = f"O-{task_queue}"
    async with build_worker(temporal_client, load_settings(data_dir=data_dir), queue=task_queue):
        wid = await start(temporal_client, data_dir, "event_subprocesses.bpmn", task_queue, {**ORDER, "order_id": key})
        state = await wait_for_state(temporal_client, wid, lambda s: s["user_tasks"])
        assert state["active"] == ["work"]  # event subprocesses listen, they are not running
        assert not {"on_error", "scrapped_end"} & set(state["completed"])  # the error one did not run at start
        await asyncio.sleep(0.5)
        await publish_message(temporal_client, "order_cancelled", key, {"reason": "customer"}, task_queue=task_queue)
        result = await asyncio.wait_for(instances.wait_result(temporal_client, wid), 90)
    assert result.completed[-4:] == ["cancel_received", "log_cancel", "cancelled", "on_cancel"]
    assert "work" not in result.completed and "done" not in result.completed
    assert result.variables["reason"] == "customer" and result.variables["was_cancelled"] is True


async def test_non_interrupting_message_and_timer_event_subprocesses_run_beside_the_main_flow(
        temporal_client: Client, task_queue: str, data_dir: Path) -> None:
    key = f"O-{task_queue}"
    variables = {**ORDER, "order_id": key, "remind_after": "PT1S"}
    async with build_worker(temporal_client, load_settings(data_dir=data_dir), queue=task_queue):
        wid = await start(temporal_client, data_dir, "event_subprocesses.bpmn", task_queue, variables)
        await wait_for_state(temporal_client, wid, lambda s: s["user_tasks"])
        await asyncio.sleep(0.5)
        for number in (1, 2):  # a non-interrupting message event subprocess listens again after each
            await publish_message(temporal_client, "order_note", key, {"note": f"note {number}"},
                                  task_queue=task_queue)
            await wait_for_state(temporal_client, wid, lambda s, n=number: s["completed"].count("noted") == n)
        state = await wait_for_state(temporal_client, wid, lambda s: "reminded" in s["completed"])
        assert "work" in state["active"]  # neither interrupted the main flow
        began = time.monotonic()
        await instances.complete_user_task(temporal_client, wid, state["user_tasks"][0]["task_id"], {})
        result = await asyncio.wait_for(instances.wait_result(temporal_client, wid), 90)
    assert time.monotonic() - began < 5  # the 30 s deadline listener did not hold the instance open
    assert result.completed[-3:] == ["work", "passed", "done"]
    assert result.completed.count("noted") == 2 and result.completed.count("reminded") == 1  # a duration fires once
    assert "expired_end" not in result.completed and "cancelled" not in result.completed


async def test_interrupting_timer_event_subprocess_cancels_the_waiting_user_task(
        temporal_client: Client, task_queue: str, data_dir: Path) -> None:
    variables = {**ORDER, "order_id": f"O-{task_queue}", "deadline": "PT1S"}
    async with build_worker(temporal_client, load_settings(data_dir=data_dir), queue=task_queue):
        wid = await start(temporal_client, data_dir, "event_subprocesses.bpmn", task_queue, variables)
        result = await asyncio.wait_for(instances.wait_result(temporal_client, wid), 90)
    assert result.completed[-4:] == ["deadline_due", "mark_expired", "expired_end", "on_deadline"]
    assert "work" not in result.completed and result.variables["expired"] is True


async def test_error_event_subprocess_catches_an_error_end_event_of_the_process(
        temporal_client: Client, task_queue: str, data_dir: Path) -> None:
    async with build_worker(temporal_client, load_settings(data_dir=data_dir), queue=task_queue):
        wid = await start(temporal_client, data_dir, "event_subprocesses.bpmn", task_queue,
                          {**ORDER, "order_id": f"O-{task_queue}"})
        state = await wait_for_state(temporal_client, wid, lambda s: s["user_tasks"])
        await instances.complete_user_task(temporal_client, wid, state["user_tasks"][0]["task_id"], {"fail": True})
        result = await asyncio.wait_for(instances.wait_result(temporal_client, wid), 90)
    assert result.status == "completed"
    assert result.completed[-5:] == ["failed", "qa_error", "mark_scrapped", "scrapped_end", "on_error"]
    assert result.variables["scrapped"] is True and result.variables["fail"] is True


def _event_subprocess(start: str) -> str:
    return ('<?xml version="1.0" encoding="UTF-8"?>'
            '<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d" targetNamespace="t">'
            '<bpmn:signal id="Sig" name="stop" /><bpmn:process id="p" isExecutable="true">'
            '<bpmn:startEvent id="s" /><bpmn:subProcess id="esp" triggeredByEvent="true">'
            f'{start}<bpmn:endEvent id="e" /><bpmn:sequenceFlow id="f" sourceRef="es" targetRef="e" />'
            '</bpmn:subProcess></bpmn:process></bpmn:definitions>')


@pytest.mark.parametrize(("start", "refused"), [
    ('<bpmn:startEvent id="es"><bpmn:signalEventDefinition signalRef="Sig" /></bpmn:startEvent>', None),
    ('<bpmn:startEvent id="es" />', "must have one"),
    ('<bpmn:startEvent id="es"><bpmn:timerEventDefinition><bpmn:timeCycle>"R/PT1S"</bpmn:timeCycle>'
     '</bpmn:timerEventDefinition></bpmn:startEvent>', None),  # see test_event_subprocess_triggers.py
    ('<bpmn:startEvent id="es"><bpmn:timerEventDefinition><bpmn:timeDuration>"PT1S"</bpmn:timeDuration>'
     '</bpmn:timerEventDefinition></bpmn:startEvent>', None),
])
def test_lint_accepts_only_the_event_subprocess_triggers_this_engine_runs(start: str, refused: str | None) -> None:
    problems = [p for p in lint_diagram(_event_subprocess(start), "esp.bpmn", known_task_types())
                if p.severity == "error"]
    if refused is None:
        assert problems == []
    else:
        assert len(problems) == 1 and refused in problems[0].message, problems


@pytest.mark.parametrize("code", ["QA_FAIL", "OTHER"])
async def test_error_event_subprocess_catches_a_business_error_of_an_activity_by_code(
        code: str, temporal_client: Client, task_queue: str, data_dir: Path) -> None:
    async with build_worker(temporal_client, load_settings(data_dir=data_dir), queue=task_queue):
        wid = await start(temporal_client, data_dir, "error_event_subprocess.bpmn", task_queue, {"machine_error": code})
        if code != "QA_FAIL":  # not its code: nothing catches it, an incident as before
            state = await wait_for_state(temporal_client, wid, lambda s: s.get("incident"))
            assert state["incident"]["element_id"] == "run_job"
            return
        result = await asyncio.wait_for(instances.wait_result(temporal_client, wid), 90)
    assert result.completed == ["start", "qa_error", "mark_scrapped", "scrapped_end", "on_qa_error"]
    assert result.variables["scrapped"] is True and result.variables["error_code"] == "QA_FAIL"
