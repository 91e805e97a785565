"""Deployed BPMN process definitions, their running instances, incidents and human tasks."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from mom.db.base import Base, status_column_type, utcnow
from mom.domain import IncidentStatus, ProcessInstanceStatus, TaskStatus

LOWEST_PRIORITY = -2147483648
"""Where a task without priority sorts (after every task with one)."""
OPEN_TASK_PREDICATE = "status IN ('open', 'claimed')"
"""Open inbox tasks, spelled as literally as the partial index needs it."""


class ProcessDefinition(Base):
    """One deployed version of a BPMN process; ``sha256`` is the hash of the diagram bytes."""

    __tablename__ = "process_definitions"
    __table_args__ = (
        sa.UniqueConstraint("process_key", "version"),
        sa.UniqueConstraint("process_key", "sha256"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    process_key: Mapped[str] = mapped_column(sa.String(200))
    version: Mapped[int]
    name: Mapped[str | None] = mapped_column(sa.String(200))
    bpmn_xml: Mapped[str] = mapped_column(sa.Text)
    sha256: Mapped[str] = mapped_column(sa.String(64))
    deployed_by: Mapped[str] = mapped_column(sa.String(100))
    deployed_at: Mapped[datetime] = mapped_column(default=utcnow)


class ProcessInstance(Base):
    """A running (or finished) Temporal workflow executing a process definition."""

    __tablename__ = "process_instances"

    id: Mapped[int] = mapped_column(primary_key=True)
    process_definition_id: Mapped[int] = mapped_column(
        sa.ForeignKey("process_definitions.id", ondelete="RESTRICT"), index=True
    )
    workflow_id: Mapped[str] = mapped_column(sa.String(200), unique=True)
    run_id: Mapped[str | None] = mapped_column(sa.String(100))
    business_key: Mapped[str | None] = mapped_column(sa.String(200), index=True)
    production_order_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("production_orders.id", ondelete="SET NULL"), index=True
    )
    status: Mapped[ProcessInstanceStatus] = mapped_column(
        status_column_type(ProcessInstanceStatus),
        default=ProcessInstanceStatus.RUNNING,
        index=True,
    )
    started_by: Mapped[str | None] = mapped_column(sa.String(100))
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    ended_at: Mapped[datetime | None]

    definition: Mapped[ProcessDefinition] = relationship()
    incidents: Mapped[list[Incident]] = relationship(
        back_populates="process_instance", cascade="all, delete-orphan"
    )


class Incident(Base):
    """A BPMN element of an instance that failed and waits for someone to fix and retry it."""

    __tablename__ = "incidents"

    id: Mapped[int] = mapped_column(primary_key=True)
    process_instance_id: Mapped[int] = mapped_column(
        sa.ForeignKey("process_instances.id", ondelete="CASCADE"), index=True
    )
    element_id: Mapped[str] = mapped_column(sa.String(200))
    message: Mapped[str] = mapped_column(sa.Text)
    status: Mapped[IncidentStatus] = mapped_column(
        status_column_type(IncidentStatus), default=IncidentStatus.OPEN
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    resolved_at: Mapped[datetime | None]
    resolved_by: Mapped[str | None] = mapped_column(sa.String(100))

    process_instance: Mapped[ProcessInstance] = relationship(back_populates="incidents")


class HumanTask(Base):
    """A user task waiting in the inbox: who may do it, its form, and how it was completed."""

    __tablename__ = "human_tasks"
    __table_args__ = (
        sa.UniqueConstraint("process_instance_id", "element_id", "token"),
        sa.Index("ix_human_tasks_status_due_at", "status", "due_at"),
        # the inbox order (overdue first, then priority, then oldest) over open tasks only: a page
        # of the inbox is read in index order and stops after ``limit`` rows (mom.db.inbox)
        sa.Index(
            "ix_human_tasks_inbox_order",
            sa.text("(due_at IS NULL)"),
            "due_at",
            sa.text(f"coalesce(priority, {LOWEST_PRIORITY}) DESC"),
            "created_at",
            "id",
            sqlite_where=sa.text(OPEN_TASK_PREDICATE),
            postgresql_where=sa.text(OPEN_TASK_PREDICATE),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    process_instance_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("process_instances.id", ondelete="CASCADE"), index=True
    )
    element_id: Mapped[str] = mapped_column(sa.String(200))
    token: Mapped[str] = mapped_column(sa.String(100), default="")
    name: Mapped[str] = mapped_column(sa.String(200))
    status: Mapped[TaskStatus] = mapped_column(
        status_column_type(TaskStatus), default=TaskStatus.OPEN, index=True
    )
    assignee: Mapped[str | None] = mapped_column(sa.String(100), index=True)
    form_schema: Mapped[dict[str, Any]] = mapped_column(default=dict)
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)
    work_unit_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("equipment.id", ondelete="SET NULL")
    )
    due_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    completed_at: Mapped[datetime | None]
    completed_by: Mapped[str | None] = mapped_column(sa.String(100))
    result: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON)
    # The workflow side (filled by the inbox activities): which Temporal workflow and Spiff task.
    workflow_id: Mapped[str | None] = mapped_column(sa.String(200), index=True)
    workflow_task_id: Mapped[str | None] = mapped_column(sa.String(36), unique=True)
    process_key: Mapped[str | None] = mapped_column(sa.String(200))
    process_version: Mapped[int | None]
    business_key: Mapped[str | None] = mapped_column(sa.String(200))
    lane: Mapped[str | None] = mapped_column(sa.String(200))
    candidate_users: Mapped[list[str]] = mapped_column(default=list)
    priority: Mapped[int | None]
    form_key: Mapped[str | None] = mapped_column(sa.String(200))
    documentation: Mapped[str | None] = mapped_column(sa.Text)
    context: Mapped[dict[str, Any]] = mapped_column(default=dict)
    work_center: Mapped[str | None] = mapped_column(sa.String(400))
    four_eyes: Mapped[bool] = mapped_column(default=False)
    requested_by: Mapped[str | None] = mapped_column(sa.String(100))
    # the meaning of the e-signature completing it needs (the task header "signature"), else None
    signature: Mapped[str | None] = mapped_column(sa.String(200))
    closed_reason: Mapped[str | None] = mapped_column(sa.String(200))

    candidate_group_rows: Mapped[list[TaskCandidateGroup]] = relationship(
        cascade="all, delete-orphan", lazy="selectin"
    )
    candidate_user_rows: Mapped[list[TaskCandidateUser]] = relationship(cascade="all, delete-orphan")
    """The query side of ``candidate_users`` (which stays the task's display copy)."""

    @property
    def candidate_groups(self) -> list[str]:
        return sorted(row.group_name for row in self.candidate_group_rows)


class TaskCandidateGroup(Base):
    """A group whose members may claim the task (a BPMN lane or ``candidateGroups``)."""

    __tablename__ = "task_candidate_groups"

    task_id: Mapped[int] = mapped_column(
        sa.ForeignKey("human_tasks.id", ondelete="CASCADE"), primary_key=True
    )
    group_name: Mapped[str] = mapped_column(sa.String(100), primary_key=True, index=True)


class TaskCandidateUser(Base):
    """A person the task is offered to by name (``candidateUsers``); the inbox looks them up here."""

    __tablename__ = "task_candidate_users"
    __table_args__ = (sa.Index("ix_task_candidate_users_user_name_task_id", "user_name", "task_id"),)

    task_id: Mapped[int] = mapped_column(
        sa.ForeignKey("human_tasks.id", ondelete="CASCADE"), primary_key=True
    )
    user_name: Mapped[str] = mapped_column(sa.String(100), primary_key=True)


class InboxRevision(Base):
    """One row whose ``seq`` database triggers bump at every change of an inbox row (tasks and
    their candidate groups/users, by anyone): an inbox total counted at one revision holds until
    the next (migration 0004, mom.db.inbox.InboxTotals)."""

    __tablename__ = "inbox_revision"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    seq: Mapped[int] = mapped_column(sa.BigInteger)
