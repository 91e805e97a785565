"""Scheduling activities for BPMN service tasks: ``schedule.plan`` and ``schedule.replan``.

Each takes the task's inputs as one dict and returns a JSON-serialisable dict. The solver is CPU
work, so it runs in a thread and the worker's event loop stays responsive.

``schedule.plan`` inputs: ``problem`` (see :mod:`mom.scheduling.exchange`), optional
``objective`` (weights), ``time_limit`` (seconds, default 10), ``seed``. Returns the plan document
plus ``gantt`` (data for the web UI).

``schedule.replan`` inputs: ``problem``, ``plan`` (the current plan document), ``events``
(breakdown, quantity_change, urgent_order), ``now``, optional ``freeze_window``, ``objective``,
``time_limit`` (default 5). Returns ``{"plan": ..., "changes": [...], "gantt": ...}``.
Bad input fails the activity with a non-retryable ``ApplicationError`` naming the field.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from typing import Any

from temporalio import activity
from temporalio.exceptions import ApplicationError

from mom.scheduling.exchange import (
    changes_to_dicts,
    events_from_dicts,
    objective_from_dict,
    plan_from_dict,
    plan_to_dict,
    problem_from_dict,
)
from mom.scheduling.gantt import gantt_data
from mom.scheduling.model import ProblemError
from mom.scheduling.replan import REPLAN_OBJECTIVE, replan
from mom.scheduling.solver import SolveOptions, solve


def _options(inputs: Mapping[str, Any], default_limit: float) -> SolveOptions:
    limit = inputs.get("time_limit", default_limit)
    seed = inputs.get("seed", 0)
    if not isinstance(limit, int | float) or isinstance(limit, bool) or limit <= 0:
        raise ProblemError(f"time_limit: expected a positive number of seconds, got {limit!r}")
    if not isinstance(seed, int) or isinstance(seed, bool):
        raise ProblemError(f"seed: expected an integer, got {seed!r}")
    return SolveOptions(time_limit=float(limit), seed=seed)


def _required(inputs: Mapping[str, Any], key: str) -> Any:
    if key not in inputs:
        raise ProblemError(f"{key}: missing from the task's inputs")
    return inputs[key]


def plan_sync(inputs: Mapping[str, Any]) -> dict[str, Any]:
    problem = problem_from_dict(_required(inputs, "problem"))
    objective = objective_from_dict(inputs.get("objective"))
    plan = solve(problem, objective, _options(inputs, 10.0))
    return {**plan_to_dict(plan), "gantt": gantt_data(plan, problem)}


def replan_sync(inputs: Mapping[str, Any]) -> dict[str, Any]:
    problem = problem_from_dict(_required(inputs, "problem"))
    previous = plan_from_dict(_required(inputs, "plan"))
    events = events_from_dicts(inputs.get("events", []))
    now = _required(inputs, "now")
    freeze = inputs.get("freeze_window", 0)
    if not isinstance(now, int) or not isinstance(freeze, int):
        raise ProblemError("now and freeze_window: expected integers")
    objective = (
        objective_from_dict(inputs["objective"]) if inputs.get("objective") else REPLAN_OBJECTIVE
    )
    result = replan(
        problem,
        previous,
        events,
        now=now,
        freeze_window=freeze,
        objective=objective,
        options=_options(inputs, 5.0),
    )
    return {
        "plan": plan_to_dict(result.plan),
        "changes": changes_to_dicts(result.changes),
        "gantt": gantt_data(result.plan, result.problem),
    }


class SchedulingActivities:
    """Activities of the scheduler; they hold no connections, so the worker builds them as is."""

    @activity.defn(name="schedule.plan")
    async def plan(self, inputs: dict[str, Any]) -> dict[str, Any]:
        return await self._run(plan_sync, inputs)

    @activity.defn(name="schedule.replan")
    async def replan(self, inputs: dict[str, Any]) -> dict[str, Any]:
        return await self._run(replan_sync, inputs)

    @staticmethod
    async def _run(
        work: Callable[[Mapping[str, Any]], dict[str, Any]], inputs: dict[str, Any]
    ) -> dict[str, Any]:
        if not isinstance(inputs, Mapping):
            raise ApplicationError(
                "scheduling inputs must be an object", type="ProblemError", non_retryable=True
            )
        try:
            result: dict[str, Any] = await asyncio.to_thread(work, inputs)
        except ProblemError as exc:
            raise ApplicationError(str(exc), type="ProblemError", non_retryable=True) from exc
        return result
