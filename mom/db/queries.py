"""Helpers shared by the data functions: fetch one row or fail by name, and paginate."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.orm import Session

from mom.db.errors import RecordNotFound

T = TypeVar("T")

MAX_PAGE_SIZE = 1000


def fetch(session: Session, model: type[T], key: object, *, entity: str, for_update: bool = False) -> T:
    """The row of ``model`` with primary key ``key``, or :class:`RecordNotFound` naming it.
    ``for_update``: the row is locked until the transaction ends and read anew, so that a writer sees
    what a concurrent one committed before it (on PostgreSQL; SQLite's writers already take turns)."""
    row = (session.get(model, key, with_for_update=True, populate_existing=True) if for_update
           else session.get(model, key))
    if row is None:
        raise RecordNotFound(entity, key)
    return row


def fetch_by(session: Session, stmt: sa.Select[T], *, entity: str, key: object) -> T:
    row = session.execute(stmt).scalar_one_or_none()
    if row is None:
        raise RecordNotFound(entity, key)
    return row


def page(
    session: Session, stmt: sa.Select[T], *, offset: int = 0, limit: int = 100
) -> tuple[Sequence[T], int]:
    """Run ``stmt`` (already filtered and ordered) for one page and count all its rows."""
    if offset < 0:
        raise ValueError(f"offset must be >= 0, got {offset}")
    if not 1 <= limit <= MAX_PAGE_SIZE:
        raise ValueError(f"limit must be between 1 and {MAX_PAGE_SIZE}, got {limit}")
    count_stmt: sa.Select[Any] = sa.select(sa.func.count()).select_from(
        stmt.order_by(None).subquery()
    )
    total = session.execute(count_stmt).scalar_one()
    items = session.execute(stmt.offset(offset).limit(limit)).scalars().all()
    return items, int(total)
