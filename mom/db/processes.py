"""Data functions for deployed process definitions, process instances and incidents."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from mom.db.audit import append_audit_entry, lock_audit_head
from mom.db.base import utcnow
from mom.db.errors import RecordConflict
from mom.db.models import Incident, ProcessDefinition, ProcessInstance
from mom.db.queries import fetch, fetch_by, page
from mom.domain import IncidentStatus, ProcessInstanceStatus, check_transition, is_terminal


def diagram_hash(bpmn_xml: str) -> str:
    return hashlib.sha256(bpmn_xml.encode("utf-8")).hexdigest()


def deploy_process_definition(
    session: Session,
    *,
    process_key: str,
    bpmn_xml: str,
    deployed_by: str,
    name: str | None = None,
    reason: str | None = None,
) -> tuple[ProcessDefinition, bool]:
    """Store a new version of ``process_key``; deploying the same diagram again returns the
    existing version. Returns ``(definition, created)``; a new version is audited. Concurrent
    deployments of the same diagram (two first starts of a process) queue up on the audit head, so
    the second finds the first's version instead of failing on the unique constraint."""
    digest = diagram_hash(bpmn_xml)
    lock_audit_head(session)
    existing = session.execute(
        sa.select(ProcessDefinition).where(
            ProcessDefinition.process_key == process_key, ProcessDefinition.sha256 == digest
        )
    ).scalar_one_or_none()
    if existing is not None:
        return existing, False
    latest = session.scalar(
        sa.select(sa.func.max(ProcessDefinition.version)).where(ProcessDefinition.process_key == process_key)
    )
    definition = ProcessDefinition(
        process_key=process_key,
        version=(latest or 0) + 1,
        name=name,
        bpmn_xml=bpmn_xml,
        sha256=digest,
        deployed_by=deployed_by,
        deployed_at=utcnow(),
    )
    session.add(definition)
    session.flush()
    append_audit_entry(
        session,
        actor=deployed_by,
        action="process.deployed",
        entity_type="process definition",
        entity_id=f"{process_key}:{definition.version}",
        reason=reason,
        details={"sha256": digest, "version": definition.version, "name": name},
        at=definition.deployed_at,
    )
    return definition, True


def get_process_definition(session: Session, *, process_key: str, version: int | None = None) -> ProcessDefinition:
    """A given version, or the latest when ``version`` is None."""
    stmt = sa.select(ProcessDefinition).where(ProcessDefinition.process_key == process_key)
    if version is None:
        stmt = stmt.order_by(ProcessDefinition.version.desc()).limit(1)
    else:
        stmt = stmt.where(ProcessDefinition.version == version)
    key = process_key if version is None else f"{process_key}:{version}"
    return fetch_by(session, stmt, entity="process definition", key=key)


def list_process_definitions(
    session: Session,
    *,
    process_key: str | None = None,
    latest_only: bool = False,
    offset: int = 0,
    limit: int = 100,
) -> tuple[Sequence[ProcessDefinition], int]:
    stmt = sa.select(ProcessDefinition)
    if process_key is not None:
        stmt = stmt.where(ProcessDefinition.process_key == process_key)
    if latest_only:
        newest = (
            sa.select(
                ProcessDefinition.process_key,
                sa.func.max(ProcessDefinition.version).label("version"),
            )
            .group_by(ProcessDefinition.process_key)
            .subquery()
        )
        stmt = stmt.join(
            newest,
            sa.and_(
                newest.c.process_key == ProcessDefinition.process_key,
                newest.c.version == ProcessDefinition.version,
            ),
        )
    stmt = stmt.order_by(ProcessDefinition.process_key, ProcessDefinition.version.desc())
    return page(session, stmt, offset=offset, limit=limit)


def start_process_instance(
    session: Session,
    *,
    process_definition_id: int,
    workflow_id: str,
    started_by: str,
    run_id: str | None = None,
    business_key: str | None = None,
    production_order_id: int | None = None,
) -> ProcessInstance:
    definition = fetch(session, ProcessDefinition, process_definition_id, entity="process")
    if session.scalar(sa.select(ProcessInstance.id).where(ProcessInstance.workflow_id == workflow_id)):
        raise RecordConflict(f"process instance with workflow id '{workflow_id}' already exists")
    instance = ProcessInstance(
        process_definition_id=definition.id,
        workflow_id=workflow_id,
        run_id=run_id,
        business_key=business_key,
        production_order_id=production_order_id,
        started_by=started_by,
        status=ProcessInstanceStatus.RUNNING,
    )
    session.add(instance)
    session.flush()
    append_audit_entry(
        session,
        actor=started_by,
        action="process.started",
        entity_type="process instance",
        entity_id=workflow_id,
        details={
            "process": f"{definition.process_key}:{definition.version}",
            "business_key": business_key,
            "run_id": run_id,
        },
    )
    return instance


def get_process_instance(session: Session, *, workflow_id: str) -> ProcessInstance:
    return fetch_by(
        session,
        sa.select(ProcessInstance).where(ProcessInstance.workflow_id == workflow_id),
        entity="process instance",
        key=workflow_id,
    )


def change_process_instance_status(
    session: Session,
    *,
    workflow_id: str,
    to: ProcessInstanceStatus,
    run_id: str | None = None,
    at: datetime | None = None,
) -> ProcessInstance:
    instance = get_process_instance(session, workflow_id=workflow_id)
    instance.status = check_transition(instance.status, to, entity_id=workflow_id)
    if run_id is not None:
        instance.run_id = run_id
    instance.ended_at = (at or utcnow()) if is_terminal(to) else None
    session.flush()
    return instance


def list_process_instances(
    session: Session,
    *,
    status: ProcessInstanceStatus | None = None,
    process_key: str | None = None,
    business_key: str | None = None,
    business_key_prefix: str | None = None,
    with_open_incidents: bool | None = None,
    offset: int = 0,
    limit: int = 100,
) -> tuple[Sequence[ProcessInstance], int]:
    """Instances, newest first. ``business_key_prefix``: the keys that start with it (an order's
    change requests are keyed ``ORDER:...``)."""
    stmt = sa.select(ProcessInstance)
    if status is not None:
        stmt = stmt.where(ProcessInstance.status == status)
    if process_key is not None:
        stmt = stmt.join(ProcessInstance.definition).where(ProcessDefinition.process_key == process_key)
    if business_key is not None:
        stmt = stmt.where(ProcessInstance.business_key == business_key)
    if business_key_prefix is not None:
        stmt = stmt.where(ProcessInstance.business_key.startswith(business_key_prefix, autoescape=True))
    if with_open_incidents is not None:
        open_incident = sa.exists().where(
            Incident.process_instance_id == ProcessInstance.id,
            Incident.status == IncidentStatus.OPEN,
        )
        stmt = stmt.where(open_incident if with_open_incidents else ~open_incident)
    stmt = stmt.order_by(ProcessInstance.started_at.desc(), ProcessInstance.id.desc())
    return page(session, stmt, offset=offset, limit=limit)


def raise_incident(session: Session, *, workflow_id: str, element_id: str, message: str) -> Incident:
    instance = get_process_instance(session, workflow_id=workflow_id)
    incident = Incident(element_id=element_id, message=message, status=IncidentStatus.OPEN)
    instance.incidents.append(incident)
    session.flush()
    return incident


def resolve_incident(session: Session, *, incident_id: int, actor: str, reason: str | None = None) -> Incident:
    incident = fetch(session, Incident, incident_id, entity="incident")
    if incident.status == IncidentStatus.RESOLVED:
        raise RecordConflict(f"incident {incident_id} was already resolved by {incident.resolved_by}")
    incident.status = IncidentStatus.RESOLVED
    incident.resolved_at = utcnow()
    incident.resolved_by = actor
    append_audit_entry(
        session,
        actor=actor,
        action="incident.resolved",
        entity_type="process instance",
        entity_id=incident.process_instance.workflow_id,
        reason=reason,
        details={"incident": incident.id, "element": incident.element_id},
    )
    session.flush()
    return incident
