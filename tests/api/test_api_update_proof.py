"""Temporal's port does not trust whoever reaches it (issue J.10): a process that opens a plain
temporalio Client on the port and sends the completion Update of a four-eyes task itself, as a
made-up user, with a forged proof, a proof made for other data or user, or a stale one, is refused
by the workflow's validator (nothing reaches history, the task stays open); the API's completion,
which carries the proof, still completes it."""

from __future__ import annotations

import os
import secrets
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from api_client import PASSWORD, Api
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from test_api_inbox import deploy, wait_for_status, wait_for_task, worker  # noqa: F401

from mom.settings import Settings
from mom.stack.temporal_server import TemporalDevServer
from workflows.contracts import (
    COMPLETE_USER_TASK_UPDATE,
    MIGRATE_UPDATE,
    RETRY_UPDATE,
    CompleteUserTask,
    MigrateRequest,
    RetryIncident,
)

DIAGRAMS = Path(__file__).resolve().parent.parent / "diagrams"
DATA = {"approved": True, "comment": "approved by nobody"}


async def four_eyes_task(api: Api) -> tuple[str, dict[str, Any]]:
    """An approval marked four-eyes, requested by sam: its task waits for another supervisor."""
    xml = (DIAGRAMS / "approval.bpmn").read_text().replace(
        '<zeebe:input source="=order_id" target="order" />',
        '<zeebe:input source="=order_id" target="order" />\n'
        '          <zeebe:input source="=True" target="four_eyes" />',
    ).replace('id="approval"', 'id="approval_4eyes"')
    response = await api.post("/process-definitions", "erin",
                              files={"file": ("approval_4eyes.bpmn", xml.encode(), "application/xml")})
    assert response.status_code == 201, response.text
    started = await api.post("/instances", "sam", json={"process_id": "approval_4eyes",
                                                        "variables": {"order_id": "PO-7", "qty": 10, "new_qty": 99}})
    assert started.status_code in (200, 201), started.text
    workflow_id = str(started.json()["workflow_id"])
    task = await wait_for_task(api, workflow_id)
    assert task["four_eyes"] is True
    return workflow_id, task


async def refusal(port: Client, workflow_id: str, name: str, request: object) -> ApplicationError:
    """Send ``request`` straight to the workflow through the port; return why it was refused."""
    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await port.get_workflow_handle(workflow_id).execute_update(name, request)
    cause = refused.value.cause
    assert isinstance(cause, ApplicationError), refused.value
    return cause


async def accepted_updates(port: Client, workflow_id: str) -> int:
    history = await port.get_workflow_handle(workflow_id).fetch_history()
    return sum(1 for e in history.events if e.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED)


async def test_a_made_up_user_cannot_complete_a_four_eyes_task_through_the_port(
        api: Api, worker: None, temporal_server: TemporalDevServer) -> None:  # noqa: F811
    workflow_id, task = await four_eyes_task(api)
    port = await Client.connect(temporal_server.address)  # anyone who reaches 7233: no key, no token
    cause = await refusal(port, workflow_id, COMPLETE_USER_TASK_UPDATE,
                          CompleteUserTask(task_id=task["task_id"], data=DATA, user="not-a-real-user"))
    assert cause.type == "ProofRefused" and "no proof" in cause.message, cause
    assert "not-a-real-user" in cause.message and COMPLETE_USER_TASK_UPDATE in cause.message
    state = (await api.get(f"/instances/{workflow_id}/state", "sam")).json()
    assert [t["task_id"] for t in state["user_tasks"]] == [task["task_id"]]  # still open
    assert await accepted_updates(port, workflow_id) == 0  # refused before history

    done = await api.post(f"/tasks/{task['task_id']}/complete", "sue", json={"data": DATA})
    assert done.status_code == 200, done.text
    await wait_for_status(api, workflow_id, "completed")


async def test_forged_stale_and_borrowed_proofs_are_refused(
        api: Api, worker: None, temporal_server: TemporalDevServer, settings: Settings) -> None:  # noqa: F811
    from workflows import update_proof

    workflow_id, task = await four_eyes_task(api)
    port = await Client.connect(temporal_server.address)
    task_id = task["task_id"]
    now = datetime.now(UTC)
    key = settings.update_proof_key

    def proven(request: CompleteUserTask, *, signer_key: bytes = key, issued_at: datetime = now,
               **changes: Any) -> CompleteUserTask:
        """``request`` carrying a proof made for ``request`` with ``changes`` (another user, data...)."""
        import dataclasses

        proof = update_proof.signed(dataclasses.replace(request, **changes), key=signer_key,
                                    namespace=port.namespace, workflow_id=workflow_id,
                                    issued_at=issued_at).proof
        return dataclasses.replace(request, proof=proof)

    fake = CompleteUserTask(task_id=task_id, data=DATA, user="not-a-real-user")
    forged_mac = f"v1.{int(now.timestamp() * 1000)}.{secrets.token_hex(32)}"
    cases: dict[str, tuple[CompleteUserTask, str]] = {
        "forged MAC": (CompleteUserTask(task_id=task_id, data=DATA, user="sue", proof=forged_mac), "does not match"),
        "malformed": (CompleteUserTask(task_id=task_id, data=DATA, user="sue", proof="trust-me"), "malformed"),
        "another key": (proven(fake, signer_key=os.urandom(32)), "does not match"),
        # a real proof for sue's approval, sent as a made-up user, or with other data, or another task
        "another user": (proven(fake, user="sue"), "does not match"),
        "other data": (proven(CompleteUserTask(task_id=task_id, data=DATA, user="sue"),
                              data={"approved": False, "comment": "no"}), "does not match"),
        "another task": (proven(CompleteUserTask(task_id=task_id, data=DATA, user="sue"), task_id="other-task"),
                         "does not match"),
        "stale": (proven(CompleteUserTask(task_id=task_id, data=DATA, user="sue"),
                         issued_at=now - timedelta(hours=1)), "expired"),
        "from the future": (proven(CompleteUserTask(task_id=task_id, data=DATA, user="sue"),
                                   issued_at=now + timedelta(hours=1)), "future"),
    }
    for name, (request, reason) in cases.items():
        cause = await refusal(port, workflow_id, COMPLETE_USER_TASK_UPDATE, request)
        assert cause.type == "ProofRefused" and reason in cause.message, (name, cause)
    cause = await refusal(port, workflow_id, RETRY_UPDATE, RetryIncident(variables={"qty": -1}, user="nobody"))
    assert cause.type == "ProofRefused", cause  # retries act for a person too
    cause = await refusal(port, workflow_id, MIGRATE_UPDATE, MigrateRequest("0" * 64, 99, user="nobody"))
    assert cause.type == "ProofRefused", cause  # and migrations
    assert await accepted_updates(port, workflow_id) == 0
    state = (await api.get(f"/instances/{workflow_id}/state", "sam")).json()
    assert state["status"] == "running" and [t["task_id"] for t in state["user_tasks"]] == [task_id]

    # the same proof machinery, with the API's key, for this user, data and moment: accepted
    done = await api.post(f"/tasks/{task_id}/complete", "sue", json={"data": DATA})
    assert done.status_code == 200, done.text
    final = await wait_for_status(api, workflow_id, "completed")
    assert final["variables"]["qty"] == 99


async def test_a_proven_update_without_the_e_signature_is_refused(
        api: Api, worker: None, temporal_server: TemporalDevServer, settings: Settings) -> None:  # noqa: F811
    """Issue J.3: a task marked for signature is refused by the workflow itself, not only by the API,
    when the Update (even with a valid proof) carries no attestation; an attestation added after the
    proof was made does not match it; the API's completion with the password completes it."""
    import dataclasses

    from workflows import update_proof

    xml = (DIAGRAMS / "approval.bpmn").read_text().replace(
        '<zeebe:assignmentDefinition candidateGroups="supervisors" />',
        '<zeebe:assignmentDefinition candidateGroups="supervisors" />\n'
        '        <zeebe:taskHeaders><zeebe:header key="signature" value="approved by" /></zeebe:taskHeaders>',
    ).replace('id="approval"', 'id="approval_sig_port"')
    deployed = await api.post("/process-definitions", "erin",
                              files={"file": ("approval_sig_port.bpmn", xml.encode(), "application/xml")})
    assert deployed.status_code == 201, deployed.text
    started = await api.post("/instances", "sam", json={"process_id": "approval_sig_port",
                                                        "variables": {"order_id": "PO-SP", "qty": 2, "new_qty": 4}})
    assert started.status_code == 201, started.text
    workflow_id = str(started.json()["workflow_id"])
    task = await wait_for_task(api, workflow_id)
    assert task["signature"] == "approved by"
    port = await Client.connect(temporal_server.address)
    proven = update_proof.signed(CompleteUserTask(task_id=task["task_id"], data=DATA, user="sue"),
                                 key=settings.update_proof_key, namespace=port.namespace, workflow_id=workflow_id)
    cause = await refusal(port, workflow_id, COMPLETE_USER_TASK_UPDATE, proven)
    assert cause.type == "SignatureRequired" and task["task_id"] in cause.message, cause
    assert "approved by" in cause.message
    added_later = dataclasses.replace(proven, signature={"meaning": "approved by", "signed_by": "sue"})
    cause = await refusal(port, workflow_id, COMPLETE_USER_TASK_UPDATE, added_later)
    assert cause.type == "ProofRefused" and "does not match" in cause.message, cause
    assert await accepted_updates(port, workflow_id) == 0
    assert (await api.get(f"/tasks/{task['task_id']}", "sue")).json()["status"] == "open"

    done = await api.post(f"/tasks/{task['task_id']}/complete", "sue", json={"data": DATA, "password": PASSWORD})
    assert done.status_code == 200, done.text
    await wait_for_status(api, workflow_id, "completed")
