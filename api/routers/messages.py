"""BPMN messages: publish one to the instances waiting for its name and correlation key."""

from __future__ import annotations

from fastapi import APIRouter, status

from api.deps import ContextDep, EngineerOrSupervisor
from api.payload_limits import require_small
from api.schemas.messages import MessageIn, MessageOut
from mom.messages import publish_message

router = APIRouter(prefix="/messages", tags=["instances"])


@router.post("", response_model=MessageOut, status_code=status.HTTP_202_ACCEPTED,
             responses={413: {"description": "variables over MOM_MAX_VARIABLES_BYTES (the field named)"}})
async def publish(context: ContextDep, user: EngineerOrSupervisor, body: MessageIn) -> MessageOut:
    """Delivered to every instance waiting for (name, correlation key) now, and kept for
    ``ttl_seconds`` for instances that start waiting later."""
    require_small(context.settings, "variables", body.variables)
    delivery = await publish_message(await context.temporal(), body.name, body.correlation_key, body.variables,
                                     task_queue=context.settings.task_queue, ttl_seconds=body.ttl_seconds,
                                     message_id=body.message_id)
    return MessageOut(name=delivery.name, correlation_key=delivery.key, message_id=delivery.message_id,
                      published_at=delivery.published_at, ttl_seconds=delivery.ttl_seconds)
