"""Users (Argon2 hashes, roles, groups, work centers) and the workflow side of human tasks
(workflow and Spiff task ids, candidate users, context, four-eyes, priority).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=100), nullable=False),
        sa.Column("full_name", sa.String(length=200), nullable=True),
        sa.Column("password_hash", sa.String(length=200), nullable=False),
        sa.Column("roles", sa.JSON(), nullable=False),
        sa.Column("groups", sa.JSON(), nullable=False),
        sa.Column("work_centers", sa.JSON(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("must_change_password", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("password_changed_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("username", name=op.f("uq_users_username")),
    )
    with op.batch_alter_table("human_tasks") as batch:
        batch.add_column(sa.Column("workflow_id", sa.String(length=200), nullable=True))
        batch.add_column(sa.Column("workflow_task_id", sa.String(length=36), nullable=True))
        batch.add_column(sa.Column("process_key", sa.String(length=200), nullable=True))
        batch.add_column(sa.Column("process_version", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("business_key", sa.String(length=200), nullable=True))
        batch.add_column(sa.Column("lane", sa.String(length=200), nullable=True))
        batch.add_column(sa.Column("candidate_users", sa.JSON(), nullable=False, server_default="[]"))
        batch.add_column(sa.Column("priority", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("form_key", sa.String(length=200), nullable=True))
        batch.add_column(sa.Column("documentation", sa.Text(), nullable=True))
        batch.add_column(sa.Column("context", sa.JSON(), nullable=False, server_default="{}"))
        batch.add_column(sa.Column("work_center", sa.String(length=400), nullable=True))
        batch.add_column(sa.Column("four_eyes", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch.add_column(sa.Column("requested_by", sa.String(length=100), nullable=True))
        batch.add_column(sa.Column("closed_reason", sa.String(length=200), nullable=True))
        batch.create_index(batch.f("ix_human_tasks_workflow_id"), ["workflow_id"], unique=False)
        batch.create_unique_constraint(batch.f("uq_human_tasks_workflow_task_id"), ["workflow_task_id"])
    # server defaults only filled existing rows; the models supply the values from now on
    with op.batch_alter_table("human_tasks") as batch:
        batch.alter_column("candidate_users", server_default=None)
        batch.alter_column("context", server_default=None)
        batch.alter_column("four_eyes", server_default=None)


def downgrade() -> None:
    with op.batch_alter_table("human_tasks") as batch:
        batch.drop_constraint(batch.f("uq_human_tasks_workflow_task_id"), type_="unique")
        batch.drop_index(batch.f("ix_human_tasks_workflow_id"))
        for column in (
            "closed_reason", "requested_by", "four_eyes", "work_center", "context", "documentation",
            "form_key", "priority", "candidate_users", "lane", "business_key", "process_version",
            "process_key", "workflow_task_id", "workflow_id",
        ):
            batch.drop_column(column)
    op.drop_table("users")
