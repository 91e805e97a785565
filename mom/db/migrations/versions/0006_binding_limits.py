"""Engineering limits on node bindings: ``min_value``/``max_value`` (either may be empty) of the
value a role takes on the machine, e.g. ``Setpoints.Pressure`` 0..8 bar. Machine tasks refuse a
value outside them before anything is written (activities.machines, issue J.11).

Revision ID: 0006_binding_limits
Revises: 0005_signin
Create Date: 2026-12-08
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006_binding_limits"
down_revision: str | None = "0005_signin"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("node_bindings") as batch:
        batch.add_column(sa.Column("min_value", sa.Float(), nullable=True))
        batch.add_column(sa.Column("max_value", sa.Float(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("node_bindings") as batch:
        batch.drop_column("max_value")
        batch.drop_column("min_value")
