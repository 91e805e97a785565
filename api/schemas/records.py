"""The audit log and machine events."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class AuditEntryOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    seq: int
    at: datetime
    actor: str
    action: str
    entity_type: str
    entity_id: str
    reason: str | None
    details: dict[str, Any]
    prev_hash: str
    hash: str


class AuditBreakOut(BaseModel):
    seq: int = Field(description="the first entry where the chain does not hold")
    kind: str = Field(description="edited, deleted or inserted")
    message: str


class AuditVerification(BaseModel):
    intact: bool
    head_seq: int = Field(description="the last entry; anchor it with head_hash outside the database")
    head_hash: str
    first_break: AuditBreakOut | None


class MachineEventOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    work_unit_id: int
    kind: str
    name: str
    value: dict[str, Any]
    severity: int | None
    job_order_id: int | None
    at: datetime
    received_at: datetime
