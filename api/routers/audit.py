"""The audit log: entries newest first (filterable), and a verification of the hash chain that
names the first entry edited, deleted or inserted."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from sqlalchemy.orm import Session

from api.deps import ContextDep, EngineerOrSupervisor
from api.pagination import Page, Paging
from api.schemas.common import TEXT, UtcTime
from api.schemas.records import AuditBreakOut, AuditEntryOut, AuditVerification
from mom.db.audit import audit_head, list_audit_entries, verify_audit_chain

router = APIRouter(prefix="/audit", tags=["audit"])
Filter = Annotated[str | None, Query(max_length=200, pattern=TEXT)]


@router.get("", response_model=Page[AuditEntryOut])
async def index(context: ContextDep, user: EngineerOrSupervisor, paging: Paging,
                entity_type: Filter = None, entity_id: Filter = None, actor: Filter = None, action: Filter = None,
                since: Annotated[UtcTime | None, Query(description="at or after")] = None,
                until: Annotated[UtcTime | None, Query(description="before")] = None) -> Page[AuditEntryOut]:
    def work(session: Session) -> Page[AuditEntryOut]:
        items, total = list_audit_entries(session, entity_type=entity_type, entity_id=entity_id, actor=actor,
                                          action=action, since=since, until=until, offset=paging.offset,
                                          limit=paging.limit)
        return Page(items=[AuditEntryOut.model_validate(e) for e in items], total=total, **paging.model_dump())

    return await context.db(work, write=False)


@router.get("/verify", response_model=AuditVerification)
async def verify(context: ContextDep, user: EngineerOrSupervisor) -> AuditVerification:
    """Recompute the whole chain; ``first_break`` is where it stops holding (none when intact)."""
    def work(session: Session) -> AuditVerification:
        broken = verify_audit_chain(session)
        head = audit_head(session)
        first = None if broken is None else AuditBreakOut(seq=broken.seq, kind=broken.kind, message=broken.message)
        return AuditVerification(intact=broken is None, head_seq=head.seq, head_hash=head.hash, first_break=first)

    return await context.db(work, write=False)
