"""The task inbox: list (mine, my groups, overdue), claim, unclaim, complete with validated form data.

Completion: rights and four-eyes are checked, the data is validated against the task's form
(errors per field, nothing reaches the workflow until valid), then it goes to the workflow as a
validated Temporal Update; once the workflow accepted it the answer goes out, and the inbox row is
marked completed with one audit entry (by this API right after answering, and by the workflow's
inbox.close_task activity, whichever comes first). A second click returns the same body and writes
nothing; a concurrent click by someone else (or with other data) that lost the race gets 409 naming
who completed the task, never the winner's answer as if it were its own.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Any

from fastapi import APIRouter, BackgroundTasks, HTTPException, Query, status
from sqlalchemy.orm import Session
from temporalio.client import Client

from api.deps import ApiContext, ContextDep, Principal, TaskWorker
from api.e_signature import check_signature
from api.pagination import Page, Paging
from api.payload_limits import require_small
from api.schemas.tasks import TaskCompletion, TaskOut
from api.task_rules import OVERSEERS, check_may_work_on, operator_only
from bpmn.forms import NO_FORM, NOT_IN_FORM, validate_form_data
from mom import instances
from mom.db.inbox import OPEN_STATUSES, get_task_by_workflow_id, mark_task_completed, set_task_assignee
from mom.db.inbox_list import InboxEntry, list_inbox
from mom.db.models import HumanTask
from mom.domain import TaskStatus

router = APIRouter(prefix="/tasks", tags=["tasks"])
_log = logging.getLogger(__name__)
OPEN_VALUES = frozenset(s.value for s in OPEN_STATUSES)


class Scope(StrEnum):
    MINE = "mine"
    AVAILABLE = "available"
    ALL = "all"


def task_out(task: HumanTask | InboxEntry, now: datetime | None = None) -> TaskOut:
    moment = now or datetime.now(UTC)
    is_open = task.status in OPEN_STATUSES
    return TaskOut(
        task_id=task.workflow_task_id or str(task.id), name=task.name, element_id=task.element_id,
        status=task.status.value, workflow_id=task.workflow_id, process_id=task.process_key,
        process_version=task.process_version, business_key=task.business_key, assignee=task.assignee,
        candidate_groups=task.candidate_groups, candidate_users=list(task.candidate_users or []), lane=task.lane,
        due_at=task.due_at, overdue=bool(is_open and task.due_at and task.due_at < moment), priority=task.priority,
        form_key=task.form_key, form_schema=dict(task.form_schema or {}), documentation=task.documentation,
        context=dict(task.context or {}), four_eyes=task.four_eyes, requested_by=task.requested_by,
        signature=task.signature,
        created_at=task.created_at, completed_at=task.completed_at, completed_by=task.completed_by,
        result=task.result, closed_reason=task.closed_reason,
    )


@router.get("", response_model=Page[TaskOut])
async def inbox(
    context: ContextDep, user: TaskWorker, paging: Paging,
    scope: Annotated[Scope, Query(description="mine: assigned to me; available: mine and my groups' "
                                  "unclaimed; all: everyone's (supervisor)")] = Scope.AVAILABLE,
    overdue: bool | None = None,
    status_: Annotated[list[TaskStatus] | None, Query(alias="status")] = None,
    process_id: Annotated[str | None, Query(max_length=200)] = None,
    workflow_id: Annotated[str | None, Query(max_length=200)] = None,
    business_key: Annotated[str | None, Query(max_length=200)] = None,
    element_id: Annotated[str | None, Query(max_length=200)] = None,
) -> Page[TaskOut]:
    if scope == Scope.ALL and not user.has_any(OVERSEERS):
        raise HTTPException(status.HTTP_403_FORBIDDEN, f"scope=all needs role supervisor; {user.username} has "
                            f"{sorted(user.roles)}")

    def work(session: Session) -> Page[TaskOut]:
        items, total = list_inbox(
            session, user=None if scope == Scope.ALL else user.username, groups=user.groups,
            mine=scope == Scope.MINE, status=tuple(status_ or OPEN_STATUSES), overdue=overdue,
            process_key=process_id, workflow_id=workflow_id, business_key=business_key, element_id=element_id,
            work_centers=user.work_centers if operator_only(user) else None,
            offset=paging.offset, limit=paging.limit, totals=context.inbox_totals)
        now = datetime.now(UTC)
        return Page(items=[task_out(t, now) for t in items], total=total, **paging.model_dump())

    return await context.db(work, write=False)


def _visible(task: HumanTask, user: Principal) -> bool:
    from api.task_rules import offered_to

    return user.has_any(OVERSEERS) or task.assignee == user.username or task.completed_by == user.username or (
        task.assignee is None and offered_to(task, user))


SETTLE_WAIT_S = 10.0
"""How long a click that found its task completed by a concurrent click waits for that completion's
inbox row (written right after the other click's answer, or by the workflow's close activity)."""


async def _load(context: ApiContext, task_id: str, user: Principal, *, settled: bool = False) -> TaskOut:
    """The task as the inbox has it; ``settled``: once its row is closed (at most SETTLE_WAIT_S)."""
    def work(session: Session) -> TaskOut:
        task = get_task_by_workflow_id(session, workflow_task_id=task_id)
        if not _visible(task, user):
            raise HTTPException(status.HTTP_403_FORBIDDEN, f"task {task_id} is not offered to {user.username}")
        return task_out(task)

    deadline = asyncio.get_running_loop().time() + SETTLE_WAIT_S
    while True:
        task = await context.db(work, write=False)
        if not settled or task.status not in OPEN_VALUES or asyncio.get_running_loop().time() > deadline:
            return task
        await asyncio.sleep(0.02)


@router.get("/{task_id}", response_model=TaskOut)
async def show(context: ContextDep, user: TaskWorker, task_id: str) -> TaskOut:
    return await _load(context, task_id, user)


async def _completed_in_workflow(client: Client, workflow_id: str, task_id: str) -> bool:
    try:
        state = await instances.instance_state(client, workflow_id)
    except Exception:  # the instance is gone for good, or no worker answers the query
        return False
    return task_id in (state.get("completed_user_tasks") or {})


def _refuse_closed(task: HumanTask) -> None:
    if task.status not in OPEN_STATUSES:
        by = f" by {task.completed_by}" if task.completed_by else ""
        raise HTTPException(status.HTTP_409_CONFLICT, f"task {task.workflow_task_id} is {task.status.value}{by}")


def _invalid(task_id: str, errors: dict[str, str]) -> str:
    unknown = [key for key, why in errors.items() if why in (NOT_IN_FORM, NO_FORM)]
    if unknown:
        return f"task {task_id}: {errors[unknown[0]]}: refused field(s) {', '.join(unknown)}"
    return f"task {task_id}: the form data is invalid"


async def _settled_answer(context: ApiContext, task_id: str, user: Principal, data: dict[str, Any]) -> TaskOut:
    """The answer to a click that found its task completed by a concurrent click: the same answer when
    that click was the same person's with the same data (a double click), else 409 naming who won."""
    try:
        task = await _load(context, task_id, user, settled=True)
    except HTTPException as exc:  # the winner's task is no longer shown to this user: still a lost race
        if exc.status_code != status.HTTP_403_FORBIDDEN:
            raise
        raise HTTPException(status.HTTP_409_CONFLICT, f"task {task_id} was already completed by someone else; "
                                                      "your data was not taken") from None
    if task.status == TaskStatus.COMPLETED.value and task.completed_by == user.username and task.result == data:
        return task
    by = f"by {task.completed_by}" if task.completed_by else "by someone else"
    raise HTTPException(status.HTTP_409_CONFLICT, f"task {task_id} was already completed {by}; "
                                                  "your data was not taken")


@router.post("/{task_id}/claim", response_model=TaskOut)
async def claim(context: ContextDep, user: TaskWorker, task_id: str) -> TaskOut:
    def work(session: Session) -> TaskOut:
        task = get_task_by_workflow_id(session, workflow_task_id=task_id)
        _refuse_closed(task)
        if task.assignee == user.username:
            return task_out(task)  # claiming twice is fine
        if task.assignee is not None:
            raise HTTPException(status.HTTP_409_CONFLICT, f"task {task_id} is already claimed by {task.assignee}")
        check_may_work_on(task, user, action="claim")
        return task_out(set_task_assignee(session, task=task, assignee=user.username, actor=user.username))

    return await context.db(work)


@router.post("/{task_id}/unclaim", response_model=TaskOut)
async def unclaim(context: ContextDep, user: TaskWorker, task_id: str) -> TaskOut:
    def work(session: Session) -> TaskOut:
        task = get_task_by_workflow_id(session, workflow_task_id=task_id)
        _refuse_closed(task)
        if task.assignee is None:
            return task_out(task)
        if task.assignee != user.username and not user.has_any(OVERSEERS):
            raise HTTPException(status.HTTP_403_FORBIDDEN, f"task {task_id} is claimed by {task.assignee}; only they "
                                "or a supervisor may release it")
        return task_out(set_task_assignee(session, task=task, assignee=None, actor=user.username))

    return await context.db(work)


@router.post("/{task_id}/complete", response_model=TaskOut,
             responses={403: {"description": "not the assignee / not in a candidate group / four-eyes / wrong "
                                             "password for a task marked for signature"},
                        409: {"description": "completed by someone else, cancelled, or no longer pending"},
                        413: {"description": "form data over MOM_MAX_VARIABLES_BYTES"},
                        422: {"description": "form data invalid: errors per field (password: a task marked "
                                             "for signature needs it)"}})
async def complete(context: ContextDep, user: TaskWorker, task_id: str, body: TaskCompletion,
                   background: BackgroundTasks) -> TaskOut:
    require_small(context.settings, "data", body.data)

    def check(session: Session) -> tuple[TaskOut, bool]:
        task = get_task_by_workflow_id(session, workflow_task_id=task_id)
        if task.status == TaskStatus.COMPLETED and task.completed_by == user.username:
            return task_out(task), True  # a second click: the same answer, nothing written
        _refuse_closed(task)
        check_may_work_on(task, user, action="complete")
        errors = validate_form_data(task.form_schema or None, body.data)
        if errors:
            raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, {"message": _invalid(task_id, errors),
                                                                        "errors": errors})
        check_signature(session, task, user, body.password)
        return task_out(task), False

    task, done = await context.db(check, write=False)
    if done:
        return task
    workflow_id = str(task.workflow_id)
    client = await context.temporal()
    completed_at = datetime.now(UTC)
    try:
        outcome = await instances.complete_user_task(client, workflow_id, task_id, body.data, user=user.username,
                                                     reason=body.reason, completed_at=completed_at,
                                                     proof_key=context.settings.update_proof_key,
                                                     signature=task.signature)
    except instances.TaskRefused as exc:
        if exc.kind == "FormInvalid":
            raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT,
                                {"message": f"task {task_id}: {exc}", "errors": exc.errors}) from None
        if not await _completed_in_workflow(client, workflow_id, task_id):
            raise HTTPException(status.HTTP_409_CONFLICT, f"task {task_id}: the workflow refused it ({exc})") from None
        return await _settled_answer(context, task_id, user, body.data)  # a concurrent click did it
    except instances.InstanceNotFound:
        # a concurrent click completed the instance's last task: fine if it was this task
        if not await _completed_in_workflow(client, workflow_id, task_id):
            raise HTTPException(status.HTTP_409_CONFLICT, f"task {task_id}: instance {workflow_id} is gone") from None
        return await _settled_answer(context, task_id, user, body.data)
    if outcome.get("status") == "already_completed":  # a concurrent click completed this task first
        return await _settled_answer(context, task_id, user, body.data)

    def record(session: Session) -> None:
        row = get_task_by_workflow_id(session, workflow_task_id=task_id)
        mark_task_completed(session, task=row, user=user.username, result=body.data, reason=body.reason,
                            at=completed_at)

    async def record_soon() -> None:
        try:
            await context.db(record)
        except Exception:  # the workflow's inbox.close_task activity writes the same, durably
            _log.warning("task %s: the inbox row is left to the workflow's close activity", task_id, exc_info=True)

    # The update is in the workflow's history: the completion is durable. The workflow's inbox.close_task
    # activity marks the row completed with this user, data and reason (and audits it, once); this API
    # writes the same after answering, usually first: the answer does not wait for SQLite's write lock.
    background.add_task(record_soon)
    return task.model_copy(update={"status": TaskStatus.COMPLETED.value, "completed_by": user.username,
                                   "completed_at": completed_at, "result": body.data, "overdue": False,
                                   "assignee": task.assignee or user.username})
