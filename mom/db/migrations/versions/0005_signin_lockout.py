"""Sign-in protection (issue J.6): failed sign-ins in a row and the lockout per user, failed
sign-ins per client address, and the token version that revokes a user's tokens (password
change, deactivation, sign-out).

Revision ID: 0005_signin
Revises: 0004
Create Date: 2026-12-08
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005_signin"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("failed_sign_ins", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("last_failed_sign_in_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("locked_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("token_version", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("tokens_revoked_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("tokens_revoked_reason", sa.String(length=200), nullable=True))
    op.create_table(
        "sign_in_addresses",
        sa.Column("address", sa.String(length=100), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("last_failure_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("address", name=op.f("pk_sign_in_addresses")),
    )


def downgrade() -> None:
    op.drop_table("sign_in_addresses")
    with op.batch_alter_table("users") as batch:
        for column in ("tokens_revoked_reason", "tokens_revoked_at", "token_version", "locked_at",
                       "last_failed_sign_in_at", "failed_sign_ins"):
            batch.drop_column(column)
