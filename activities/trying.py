"""Built-in activities for trying diagrams without a plant: ``mom.log`` and ``mom.wait``."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from temporalio import activity
from temporalio.exceptions import ApplicationError

logger = logging.getLogger("mom.process")


def call_key() -> str:
    """The idempotency key of this call: workflow id + the BPMN task's id (stable over retries)."""
    info = activity.info()
    return f"{info.workflow_id}:{info.activity_id.split(':retry')[0]}"


@activity.defn(name="mom.log")
async def log_message(inputs: dict[str, Any]) -> dict[str, Any]:
    message = inputs.get("message")
    if message is None:
        raise ApplicationError("mom.log needs an input 'message'", type="InvalidInput", non_retryable=True)
    info = activity.info()
    logger.info("[%s] %s", info.workflow_id, message)
    return {"logged": True, "log_key": call_key()}


@activity.defn(name="mom.wait")
async def wait_seconds(inputs: dict[str, Any]) -> dict[str, Any]:
    try:
        seconds = float(inputs.get("seconds", 0))
    except (TypeError, ValueError):
        raise ApplicationError(
            f"mom.wait input 'seconds' must be a number, got {inputs.get('seconds')!r}",
            type="InvalidInput", non_retryable=True,
        ) from None
    timeout = activity.info().heartbeat_timeout
    beat = min(1.0, timeout.total_seconds() / 3) if timeout else 1.0
    remaining = seconds
    activity.heartbeat(0.0)
    while remaining > 0:
        step = min(remaining, beat)
        await asyncio.sleep(step)
        remaining -= step
        activity.heartbeat(seconds - remaining)
    return {"waited": seconds}


@activity.defn(name="mom.raise_error")
async def raise_business_error(inputs: dict[str, Any]) -> dict[str, Any]:
    """Fail with a business error (BPMN error code ``code``), to try error paths of a diagram."""
    code = str(inputs.get("code") or "ERROR")
    raise ApplicationError(
        str(inputs.get("message") or f"business error {code}"),
        {"code": code, **{k: v for k, v in inputs.items() if k not in ("code", "message")}},
        type="BpmnError", non_retryable=True,
    )


TRYING_ACTIVITIES = [log_message, wait_seconds, raise_business_error]
