"""Inbox activities: the BpmnProcess workflow opens an inbox row when user tasks become pending
and closes it when the task leaves (completed through the update, or cancelled by a boundary
event). Both are idempotent (activities run at least once) and return a small dict.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker
from temporalio import activity
from temporalio.exceptions import ApplicationError

from mom.db.inbox import close_workflow_task, open_workflow_tasks
from mom.db.transactions import writing

logger = logging.getLogger("mom.inbox")


class InboxActivities:
    def __init__(self, session_factory: sessionmaker[Session]) -> None:
        self._sessions = session_factory

    @activity.defn(name="inbox.open_tasks")
    async def open_tasks(self, request: dict[str, Any]) -> dict[str, Any]:
        return await asyncio.to_thread(self._open, request)

    @activity.defn(name="inbox.close_task")
    async def close_task(self, request: dict[str, Any]) -> dict[str, Any]:
        return await asyncio.to_thread(self._close, request)

    def _open(self, request: dict[str, Any]) -> dict[str, Any]:
        workflow_id = request.get("workflow_id")
        tasks = request.get("tasks")
        if not workflow_id or not isinstance(tasks, list) or any(
            not isinstance(t, dict) or "task_id" not in t or "element_id" not in t for t in tasks
        ):
            raise ApplicationError("inbox.open_tasks: needs 'workflow_id' and 'tasks', each with 'task_id' and "
                                   f"'element_id'; got keys {sorted(request)}", type="InvalidInput",
                                   non_retryable=True)
        workflow_id = str(workflow_id)
        for attempt in range(2):
            try:
                with writing(self._sessions) as session:
                    created = open_workflow_tasks(
                        session, workflow_id=workflow_id, tasks=tasks, run_id=request.get("run_id"),
                        process_key=request.get("process_id"), version=request.get("version"),
                        business_key=request.get("business_key"), requested_by=request.get("started_by"),
                    )
                    opened = [t.workflow_task_id for t in created]
                break
            except IntegrityError:  # a concurrent attempt inserted the same task: look again
                if attempt:
                    raise
        logger.info("[%s] inbox opened %s", workflow_id, opened)
        return {"opened": opened, "already_open": len(tasks) - len(opened)}

    def _close(self, request: dict[str, Any]) -> dict[str, Any]:
        try:
            workflow_id, task_id = str(request["workflow_id"]), str(request["task_id"])
        except KeyError as exc:
            raise ApplicationError(f"inbox.close_task: request lacks {exc}", type="InvalidInput",
                                   non_retryable=True) from None
        outcome = str(request.get("outcome") or "completed")
        if outcome not in {"completed", "cancelled"}:
            raise ApplicationError(f"inbox.close_task: outcome must be 'completed' or 'cancelled', got {outcome!r}",
                                   type="InvalidInput", non_retryable=True)
        for attempt in range(2):
            try:
                with writing(self._sessions) as session:
                    result = close_workflow_task(
                        session, workflow_id=workflow_id, workflow_task_id=task_id,
                        element_id=str(request.get("element_id") or "?"), outcome=outcome, user=request.get("user"),
                        result=request.get("data"), reason=request.get("reason"),
                        completed_at=_instant(request.get("completed_at")),
                    )
                break
            except IntegrityError:
                if attempt:
                    raise
        return {"task_id": task_id, "outcome": outcome, "result": result}


def _instant(value: Any) -> datetime | None:
    """The completion time the API sent with the update (ISO 8601), if any and readable."""
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
