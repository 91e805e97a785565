"""Machine events (states, alarms, counters, commands) newest first, by work unit, kind, name and time."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from sqlalchemy.orm import Session

from api.deps import AnyUser, ContextDep
from api.pagination import Page, Paging
from api.schemas.common import TEXT, UtcTime
from api.schemas.records import MachineEventOut
from mom.db.equipment import get_equipment_by_path
from mom.db.events import list_machine_events
from mom.domain import MachineEventKind

router = APIRouter(prefix="/machine-events", tags=["events"])


@router.get("", response_model=Page[MachineEventOut], responses={404: {"description": "no such work unit path"}})
async def index(context: ContextDep, user: AnyUser, paging: Paging,
                work_unit_id: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
                work_unit: Annotated[str | None, Query(max_length=600, pattern=TEXT,
                                                       description="the work unit's path (instead of its id)")] = None,
                kind: MachineEventKind | None = None,
                name: Annotated[str | None, Query(max_length=200, pattern=TEXT)] = None,
                since: Annotated[UtcTime | None, Query(description="at or after")] = None,
                until: Annotated[UtcTime | None, Query(description="before")] = None) -> Page[MachineEventOut]:
    def work(session: Session) -> Page[MachineEventOut]:
        unit_id = work_unit_id if work_unit is None else get_equipment_by_path(session, path=work_unit).id
        if work_unit_id is not None and unit_id != work_unit_id:
            return Page(items=[], total=0, **paging.model_dump())  # both given and they disagree
        items, total = list_machine_events(session, work_unit_id=unit_id, kind=kind, name=name, since=since,
                                           until=until, offset=paging.offset, limit=paging.limit)
        return Page(items=[MachineEventOut.model_validate(e) for e in items], total=total, **paging.model_dump())

    return await context.db(work, write=False)
