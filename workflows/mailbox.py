"""MessageMailbox: one workflow per (message name, correlation key) that matches publishers and waiters.

Workflow id ``mailbox:<name>:<key>`` (see :func:`workflows.contracts.mailbox_id`); started with
signal-with-start by whichever comes first.

- Signal ``subscribe`` (:class:`Subscription`): a process instance waits for this message.
- Signal ``unsubscribe``: it no longer waits (message received, task cancelled, instance ended).
- Signal ``publish`` (:class:`MessageDelivery`): a message arrives.

The same workflow is the board of a BPMN signal (id ``signal:<name>``, input ``deliver_as``
``deliver_signal``): signals are published with a time-to-live of zero, so they reach the
instances waiting at that moment and are not kept.

Every message is delivered once to every subscriber (signal ``deliver_message`` of the instance),
and kept for its time-to-live for instances that subscribe later: unmatched messages are not
dropped. The mailbox ends when it has neither subscribers nor messages left, and continues as new
before its history grows long.
"""

from __future__ import annotations

import contextlib
from datetime import datetime, timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from workflows.contracts import (
        MAILBOX_PUBLISH,
        MAILBOX_SUBSCRIBE,
        MAILBOX_UNSUBSCRIBE,
        MAILBOX_WORKFLOW,
        MailboxInput,
        MessageDelivery,
        Subscription,
    )

HISTORY_LIMIT = 2000
DELIVER_UNKEPT_PATCH = "deliver-unkept-messages-1"


@workflow.defn(name=MAILBOX_WORKFLOW)
class MessageMailbox:
    @workflow.init
    def __init__(self, input: MailboxInput) -> None:
        self._input = input
        self._pending: list[MessageDelivery] = list(input.pending)
        self._subscribers: list[str] = list(input.subscribers)
        self._delivered: dict[str, list[str]] = {k: list(v) for k, v in input.delivered.items()}
        self._changed = True

    @workflow.signal(name=MAILBOX_PUBLISH)
    def publish(self, message: MessageDelivery) -> None:
        if all(m.message_id != message.message_id for m in self._pending) and message.message_id not in self._delivered:
            self._pending.append(message)
        self._changed = True

    @workflow.signal(name=MAILBOX_SUBSCRIBE)
    def subscribe(self, subscription: Subscription) -> None:
        if subscription.workflow_id not in self._subscribers:
            self._subscribers.append(subscription.workflow_id)
        self._changed = True

    @workflow.signal(name=MAILBOX_UNSUBSCRIBE)
    def unsubscribe(self, subscription: Subscription) -> None:
        if subscription.workflow_id in self._subscribers:
            self._subscribers.remove(subscription.workflow_id)
        self._changed = True

    @workflow.run
    async def run(self, input: MailboxInput) -> None:
        while True:
            self._changed = False
            self._expire()
            await self._deliver()
            if not self._subscribers and not self._pending:
                return
            if workflow.info().get_current_history_length() > HISTORY_LIMIT:
                await workflow.wait_condition(workflow.all_handlers_finished)
                workflow.continue_as_new(MailboxInput(input.name, input.key, self._pending, self._subscribers,
                                                      self._delivered, input.deliver_as))
            expiry = self._next_expiry()
            timeout = max((expiry - workflow.now()).total_seconds(), 0.001) if expiry else None
            with contextlib.suppress(TimeoutError):
                await workflow.wait_condition(lambda: self._changed, timeout=timeout)

    async def _deliver(self) -> None:
        for message in list(self._pending):
            done = self._delivered.setdefault(message.message_id, [])
            for subscriber in list(self._subscribers):
                if subscriber in done:
                    continue
                done.append(subscriber)
                try:
                    await workflow.get_external_workflow_handle(subscriber).signal(self._input.deliver_as, message)
                except Exception:  # the instance has ended (external workflow not found)
                    if subscriber in self._subscribers:
                        self._subscribers.remove(subscriber)
            if message.ttl_seconds <= 0:
                self._pending.remove(message)

    def _expires_at(self, message: MessageDelivery) -> datetime:
        return datetime.fromisoformat(message.published_at) + timedelta(seconds=message.ttl_seconds)

    def _expire(self) -> None:
        now = workflow.now()
        # A message with no time to live (a signal) reaches the subscribers of the moment first.
        unkept = any(m.ttl_seconds <= 0 for m in self._pending)
        keep_unkept = workflow.patched(DELIVER_UNKEPT_PATCH) if unkept else False
        for message in [m for m in self._pending if self._expires_at(m) <= now
                        and not (keep_unkept and m.ttl_seconds <= 0)]:
            self._pending.remove(message)
            self._delivered.pop(message.message_id, None)

    def _next_expiry(self) -> datetime | None:
        return min((self._expires_at(m) for m in self._pending), default=None)
