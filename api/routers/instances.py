"""Process instances: start, list, state, cancel, incidents, retry after an incident, and migration
of running instances to another version.

Only process instances: the ids of other workflows (message mailboxes, signal boards) answer 404.
An operator (without other roles) reads only the instances at their work centers: those with an inbox
step at one of them, or a step they claimed or completed; any other answers 404, as if it did not
exist (the station shows each step's context; an instance's variables are not theirs to browse)."""

from __future__ import annotations

import contextlib
import uuid
from datetime import datetime
from typing import Annotated, Any

import sqlalchemy as sa
from fastapi import APIRouter, HTTPException, Query, status
from sqlalchemy.orm import Session
from temporalio.client import Client, WorkflowExecutionStatus
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from api.deps import AnyUser, ApiContext, ContextDep, Engineer, EngineerOrSupervisor, Principal
from api.pagination import Page, Paging
from api.payload_limits import require_small
from api.schemas.messages import MigrationIn, MigrationOut, VerdictOut
from api.schemas.processes import CancelRequest, IncidentOut, InstanceOut, InstanceStart, InstanceState, RetryRequest
from api.task_rules import operator_only
from mom import instance_list, instances
from mom.db.audit import append_audit_entry
from mom.db.errors import RecordNotFound
from mom.db.models import HumanTask, ProcessDefinition, ProcessInstance
from mom.db.processes import (
    change_process_instance_status,
    deploy_process_definition,
    get_process_instance,
    start_process_instance,
)
from mom.domain import IllegalTransition, ProcessInstanceStatus
from mom.migration import audit_details, migrate_process
from mom.process_store import ProcessVersion
from workflows.contracts import WORKFLOW_NAME

router = APIRouter(prefix="/instances", tags=["instances"])


def _out(row: ProcessInstance) -> InstanceOut:
    return InstanceOut(workflow_id=row.workflow_id, run_id=row.run_id, process_id=row.definition.process_key,
                       version=row.definition.version, business_key=row.business_key, status=row.status.value,
                       started_by=row.started_by, started_at=row.started_at, ended_at=row.ended_at)


def _definition_row(context: ApiContext, session: Session, chosen: ProcessVersion, user: str) -> ProcessDefinition:
    """The database row of the diagram an engine version was compiled from (recorded now when the
    version was deployed with ``mom deploy`` rather than through the API)."""
    row = session.execute(sa.select(ProcessDefinition).where(
        ProcessDefinition.process_key == chosen.process_id, ProcessDefinition.sha256 == chosen.source_sha256,
    )).scalar_one_or_none()
    if row is not None:
        return row
    source = context.store.load_source(chosen.source_sha256).decode("utf-8")
    row, _ = deploy_process_definition(session, process_key=chosen.process_id, bpmn_xml=source,
                                       deployed_by=chosen.deployed_by, reason="recorded at first start")
    return row


@router.post("", response_model=InstanceOut, status_code=status.HTTP_201_CREATED,
             responses={413: {"description": "variables over MOM_MAX_VARIABLES_BYTES (the field named)"}})
async def start(context: ContextDep, user: EngineerOrSupervisor, body: InstanceStart) -> InstanceOut:
    require_small(context.settings, "variables", body.variables)
    versions = context.store.versions(body.process_id)
    chosen = versions[-1] if versions and body.version is None else next(
        (v for v in versions if v.version == body.version), None)
    if chosen is None:
        what = f"version {body.version} of " if versions else ""
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"process_id: {what}'{body.process_id}' is not deployed")
    workflow_id = f"{body.process_id}-{body.business_key or uuid.uuid4().hex[:12]}"

    def record(session: Session) -> None:
        definition = _definition_row(context, session, chosen, user.username)
        start_process_instance(session, process_definition_id=definition.id, workflow_id=workflow_id,
                               started_by=user.username, business_key=body.business_key)

    await context.db(record)  # first, so the inbox finds the instance and its requester
    client = await context.temporal()
    try:
        started = await instances.start_instance(
            client, context.store, body.process_id, task_queue=context.settings.task_queue,
            variables=body.variables, business_key=body.business_key, started_by=user.username,
            version=chosen.version, workflow_id=workflow_id)
    except WorkflowAlreadyStartedError:
        await context.db(lambda s: _set_status(s, workflow_id, ProcessInstanceStatus.FAILED))
        raise HTTPException(status.HTTP_409_CONFLICT, f"business_key: an instance '{workflow_id}' exists") from None
    except BaseException:
        await context.db(lambda s: _set_status(s, workflow_id, ProcessInstanceStatus.FAILED))
        raise

    await instance_list.wait_listed(client, workflow_id, started.run_id)  # listed when the answer arrives

    def set_run(session: Session) -> InstanceOut:
        row = get_process_instance(session, workflow_id=workflow_id)
        row.run_id = started.run_id
        return _out(row)

    return await context.db(set_run)


@router.post("/migrations", response_model=MigrationOut,
             responses={404: {"description": "the process has no such version"}})
async def migrate(context: ContextDep, user: Engineer, body: MigrationIn) -> MigrationOut:
    """Check every running instance of the process against ``to_version`` (history replay and tasks
    in flight); unless ``dry_run``, move the safe ones, each with an audit entry."""
    try:
        verdicts = await migrate_process(await context.temporal(), context.store, body.process_id, body.to_version,
                                         dry_run=body.dry_run, user=user.username, reason=body.reason,
                                         proof_key=context.settings.update_proof_key)
    except LookupError as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"process_id/to_version: {exc}") from None
    target = next(v for v in context.store.versions(body.process_id) if v.version == body.to_version)

    def record(session: Session) -> None:
        for verdict in (v for v in verdicts if v.migrated):
            append_audit_entry(session, actor=user.username, action="instance.migrated",
                               entity_type="process_instance", entity_id=verdict.instance_id, reason=body.reason,
                               details=audit_details(verdict, target))

    if any(v.migrated for v in verdicts):
        await context.db(record)
    return MigrationOut(process_id=body.process_id, to_version=body.to_version, dry_run=body.dry_run,
                        verdicts=[VerdictOut(instance_id=v.instance_id, from_sha256=v.from_sha256, safe=v.safe,
                                             migrated=v.migrated, reasons=list(v.reasons)) for v in verdicts])


def _set_status(session: Session, workflow_id: str, to: ProcessInstanceStatus, at: datetime | None = None) -> None:
    with contextlib.suppress(IllegalTransition, RecordNotFound):
        if get_process_instance(session, workflow_id=workflow_id).status != to:
            change_process_instance_status(session, workflow_id=workflow_id, to=to, at=at)


def _listed_out(item: instance_list.ListedInstance) -> InstanceOut:
    return InstanceOut(workflow_id=item.workflow_id, run_id=item.run_id, process_id=item.process_id,
                       version=item.version, business_key=item.business_key, status=item.status.value,
                       started_by=item.started_by, started_at=item.started_at, ended_at=item.ended_at,
                       open_incident=item.open_incident, active=item.active)


@router.get("", response_model=Page[InstanceOut])
async def index(context: ContextDep, user: AnyUser, paging: Paging,
                status_: Annotated[ProcessInstanceStatus | None, Query(alias="status")] = None,
                process_id: Annotated[str | None, Query(max_length=200)] = None,
                business_key: Annotated[str | None, Query(max_length=200)] = None,
                business_key_prefix: Annotated[str | None, Query(min_length=1, max_length=200,
                                                                 description="keys starting with it")] = None,
                with_open_incidents: bool | None = None) -> Page[InstanceOut]:
    """Every process instance however started, as Temporal's visibility has it now (status, end time)
    and as the instance last published (open incident, current elements): see mom.instance_list."""
    items, total = await instance_list.list_instances(
        await context.temporal(), status=status_, process_id=process_id, business_key=business_key,
        business_key_prefix=business_key_prefix, with_open_incidents=with_open_incidents,
        offset=paging.offset, limit=paging.limit)
    return Page(items=[_listed_out(i) for i in items], total=total, **paging.model_dump())


async def _describe(client: Client, workflow_id: str) -> Any:
    """The process instance's Temporal description; None when there is none (or it is another workflow)."""
    instances.check_process_instance_id(workflow_id)
    try:
        description = await client.get_workflow_handle(workflow_id).describe()
    except RPCError as exc:
        if exc.status == RPCStatusCode.NOT_FOUND:
            return None
        raise
    return description if description.workflow_type == WORKFLOW_NAME else None


async def _check_readable(context: ApiContext, user: Principal, workflow_id: str) -> None:
    """404 for an operator and an instance that is not at their work centers (see the module doc)."""
    instances.check_process_instance_id(workflow_id)
    if not operator_only(user):
        return

    def at_my_work_centers(session: Session) -> bool:
        mine = sa.or_(HumanTask.work_center.in_(sorted(user.work_centers)), HumanTask.assignee == user.username,
                      HumanTask.completed_by == user.username)
        return session.execute(sa.select(HumanTask.id).where(HumanTask.workflow_id == workflow_id, mine)
                               .limit(1)).first() is not None

    if not await context.db(at_my_work_centers, write=False):
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no process instance '{workflow_id}' at the work centers "
                            f"of operator {user.username} ({', '.join(sorted(user.work_centers)) or 'none'})")


@router.get("/{workflow_id:path}/state", response_model=InstanceState)
async def state(context: ContextDep, user: AnyUser, workflow_id: str) -> InstanceState:
    """The live state from the workflow: active elements, variables, pending tasks, incident."""
    await _check_readable(context, user, workflow_id)
    live = await instances.instance_state(await context.temporal(), workflow_id)
    return InstanceState(workflow_id=workflow_id, process_id=live.get("process_id"), version=live.get("version"),
                         business_key=live.get("business_key"), status=str(live.get("status")),
                         active=list(live.get("active") or []), completed=list(live.get("completed") or []),
                         variables=dict(live.get("variables") or {}), user_tasks=list(live.get("user_tasks") or []),
                         incident=live.get("incident"), running_activities=list(live.get("running_activities") or []))


@router.get("/{workflow_id:path}/incidents", response_model=list[IncidentOut])
async def incidents(context: ContextDep, user: AnyUser, workflow_id: str) -> list[IncidentOut]:
    await _check_readable(context, user, workflow_id)
    live = await instances.instance_state(await context.temporal(), workflow_id)
    incident = live.get("incident")
    if not incident:
        return []
    return [IncidentOut(element_id=incident.get("element_id"), message=str(incident.get("message")),
                        kind=incident.get("kind"), at=incident.get("at"))]


# last of the GET routes: a workflow id may hold "/" (a called instance is "<parent id>/<task id>"), and
# this path would take the suffixes of the routes above
@router.get("/{workflow_id:path}", response_model=InstanceOut)
async def show(context: ContextDep, user: AnyUser, workflow_id: str) -> InstanceOut:
    """The instance as Temporal has it (status, close time, published incident and elements)."""
    await _check_readable(context, user, workflow_id)
    description = await _describe(await context.temporal(), workflow_id)
    if description is not None:
        listed = await instance_list.listed(description)
        if listed.ended_at is not None:  # the start row follows, with the true end time
            await context.db(lambda s: _set_status(s, workflow_id, listed.status, at=listed.ended_at))
        return _listed_out(listed)

    def work(session: Session) -> InstanceOut | None:
        try:
            return _out(get_process_instance(session, workflow_id=workflow_id))
        except RecordNotFound:
            return None

    found = await context.db(work, write=False)
    if found is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no process instance '{workflow_id}'")
    return found


@router.post("/{workflow_id:path}/retry", response_model=dict[str, Any],
             responses={413: {"description": "variables over MOM_MAX_VARIABLES_BYTES (the field named)"}})
async def retry(context: ContextDep, user: EngineerOrSupervisor, workflow_id: str,
                body: RetryRequest) -> dict[str, Any]:
    require_small(context.settings, "variables", body.variables)
    client = await context.temporal()
    try:
        result = await instances.retry_incident(client, workflow_id, body.variables, user=user.username,
                                                proof_key=context.settings.update_proof_key)
    except instances.TaskRefused as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, f"{workflow_id}: {exc}") from None
    except instances.InstanceNotFound:
        description = await _describe(client, workflow_id)  # Temporal says NOT_FOUND for a closed one too
        if description is None:
            raise
        ended = description.status.name.lower() if description.status else "closed"
        raise HTTPException(status.HTTP_409_CONFLICT, f"{workflow_id} is {ended}: nothing to retry") from None
    await context.db(lambda s: append_audit_entry(
        s, actor=user.username, action="process.retried", entity_type="process instance", entity_id=workflow_id,
        reason=body.reason, details={"variables": sorted(body.variables)}))
    return result


@router.post("/{workflow_id:path}/cancel", response_model=InstanceOut, status_code=status.HTTP_202_ACCEPTED)
async def cancel(context: ContextDep, user: EngineerOrSupervisor, workflow_id: str,
                 body: CancelRequest) -> InstanceOut:
    client = await context.temporal()
    description = await _describe(client, workflow_id)
    if description is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no process instance '{workflow_id}'")
    if description.status != WorkflowExecutionStatus.RUNNING:
        raise HTTPException(status.HTTP_409_CONFLICT,
                            f"{workflow_id} is {description.status.name.lower() if description.status else '?'}, "
                            "not running")
    await client.get_workflow_handle(workflow_id).cancel()

    def record(session: Session) -> InstanceOut:
        append_audit_entry(session, actor=user.username, action="process.cancelled",
                           entity_type="process instance", entity_id=workflow_id, reason=body.reason)
        _set_status(session, workflow_id, ProcessInstanceStatus.CANCELLED)
        try:
            return _out(get_process_instance(session, workflow_id=workflow_id))
        except RecordNotFound:
            return InstanceOut(workflow_id=workflow_id, run_id=description.run_id, process_id="?", version=0,
                               business_key=None, status="cancelled", started_by=None,
                               started_at=description.start_time)

    return await context.db(record)
