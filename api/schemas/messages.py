"""BPMN messages published to process instances, and migrations of running instances."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from api.schemas.common import TEXT, Reason
from api.schemas.processes import PROCESS_ID

MAX_TTL_SECONDS = 30 * 24 * 3600


class MessageIn(BaseModel):
    name: str = Field(min_length=1, max_length=200, pattern=TEXT, description="the BPMN message name")
    correlation_key: str | None = Field(default=None, max_length=200, pattern=TEXT,
                                        description="which instances: those waiting with this key")
    variables: dict[str, Any] = Field(default_factory=dict, description="merged into the receiving instance")
    ttl_seconds: float = Field(default=3600.0, ge=0, le=MAX_TTL_SECONDS, allow_inf_nan=False,
                               description="kept this long for instances that start waiting later")
    message_id: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_.:-]{1,100}$",
                                   description="a retried publish with the same id is delivered once")


class MessageOut(BaseModel):
    name: str
    correlation_key: str | None
    message_id: str
    published_at: str
    ttl_seconds: float


class MigrationIn(BaseModel):
    process_id: str = Field(pattern=PROCESS_ID)
    to_version: int = Field(ge=1, le=1_000_000)
    dry_run: bool = Field(default=True, description="only report per instance whether it is safe to migrate")
    reason: Reason = None


class VerdictOut(BaseModel):
    instance_id: str
    from_sha256: str
    safe: bool
    migrated: bool
    reasons: list[str]


class MigrationOut(BaseModel):
    process_id: str
    to_version: int
    dry_run: bool
    verdicts: list[VerdictOut]
