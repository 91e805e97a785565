"""Database fixtures: every persistence test runs on SQLite (temp file) and on PostgreSQL.

PostgreSQL runs in a schema of its own per test session (``mom_test_<random>``), dropped at the
end, so parallel runs and other people's tests on the same server never meet. Set
``MOM_TEST_POSTGRES_URL`` to use another server; ``MOM_TEST_SKIP_POSTGRES=1`` skips PostgreSQL
(otherwise an unreachable server is an error, not a silent skip).
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from mom.db.engine import create_database_engine
from mom.db.migrate import upgrade_database

POSTGRES_URL = os.environ.get("MOM_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
BACKENDS = ("sqlite", "postgresql")


@dataclass
class DatabaseUnderTest:
    backend: str
    url: str
    connect_args: dict[str, Any] = field(default_factory=dict)

    def engine(self) -> Engine:
        return create_database_engine(self.url, connect_args=self.connect_args)


@contextmanager
def fresh_database(backend: str, directory: Path) -> Iterator[DatabaseUnderTest]:
    """An empty database of ``backend``: a new SQLite file, or a new PostgreSQL schema."""
    if backend == "sqlite":
        yield DatabaseUnderTest("sqlite", f"sqlite:///{directory / 'mom.db'}")
        return
    if os.environ.get("MOM_TEST_SKIP_POSTGRES") == "1":
        pytest.skip("MOM_TEST_SKIP_POSTGRES=1")
    schema = f"mom_test_{secrets.token_hex(6)}"
    admin = sa.create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    except sa.exc.OperationalError as exc:
        admin.dispose()
        pytest.fail(
            f"PostgreSQL at {POSTGRES_URL} is not reachable ({exc.orig}); "
            "set MOM_TEST_SKIP_POSTGRES=1 to run without it"
        )
    try:
        yield DatabaseUnderTest("postgresql", POSTGRES_URL, {"options": f"-csearch_path={schema}"})
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        admin.dispose()


@pytest.fixture(params=BACKENDS)
def empty_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[DatabaseUnderTest]:
    """A database with no tables (for migration tests)."""
    with fresh_database(request.param, tmp_path) as database:
        yield database


@pytest.fixture(scope="session", params=BACKENDS)
def migrated_engine(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    """One migrated database per backend for the whole test session."""
    with fresh_database(request.param, tmp_path_factory.mktemp(request.param)) as database:
        upgrade_database(database.url, connect_args=database.connect_args, actor="pytest")
        engine = database.engine()
        yield engine
        engine.dispose()


@pytest.fixture
def session(migrated_engine: Engine) -> Iterator[Session]:
    """A session whose work is rolled back after the test (commits become savepoints)."""
    with migrated_engine.connect() as connection:
        transaction = connection.begin()
        db = Session(bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False)
        try:
            yield db
        finally:
            db.close()
            transaction.rollback()


@dataclass
class Plant:
    """A small plant: Acme > Lyon > Pressing > PressLine > Press1, Press2, with a product."""

    enterprise: int
    site: int
    area: int
    work_center: int
    press1: int
    press2: int


@pytest.fixture
def plant(session: Session) -> Plant:
    from datetime import UTC, datetime

    from mom.db.equipment import add_equipment
    from mom.db.materials import add_material_definition
    from mom.db.products import BomLineSpec, OperationSpec, add_revision, create_product
    from mom.domain import EquipmentLevel as L

    acme = add_equipment(session, name="Acme", level=L.ENTERPRISE)
    lyon = add_equipment(session, name="Lyon", level=L.SITE, parent_id=acme.id, time_zone="Europe/Paris")
    area = add_equipment(session, name="Pressing", level=L.AREA, parent_id=lyon.id)
    line = add_equipment(session, name="PressLine", level=L.WORK_CENTER, parent_id=area.id)
    press1 = add_equipment(session, name="Press1", level=L.WORK_UNIT, parent_id=line.id)
    press2 = add_equipment(session, name="Press2", level=L.WORK_UNIT, parent_id=line.id)
    add_material_definition(session, code="STEEL", name="Steel coil", unit="kg")
    add_material_definition(session, code="BRACKET", name="Bracket", unit="pcs")
    create_product(session, code="BRACKET", name="Bracket", material_code="BRACKET")
    add_revision(
        session,
        product_code="BRACKET",
        revision="A",
        effective_from=datetime(2020, 1, 1, tzinfo=UTC),
        bom=[BomLineSpec(1, "STEEL", "0.25", operation_sequence=10)],
        operations=[
            OperationSpec(10, "Blank", "Acme.Lyon.Pressing.PressLine", 300, 2.5, {"force_kN": 80}),
            OperationSpec(20, "Form", "Acme.Lyon.Pressing.PressLine", 600, 4.0, {"force_kN": 120}),
        ],
    )
    return Plant(acme.id, lyon.id, area.id, line.id, press1.id, press2.id)
