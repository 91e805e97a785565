"""Engines and sessions, built from a database URL when asked (never at import time)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import URL, Connection, Engine, make_url
from sqlalchemy.orm import Session, sessionmaker

SQLITE_BUSY_TIMEOUT_MS = 10_000
SQLITE_POOL_SIZE = 40
"""Connections kept open per engine: as many as the API's worker threads (anyio's default limit),
so a busy API reuses them instead of opening, configuring and closing one per request."""


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # Let SQLAlchemy, not the sqlite3 module, decide when transactions begin (see _sqlite_begin).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    finally:
        cursor.close()


SQLITE_BEGIN_OPTION = "sqlite_begin"
"""Execution option of a connection whose transactions begin otherwise, e.g. ``"BEGIN IMMEDIATE"``
(the write lock at once, waiting up to the busy timeout for other writers)."""


def _sqlite_begin(connection: Connection) -> None:
    # sqlite3 would BEGIN only before DML; begin at the start of every transaction instead, so
    # DDL, SAVEPOINTs and reads are transactional as on PostgreSQL.
    connection.exec_driver_sql(connection.get_execution_options().get(SQLITE_BEGIN_OPTION, "BEGIN"))


def create_database_engine(
    url: str | URL, *, echo: bool = False, connect_args: dict[str, Any] | None = None
) -> Engine:
    """An engine for ``url``; for SQLite the file's directory is created and WAL, foreign keys
    and a busy timeout are switched on for every connection."""
    parsed = make_url(url)
    kwargs: dict[str, Any] = {"echo": echo, "connect_args": dict(connect_args or {})}
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database
        if database and database != ":memory:" and not database.startswith("file:"):
            Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        if database and database != ":memory:" and "mode=memory" not in str(parsed):
            kwargs.update(pool_size=SQLITE_POOL_SIZE, max_overflow=10)
        engine = sa.create_engine(parsed, **kwargs)
        sa.event.listen(engine, "connect", _sqlite_pragmas)
        sa.event.listen(engine, "begin", _sqlite_begin)
        return engine
    kwargs["pool_pre_ping"] = True
    return sa.create_engine(parsed, **kwargs)


def create_session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions that keep loaded values after commit (API responses read them afterwards)."""
    return sessionmaker(engine, expire_on_commit=False)
