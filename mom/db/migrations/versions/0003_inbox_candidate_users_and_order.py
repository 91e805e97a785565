"""The inbox at scale: candidate users in a table of their own (instead of matching the JSON
text), an index on (status, due_at), and a partial index in inbox order over open tasks.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25
"""

from __future__ import annotations

import json
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LOWEST_PRIORITY = -2147483648
OPEN_TASK_PREDICATE = "status IN ('open', 'claimed')"


def upgrade() -> None:
    candidate_users = op.create_table(
        "task_candidate_users",
        sa.Column("task_id", sa.Integer(), nullable=False),
        sa.Column("user_name", sa.String(length=100), nullable=False),
        sa.ForeignKeyConstraint(["task_id"], ["human_tasks.id"],
                                name=op.f("fk_task_candidate_users_task_id_human_tasks"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("task_id", "user_name", name=op.f("pk_task_candidate_users")),
    )
    op.create_index("ix_task_candidate_users_user_name_task_id", "task_candidate_users", ["user_name", "task_id"])
    rows = op.get_bind().execute(sa.text("SELECT id, candidate_users FROM human_tasks")).all()
    backfill: list[dict[str, object]] = []
    for task_id, users in rows:
        names = json.loads(users) if isinstance(users, str) else users
        backfill.extend({"task_id": task_id, "user_name": str(name)[:100]} for name in sorted(set(names or [])))
    if backfill:
        op.bulk_insert(candidate_users, backfill)
    op.create_index("ix_human_tasks_status_due_at", "human_tasks", ["status", "due_at"])
    op.create_index(
        "ix_human_tasks_inbox_order",
        "human_tasks",
        [sa.text("(due_at IS NULL)"), "due_at", sa.text(f"coalesce(priority, {LOWEST_PRIORITY}) DESC"),
         "created_at", "id"],
        sqlite_where=sa.text(OPEN_TASK_PREDICATE),
        postgresql_where=sa.text(OPEN_TASK_PREDICATE),
    )


def downgrade() -> None:
    op.drop_index("ix_human_tasks_inbox_order", table_name="human_tasks")
    op.drop_index("ix_human_tasks_status_due_at", table_name="human_tasks")
    op.drop_index("ix_task_candidate_users_user_name_task_id", table_name="task_candidate_users")
    op.drop_table("task_candidate_users")
