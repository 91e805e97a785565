"""Checks for the modeler: lint a diagram before it is deployed, the service-task types a
diagram may name (the activity catalog), and a test run of the diagram being drawn on the running
stack (like ``mom run``), under a throwaway process id so the real one gets no new version."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import time
import uuid
from dataclasses import asdict
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request, status
from fastapi.concurrency import run_in_threadpool
from lxml import etree
from pydantic import BaseModel, Field
from temporalio.client import Client, WorkflowExecutionStatus
from temporalio.service import RPCError

from api.deps import AnyUser, ContextDep, Engineer
from api.payload_limits import require_small
from bpmn.deploy import executable_process_ids
from bpmn.errors import BpmnError
from bpmn.lint import lint_diagram
from bpmn.xml import parse_diagram, utf8_diagram
from mom import instances
from mom.db.audit import append_audit_entry
from mom.deployment import deploy_bytes
from mom.process_store import ProcessStore
from mom.task_catalog import CATALOG, known_task_types

router = APIRouter(tags=["modeler"])
MAX_DIAGRAM_BYTES = 5 * 1024 * 1024
TRIAL_CANCEL_GRACE = 10.0  # seconds a cancelled trial instance has to end before it is terminated


class LintProblem(BaseModel):
    file: str
    message: str
    line: int | None = None
    element_id: str | None = Field(default=None, description="the diagram element the problem is about")
    severity: str = "error"


class LintResult(BaseModel):
    ok: bool = Field(description="true when nothing stops the diagram from being deployed")
    problems: list[LintProblem]


class TaskTypeOut(BaseModel):
    name: str
    summary: str
    runs: str = Field(description="cloud: on the central worker; edge: on the plant's edge worker")
    timeout_seconds: float
    heartbeat_seconds: float | None
    retries: int
    inputs: list[str]


@router.post("/lint", response_model=LintResult,
             openapi_extra={"requestBody": {"required": True, "description": "the BPMN 2.0 diagram (XML)",
                                            "content": {"application/xml": {"schema": {"type": "string"}}}}})
async def lint(request: Request, user: Engineer,
               filename: Annotated[str, Query(max_length=200, description="named in the problems")] = "diagram.bpmn",
               ) -> LintResult:
    """The problems of a diagram sent as the request body: each names the line and element id."""
    data = await request.body()
    if len(data) > MAX_DIAGRAM_BYTES:
        raise HTTPException(status.HTTP_413_CONTENT_TOO_LARGE, f"body: larger than {MAX_DIAGRAM_BYTES} bytes")
    if not data.strip():
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "body: send the BPMN XML of the diagram")
    problems = await run_in_threadpool(lint_diagram, data, filename, known_task_types())
    found = [LintProblem.model_validate(asdict(p)) for p in problems]
    return LintResult(ok=not any(p.severity == "error" for p in found), problems=found)


@router.get("/task-types", response_model=list[TaskTypeOut])
async def task_types(user: AnyUser) -> list[TaskTypeOut]:
    """The service-task types a diagram may name in ``zeebe:taskDefinition type``."""
    return [TaskTypeOut(name=t.name, summary=t.summary, runs=t.runs, timeout_seconds=t.timeout_seconds,
                        heartbeat_seconds=t.heartbeat_seconds, retries=t.retries, inputs=list(t.inputs))
            for t in sorted(CATALOG.values(), key=lambda t: t.name)]


# --- test run ---------------------------------------------------------------------------------

TRIAL_SUFFIX = "__trial"
TRIAL_USER = "modeler test run"


class TestRunRequest(BaseModel):
    xml: str = Field(min_length=1, max_length=MAX_DIAGRAM_BYTES, description="the BPMN 2.0 diagram")
    process_id: str | None = Field(default=None, max_length=200,
                                   description="the executable process to run when the file has several")
    variables: dict[str, Any] = Field(default_factory=dict, description="the instance's start variables")
    complete_user_tasks: dict[str, dict[str, Any]] = Field(
        default_factory=dict, description="form data per user-task element id, as mom run --complete-user-tasks")
    timeout: float = Field(default=30.0, gt=0, le=120, description="seconds before giving up (the instance "
                                                                   "and those it called are then cancelled)")


class TestRunOutcome(BaseModel):
    status: str = Field(description="completed, incident, timed out, or invalid (the diagram does not compile)")
    process_id: str = Field(description="the throwaway process id the diagram was deployed under")
    version: int | None = None
    instance_id: str | None = None
    variables: dict[str, Any] = Field(default_factory=dict)
    completed: list[str] = Field(default_factory=list, description="element ids in completion order")
    active: list[str] = Field(default_factory=list)
    pending_user_tasks: list[str] = Field(default_factory=list)
    incident: dict[str, Any] | None = None
    problems: list[str] = Field(default_factory=list)


def trial_diagram(xml: bytes, process_id: str | None, source: str) -> tuple[str, bytes]:
    """The diagram with its executable process renamed ``<id>__trial`` (references too)."""
    root = parse_diagram(xml, source)
    ids = executable_process_ids(root)
    original = process_id or (ids[0] if ids else None)
    if original is None or original not in ids:
        raise BpmnError.single(source, f"no executable process {original or ''} in the diagram; it has {ids}")
    renamed = original if original.endswith(TRIAL_SUFFIX) else original + TRIAL_SUFFIX
    for element in root.iter():
        for name in ("id", "processRef", "bpmnElement"):
            if element.get(name) == original:
                element.set(name, renamed)
    return renamed, etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def deploy_trial(store: ProcessStore, xml: bytes, process_id: str | None, user: str) -> tuple[str, int]:
    renamed, data = trial_diagram(xml, process_id, "modeler.bpmn")
    deployment = deploy_bytes(store, data, f"{renamed}.bpmn", deployed_by=f"{user} ({TRIAL_USER})",
                              process_id=renamed)
    return renamed, deployment.version.version


async def drive(client: Client, workflow_id: str, completions: dict[str, dict[str, Any]],
                timeout: float, *, proof_key: bytes | None = None) -> dict[str, Any]:
    """Poll the instance, completing its user tasks with the data given per element id, until it
    completes, has an incident or ``timeout`` passes (the same rules as ``mom run``). A trial instance
    that does not complete is ended (:func:`end_trial`): it is never left running."""
    deadline = time.monotonic() + timeout
    submitted: set[str] = set()
    state: dict[str, Any] = {}
    while time.monotonic() < deadline:
        state = await instances.instance_state(client, workflow_id)
        if state["status"] == "completed":
            result = await instances.wait_result(client, workflow_id)
            return {"status": "completed", "variables": result.variables, "completed": list(result.completed)}
        if state["status"] == "incident" or state.get("incident"):
            await end_trial(client, workflow_id, f"{TRIAL_USER}: ended at its incident")
            return {"status": "incident", "incident": state["incident"], "variables": state["variables"],
                    "completed": state["completed"], "active": state.get("active", [])}
        for task in state["user_tasks"]:
            if task["task_id"] in submitted or task["element_id"] not in completions:
                continue
            submitted.add(task["task_id"])
            try:
                await instances.complete_user_task(client, workflow_id, task["task_id"],
                                                   completions[task["element_id"]], TRIAL_USER,
                                                   proof_key=proof_key, signature=task.get("signature"))
            except instances.TaskRefused as exc:
                await end_trial(client, workflow_id, f"{TRIAL_USER}: ended at a refused task completion")
                return {"status": "incident", "variables": state["variables"], "completed": state["completed"],
                        "incident": {"element_id": task["element_id"], "message": str(exc), "errors": exc.errors}}
        await asyncio.sleep(0.1)
    await end_trial(client, workflow_id, f"{TRIAL_USER}: timed out after {timeout} s")
    return {"status": "timed out", "variables": state.get("variables", {}), "completed": state.get("completed", []),
            "active": state.get("active", []),
            "pending_user_tasks": [t["element_id"] for t in state.get("user_tasks", [])]}


async def end_trial(client: Client, workflow_id: str, reason: str) -> None:
    """End a trial instance and the instances it called. It is cancelled: its cancel handler cancels
    the called instances, which a terminated parent would leave running (they outlive a
    continue-as-new: parent close policy ABANDON). Only if it did not end within
    ``TRIAL_CANCEL_GRACE`` seconds is it terminated, and the called instances still running with it."""
    handle = instances.handle_for(client, workflow_id)
    with contextlib.suppress(RPCError):  # it ended meanwhile
        await handle.cancel()
    deadline = time.monotonic() + TRIAL_CANCEL_GRACE
    while time.monotonic() < deadline:
        if (await handle.describe()).status != WorkflowExecutionStatus.RUNNING:
            return
        await asyncio.sleep(0.1)
    await terminate_with_children(client, workflow_id, reason)


async def terminate_with_children(client: Client, workflow_id: str, reason: str) -> None:
    """Terminate ``workflow_id`` and, depth first, the called instances still running under it."""
    query = f"ParentWorkflowId = '{workflow_id}' AND ExecutionStatus = 'Running'"
    children = [execution.id async for execution in client.list_workflows(query)]
    with contextlib.suppress(RPCError):
        await instances.handle_for(client, workflow_id).terminate(reason=reason)
    for child_id in children:
        await terminate_with_children(client, child_id, reason)


@router.post("/lint/test-run", response_model=TestRunOutcome,
             responses={413: {"description": "variables over MOM_MAX_VARIABLES_BYTES (the field named)"}})
async def test_run(context: ContextDep, user: Engineer, body: TestRunRequest) -> TestRunOutcome:
    """Run the diagram on the running stack, like ``mom run``: deploy it as ``<process>__trial``,
    start an instance with ``variables``, complete user tasks with the data given per element id,
    and answer the outcome (completed elements in order, final variables, incident). Every test run is
    in the audit trail first: who ran it and the SHA-256 of the diagram, whatever it then does."""
    require_small(context.settings, "variables", body.variables)
    for element_id, form in sorted(body.complete_user_tasks.items()):
        require_small(context.settings, f"complete_user_tasks.{element_id}", form)
    data = body.xml.encode()
    digest = hashlib.sha256(data).hexdigest()
    await context.db(lambda s: append_audit_entry(
        s, actor=user.username, action="diagram.test_run", entity_type="diagram", entity_id=digest,
        details={"sha256": digest, "bytes": len(data), "process_id": body.process_id,
                 "variables": sorted(body.variables)}))
    try:
        process_id, version = await run_in_threadpool(deploy_trial, context.store, utf8_diagram(body.xml, "diagram"),
                                                      body.process_id, user.username)
    except BpmnError as exc:
        return TestRunOutcome(status="invalid", process_id=(body.process_id or "") + TRIAL_SUFFIX,
                              problems=[str(p) for p in exc.problems])
    client = await context.temporal()
    workflow_id = f"{process_id}-{uuid.uuid4().hex[:12]}"
    await instances.start_instance(client, context.store, process_id, task_queue=context.settings.task_queue,
                                   variables=body.variables, started_by=f"{user.username} ({TRIAL_USER})",
                                   version=version, workflow_id=workflow_id)
    try:
        outcome = await drive(client, workflow_id, body.complete_user_tasks, body.timeout,
                              proof_key=context.settings.update_proof_key)
    except Exception:  # the state could not be read (or a completion failed): the trial is not left running
        await end_trial(client, workflow_id, f"{TRIAL_USER}: the test run failed")
        raise
    return TestRunOutcome(process_id=process_id, version=version, instance_id=workflow_id, **outcome)
