"""How one service task is run as an activity: queue, timeouts and retries.

From the task-type catalog, overridden per task by the diagram: ``retries`` of
``zeebe:taskDefinition`` and the task headers ``timeout``, ``heartbeat``, ``retryBackoff``
(ISO 8601 durations), ``taskQueue`` and ``local`` (``true`` runs it as a local activity, for
cheap steps). Machine task types run on the edge worker of the machine's site: queue
``edge-<site>`` where ``site`` is a header or an input of the task.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from temporalio.common import RetryPolicy

from bpmn.dialect import duration_seconds
from bpmn.engine import EngineIncident, ServiceCall
from mom.task_catalog import task_type


@dataclass(frozen=True)
class ActivityPlan:
    name: str
    task_queue: str | None
    local: bool
    start_to_close: timedelta
    heartbeat: timedelta | None
    retry_policy: RetryPolicy


def plan_activity(call: ServiceCall, default_queue: str) -> ActivityPlan:
    entry = task_type(call.task_type)
    if entry is None:
        raise EngineIncident(call.element_id, f"service task type '{call.task_type}' is not in the catalog")
    headers = call.headers

    def seconds(header: str, default: float | None) -> float | None:
        if header not in headers:
            return default
        try:
            return duration_seconds(headers[header])
        except ValueError as exc:
            raise EngineIncident(call.element_id, f"task header '{header}': {exc}") from None

    queue = headers.get("taskQueue") or default_queue
    if entry.runs == "edge" and "taskQueue" not in headers:
        site = headers.get("site") or call.inputs.get("site")
        if not site:
            raise EngineIncident(
                call.element_id,
                f"'{call.task_type}' runs on an edge worker: give the task a 'site' input or header",
            )
        queue = f"edge-{site}"
    attempts = call.retries if call.retries is not None else entry.retries
    backoff = seconds("retryBackoff", 1.0) or 1.0
    timeout = seconds("timeout", entry.timeout_seconds) or entry.timeout_seconds
    heartbeat = seconds("heartbeat", entry.heartbeat_seconds)
    return ActivityPlan(
        name=call.task_type,
        task_queue=queue,
        local=headers.get("local", "").lower() == "true",
        start_to_close=timedelta(seconds=timeout),
        heartbeat=timedelta(seconds=heartbeat) if heartbeat else None,
        retry_policy=RetryPolicy(
            initial_interval=timedelta(seconds=backoff),
            maximum_interval=timedelta(seconds=max(backoff * 10, 10)),
            maximum_attempts=max(attempts, 1),
            non_retryable_error_types=["BpmnError", "InvalidInput"],
        ),
    )
