"""Process definitions (deployed BPMN diagrams) and process instances."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from mom.instances import reserved_variables

PROCESS_ID = r"^[A-Za-z_][A-Za-z0-9_.-]{0,199}$"


class ProcessDefinitionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    process_id: str = Field(validation_alias="process_key")
    version: int
    name: str | None
    sha256: str
    deployed_by: str
    deployed_at: datetime


class DeploymentOut(BaseModel):
    process_id: str
    version: int = Field(description="the version instances start with (the engine's spec version)")
    spec_sha256: str
    created: bool = Field(description="false when the same diagram was deployed already")
    definition: ProcessDefinitionOut
    warnings: list[str] = Field(default_factory=list)
    schedules: list[str] = Field(default_factory=list,
                                 description="Temporal schedules of the process's timer start events")


class InstanceStart(BaseModel):
    process_id: str = Field(pattern=PROCESS_ID)
    version: int | None = Field(default=None, ge=1, le=1_000_000)
    variables: dict[str, Any] = Field(default_factory=dict)
    business_key: str | None = Field(default=None, min_length=1, max_length=150, pattern=r"^[A-Za-z0-9_.:-]+$")

    @field_validator("variables")
    @classmethod
    def _no_identity(cls, variables: dict[str, Any]) -> dict[str, Any]:
        refused = reserved_variables(variables)
        if refused:
            raise ValueError(f"variables.{', variables.'.join(refused)}: who requested or started an instance is "
                             "recorded from the signed-in token; remove it")
        return variables


class InstanceOut(BaseModel):
    workflow_id: str
    run_id: str | None
    process_id: str
    version: int
    business_key: str | None
    status: str
    started_by: str | None
    started_at: datetime | None
    ended_at: datetime | None = None
    open_incident: bool = False  # running with an open incident (its own, or in an instance it called)
    active: list[str] = []  # the elements holding a token now (running instances)


class InstanceState(BaseModel):
    workflow_id: str
    process_id: str | None
    version: int | None
    business_key: str | None
    status: str
    active: list[str]
    completed: list[str]
    variables: dict[str, Any]
    user_tasks: list[dict[str, Any]]
    incident: dict[str, Any] | None
    running_activities: list[str]


class IncidentOut(BaseModel):
    element_id: str | None
    message: str
    kind: str | None = None
    at: str | None = None
    status: str = "open"


class RetryRequest(BaseModel):
    variables: dict[str, Any] = Field(default_factory=dict, description="variables to patch before retrying")
    reason: str | None = Field(default=None, max_length=500)


class CancelRequest(BaseModel):
    reason: str | None = Field(default=None, max_length=500)
