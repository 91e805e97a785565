"""The equipment hierarchy and what connects a work unit to its machine (OPC UA)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from api.schemas.common import TEXT
from mom.domain import EquipmentLevel

NAME = r"^[^.\s\x00][^.\x00]{0,99}$"
NODE_NAME = r"^[A-Za-z_][A-Za-z0-9_.-]{0,99}$"


class EquipmentCreate(BaseModel):
    name: str = Field(pattern=NAME, max_length=100, description="unique under its parent; no '.'")
    level: EquipmentLevel
    parent_id: int | None = Field(default=None, ge=1, le=2**31 - 1,
                                  description="the node one level up (none for an enterprise)")
    description: str | None = Field(default=None, max_length=2000, pattern=TEXT)
    time_zone: str | None = Field(default=None, min_length=1, max_length=64, pattern=TEXT,
                                   description="IANA zone, e.g. Europe/Paris")


class OpcUaEndpointIn(BaseModel):
    url: str = Field(pattern=r"^opc\.tcp://[^\s\x00]+$", max_length=500, description="opc.tcp://host:port/path")
    namespace_uri: str | None = Field(default=None, max_length=500, pattern=TEXT)
    security_policy: str = Field(default="None", max_length=50, pattern=TEXT, description="None, Basic256Sha256, ...")
    security_mode: str = Field(default="None", max_length=30, pattern=TEXT, description="None, Sign, SignAndEncrypt")


class OpcUaEndpointOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    url: str
    namespace_uri: str | None
    security_policy: str
    security_mode: str


class NodeBindingIn(BaseModel):
    node_id: str = Field(min_length=3, max_length=500, pattern=TEXT, description="ns=1;s=Press1.State or nsu=URI;s=...")
    data_type: str | None = Field(default=None, max_length=50, pattern=TEXT)
    access: str = Field(default="read", pattern=r"^(read|write|read_write|method)$")
    # finite and min <= max are checked by bind_node (422 naming the field): a NaN refused here
    # would be echoed in the 422 body, which JSON cannot carry
    min_value: float | None = Field(default=None, description="engineering limit: no smaller value is written")
    max_value: float | None = Field(default=None, description="engineering limit: no larger value is written")


class NodeBindingOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    name: str
    node_id: str
    data_type: str | None
    access: str
    min_value: float | None = None
    max_value: float | None = None


class EquipmentOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    level: EquipmentLevel
    path: str
    parent_id: int | None
    description: str | None
    time_zone: str | None
    opcua_endpoint: OpcUaEndpointOut | None = Field(default=None, description="work units only")
    node_bindings: list[NodeBindingOut] = Field(default_factory=list, description="work units only")
