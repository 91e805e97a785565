"""API fixtures: the app on a real database (SQLite file and a fresh PostgreSQL schema per
session), a real Temporal dev server, and signed-in users of every role.

``MOM_TEST_SKIP_POSTGRES=1`` skips PostgreSQL (otherwise an unreachable server is an error).
"""

from __future__ import annotations

import os
import secrets
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
from api_client import PASSWORD, USERS, Api, ApiDatabase
from fastapi import FastAPI
from temporalio.client import Client

from api.app import create_app
from mom.db import create_database_engine, create_session_factory
from mom.db.migrate import upgrade_database
from mom.settings import Settings, load_settings
from mom.users import add_user

POSTGRES_URL = os.environ.get("MOM_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def api_database(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ApiDatabase]:
    backend = request.param
    admin_engine = None
    schema = f"mom_api_{secrets.token_hex(5)}"
    if backend == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('api-db') / 'mom.db'}"
    else:
        if os.environ.get("MOM_TEST_SKIP_POSTGRES") == "1":
            pytest.skip("MOM_TEST_SKIP_POSTGRES=1")
        admin_engine = sa.create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
        try:
            with admin_engine.connect() as conn:
                conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
        except sa.exc.OperationalError as exc:
            pytest.fail(f"PostgreSQL at {POSTGRES_URL} is not reachable ({exc.orig}); "
                        "set MOM_TEST_SKIP_POSTGRES=1 to run without it")
        url = f"{POSTGRES_URL}?options=-csearch_path%3D{schema}"
    upgrade_database(url, actor="pytest")
    engine = create_database_engine(url)
    with create_session_factory(engine)() as session, session.begin():
        for name, rights in USERS.items():
            add_user(session, username=name, password=PASSWORD, actor="pytest", roles=rights["roles"],
                     groups=rights["groups"], work_centers=rights.get("work_centers", []))
    engine.dispose()
    yield ApiDatabase(backend, url)
    if admin_engine is not None:
        with admin_engine.connect() as conn:
            conn.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        admin_engine.dispose()


def forget_process_versions(url: str) -> None:
    """Each test deploys onto no process versions, as each had a store of its own when they were
    files under its data directory (specs stay: they are content-addressed, and earlier tests'
    instances may still load theirs)."""
    engine = create_database_engine(url)
    try:
        with engine.begin() as connection:
            connection.exec_driver_sql("DELETE FROM process_spec_versions")
    finally:
        engine.dispose()


@pytest.fixture
def settings(api_database: ApiDatabase, data_dir: Path, task_queue: str) -> Settings:
    forget_process_versions(api_database.url)
    return load_settings(environment="test", data_dir=data_dir, database_url=api_database.url,
                         task_queue=task_queue, secret_key="test-secret-" + "x" * 32)


@pytest.fixture
def app(settings: Settings, temporal_client: Client) -> FastAPI:
    return create_app(settings, temporal_client=temporal_client)


@pytest.fixture
async def api(app: FastAPI, api_database: ApiDatabase) -> AsyncIterator[Api]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://mom.test") as http:
        yield Api(http, api_database)
