"""Crash cycles of the whole stack while production orders run: the cloud worker, the edge
worker, the API and the Temporal dev server (restarted on the same SQLite file) are each killed
with SIGKILL once, in a seeded random order at random moments, and restarted. Every order ends;
no instance is lost or stuck; no machine job or quality deviation starts twice; no genealogy link or audit entry is
written twice; the audit chain verifies. The people complete every step through the REST API; the API is
killed while a completion waits for its answer, which is sent again and completes once. The long run is
``bench/chaos.py --cycles 100``."""

from __future__ import annotations

import asyncio
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.orm import Session
from support.chaos_stack import CountingMachine, audit_keys, completions_audited, history_counts, run_chaos
from temporalio.api.enums.v1 import EventType
from temporalio.api.history.v1 import HistoryEvent
from temporalio.converter import DataConverter

from mom.db.audit import append_audit_entry
from mom.db.base import Base
from mom.plant.job_order import Recipe
from mom.plant.machine import MachineConfig
from workflows.contracts import COMPLETE_USER_TASK_UPDATE


async def test_crash_cycles_lose_nothing_and_do_nothing_twice(tmp_path: Path) -> None:
    figures = await asyncio.wait_for(
        run_chaos(tmp_path, cycles=4, orders=4, seed=7, each_part_in_turn=True, settle_timeout_s=100.0,
                  log=print), 480)  # a bound, not the runtime: 268 s at load 12, start-up alone 95 s
    print(figures.table())
    assert figures.kills == {"worker": 1, "edge": 1, "api": 1, "temporal": 1}
    assert figures.operator_errors == []
    assert (figures.lost, figures.stuck, figures.failed) == (0, 0, 0)
    assert (figures.deviations, figures.completed) == (1, 5)  # the 4th order's coating is out of tolerance
    assert (figures.duplicate_job_starts, figures.duplicate_genealogy, figures.duplicate_audit) == (0, 0, 0)
    assert figures.duplicate_deviations == 0
    assert figures.jobs_started == 8  # two operations per order, each one job on its machine
    assert figures.audit_chain_ok and figures.api_healthy_after_restarts
    assert figures.workers_died_alone == []
    # the people worked through the REST API, and through its kill
    assert figures.human_steps_via_api == figures.human_steps_recorded == 5 * 4 + 1
    assert figures.api_down_attempts > 0  # they met the API down (refused or reset) and tried again
    assert figures.api_kills_mid_completion == 1 and figures.lost_answers >= 1  # a completion's answer was lost
    assert figures.completions_sent_again >= 1  # ... and it was sent again, with the same task id
    assert (figures.double_completions, figures.completions_not_in_workflow) == (0, 0)


def test_the_counters_see_a_job_started_twice_and_an_audit_entry_written_twice() -> None:
    """Negative control: the figures above would show a duplicate if one happened."""
    machine = CountingMachine(MachineConfig(name="Press1", cycle_time_s=0.01, acting_time_s=0.01, mtbf_s=0.0,
                                            bad_rate=0.0), seed=1)
    for _ in range(2):  # the same job stored and started again after it ended: a second run on the machine
        machine.store("J-1", Recipe("R-1", 1))
        assert machine.start("J-1").changed and not machine.start("J-1").changed  # a retried Start is no run
        for _ in range(200):
            machine.advance(0.05)
        machine.store("J-2", Recipe("R-2", 1))  # another job in between
        machine.start("J-2")
        for _ in range(200):
            machine.advance(0.05)
    assert machine.starts_by_job == {"J-1": 2, "J-2": 2}

    engine = sa.create_engine("sqlite://")
    Base.metadata.create_all(engine)
    with Session(engine) as session, session.begin():
        for _ in range(2):
            append_audit_entry(session, actor="x", action="lot.produced", entity_type="lot", entity_id="PO-1-10")
        for to in ("released", "released"):
            append_audit_entry(session, actor="x", action="production_order.status_changed",
                               entity_type="production order", entity_id="PO-1", details={"from": "received", "to": to})
        append_audit_entry(session, actor="x", action="production_order.status_changed",
                           entity_type="production order", entity_id="PO-1", details={"from": "released", "to": "done"})
        keys = audit_keys(session)
    assert sorted(n for n in keys.values()) == [1, 2, 2]


def test_the_counters_see_a_task_completed_twice() -> None:
    """Negative control: a task id the workflow completed twice (two updates answered 'completed'),
    or audited twice, is counted; a repeat answered 'already completed' is a repeat, not a double."""
    converter = DataConverter.default.payload_converter
    events = []
    answers = [("u1", "T-1", "completed"), ("u2", "T-1", "completed"), ("u3", "T-2", "completed"),
               ("u4", "T-2", "already_completed")]
    for update_id, task_id, status in answers:
        accepted = HistoryEvent(event_type=EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED)
        request = accepted.workflow_execution_update_accepted_event_attributes.accepted_request
        request.meta.update_id = update_id
        request.input.name = COMPLETE_USER_TASK_UPDATE
        request.input.args.payloads.extend(converter.to_payloads([{"task_id": task_id, "data": {}}]))
        completed = HistoryEvent(event_type=EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_COMPLETED)
        attributes = completed.workflow_execution_update_completed_event_attributes
        attributes.meta.update_id = update_id
        attributes.outcome.success.payloads.extend(converter.to_payloads([{"status": status, "element_id": "x"}]))
        events += [accepted, completed]
    counts = history_counts(events, converter)
    assert counts.completions == {"T-1": 2, "T-2": 1} and counts.already_completed == 1

    engine = sa.create_engine("sqlite://")
    Base.metadata.create_all(engine)
    with Session(engine) as session, session.begin():
        for task_id in ("T-1", "T-1", "T-2"):
            append_audit_entry(session, actor="x", action="task.completed", entity_type="human task", entity_id=task_id)
        append_audit_entry(session, actor="x", action="task.claimed", entity_type="human task", entity_id="T-2")
        assert completions_audited(session) == {"T-1": 2, "T-2": 1}
