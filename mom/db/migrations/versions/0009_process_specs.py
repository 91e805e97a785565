"""Deployed specs, diagram sources and process versions in the database (issue K, one store per
fact): content-addressed by SHA-256, written once. They were files under each data directory
(``specs/``, ``sources/``, ``processes/``), which API and workers had to share as one disk.
Files left there by an older install are imported on first use (mom.process_store).

Revision ID: 0009_process_specs
Revises: 0008_b2mml_quantities
Create Date: 2026-12-08
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009_process_specs"
down_revision: str | None = "0008_b2mml_quantities"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "process_specs",
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("spec_json", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("sha256", name=op.f("pk_process_specs")),
    )
    op.create_table(
        "process_sources",
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("sha256", name=op.f("pk_process_sources")),
    )
    op.create_table(
        "process_spec_versions",
        sa.Column("process_id", sa.String(length=200), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("spec_sha256", sa.String(length=64), nullable=False),
        sa.Column("source_name", sa.String(length=500), nullable=False),
        sa.Column("source_sha256", sa.String(length=64), nullable=False),
        sa.Column("deployed_at", sa.String(length=40), nullable=False),
        sa.Column("deployed_by", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(["spec_sha256"], ["process_specs.sha256"],
                                name=op.f("fk_process_spec_versions_spec_sha256_process_specs")),
        sa.ForeignKeyConstraint(["source_sha256"], ["process_sources.sha256"],
                                name=op.f("fk_process_spec_versions_source_sha256_process_sources")),
        sa.PrimaryKeyConstraint("process_id", "version", name=op.f("pk_process_spec_versions")),
    )


def downgrade() -> None:
    op.drop_table("process_spec_versions")
    op.drop_table("process_sources")
    op.drop_table("process_specs")
