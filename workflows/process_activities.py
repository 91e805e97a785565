"""Activities the BpmnProcess workflow uses for itself (not diagram work).

- ``processes.latest_version``: which deployed version a call activity starts. Run as a local
  activity, so the answer is recorded in the parent's history and a replay starts the same version
  even after a newer one was deployed.
- ``processes.child_outcome``: how a called instance ended, awaited through the client while
  heartbeating. A parent that continued as new while its child ran relies on the child's own
  ``child_finished`` signal; a child terminated or timed out from outside sends none, and this
  activity tells the parent instead (the parent turns it into an incident at the call activity).
"""

from __future__ import annotations

import asyncio
from typing import Any

from temporalio import activity
from temporalio.client import Client, WorkflowFailureError, WorkflowHistoryEventFilterType
from temporalio.exceptions import ApplicationError, CancelledError, TerminatedError, TimeoutError
from temporalio.service import RPCError, RPCStatusCode

from mom.process_store import ProcessStore
from workflows.contracts import CHILD_OUTCOME_ACTIVITY, LATEST_VERSION_ACTIVITY

HEARTBEAT_EVERY = 5.0  # seconds; the workflow sets the heartbeat timeout well above it


class ProcessActivities:
    def __init__(self, store: ProcessStore, client: Client | None = None):
        self.store = store
        self.client = client

    @activity.defn(name=LATEST_VERSION_ACTIVITY)
    async def latest_version(self, process_id: str) -> dict[str, Any]:
        """The latest deployed version of ``process_id``: {spec_sha256, version}."""
        latest = self.store.latest(process_id)
        if latest is None:
            raise ApplicationError(f"called process '{process_id}' is not deployed (mom deploy FILE)",
                                   type="ProcessNotDeployed", non_retryable=True)
        return {"spec_sha256": latest.spec_sha256, "version": latest.version}

    @activity.defn(name=CHILD_OUTCOME_ACTIVITY)
    async def child_outcome(self, workflow_id: str) -> dict[str, Any]:
        """Wait until the instance ``workflow_id`` ends and say how:
        {"status": "completed", "variables"}, {"status": "failed", "error": {message, details}} for a
        business error (type BpmnError), or {"status": "terminated" | "timed out" | "cancelled" |
        "failed" | "missing", "message"} when it ended without a result."""
        if self.client is None:
            raise ApplicationError("processes.child_outcome needs a Temporal client (build_worker passes it)",
                                   type="NoClient", non_retryable=True)
        handle = self.client.get_workflow_handle(workflow_id)
        waiting = asyncio.ensure_future(handle.result())
        try:
            while not waiting.done():
                activity.heartbeat(workflow_id)
                await asyncio.wait({waiting}, timeout=HEARTBEAT_EVERY)
        finally:
            waiting.cancel()
        try:
            result = waiting.result()
        except WorkflowFailureError as exc:
            ended = _ended_without_result(workflow_id, exc.cause)
            if ended["status"] == "terminated":  # who terminated it and why: the reason in its close event
                async for event in handle.fetch_history_events(
                        event_filter_type=WorkflowHistoryEventFilterType.CLOSE_EVENT):
                    reason = event.workflow_execution_terminated_event_attributes.reason
                    if reason:
                        ended["message"] = f"called instance {workflow_id} was terminated without a result: {reason}"
            return ended
        except RPCError as exc:
            if exc.status != RPCStatusCode.NOT_FOUND:
                raise  # transient: the activity is retried
            return {"status": "missing", "message": f"called instance {workflow_id} does not exist"}
        variables = result.get("variables") if isinstance(result, dict) else None
        return {"status": "completed", "variables": dict(variables or {})}

    def all(self) -> list[Any]:
        return [self.latest_version, self.child_outcome]


def _ended_without_result(workflow_id: str, cause: BaseException) -> dict[str, Any]:
    if isinstance(cause, ApplicationError) and cause.type == "BpmnError":
        details = cause.details[0] if cause.details and isinstance(cause.details[0], dict) else {}
        return {"status": "failed", "error": {"message": cause.message, "details": details}}
    if isinstance(cause, TerminatedError):
        status, how = "terminated", "was terminated"
    elif isinstance(cause, TimeoutError):
        status, how = "timed out", "timed out"
    elif isinstance(cause, CancelledError):
        status, how = "cancelled", "was cancelled"
    else:
        status, how = "failed", "failed"
    reason = getattr(cause, "message", None) or str(cause)
    return {"status": status, "message": f"called instance {workflow_id} {how} without a result ({reason})"}
