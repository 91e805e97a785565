"""The hand-written baseline of bench/engine.py: the same three activities, no BPMN."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy

RETRY = RetryPolicy(initial_interval=timedelta(seconds=1), maximum_interval=timedelta(seconds=10),
                    maximum_attempts=5)


@workflow.defn(name="PlainThreeSteps")
class PlainThreeSteps:
    @workflow.run
    async def run(self, args: dict[str, Any]) -> dict[str, Any]:
        data = dict(args)
        local = bool(data.pop("_local", False))
        for step in (1, 2, 3):
            message = {"message": f"step {step} of {data['order_id']}"}
            if local:
                result = await workflow.execute_local_activity(
                    "mom.log", message, start_to_close_timeout=timedelta(seconds=60), retry_policy=RETRY)
            else:
                result = await workflow.execute_activity(
                    "mom.log", message, start_to_close_timeout=timedelta(seconds=60), retry_policy=RETRY)
            data[f"step{step}_done"] = result["logged"]
        return data
