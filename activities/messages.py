"""Activities that connect process instances with their message mailboxes (see workflows.mailbox)."""

from __future__ import annotations

from typing import Any

from temporalio import activity
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from activities.acting import acting_person
from mom.messages import broadcast_signal, publish_message
from mom.process_store import ProcessStore
from workflows.contracts import (
    MAILBOX_SUBSCRIBE,
    MAILBOX_UNSUBSCRIBE,
    MAILBOX_WORKFLOW,
    SIGNAL_SIGNAL,
    MailboxInput,
    Subscription,
    mailbox_id,
    signal_board_id,
)


class MessagingActivities:
    def __init__(self, client: Client, task_queue: str, store: ProcessStore | None = None):
        self._client = client
        self._task_queue = task_queue
        self._store = store  # to start processes with a message start event

    @activity.defn(name="messages.subscribe")
    async def subscribe(self, request: dict[str, Any]) -> dict[str, Any]:
        name, key = request["name"], request.get("key")
        await self._client.start_workflow(
            MAILBOX_WORKFLOW, MailboxInput(name=name, key=key), id=mailbox_id(name, key),
            task_queue=self._task_queue, start_signal=MAILBOX_SUBSCRIBE,
            start_signal_args=[Subscription(request["workflow_id"])],
        )
        return {"subscribed": mailbox_id(name, key)}

    @activity.defn(name="messages.unsubscribe")
    async def unsubscribe(self, request: dict[str, Any]) -> dict[str, Any]:
        return await self._unsubscribe(mailbox_id(request["name"], request.get("key")), request)

    async def _unsubscribe(self, board_id: str, request: dict[str, Any]) -> dict[str, Any]:
        handle = self._client.get_workflow_handle(board_id)
        try:
            await handle.signal(MAILBOX_UNSUBSCRIBE, Subscription(request["workflow_id"]))
        except RPCError as exc:
            if exc.status != RPCStatusCode.NOT_FOUND:
                raise
        return {"unsubscribed": True}

    @activity.defn(name="messages.publish")
    async def publish(self, request: dict[str, Any]) -> dict[str, Any]:
        info = activity.info()
        message = await publish_message(
            self._client, request["name"], request.get("key"), request.get("variables"),
            task_queue=self._task_queue,
            message_id=request.get("message_id") or f"{info.workflow_id}:{info.activity_id}",
            store=self._store, published_for=acting_person(request),
        )
        return {"message_id": message.message_id}

    @activity.defn(name="signals.subscribe")
    async def subscribe_signal(self, request: dict[str, Any]) -> dict[str, Any]:
        name = request["name"]
        await self._client.start_workflow(
            MAILBOX_WORKFLOW, MailboxInput(name=name, key=None, deliver_as=SIGNAL_SIGNAL), id=signal_board_id(name),
            task_queue=self._task_queue, start_signal=MAILBOX_SUBSCRIBE,
            start_signal_args=[Subscription(request["workflow_id"])],
        )
        return {"subscribed": signal_board_id(name)}

    @activity.defn(name="signals.unsubscribe")
    async def unsubscribe_signal(self, request: dict[str, Any]) -> dict[str, Any]:
        return await self._unsubscribe(signal_board_id(request["name"]), request)

    @activity.defn(name="signals.broadcast")
    async def broadcast(self, request: dict[str, Any]) -> dict[str, Any]:
        info = activity.info()
        signal = await broadcast_signal(
            self._client, request["name"], request.get("variables"), task_queue=self._task_queue,
            signal_id=request.get("signal_id") or f"{info.workflow_id}:{info.activity_id}",
        )
        return {"signal_id": signal.message_id}

    def all(self) -> list[Any]:
        return [self.subscribe, self.unsubscribe, self.publish, self.subscribe_signal, self.unsubscribe_signal,
                self.broadcast]
