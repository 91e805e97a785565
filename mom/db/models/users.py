"""People who use the API: password hash (Argon2), roles, candidate groups, work centers."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from mom.db.base import Base, utcnow


class User(Base):
    """A login. ``roles`` grant endpoints (engineer, supervisor, operator, admin); ``groups`` are
    the BPMN candidate groups the person belongs to; ``work_centers`` scope an operator."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(sa.String(100), unique=True)
    full_name: Mapped[str | None] = mapped_column(sa.String(200))
    password_hash: Mapped[str] = mapped_column(sa.String(200))
    roles: Mapped[list[str]] = mapped_column(default=list)
    groups: Mapped[list[str]] = mapped_column(default=list)
    work_centers: Mapped[list[str]] = mapped_column(default=list)
    active: Mapped[bool] = mapped_column(default=True)
    must_change_password: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    password_changed_at: Mapped[datetime | None]
    # sign-in protection (mom.sign_in): failed sign-ins in a row, the last one, and the lockout
    failed_sign_ins: Mapped[int] = mapped_column(default=0, server_default="0")
    last_failed_sign_in_at: Mapped[datetime | None]
    locked_at: Mapped[datetime | None]
    # tokens carry the version they were issued under: bumping it revokes every token issued before
    token_version: Mapped[int] = mapped_column(default=0, server_default="0")
    tokens_revoked_at: Mapped[datetime | None]
    tokens_revoked_reason: Mapped[str | None] = mapped_column(sa.String(200))


class SignInAddress(Base):
    """Failed sign-ins from one client address within the window (mom.sign_in): kept in the
    database, so every API process counts the same failures."""

    __tablename__ = "sign_in_addresses"

    address: Mapped[str] = mapped_column(sa.String(100), primary_key=True)
    failures: Mapped[int] = mapped_column(default=0)
    last_failure_at: Mapped[datetime]
