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
