"""The plain-Temporal ceiling of bench/plant.py: a hand-written workflow (no BPMN, no database,
no OPC UA) that makes the same activity round trips and user-task waits as one production order.

Its shape is read from the recorded history of a completed production order
(:func:`order_shape`): each activity the order scheduled, in order, on the same kind of queue (the
cloud queue or the site's edge queue), with inputs and results of the same size; local activities
where the order ran local activities; and per user task what :class:`~workflows.bpmn_process.
BpmnProcess` does: an inbox activity in the background, a wait for the completing update, then a
closing inbox activity in the background while the process goes on. The "people" are event driven:
the inbox activity hands the task to :class:`PlainPeople`, which sends the update at once.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from temporalio import activity, workflow
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client, WorkflowHistory
from temporalio.common import RetryPolicy

RETRY = RetryPolicy(initial_interval=timedelta(seconds=1), maximum_interval=timedelta(seconds=10),
                    maximum_attempts=5)
TIMEOUT = timedelta(seconds=60)
OPEN_TYPES, CLOSE_TYPES = ("inbox.open_tasks",), ("inbox.close_task",)
COMPLETE_UPDATE = "complete"


@dataclass(frozen=True)
class Shape:
    """What one production order did, read from its history."""

    steps: list[dict[str, Any]]
    workflow_tasks: int
    updates: int

    def count(self, kind: str, where: str | None = None) -> int:
        return sum(1 for s in self.steps if s["kind"] == kind and (where is None or s.get("where") == where))

    @property
    def activities(self) -> int:
        """Activity round trips, inbox activities included (two per user task)."""
        return self.count("activity") + 2 * self.count("user_task")

    def describe(self) -> str:
        return (f"{self.activities} activities ({self.count('activity', 'cloud')} service on the cloud queue, "
                f"{self.count('activity', 'edge')} on the edge queue, {self.count('activity', 'local')} local, "
                f"{2 * self.count('user_task')} inbox), {self.count('user_task')} user tasks completed by update, "
                f"{self.workflow_tasks} workflow tasks")


def order_shape(history: WorkflowHistory, cloud_queue: str) -> Shape:
    """The steps of a completed production order, in the order its history scheduled them."""
    steps: list[dict[str, Any]] = []
    by_event: dict[int, dict[str, Any]] = {}
    workflow_tasks = updates = 0
    pending_user: dict[str, Any] | None = None
    for event in history.events:
        kind = event.event_type
        if kind == EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED:
            workflow_tasks += 1
        elif kind == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED:
            updates += 1
        elif kind == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
            attrs = event.activity_task_scheduled_event_attributes
            name, size = attrs.activity_type.name, attrs.input.ByteSize()
            if name in OPEN_TYPES:
                pending_user = {"kind": "user_task", "open_bytes": size, "open_result_bytes": 0,
                                "close_bytes": 0, "close_result_bytes": 0}
                steps.append(pending_user)
                by_event[event.event_id] = {"step": pending_user, "result": "open_result_bytes"}
            elif name in CLOSE_TYPES:
                if pending_user is None:
                    raise ValueError(f"history: {name} at event {event.event_id} without an open inbox task")
                pending_user["close_bytes"] = size
                by_event[event.event_id] = {"step": pending_user, "result": "close_result_bytes"}
                pending_user = None
            else:
                where = "cloud" if attrs.task_queue.name == cloud_queue else "edge"
                step = {"kind": "activity", "where": where, "name": name, "input_bytes": size, "result_bytes": 0}
                steps.append(step)
                by_event[event.event_id] = {"step": step, "result": "result_bytes"}
        elif kind == EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED:
            attrs_done = event.activity_task_completed_event_attributes
            slot = by_event.get(attrs_done.scheduled_event_id)
            if slot is not None:
                slot["step"][slot["result"]] = attrs_done.result.ByteSize()
        elif kind == EventType.EVENT_TYPE_MARKER_RECORDED:
            marker = event.marker_recorded_event_attributes
            if marker.marker_name == "core_local_activity":
                result = marker.details.get("result")
                steps.append({"kind": "activity", "where": "local", "name": "local", "input_bytes": 100,
                              "result_bytes": result.ByteSize() if result is not None else 0})
    return Shape(steps=steps, workflow_tasks=workflow_tasks, updates=updates)


# ---------------------------------------------------------------------------------- activities

@activity.defn(name="plain.step")
async def plain_step(args: dict[str, Any]) -> dict[str, Any]:
    """A service step that does nothing: a result of the recorded size."""
    return {"pad": "x" * max(0, int(args.get("result_bytes", 0)) - 20)}


@dataclass
class PlainPeople:
    """The inbox of the plain workflow: opening a task hands it to a person, who completes it at once."""

    client: Client
    queue: asyncio.Queue[tuple[str, str]] = field(default_factory=asyncio.Queue)
    completed: int = 0

    @activity.defn(name="plain.inbox_open")
    async def inbox_open(self, args: dict[str, Any]) -> dict[str, Any]:
        self.queue.put_nowait((str(args["workflow_id"]), str(args["task_id"])))
        return {"pad": "x" * max(0, int(args.get("result_bytes", 0)) - 20)}

    @activity.defn(name="plain.inbox_close")
    async def inbox_close(self, args: dict[str, Any]) -> dict[str, Any]:
        return {"pad": "x" * max(0, int(args.get("result_bytes", 0)) - 20)}

    async def work(self) -> None:
        running: set[asyncio.Task[Any]] = set()
        try:
            while True:
                workflow_id, task_id = await self.queue.get()
                task = asyncio.create_task(self._complete(workflow_id, task_id))
                running.add(task)
                task.add_done_callback(running.discard)
        finally:
            for task in list(running):
                task.cancel()

    async def _complete(self, workflow_id: str, task_id: str) -> None:
        await self.client.get_workflow_handle(workflow_id).execute_update(
            COMPLETE_UPDATE, {"task_id": task_id, "data": {"operator_id": "op-ann", "lot_ids": "SHEET-100"}})
        self.completed += 1


# ---------------------------------------------------------------------------------- workflow

@workflow.defn(name="PlainProductionOrder", sandboxed=False)
class PlainProductionOrder:
    """Runs ``args["steps"]`` (an :class:`Shape`'s steps) like a production order would."""

    def __init__(self) -> None:
        self._completed: set[str] = set()
        self._background: set[asyncio.Task[Any]] = set()
        self._local_inbox = False

    @workflow.run
    async def run(self, args: dict[str, Any]) -> dict[str, Any]:
        edge_queue = str(args["edge_queue"])
        self._local_inbox = bool(args.get("local_inbox"))
        for index, step in enumerate(args["steps"]):
            if step["kind"] == "activity":
                payload = {"pad": "x" * max(0, step["input_bytes"] - 40), "result_bytes": step["result_bytes"]}
                if step["where"] == "local":
                    await workflow.execute_local_activity("plain.step", payload, start_to_close_timeout=TIMEOUT,
                                                          retry_policy=RETRY)
                else:
                    await workflow.execute_activity(
                        "plain.step", payload, start_to_close_timeout=TIMEOUT, retry_policy=RETRY,
                        task_queue=edge_queue if step["where"] == "edge" else None)
                continue
            task_id = f"task-{index}"
            self._in_background("plain.inbox_open", {
                "workflow_id": workflow.info().workflow_id, "task_id": task_id,
                "pad": "x" * max(0, step["open_bytes"] - 80), "result_bytes": step["open_result_bytes"]})
            await workflow.wait_condition(lambda task_id=task_id: task_id in self._completed)  # type: ignore[misc]
            self._in_background("plain.inbox_close", {
                "task_id": task_id, "pad": "x" * max(0, step["close_bytes"] - 40),
                "result_bytes": step["close_result_bytes"]})
        await workflow.wait_condition(lambda: not self._background)
        return {"order_number": args["order_number"], "status": "completed"}

    def _in_background(self, name: str, argument: dict[str, Any]) -> None:
        if self._local_inbox:  # what if the interpreter ran the inbox activities as local activities
            coro = workflow.execute_local_activity(name, argument, start_to_close_timeout=TIMEOUT, retry_policy=RETRY)
        else:
            coro = workflow.execute_activity(name, argument, start_to_close_timeout=TIMEOUT, retry_policy=RETRY)
        task = asyncio.ensure_future(coro)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    @workflow.update(name=COMPLETE_UPDATE)
    def complete(self, request: dict[str, Any]) -> dict[str, Any]:
        self._completed.add(str(request["task_id"]))
        return {"status": "completed"}

    @complete.validator
    def _validate(self, request: dict[str, Any]) -> None:
        if not str(request.get("task_id", "")).startswith("task-"):
            raise ValueError(f"unknown task {request.get('task_id')!r}")


async def cancel_quietly(task: asyncio.Task[Any]) -> None:
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
