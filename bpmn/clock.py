"""Deterministic time and ids for SpiffWorkflow inside Temporal workflows.

SpiffWorkflow takes ``uuid4()`` for task ids, ``time.time()`` for state-change stamps and
``datetime.now()`` for timers. Inside a Temporal workflow all three must come from Temporal's
deterministic APIs, or a replay after a worker restart gives different task ids and timer
deadlines. :func:`install` routes them through the functions below, which use Temporal's APIs
when called inside a workflow and the real clock elsewhere (deploy, lint, tests in-process).
"""

from __future__ import annotations

import time as _real_time
import uuid
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

from temporalio import workflow

_installed = False


def _in_workflow() -> bool:
    try:
        return workflow.in_workflow()
    except Exception:  # pragma: no cover - outside any event loop
        return False


def current_time() -> datetime:
    if _in_workflow():
        return workflow.now()
    return datetime.now(UTC)


def new_uuid() -> uuid.UUID:
    if _in_workflow():
        return workflow.uuid4()
    return uuid.uuid4()


def epoch_seconds() -> float:
    if _in_workflow():
        return workflow.now().timestamp()
    return _real_time.time()


class WorkflowClockDatetime(datetime):
    """``datetime`` whose ``now()`` is the workflow clock inside a workflow."""

    @classmethod
    def now(cls, tz: Any = None) -> WorkflowClockDatetime:  # type: ignore[override]
        moment = current_time()
        if tz is not None:
            moment = moment.astimezone(tz)
        return cls.fromtimestamp(moment.timestamp(), tz=moment.tzinfo)


def install() -> None:
    """Patch SpiffWorkflow's three sources of non-determinism (idempotent)."""
    global _installed
    if _installed:
        return
    import SpiffWorkflow.bpmn.specs.event_definitions.timer as timer_module
    import SpiffWorkflow.task as task_module

    task_module.uuid4 = new_uuid  # type: ignore[attr-defined]
    task_module.time = SimpleNamespace(time=epoch_seconds)  # type: ignore[attr-defined]
    timer_module.datetime = WorkflowClockDatetime  # type: ignore[attr-defined,misc]
    _installed = True
