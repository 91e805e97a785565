"""Business rule tasks: DMN decision tables deployed beside the diagram, evaluated on Temporal."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from support.processes import start

from mom import instances
from mom.settings import load_settings
from worker import build_worker


@pytest.mark.parametrize(("defects", "customer", "grade", "action"), [
    (0, "any", "A", "ship"), (2, "premium", "B", "rework"), (1, "other", "B", "ship"), (7, "any", "C", "scrap"),
])
async def test_decision_table_grades_a_lot(defects: int, customer: str, grade: str, action: str,
                                           temporal_client, task_queue: str, data_dir: Path) -> None:  # type: ignore[no-untyped-def]
    async with build_worker(temporal_client, load_settings(data_dir=data_dir), queue=task_queue):
        wid = await start(temporal_client, data_dir, "grade_by_rules.bpmn", task_queue,
                          {"defects": defects, "customer": customer})
        result = await asyncio.wait_for(instances.wait_result(temporal_client, wid), 90)
    # zeebe:calledDecision resultVariable: the outputs under one variable
    assert result.variables["verdict"] == {"grade": grade, "action": action}
    # spiffworkflow:calledDecisionId: the outputs join the process variables
    assert (result.variables["grade"], result.variables["action"]) == (grade, action)
    assert result.completed == ["start", "grade", "grade_spiff", "end"]
