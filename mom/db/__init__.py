"""Persistence of the ISA-95 model: SQLAlchemy 2 tables, Alembic migrations, data functions.

Build an engine where it is needed (``create_database_engine(url)``), bring the schema up to date
with ``upgrade_database(url)``, and call the keyword-only data functions of each aggregate module
(``equipment``, ``materials``, ``products``, ``orders``, ``processes``, ``tasks``, ``events``,
``quality``, ``audit``, ``exchange``) with a ``Session``. They flush but never commit: the caller
owns the transaction. List functions return ``(items, total)`` for one page.
"""

from mom.db.engine import create_database_engine, create_session_factory
from mom.db.errors import RecordConflict, RecordNotFound
from mom.db.migrate import upgrade_database

__all__ = [
    "RecordConflict",
    "RecordNotFound",
    "create_database_engine",
    "create_session_factory",
    "upgrade_database",
]
