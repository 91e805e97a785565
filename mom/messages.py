"""Publishing BPMN messages to process instances, correlated by name and key; broadcasting signals.

A message goes to the mailbox workflow of its (name, key) by signal-with-start; the mailbox
delivers it to every instance waiting for it and keeps it for ``ttl_seconds`` for instances that
start waiting later (see :mod:`workflows.mailbox`).
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from temporalio.client import Client
from temporalio.common import WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError

from mom.process_store import ProcessStore
from workflows.contracts import (
    DEFAULT_MESSAGE_TTL_SECONDS,
    MAILBOX_PUBLISH,
    MAILBOX_WORKFLOW,
    SIGNAL_SIGNAL,
    WORKFLOW_NAME,
    MailboxInput,
    MessageDelivery,
    ProcessInput,
    mailbox_id,
    signal_board_id,
)


async def publish_message(
    client: Client,
    name: str,
    key: str | None,
    variables: dict[str, Any] | None = None,
    *,
    task_queue: str,
    ttl_seconds: float = DEFAULT_MESSAGE_TTL_SECONDS,
    message_id: str | None = None,
    store: ProcessStore | None = None,
    published_for: str | None = None,
) -> MessageDelivery:
    """Publish; ``message_id`` makes a re-publish (a retried sender) a no-op. With ``store``, the
    message also starts an instance of every deployed process with a message start event for it,
    started by ``published_for`` (the person the publisher acts for; else ``message:<name>``)."""
    if not name:
        raise ValueError("a message needs a name")
    message = MessageDelivery(
        name=name,
        key=None if key is None else str(key),
        variables=dict(variables or {}),
        message_id=message_id or uuid.uuid4().hex,
        published_at=datetime.now(UTC).isoformat(),
        ttl_seconds=ttl_seconds,
    )
    await client.start_workflow(
        MAILBOX_WORKFLOW,
        MailboxInput(name=message.name, key=message.key),
        id=mailbox_id(message.name, message.key),
        task_queue=task_queue,
        start_signal=MAILBOX_PUBLISH,
        start_signal_args=[message],
    )
    if store is not None:
        await start_by_message(client, store, message, task_queue=task_queue, started_by=published_for)
    return message


async def start_by_message(client: Client, store: ProcessStore, message: MessageDelivery, *,
                           task_queue: str, started_by: str | None = None) -> list[str]:
    """Start the latest version of each process that ``message`` starts; idempotent by message id
    (the workflow id derives from it and is never reused). Returns the workflow ids started."""
    started = []
    for version in store.started_by_message(message.name):
        workflow_id = f"{version.process_id}-msg-{message.message_id}"
        try:
            await client.start_workflow(
                WORKFLOW_NAME,
                ProcessInput(process_id=version.process_id, spec_sha256=version.spec_sha256, version=version.version,
                             variables=dict(message.variables), business_key=message.key,
                             started_by=started_by or f"message:{message.name}", start_message=message),
                id=workflow_id, task_queue=task_queue, id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
                memo={"process_id": version.process_id, "version": version.version},
            )
        except WorkflowAlreadyStartedError:
            continue
        started.append(workflow_id)
    return started


async def broadcast_signal(
    client: Client,
    name: str,
    variables: dict[str, Any] | None = None,
    *,
    task_queue: str,
    signal_id: str | None = None,
) -> MessageDelivery:
    """Broadcast the BPMN signal ``name`` to every instance waiting for it now (not kept for later)."""
    if not name:
        raise ValueError("a signal needs a name")
    signal = MessageDelivery(
        name=name,
        key=None,
        variables=dict(variables or {}),
        message_id=signal_id or uuid.uuid4().hex,
        published_at=datetime.now(UTC).isoformat(),
        ttl_seconds=0,
    )
    await client.start_workflow(
        MAILBOX_WORKFLOW,
        MailboxInput(name=name, key=None, deliver_as=SIGNAL_SIGNAL),
        id=signal_board_id(name),
        task_queue=task_queue,
        start_signal=MAILBOX_PUBLISH,
        start_signal_args=[signal],
    )
    return signal
