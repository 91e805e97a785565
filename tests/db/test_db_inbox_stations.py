"""A step of a routing operation lands in the inbox at its work unit's work center, so operators
see it only at their stations (the production order's staging and quality steps carry the
operation, not a work center)."""

from __future__ import annotations

import uuid

from sqlalchemy.orm import Session

from mom.db.inbox import open_workflow_tasks

# the ``plant`` fixture (tests/db/conftest.py): Acme > Lyon > Pressing > PressLine > Press1, Press2


def _open(session: Session, **context: object) -> str | None:
    task_id = str(uuid.uuid4())
    (task,) = open_workflow_tasks(session, workflow_id=f"po-{task_id}", tasks=[{
        "task_id": task_id, "element_id": "stage_material", "name": "Stage material",
        "candidate_groups": ["operators"], "context": context}])
    return task.work_center


def test_a_step_of_an_operation_is_at_the_work_center_of_its_work_unit(session: Session, plant: object) -> None:
    operation = {"sequence": 10, "work_unit": "Acme.Lyon.Pressing.PressLine.Press2", "machine": "Press2"}
    assert _open(session, operation=operation) == "Acme.Lyon.Pressing.PressLine"


def test_an_explicit_work_center_wins_and_unknown_units_stay_unscoped(session: Session, plant: object) -> None:
    operation = {"work_unit": "Acme.Lyon.Pressing.PressLine.Press2"}
    assert _open(session, operation=operation, work_center="Acme.Lyon.Welding") == "Acme.Lyon.Welding"
    assert _open(session, operation={"work_unit": "Acme.Nowhere.Press9"}) is None
    assert _open(session, operation={"work_unit": None}) is None
    assert _open(session) is None
