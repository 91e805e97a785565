"""Process instances seen from outside: start, state, user tasks, completion, retry.

Used by the CLI and the API; talks to Temporal through ``temporalio.client`` only. Updates that
act for a person carry a proof of the caller's checks (:func:`workflows.update_proof.signed`,
with ``proof_key``: :attr:`mom.settings.Settings.update_proof_key`; None: the key ``worker.build_worker``
installed in this process, for the demo and tests that run a worker in the same process).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from temporalio.client import Client, WorkflowHandle, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from mom.process_store import ProcessStore
from workflows import instance_status, update_proof
from workflows.contracts import (
    COMPLETE_USER_TASK_UPDATE,
    RETRY_UPDATE,
    STATE_QUERY,
    USER_TASKS_QUERY,
    WORKFLOW_NAME,
    CompleteUserTask,
    ProcessInput,
    ProcessResult,
    RetryIncident,
    mailbox_id,
    signal_board_id,
)

RESERVED_VARIABLES = frozenset({"requested_by", "started_by"})
"""Start variables refused (issue J.2): who requested or started an instance is recorded by the
server from the signed-in token (the instance row's ``started_by`` and the workflow's start input,
which no process data can change), never taken from data. A client sending one of these gets a 422
naming it rather than having it silently ignored, so nobody believes their value counted."""


def reserved_variables(variables: dict[str, Any]) -> list[str]:
    """The names in ``variables`` that only the server sets (see :data:`RESERVED_VARIABLES`)."""
    return sorted(RESERVED_VARIABLES & set(variables))


# Workflows that are not process instances: message mailboxes (``mailbox:<name>:<key>``) and signal
# boards (``signal:<name>``). A process instance id starts with its BPMN process id, which holds no ':'.
NOT_PROCESS_INSTANCES = (mailbox_id("", None).split(":")[0] + ":", signal_board_id(""))


class ProcessNotDeployed(LookupError):
    pass


class InstanceNotFound(LookupError):
    pass


class TaskRefused(ValueError):
    """A user-task completion the workflow refused (unknown task, invalid form data)."""

    def __init__(self, kind: str, message: str, errors: dict[str, str] | None = None):
        self.kind = kind
        self.errors = errors or {}
        super().__init__(message)


@dataclass(frozen=True)
class StartedInstance:
    workflow_id: str
    run_id: str | None
    process_id: str
    version: int


async def start_instance(
    client: Client,
    store: ProcessStore,
    process_id: str,
    *,
    task_queue: str,
    variables: dict[str, Any] | None = None,
    business_key: str | None = None,
    started_by: str | None = None,
    version: int | None = None,
    workflow_id: str | None = None,
) -> StartedInstance:
    versions = store.versions(process_id)
    if not versions:
        raise ProcessNotDeployed(f"process '{process_id}' is not deployed (mom deploy FILE)")
    chosen = versions[-1] if version is None else next((v for v in versions if v.version == version), None)
    if chosen is None:
        raise ProcessNotDeployed(f"process '{process_id}' has no version {version}")
    wid = workflow_id or f"{process_id}-{business_key or uuid.uuid4().hex[:12]}"
    handle = await client.start_workflow(
        WORKFLOW_NAME,
        ProcessInput(
            process_id=process_id,
            spec_sha256=chosen.spec_sha256,
            version=chosen.version,
            variables=dict(variables or {}),
            business_key=business_key,
            started_by=started_by,
        ),
        id=wid,
        task_queue=task_queue,
        memo={"process_id": process_id, "version": chosen.version},
        search_attributes=instance_status.identity_at_start(process_id, chosen.version, business_key, started_by),
    )
    return StartedInstance(wid, handle.result_run_id, process_id, chosen.version)


def handle_for(client: Client, workflow_id: str) -> WorkflowHandle[Any, Any]:
    return client.get_workflow_handle(workflow_id)


def check_process_instance_id(workflow_id: str) -> None:
    """Raise InstanceNotFound for the id of a workflow that is not a process instance (a mailbox)."""
    if workflow_id.startswith(NOT_PROCESS_INSTANCES):
        raise InstanceNotFound(f"no process instance '{workflow_id}': it is a message mailbox or signal board")


def _not_found(exc: RPCError, workflow_id: str) -> InstanceNotFound | None:
    if exc.status == RPCStatusCode.NOT_FOUND:
        return InstanceNotFound(f"no process instance '{workflow_id}'")
    return None


async def instance_state(client: Client, workflow_id: str) -> dict[str, Any]:
    check_process_instance_id(workflow_id)
    try:
        return dict(await handle_for(client, workflow_id).query(STATE_QUERY))
    except RPCError as exc:
        raise _not_found(exc, workflow_id) or exc from None


async def user_tasks(client: Client, workflow_id: str) -> list[dict[str, Any]]:
    check_process_instance_id(workflow_id)
    try:
        return list(await handle_for(client, workflow_id).query(USER_TASKS_QUERY))
    except RPCError as exc:
        raise _not_found(exc, workflow_id) or exc from None


async def complete_user_task(
    client: Client, workflow_id: str, task_id: str, data: dict[str, Any], user: str | None = None,
    reason: str | None = None, completed_at: datetime | None = None, proof_key: bytes | None = None,
    signature: str | None = None,
) -> dict[str, Any]:
    """``signature``: the meaning of the e-signature the caller has verified (the user's password
    entered again, issue J.3); it is attested for ``user`` and covered by the proof."""
    check_process_instance_id(workflow_id)
    request = update_proof.signed(CompleteUserTask(
        task_id=task_id, data=data, user=user, reason=reason,
        completed_at=completed_at.isoformat() if completed_at else None,
        signature={"meaning": signature, "signed_by": user} if signature else None,
    ), key=proof_key, namespace=client.namespace, workflow_id=workflow_id)
    try:
        return dict(await handle_for(client, workflow_id).execute_update(COMPLETE_USER_TASK_UPDATE, request))
    except RPCError as exc:
        # The instance ended meanwhile (a double click on its last task): idempotent if this task did it.
        if "completed" not in exc.message:
            raise _not_found(exc, workflow_id) or exc from None
        state = await instance_state(client, workflow_id)
        done = state.get("completed_user_tasks", {})
        if task_id in done:
            return {"status": "already_completed", "element_id": done[task_id]}
        raise TaskRefused("UnknownTask", f"instance {workflow_id} has ended; task {task_id} is not pending") from None
    except WorkflowUpdateFailedError as exc:
        cause = exc.cause
        if isinstance(cause, ApplicationError):
            details = cause.details[0] if cause.details else {}
            errors = details.get("errors") if isinstance(details, dict) else None
            raise TaskRefused(cause.type or "Refused", cause.message, errors) from None
        raise


async def retry_incident(
    client: Client, workflow_id: str, variables: dict[str, Any] | None = None, user: str | None = None,
    *, proof_key: bytes | None = None,
) -> dict[str, Any]:
    check_process_instance_id(workflow_id)
    request = update_proof.signed(RetryIncident(variables=dict(variables or {}), user=user),
                                  key=proof_key, namespace=client.namespace, workflow_id=workflow_id)
    try:
        return dict(await handle_for(client, workflow_id).execute_update(RETRY_UPDATE, request))
    except RPCError as exc:
        raise _not_found(exc, workflow_id) or exc from None
    except WorkflowUpdateFailedError as exc:
        cause = exc.cause
        if isinstance(cause, ApplicationError):
            raise TaskRefused(cause.type or "Refused", cause.message) from None
        raise




async def wait_result(client: Client, workflow_id: str) -> ProcessResult:
    handle = client.get_workflow_handle(workflow_id, result_type=ProcessResult)
    return await handle.result()
