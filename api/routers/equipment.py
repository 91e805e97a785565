"""The equipment hierarchy (enterprise > site > area > work center > work unit): list, show,
add a node; a work unit's OPC UA endpoint and node bindings."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, status
from sqlalchemy.orm import Session

from api.deps import AnyUser, ContextDep, Engineer
from api.pagination import Page, Paging
from api.schemas.common import TEXT
from api.schemas.equipment import (
    NODE_NAME,
    EquipmentCreate,
    EquipmentOut,
    NodeBindingIn,
    NodeBindingOut,
    OpcUaEndpointIn,
    OpcUaEndpointOut,
)
from mom.db.equipment import add_equipment, bind_node, get_equipment, list_equipment, set_opcua_endpoint
from mom.db.models import Equipment
from mom.domain import EquipmentLevel

router = APIRouter(prefix="/equipment", tags=["equipment"])
EquipmentId = Annotated[int, Path(ge=1, le=2**31 - 1)]
NOT_A_WORK_UNIT: dict[int | str, dict[str, str]] = {
    404: {"description": "no such equipment"}, 422: {"description": "the equipment is not a work unit"}}


def equipment_out(node: Equipment) -> EquipmentOut:
    return EquipmentOut.model_validate(node)


@router.get("", response_model=Page[EquipmentOut])
async def index(context: ContextDep, user: AnyUser, paging: Paging,
                level: EquipmentLevel | None = None,
                parent_id: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
                under_path: Annotated[str | None, Query(max_length=600, pattern=TEXT,
                                                  description="descendants of this path")] = None,
                ) -> Page[EquipmentOut]:
    """Equipment ordered by path."""
    def work(session: Session) -> Page[EquipmentOut]:
        items, total = list_equipment(session, level=level, parent_id=parent_id, under_path=under_path,
                                      offset=paging.offset, limit=paging.limit)
        return Page(items=[equipment_out(e) for e in items], total=total, **paging.model_dump())

    return await context.db(work, write=False)


@router.get("/{equipment_id}", response_model=EquipmentOut, responses={404: {"description": "no such equipment"}})
async def show(context: ContextDep, user: AnyUser, equipment_id: EquipmentId) -> EquipmentOut:
    return await context.db(lambda s: equipment_out(get_equipment(s, equipment_id=equipment_id)), write=False)


@router.post("", response_model=EquipmentOut, status_code=status.HTTP_201_CREATED,
             responses={404: {"description": "no such parent"}, 409: {"description": "the path exists"},
                        422: {"description": "wrong parent level, bad name or time zone"}})
async def create(context: ContextDep, user: Engineer, body: EquipmentCreate) -> EquipmentOut:
    return await context.db(lambda s: equipment_out(add_equipment(
        s, name=body.name, level=body.level, parent_id=body.parent_id, description=body.description,
        time_zone=body.time_zone)))


@router.put("/{equipment_id}/opcua-endpoint", response_model=OpcUaEndpointOut, responses=NOT_A_WORK_UNIT)
async def set_endpoint(context: ContextDep, user: Engineer, equipment_id: EquipmentId,
                       body: OpcUaEndpointIn) -> OpcUaEndpointOut:
    """Create or replace where the work unit's OPC UA server is reached (from the plant's edge worker)."""
    return await context.db(lambda s: OpcUaEndpointOut.model_validate(set_opcua_endpoint(
        s, work_unit_id=equipment_id, url=body.url, namespace_uri=body.namespace_uri,
        security_policy=body.security_policy, security_mode=body.security_mode)))


@router.put("/{equipment_id}/node-bindings/{name}", response_model=NodeBindingOut, responses=NOT_A_WORK_UNIT)
async def set_binding(context: ContextDep, user: Engineer, equipment_id: EquipmentId,
                      name: Annotated[str, Path(pattern=NODE_NAME, description="the role: state, good_count, start")],
                      body: NodeBindingIn) -> NodeBindingOut:
    """Bind a role of the work unit to an OPC UA node (create or replace). A setpoint's role is its
    path below the machine (``Setpoints.Pressure``); ``min_value``/``max_value`` are its engineering
    limits: machine tasks refuse to write a value outside them (BPMN error SETPOINT_OUT_OF_RANGE)."""
    return await context.db(lambda s: NodeBindingOut.model_validate(bind_node(
        s, work_unit_id=equipment_id, name=name, node_id=body.node_id, data_type=body.data_type,
        access=body.access, min_value=body.min_value, max_value=body.max_value)))
