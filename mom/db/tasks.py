"""Data functions for human tasks: the inbox, claiming and completing (completions audited)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from mom.db.audit import append_audit_entry
from mom.db.base import utcnow
from mom.db.models import HumanTask, TaskCandidateGroup
from mom.db.queries import fetch, page
from mom.domain import NotPermitted, TaskStatus, check_transition


def create_human_task(
    session: Session,
    *,
    element_id: str,
    name: str,
    process_instance_id: int | None = None,
    token: str = "",
    candidate_groups: Iterable[str] = (),
    assignee: str | None = None,
    form_schema: dict[str, Any] | None = None,
    data: dict[str, Any] | None = None,
    work_unit_id: int | None = None,
    due_at: datetime | None = None,
) -> HumanTask:
    task = HumanTask(
        process_instance_id=process_instance_id,
        element_id=element_id,
        token=token,
        name=name,
        assignee=assignee,
        status=TaskStatus.CLAIMED if assignee else TaskStatus.OPEN,
        form_schema=form_schema or {},
        data=data or {},
        work_unit_id=work_unit_id,
        due_at=due_at,
        candidate_group_rows=[TaskCandidateGroup(group_name=g) for g in sorted(set(candidate_groups))],
    )
    session.add(task)
    session.flush()
    return task


def get_human_task(session: Session, *, task_id: int) -> HumanTask:
    return fetch(session, HumanTask, task_id, entity="human task")


def _may_act(task: HumanTask, user: str, groups: Iterable[str] | None) -> None:
    if task.assignee is not None and task.assignee != user:
        raise NotPermitted(f"human task {task.id} is assigned to {task.assignee}, not {user}")
    offered_to = set(task.candidate_groups)
    if task.assignee is None and groups is not None and offered_to and not offered_to & set(groups):
        raise NotPermitted(f"human task {task.id}: {user} is in none of its groups {sorted(offered_to)}")


def claim_human_task(
    session: Session, *, task_id: int, user: str, user_groups: Iterable[str] | None = None
) -> HumanTask:
    """Take an open task; ``user_groups`` (when given) must meet the task's candidate groups."""
    task = get_human_task(session, task_id=task_id)
    _may_act(task, user, user_groups)
    task.status = check_transition(task.status, TaskStatus.CLAIMED, entity_id=task.id)
    task.assignee = user
    session.flush()
    return task


def release_human_task(session: Session, *, task_id: int, user: str) -> HumanTask:
    task = get_human_task(session, task_id=task_id)
    _may_act(task, user, None)
    task.status = check_transition(task.status, TaskStatus.OPEN, entity_id=task.id)
    task.assignee = None
    session.flush()
    return task


def complete_human_task(
    session: Session,
    *,
    task_id: int,
    user: str,
    result: dict[str, Any],
    user_groups: Iterable[str] | None = None,
    reason: str | None = None,
) -> HumanTask:
    """Complete a task with its form data. Audited as ``task.approved`` / ``task.rejected``
    when the data carries a boolean ``approved``, else ``task.completed``."""
    task = get_human_task(session, task_id=task_id)
    _may_act(task, user, user_groups)
    task.status = check_transition(task.status, TaskStatus.COMPLETED, entity_id=task.id)
    task.assignee = task.assignee or user
    task.completed_by = user
    task.completed_at = utcnow()
    task.result = dict(result)
    approved = result.get("approved")
    action = "task.completed"
    if isinstance(approved, bool):
        action = "task.approved" if approved else "task.rejected"
    append_audit_entry(
        session,
        actor=user,
        action=action,
        entity_type="human task",
        entity_id=task.id,
        reason=reason,
        details={
            "name": task.name,
            "element": task.element_id,
            "process_instance_id": task.process_instance_id,
            "result": task.result,
        },
        at=task.completed_at,
    )
    session.flush()
    return task


def cancel_human_task(session: Session, *, task_id: int, actor: str, reason: str | None = None) -> HumanTask:
    task = get_human_task(session, task_id=task_id)
    task.status = check_transition(task.status, TaskStatus.CANCELLED, entity_id=task.id)
    append_audit_entry(
        session,
        actor=actor,
        action="task.cancelled",
        entity_type="human task",
        entity_id=task.id,
        reason=reason,
    )
    session.flush()
    return task


def list_human_tasks(
    session: Session,
    *,
    status: TaskStatus | Sequence[TaskStatus] | None = None,
    assignee: str | None = None,
    candidate_groups: Iterable[str] | None = None,
    process_instance_id: int | None = None,
    work_unit_id: int | None = None,
    offset: int = 0,
    limit: int = 100,
) -> tuple[Sequence[HumanTask], int]:
    """The inbox: ``candidate_groups`` keeps tasks offered to any of those groups (or assigned
    to ``assignee`` when both are given). Due first, then oldest."""
    stmt = sa.select(HumanTask)
    if status is not None:
        statuses = [status] if isinstance(status, TaskStatus) else list(status)
        stmt = stmt.where(HumanTask.status.in_(statuses))
    groups = None if candidate_groups is None else sorted(set(candidate_groups))
    in_groups = (
        None
        if groups is None
        else sa.exists().where(TaskCandidateGroup.task_id == HumanTask.id, TaskCandidateGroup.group_name.in_(groups))
    )
    if assignee is not None and in_groups is not None:
        stmt = stmt.where(sa.or_(HumanTask.assignee == assignee, in_groups))
    elif assignee is not None:
        stmt = stmt.where(HumanTask.assignee == assignee)
    elif in_groups is not None:
        stmt = stmt.where(in_groups)
    if process_instance_id is not None:
        stmt = stmt.where(HumanTask.process_instance_id == process_instance_id)
    if work_unit_id is not None:
        stmt = stmt.where(HumanTask.work_unit_id == work_unit_id)
    stmt = stmt.order_by(HumanTask.due_at.is_(None), HumanTask.due_at, HumanTask.created_at)
    return page(session, stmt.order_by(HumanTask.id), offset=offset, limit=limit)
