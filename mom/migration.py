"""Moving running instances of a process to a newer version, safely.

For each running instance: replay its history against the new version (a dry run: the code of
today, the new diagram in place of the old) and ask the instance whether every task it has in
flight still exists in the new version. Only instances that pass both are migrated (a validated
Temporal update; the instance continues as new on the new version at its next quiet moment),
each with an audit entry naming who, when, from and to which version, and why.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from temporalio.client import Client, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError
from temporalio.worker import Replayer

import bpmn.spec_cache as spec_cache
from mom.process_store import ProcessStore, ProcessVersion
from workflows import update_proof
from workflows.contracts import MIGRATE_UPDATE, MIGRATION_CHECK_QUERY, WORKFLOW_NAME, MigrateRequest


@dataclass
class Verdict:
    instance_id: str
    from_sha256: str
    safe: bool
    reasons: list[str] = field(default_factory=list)
    migrated: bool = False


async def running_instances(client: Client, process_id: str) -> list[tuple[str, str]]:
    """(workflow id, spec SHA-256) of the running instances of ``process_id``."""
    found = []
    query = f"WorkflowType = '{WORKFLOW_NAME}' AND ExecutionStatus = 'Running'"
    async for execution in client.list_workflows(query):
        if await execution.memo_value("process_id", default=None) != process_id:
            continue
        handle = client.get_workflow_handle(execution.id)
        try:
            state = await handle.query("state")
        except RPCError as exc:  # no worker polls its task queue: it cannot be checked now
            found.append((execution.id, f"unreachable: {exc.message}"))
            continue
        found.append((execution.id, str(state["spec_sha256"])))
    return found


async def check_instance(client: Client, store: ProcessStore, instance_id: str, current_sha: str,
                         target: ProcessVersion) -> Verdict:
    from workflows.bpmn_process import BpmnProcess

    verdict = Verdict(instance_id, current_sha, safe=True)
    if current_sha.startswith("unreachable: "):
        return Verdict(instance_id, "?", safe=False,
                       reasons=[f"the instance does not answer ({current_sha.removeprefix('unreachable: ')})"])
    if current_sha == target.spec_sha256:
        return Verdict(instance_id, current_sha, safe=False, reasons=["already on this version"])
    handle = client.get_workflow_handle(instance_id)
    history = await handle.fetch_history()
    with spec_cache.substituted({current_sha: store.load_spec(target.spec_sha256)}):
        result = await Replayer(workflows=[BpmnProcess]).replay_workflow(history, raise_on_replay_failure=False)
    if result.replay_failure is not None:
        verdict.safe = False
        verdict.reasons.append(f"its history does not replay on version {target.version}: "
                               f"{_first_line(result.replay_failure)}")
    problems = await handle.query(MIGRATION_CHECK_QUERY, target.spec_sha256)
    if problems:
        verdict.safe = False
        verdict.reasons.extend(problems)
    return verdict


async def send_migration(client: Client, instance_id: str, target: ProcessVersion, *, user: str,
                         reason: str | None, proof_key: bytes | None = None) -> None:
    """Ask one instance to move to ``target`` (the Update carries a proof: workflows.update_proof)."""
    request = update_proof.signed(MigrateRequest(target.spec_sha256, target.version, user, reason),
                                  key=proof_key, namespace=client.namespace, workflow_id=instance_id)
    await client.get_workflow_handle(instance_id).execute_update(MIGRATE_UPDATE, request)


async def migrate_process(client: Client, store: ProcessStore, process_id: str, to_version: int, *,
                          dry_run: bool, user: str, reason: str | None = None,
                          proof_key: bytes | None = None) -> list[Verdict]:
    target = next((v for v in store.versions(process_id) if v.version == to_version), None)
    if target is None:
        raise LookupError(f"process '{process_id}' has no version {to_version}")
    verdicts = []
    for instance_id, sha in await running_instances(client, process_id):
        verdict = await check_instance(client, store, instance_id, sha, target)
        if verdict.safe and not dry_run:
            try:
                await send_migration(client, instance_id, target, user=user, reason=reason, proof_key=proof_key)
                verdict.migrated = True
            except WorkflowUpdateFailedError as exc:
                cause = exc.cause
                verdict.safe = False
                verdict.reasons.append(cause.message if isinstance(cause, ApplicationError) else str(exc))
        verdicts.append(verdict)
    return verdicts


def _first_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return text[0][:300] if text else type(error).__name__


def audit_details(verdict: Verdict, target: ProcessVersion) -> dict[str, Any]:
    return {"instance_id": verdict.instance_id, "from_spec": verdict.from_sha256, "to_spec": target.spec_sha256,
            "to_version": target.version, "reasons": json.loads(json.dumps(verdict.reasons))}
