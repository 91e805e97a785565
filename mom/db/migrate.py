"""Schema migrations, run programmatically: ``upgrade_database(url)`` brings any database (empty
or older) to the current schema and records the migration in the audit log."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Session

from mom.db.engine import SQLITE_BEGIN_OPTION, create_database_engine

PACKAGE_DIR = Path(__file__).resolve().parent


def alembic_config() -> Config:
    config = Config(str(PACKAGE_DIR / "alembic.ini"))
    config.set_main_option("script_location", str(PACKAGE_DIR / "migrations"))
    return config


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if head is None:  # pragma: no cover - the package always ships a migration
        raise RuntimeError(f"no migrations found under {PACKAGE_DIR / 'migrations'}")
    return head


def current_revision(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


MIGRATION_LOCK_KEY = 0x4D4F4D5F534348  # 'MOM_SCH': the PostgreSQL advisory lock of schema migrations


@contextmanager
def migration_transaction(engine: Engine) -> Iterator[Connection]:
    """One transaction that holds the database's migration lock from its start: processes starting
    together on a new database (the API's workers, a worker, ``mom users``) migrate one after the
    other, and the later ones find the schema current. Without it they all create the same tables,
    and all but one fail (PostgreSQL: duplicate key in pg_type; SQLite: database is locked)."""
    with engine.connect() as connection:
        if engine.dialect.name == "sqlite":
            connection.execution_options(**{SQLITE_BEGIN_OPTION: "BEGIN IMMEDIATE"})
        with connection.begin():
            if engine.dialect.name == "postgresql":
                connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({MIGRATION_LOCK_KEY})")
            yield connection


def upgrade_engine(engine: Engine, *, actor: str = "system", revision: str = "head") -> str | None:
    """Upgrade the database behind ``engine``; return the revision it was at before."""
    from mom.db.audit import append_audit_entry

    config = alembic_config()
    with migration_transaction(engine) as connection:
        before = current_revision(connection)
        config.attributes["connection"] = connection
        command.upgrade(config, revision)
        after = current_revision(connection)
        if after != before:
            with Session(bind=connection) as session:
                append_audit_entry(
                    session,
                    actor=actor,
                    action="database.migrated",
                    entity_type="database",
                    entity_id=engine.url.render_as_string(hide_password=True),
                    details={"from_revision": before, "to_revision": after},
                )
                session.flush()
    refresh_planner_statistics(engine)
    return before


INBOX_TABLES = ("human_tasks", "task_candidate_groups", "task_candidate_users")
SQLITE_ANALYSIS_LIMIT = 1000
"""Rows ANALYZE samples per index on SQLite: statistics in milliseconds, even on a big file."""


def refresh_planner_statistics(engine: Engine) -> None:
    """Give the query planner row statistics (``ANALYZE``, sampled). Without them SQLite reads the
    whole open inbox through the low-cardinality status index and sorts it instead of walking the
    partial index in inbox order (``ix_human_tasks_inbox_order``) for one page. Run at every
    upgrade, i.e. at every start of the API, worker and CLI; on PostgreSQL only the inbox tables
    (autovacuum keeps the statistics current from then on, SQLite has no such thing)."""
    with engine.begin() as connection:
        if engine.dialect.name == "sqlite":
            connection.exec_driver_sql(f"PRAGMA analysis_limit={SQLITE_ANALYSIS_LIMIT}")
            connection.exec_driver_sql("ANALYZE")
        elif engine.dialect.name == "postgresql":
            inspector = sa.inspect(connection)
            tables = [t for t in INBOX_TABLES if inspector.has_table(t)]  # older revisions lack some
            if tables:
                connection.exec_driver_sql(f"ANALYZE {', '.join(tables)}")


def upgrade_database(
    url: str, *, actor: str = "system", connect_args: dict[str, Any] | None = None
) -> str | None:
    """Create or upgrade the schema at ``url`` to the newest revision (audited)."""
    engine = create_database_engine(url, connect_args=connect_args)
    try:
        return upgrade_engine(engine, actor=actor)
    finally:
        engine.dispose()
