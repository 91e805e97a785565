"""Deployed process specs, diagram sources and process versions (the engine's process store).

Specs and sources are content-addressed (primary key: the SHA-256 of what is stored) and written
once; a process version names the spec it runs. Every API, worker and CLI that shares the database
sees the same deployments, whatever its data directory (issue K: no file shared between hosts).
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from mom.db.base import Base, UtcDateTime, utcnow


class ProcessSpec(Base):
    """A compiled, serialized process spec (JSON), keyed by the SHA-256 of that JSON."""

    __tablename__ = "process_specs"

    sha256: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    spec_json: Mapped[str] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class ProcessSource(Base):
    """A deployed diagram file as it was deployed, keyed by the SHA-256 of its bytes."""

    __tablename__ = "process_sources"

    sha256: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    content: Mapped[bytes] = mapped_column(sa.LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class ProcessSpecVersion(Base):
    """Version ``version`` of process ``process_id``: the spec it runs and the diagram it came from."""

    __tablename__ = "process_spec_versions"

    process_id: Mapped[str] = mapped_column(sa.String(200), primary_key=True)
    version: Mapped[int] = mapped_column(primary_key=True)
    spec_sha256: Mapped[str] = mapped_column(sa.String(64), sa.ForeignKey("process_specs.sha256"))
    source_name: Mapped[str] = mapped_column(sa.String(500))
    source_sha256: Mapped[str] = mapped_column(sa.String(64), sa.ForeignKey("process_sources.sha256"))
    deployed_at: Mapped[str] = mapped_column(sa.String(40))  # ISO 8601 UTC, as the version files had it
    deployed_by: Mapped[str] = mapped_column(sa.String(200))
