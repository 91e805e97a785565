"""Transactions that write, safe on SQLite with other writers around.

SQLite begins a transaction deferred: it reads from a snapshot and asks for the write lock at its
first write. When another connection committed in between, that write fails at once with
"database is locked" (SQLITE_BUSY_SNAPSHOT): the busy timeout cannot help, since waiting would not
make the snapshot current. A transaction that will write therefore takes the write lock as its
first statement (:func:`take_write_lock`), and then waits up to the busy timeout for the other
writers instead. PostgreSQL needs none of this (row locks do the job).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa
from sqlalchemy.orm import Session, sessionmaker


def take_write_lock(session: Session) -> None:
    """On SQLite, take the write lock now, at the start of a transaction that will write
    (a write that changes no row). A no-op on PostgreSQL."""
    if session.get_bind().dialect.name == "sqlite":
        session.execute(sa.text("UPDATE audit_head SET seq = seq WHERE 1 = 0"))


@contextmanager
def writing(sessions: sessionmaker[Session]) -> Iterator[Session]:
    """A session in one transaction that holds the write lock from its start; commits when the
    block ends, rolls back when it raises."""
    with sessions() as session, session.begin():
        take_write_lock(session)
        yield session


@contextmanager
def reading(sessions: sessionmaker[Session]) -> Iterator[Session]:
    """A session in one transaction that only reads (from one snapshot; no write lock, so it runs
    beside the writers). It commits when the block ends, like :func:`writing`."""
    with sessions() as session, session.begin():
        yield session
