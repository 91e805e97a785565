"""Transactions that read, then write while another connection writes (the demo's shift calendar
and the machine-event recorder did this and failed with "database is locked" on SQLite)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from mom.db import create_database_engine, create_session_factory, upgrade_database
from mom.db.materials import add_material_definition
from mom.db.models import MaterialDefinition
from mom.db.transactions import reading, writing

if TYPE_CHECKING:
    from conftest import DatabaseUnderTest  # tests/db/conftest.py


@pytest.fixture
def sessions(empty_database: DatabaseUnderTest) -> Iterator[sessionmaker[Session]]:
    upgrade_database(empty_database.url, connect_args=empty_database.connect_args, actor="pytest")
    engine = empty_database.engine()
    yield create_session_factory(engine)
    engine.dispose()


def _add(sessions: sessionmaker[Session], code: str) -> None:
    with writing(sessions) as session:
        add_material_definition(session, code=code, name=code, unit="kg")


def _codes(sessions: sessionmaker[Session]) -> list[str]:
    with sessions() as session:
        return sorted(session.scalars(sa.select(MaterialDefinition.code)))


def test_a_deferred_sqlite_transaction_that_reads_first_loses_to_a_writer_in_between(tmp_path: Path) -> None:
    """Why :func:`writing` exists: without the write lock taken first, the busy timeout cannot help
    (SQLite only: PostgreSQL's row locks need no write lock up front)."""
    url = f"sqlite:///{tmp_path / 'mom.db'}"
    upgrade_database(url)
    engine = create_database_engine(url)
    sessions = create_session_factory(engine)
    with sessions() as session, session.begin():
        session.scalar(sa.select(sa.func.count()).select_from(MaterialDefinition))  # the snapshot starts here
        _add(sessions, "OTHER")  # another connection writes and commits
        with pytest.raises(OperationalError, match="database is locked"):
            add_material_definition(session, code="MINE", name="mine", unit="kg")
    assert _codes(sessions) == ["OTHER"]
    engine.dispose()


def test_a_writing_transaction_makes_the_other_writer_wait_and_both_commit(
        sessions: sessionmaker[Session], empty_database: DatabaseUnderTest) -> None:
    other_done = threading.Event()
    errors: list[BaseException] = []

    def other_writer() -> None:
        try:
            _add(sessions, "OTHER")
        except BaseException as exc:  # reported below
            errors.append(exc)
        finally:
            other_done.set()

    with writing(sessions) as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(MaterialDefinition)) == 0
        thread = threading.Thread(target=other_writer)
        thread.start()
        if empty_database.backend == "sqlite":
            assert not other_done.wait(0.3), "the other writer waits for our write lock"
        else:
            assert other_done.wait(10), "PostgreSQL: the other writer does not wait"
        add_material_definition(session, code="MINE", name="mine", unit="kg")
    thread.join(15)
    assert not errors, errors
    assert _codes(sessions) == ["MINE", "OTHER"]


def test_a_writing_transaction_that_raises_leaves_nothing_written(sessions: sessionmaker[Session]) -> None:
    with pytest.raises(RuntimeError), writing(sessions) as session:
        add_material_definition(session, code="HALF", name="half", unit="kg")
        raise RuntimeError("the rest of the unit of work failed")
    assert _codes(sessions) == []


def test_a_reading_transaction_runs_beside_a_writer_and_sees_one_snapshot(sessions: sessionmaker[Session]) -> None:
    """The API's reads (``reading``) neither wait for a writer holding the write lock nor see its
    rows before it commits (SQLite in WAL mode and PostgreSQL alike)."""
    _add(sessions, "BEFORE")
    with writing(sessions) as writer:
        add_material_definition(writer, code="PENDING", name="pending", unit="kg")
        writer.flush()
        seen: list[list[str]] = []
        thread = threading.Thread(target=lambda: seen.append(_read_codes(sessions)))
        thread.start()
        thread.join(5)
        assert seen == [["BEFORE"]], "the read waited for the writer or saw its uncommitted row"
    assert _codes(sessions) == ["BEFORE", "PENDING"]


def _read_codes(sessions: sessionmaker[Session]) -> list[str]:
    with reading(sessions) as session:
        return sorted(session.scalars(sa.select(MaterialDefinition.code)))
