"""Tasks marked for an electronic signature (issue J.3): ``human_tasks.signature`` holds the meaning
of the signature the diagram asks for (the user task's header ``signature``, e.g. "approved by").
Completing such a task needs the signer's password again; the meaning, signer and time go into the
completion's audit entry (21 CFR Part 11 style). The password is never stored.

Revision ID: 0007_task_signature
Revises: 0006_binding_limits
Create Date: 2026-12-08
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007_task_signature"
down_revision: str | None = "0006_binding_limits"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("human_tasks", sa.Column("signature", sa.String(length=200), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("human_tasks") as batch:
        batch.drop_column("signature")
