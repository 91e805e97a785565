"""The append-only audit log, hash-chained entry to entry, and the head of the chain."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from mom.db.base import Base


class AuditEntry(Base):
    """Who did what, when and why. ``hash = sha256(prev_hash + canonical JSON of the entry)``;
    ``seq`` counts from 1 without gaps."""

    __tablename__ = "audit_entries"

    seq: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(sa.String(100))
    action: Mapped[str] = mapped_column(sa.String(100), index=True)
    entity_type: Mapped[str] = mapped_column(sa.String(100))
    entity_id: Mapped[str] = mapped_column(sa.String(200))
    reason: Mapped[str | None] = mapped_column(sa.Text)
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)
    prev_hash: Mapped[str] = mapped_column(sa.String(64))
    hash: Mapped[str] = mapped_column(sa.String(64), unique=True)

    __table_args__ = (sa.Index("ix_audit_entries_entity", "entity_type", "entity_id"),)


class AuditHead(Base):
    """One row: the last ``seq`` and ``hash`` of the chain, locked by each append. It catches
    entries cut off the end, which the chain alone cannot see."""

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    seq: Mapped[int]
    hash: Mapped[str] = mapped_column(sa.String(64))
