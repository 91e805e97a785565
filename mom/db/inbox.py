"""The task inbox seen from the workflow side: user tasks opened and closed by the BpmnProcess
workflow (through the ``inbox.*`` activities) and completed through the API.

Rows are keyed by the workflow's task id (``workflow_task_id``, the Spiff task UUID), so every
function here is idempotent: opening an open task, closing a closed one or completing a completed
one changes nothing and writes no second audit entry.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session, aliased

from mom.db.audit import append_audit_entry
from mom.db.base import utcnow
from mom.db.models import Equipment, HumanTask, ProcessInstance, TaskCandidateGroup, TaskCandidateUser
from mom.db.queries import fetch_by
from mom.domain import TaskStatus

OPEN_STATUSES = (TaskStatus.OPEN, TaskStatus.CLAIMED)


def _due(value: Any) -> datetime | None:
    if not value:
        return None
    try:
        due = datetime.fromisoformat(str(value))
    except ValueError:
        return None
    return due.replace(tzinfo=UTC) if due.tzinfo is None else due.astimezone(UTC)


def _rowcount(result: Any) -> int:
    return int(result.rowcount)


def _truthy(value: Any) -> bool:
    return value is True or (isinstance(value, str) and value.strip().lower() in {"true", "1", "yes"})


def get_task_by_workflow_id(session: Session, *, workflow_task_id: str) -> HumanTask:
    return fetch_by(
        session,
        sa.select(HumanTask).where(HumanTask.workflow_task_id == workflow_task_id),
        entity="human task",
        key=workflow_task_id,
    )


def open_workflow_tasks(
    session: Session,
    *,
    workflow_id: str,
    tasks: Iterable[dict[str, Any]],
    run_id: str | None = None,
    process_key: str | None = None,
    version: int | None = None,
    business_key: str | None = None,
    requested_by: str | None = None,
) -> list[HumanTask]:
    """Create an inbox row per task (a ``UserTaskView`` dict); tasks already known are left alone.

    ``requested_by`` is the workflow's ``started_by`` (set by the API from the token); a task input
    or context named ``requested_by`` is diagram data and is not used for the four-eyes rule."""
    tasks = list(tasks)
    ids = [str(t["task_id"]) for t in tasks]
    known = set(session.scalars(sa.select(HumanTask.workflow_task_id).where(HumanTask.workflow_task_id.in_(ids))))
    instance = session.execute(
        sa.select(ProcessInstance).where(ProcessInstance.workflow_id == workflow_id)
    ).scalar_one_or_none()
    created: list[HumanTask] = []
    for view in tasks:
        task_id = str(view["task_id"])
        if task_id in known:
            continue
        context = dict(view.get("context") or {})
        users = sorted({str(u) for u in view.get("candidate_users") or []})
        assignee = view.get("assignee") or None
        groups = sorted({str(g) for g in view.get("candidate_groups") or []} | ({str(view["lane"])} if
                        view.get("lane") and not view.get("candidate_groups") and not assignee else set()))
        task = HumanTask(
            process_instance_id=instance.id if instance else None,
            element_id=str(view["element_id"]),
            token=task_id,
            name=str(view.get("name") or view["element_id"])[:200],
            assignee=assignee,
            status=TaskStatus.CLAIMED if assignee else TaskStatus.OPEN,
            form_schema=dict(view.get("form_schema") or {}),
            data={},
            due_at=_due(view.get("due_date")),
            workflow_id=workflow_id,
            workflow_task_id=task_id,
            process_key=process_key,
            process_version=version,
            business_key=business_key,
            lane=view.get("lane"),
            candidate_users=users,
            priority=view.get("priority"),
            form_key=view.get("form_key"),
            documentation=view.get("documentation"),
            context=context,
            work_center=context.get("work_center") or _work_center_of_operation(session, context),
            four_eyes=_truthy(view.get("four_eyes", context.get("four_eyes"))),
            # who requested: the instance's starter as the server recorded it from the token (the
            # instance row, else the workflow's start input), never process data (issue J.2)
            requested_by=(instance.started_by if instance else None) or requested_by,
            signature=str(view["signature"])[:200] if view.get("signature") else None,
            candidate_group_rows=[TaskCandidateGroup(group_name=g) for g in groups],
            candidate_user_rows=[TaskCandidateUser(user_name=u) for u in users],
        )
        session.add(task)
        created.append(task)
    session.flush()
    return created


def _work_center_of_operation(session: Session, context: dict[str, Any]) -> str | None:
    """A step of a routing operation (its input ``operation`` names the work unit it runs on) is at
    that unit's work center: operators see it only at their stations."""
    operation = context.get("operation")
    unit_path = operation.get("work_unit") if isinstance(operation, dict) else None
    if not isinstance(unit_path, str) or not unit_path:
        return None
    parent = aliased(Equipment)
    center = session.execute(
        sa.select(parent.path).join(Equipment, Equipment.parent_id == parent.id).where(Equipment.path == unit_path)
    ).scalar_one_or_none()
    return str(center) if center else None


def close_workflow_task(
    session: Session,
    *,
    workflow_id: str,
    workflow_task_id: str,
    element_id: str,
    outcome: str,
    user: str | None = None,
    result: dict[str, Any] | None = None,
    reason: str | None = None,
    completed_at: datetime | None = None,
) -> str:
    """The workflow says the task left (``completed`` or ``cancelled``). Returns what changed:
    ``closed``, ``already_closed`` or ``tombstone`` (the close arrived before the open)."""
    task = session.execute(
        sa.select(HumanTask).where(HumanTask.workflow_task_id == workflow_task_id)
    ).scalar_one_or_none()
    if task is None:
        # Both activities run in the background: keep a closed row so a late open is a no-op.
        session.add(HumanTask(
            element_id=element_id, token=workflow_task_id, name=element_id, workflow_id=workflow_id,
            workflow_task_id=workflow_task_id, form_schema={}, data={}, candidate_users=[], context={},
            status=TaskStatus.COMPLETED if outcome == "completed" else TaskStatus.CANCELLED,
            completed_by=user, completed_at=completed_at or utcnow(),
            closed_reason=f"closed by the workflow ({outcome})",
        ))
        session.flush()
        return "tombstone"
    if task.status not in OPEN_STATUSES:
        return "already_closed"
    if outcome == "completed":
        done = mark_task_completed(session, task=task, user=user or "workflow", result=result,
                                   reason=reason or "completed in the workflow", at=completed_at)
        return "closed" if done else "already_closed"
    changed = _rowcount(session.execute(
        sa.update(HumanTask)
        .where(HumanTask.id == task.id, HumanTask.status.in_(OPEN_STATUSES))
        .values(status=TaskStatus.CANCELLED, closed_reason="cancelled by the process (boundary event or end)")
        .execution_options(synchronize_session=False)
    ))
    if not changed:
        return "already_closed"
    # the workflow, acting for whoever started the instance (issue J.3)
    actor = f"workflow for {task.requested_by}"[:100] if task.requested_by else "workflow"
    append_audit_entry(session, actor=actor, action="task.cancelled", entity_type="human task",
                       entity_id=task.workflow_task_id,
                       details={"name": task.name, "element": task.element_id, "workflow_id": workflow_id})
    session.flush()
    session.refresh(task)
    return "closed"


def mark_task_completed(
    session: Session, *, task: HumanTask, user: str, result: dict[str, Any] | None, reason: str | None = None,
    at: datetime | None = None,
) -> bool:
    """Mark ``task`` completed once (a conditional UPDATE, safe against a concurrent double
    click) and audit it as ``task.approved``/``task.rejected``/``task.completed``, at ``at`` (when
    the completion was accepted; default now). Returns False, writing nothing, when it was already
    completed or cancelled."""
    now = at or utcnow()
    values: dict[str, Any] = {"status": TaskStatus.COMPLETED, "completed_by": user, "completed_at": now,
                              "assignee": task.assignee or user}
    if result is not None:
        values["result"] = dict(result)
    changed = _rowcount(session.execute(
        sa.update(HumanTask)
        .where(HumanTask.id == task.id, HumanTask.status.in_(OPEN_STATUSES))
        .values(**values)
        .execution_options(synchronize_session=False)
    ))
    if not changed:
        session.refresh(task)
        if task.result is None and result is not None and task.completed_by == user:
            task.result = dict(result)  # closed by the workflow first: keep the data it was completed with
            session.flush()
        return False
    approved = (result or {}).get("approved")
    action = "task.completed"
    if isinstance(approved, bool):
        action = "task.approved" if approved else "task.rejected"
    details: dict[str, Any] = {"name": task.name, "element": task.element_id, "workflow_id": task.workflow_id,
                               "result": result}
    if task.signature:  # an e-signature (the API checked the password): who, when, and what it means
        details["signature"] = {"meaning": task.signature, "signed_by": user, "signed_at": now}
    append_audit_entry(
        session,
        actor=user,
        action=action,
        entity_type="human task",
        entity_id=task.workflow_task_id or task.id,
        reason=reason,
        details=details,
        at=now,
    )
    session.flush()
    session.refresh(task)
    return True


def set_task_assignee(session: Session, *, task: HumanTask, assignee: str | None, actor: str) -> HumanTask:
    """Claim (``assignee`` = someone) or unclaim (None) an open task, audited."""
    task.assignee = assignee
    task.status = TaskStatus.CLAIMED if assignee else TaskStatus.OPEN
    append_audit_entry(session, actor=actor, action="task.claimed" if assignee else "task.released",
                       entity_type="human task", entity_id=task.workflow_task_id or task.id,
                       details={"assignee": assignee})
    session.flush()
    return task
