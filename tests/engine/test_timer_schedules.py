"""Timer start events: a Temporal Schedule starts the instances (mom.schedules)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

from support.processes import DIAGRAMS
from temporalio.client import Client, WorkflowExecutionStatus

from mom.deployment import deploy_file
from mom.process_store import ProcessStore
from mom.schedules import TimerStart, schedule_id, schedule_timing, sync_schedules, timer_starts
from mom.settings import load_settings
from worker import build_worker


def test_timer_start_values_become_schedule_timings() -> None:
    assert timer_starts((DIAGRAMS / "timer_start_cycle.bpmn").read_bytes(), "timer_start_cycle") == [
        TimerStart("every_second", "timeCycle", "R2/PT1S")]
    now = datetime(2026, 1, 1, 6, 0, 0, tzinfo=UTC)
    spec, state = schedule_timing(TimerStart("s", "timeCycle", "R/PT1H"), now)
    assert spec.intervals[0].every == timedelta(hours=1) and not state.limited_actions
    spec, state = schedule_timing(TimerStart("s", "timeCycle", "R3/2026-02-01T06:30:00Z/P1D"), now)
    assert spec.intervals[0].offset == timedelta(hours=6, minutes=30) and state.remaining_actions == 3
    spec, state = schedule_timing(TimerStart("s", "timeDuration", "PT2H"), now)
    assert spec.calendars[0].hour[0].start == 8 and state.remaining_actions == 1
    spec, state = schedule_timing(TimerStart("s", "timeDate", "2026-03-04T05:06:07Z"), now)
    calendar = spec.calendars[0]
    assert (calendar.year[0].start, calendar.month[0].start, calendar.second[0].start) == (2026, 3, 7)


async def _instances(client: Client, process_id: str) -> list[str]:
    return [w.id async for w in client.list_workflows(f"WorkflowId STARTS_WITH '{process_id}-timer-'")]


async def test_cycle_timer_start_runs_instances_from_a_schedule(
        temporal_client: Client, task_queue: str, data_dir: Path) -> None:
    store = ProcessStore(data_dir)
    deploy_file(store, DIAGRAMS / "timer_start_cycle.bpmn", deployed_by="test")
    process_id = "timer_start_cycle"
    sid = schedule_id(process_id, "every_second")
    async with build_worker(temporal_client, load_settings(data_dir=data_dir), queue=task_queue):
        try:
            assert await sync_schedules(temporal_client, store, process_id, task_queue=task_queue) == [sid]
            # Deploying again updates the same schedule (idempotent).
            assert await sync_schedules(temporal_client, store, process_id, task_queue=task_queue) == [sid]
            ids: list[str] = []
            for _ in range(80):
                ids = await _instances(temporal_client, process_id)
                done = [i for i in ids if (await temporal_client.get_workflow_handle(i).describe()).status
                        == WorkflowExecutionStatus.COMPLETED]
                if len(done) >= 2:
                    break
                await asyncio.sleep(0.1)
            assert len(done) >= 2, ids
            result = await temporal_client.get_workflow_handle(done[0]).result()
            # A cycle start event completes after the path it started (SpiffWorkflow's cycle semantics).
            assert sorted(result["completed"]) == ["check", "end", "every_second"] and result["variables"]["checked"]
            description = await temporal_client.get_schedule_handle(sid).describe()
            assert description.schedule.state.remaining_actions == 0  # R2: two instances only
        finally:
            await temporal_client.get_schedule_handle(sid).delete()
