"""Elements of the first cut on a real Temporal server: parallel gateways, timers, incidents."""

from __future__ import annotations

from pathlib import Path

import pytest
from support.processes import start, wait_for_state
from temporalio.client import Client

from mom import instances
from mom.settings import load_settings
from worker import build_worker


async def test_parallel_split_runs_branches_concurrently_and_joins(temporal_client: Client, task_queue: str,
                                                                   data_dir: Path) -> None:
    async with build_worker(temporal_client, load_settings(data_dir=data_dir), queue=task_queue):
        wid = await start(temporal_client, data_dir, "parallel_logs.bpmn", task_queue, {"order_id": "PO-3"})
        state = await wait_for_state(temporal_client, wid, lambda s: "check_machine" in s["running_activities"])
        assert set(state["active"]) >= {"check_machine"}
        with pytest.raises(instances.TaskRefused, match="no open incident"):
            await instances.retry_incident(temporal_client, wid)
        result = await instances.wait_result(temporal_client, wid)
    assert result.variables["ready"] is True
    assert result.completed[:2] == ["start", "split"]
    assert set(result.completed[2:5]) == {"check_material", "check_machine", "check_tooling"}
    assert result.completed[5:] == ["join", "summarize", "end"]


async def test_timers_remind_without_interrupting_then_escalate(temporal_client: Client, task_queue: str,
                                                                data_dir: Path) -> None:
    variables = {"cool_down": "PT1S", "reminder_after": "PT1S", "escalate_after": "PT2S"}
    async with build_worker(temporal_client, load_settings(data_dir=data_dir), queue=task_queue):
        wid = await start(temporal_client, data_dir, "timers.bpmn", task_queue, variables)
        state = await instances.instance_state(temporal_client, wid)
        assert state["active"] == ["cool_down"]
        state = await wait_for_state(temporal_client, wid, lambda s: "reminder_sent" in s["completed"])
        assert "inspect" in state["active"]  # the reminder did not interrupt the inspection
        state = await wait_for_state(temporal_client, wid, lambda s: s["user_tasks"]
                                     and s["user_tasks"][0]["element_id"] == "supervisor_decides")
        assert "inspect" not in state["active"]  # the overdue timer interrupted it
        task = state["user_tasks"][0]
        assert task["candidate_groups"] == ["supervisors"]
        await instances.complete_user_task(temporal_client, wid, task["task_id"], {"decision": "rework"})
        result = await instances.wait_result(temporal_client, wid)
    assert result.completed[-2:] == ["supervisor_decides", "escalated"]
    assert result.variables["reminded"] is True


async def test_inspection_done_in_time_cancels_its_timers(temporal_client: Client, task_queue: str,
                                                          data_dir: Path) -> None:
    variables = {"cool_down": "PT0S", "reminder_after": "PT30S", "escalate_after": "PT60S"}
    async with build_worker(temporal_client, load_settings(data_dir=data_dir), queue=task_queue):
        wid = await start(temporal_client, data_dir, "timers.bpmn", task_queue, variables)
        state = await wait_for_state(temporal_client, wid, lambda s: s["user_tasks"])
        await instances.complete_user_task(temporal_client, wid, state["user_tasks"][0]["task_id"], {})
        result = await instances.wait_result(temporal_client, wid)
    assert result.completed == ["start", "cool_down", "inspect", "inspected"]


async def test_script_error_is_an_incident_and_retry_with_fixed_data_continues(
    temporal_client: Client, task_queue: str, data_dir: Path
) -> None:
    async with build_worker(temporal_client, load_settings(data_dir=data_dir), queue=task_queue):
        wid = await start(temporal_client, data_dir, "incident.bpmn", task_queue,
                          {"good": 0, "bad": 0, "settle_seconds": 0})
        state = await wait_for_state(temporal_client, wid, lambda s: s["status"] == "incident")
        assert state["incident"]["element_id"] == "scrap_rate"
        assert "ZeroDivisionError" in state["incident"]["message"]
        await instances.retry_incident(temporal_client, wid, {"good": 95, "bad": 5})
        result = await instances.wait_result(temporal_client, wid)
    assert result.variables["scrap_rate"] == pytest.approx(0.05)
    assert result.completed == ["start", "scrap_rate", "settle", "end"]


async def test_missing_variable_and_failed_activity_are_incidents(temporal_client: Client, task_queue: str,
                                                                  data_dir: Path) -> None:
    async with build_worker(temporal_client, load_settings(data_dir=data_dir), queue=task_queue):
        wid = await start(temporal_client, data_dir, "incident.bpmn", task_queue, {"good": 9, "bad": 1})
        state = await wait_for_state(temporal_client, wid, lambda s: s["status"] == "incident")
        assert state["incident"]["element_id"] == "settle"
        assert "settle_seconds" in state["incident"]["message"]

        await instances.retry_incident(temporal_client, wid, {"settle_seconds": "a while"})
        state = await wait_for_state(temporal_client, wid, lambda s: s["status"] == "incident")
        assert state["incident"]["element_id"] == "settle"
        assert "activity 'mom.wait' failed" in state["incident"]["message"]
        assert "must be a number" in state["incident"]["message"]

        with pytest.raises(instances.InstanceNotFound, match="no-such-instance"):
            await instances.retry_incident(temporal_client, "no-such-instance-" + wid)

        await instances.retry_incident(temporal_client, wid, {"settle_seconds": 0})
        result = await instances.wait_result(temporal_client, wid)
    assert result.completed[-2:] == ["settle", "end"]
