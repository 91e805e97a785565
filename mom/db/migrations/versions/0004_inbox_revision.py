"""The inbox revision: one counter row that triggers bump whenever an inbox row changes
(``human_tasks``, ``task_candidate_groups``, ``task_candidate_users``), whoever writes it. The API
remembers an inbox total per filter for as long as the revision stays the same (mom.db.inbox), so
the exact count over thousands of open tasks is no longer run on every page.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INBOX_TABLES = ("human_tasks", "task_candidate_groups", "task_candidate_users")
BUMP = "UPDATE inbox_revision SET seq = seq + 1 WHERE id = 1"


def upgrade() -> None:
    revisions = op.create_table(
        "inbox_revision",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inbox_revision")),
    )
    op.bulk_insert(revisions, [{"id": 1, "seq": 0}])
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"CREATE FUNCTION inbox_revision_bump() RETURNS trigger LANGUAGE plpgsql AS "
                   f"$$ BEGIN {BUMP}; RETURN NULL; END $$")
        for table in INBOX_TABLES:
            op.execute(f"CREATE TRIGGER {table}_inbox_revision AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE "
                       f"ON {table} FOR EACH STATEMENT EXECUTE FUNCTION inbox_revision_bump()")
        return
    for table in INBOX_TABLES:
        for operation in ("INSERT", "UPDATE", "DELETE"):
            op.execute(f"CREATE TRIGGER {table}_inbox_revision_{operation.lower()} AFTER {operation} ON {table} "
                       f"BEGIN {BUMP}; END")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in INBOX_TABLES:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_inbox_revision ON {table}")
        op.execute("DROP FUNCTION IF EXISTS inbox_revision_bump()")
    else:
        for table in INBOX_TABLES:
            for operation in ("insert", "update", "delete"):
                op.execute(f"DROP TRIGGER IF EXISTS {table}_inbox_revision_{operation}")
    op.drop_table("inbox_revision")
