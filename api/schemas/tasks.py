"""Inbox entries (user tasks) and their completion."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field


class TaskOut(BaseModel):
    task_id: str = Field(description="the workflow's task id (UUID); use it in /tasks/{task_id}")
    name: str
    element_id: str
    status: str
    workflow_id: str | None
    process_id: str | None
    process_version: int | None
    business_key: str | None
    assignee: str | None
    candidate_groups: list[str]
    candidate_users: list[str]
    lane: str | None
    due_at: datetime | None
    overdue: bool
    priority: int | None
    form_key: str | None
    form_schema: dict[str, Any]
    documentation: str | None
    context: dict[str, Any]
    four_eyes: bool
    requested_by: str | None
    signature: str | None = Field(default=None, description="completing it is an e-signature with this meaning "
                                  "(e.g. 'approved by'): send your password with the completion")
    created_at: datetime
    completed_at: datetime | None
    completed_by: str | None
    result: dict[str, Any] | None
    closed_reason: str | None


class TaskCompletion(BaseModel):
    data: dict[str, Any] = Field(default_factory=dict, description="the form data (validated against form_schema)")
    reason: str | None = Field(default=None, max_length=500, description="why (kept in the audit log)")
    password: str | None = Field(default=None, max_length=1000, description="your password again, for a task "
                                 "marked for signature (see TaskOut.signature); checked, never stored")
