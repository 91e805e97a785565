"""Deployed specs live in the database, not on a disk the API and workers share (issue K).

Three data directories and one database: a diagram deployed with data directory A runs on a worker
whose data directory is B (a called process too), and ``mom run`` from a third data directory C runs
against that stack. On SQLite (one shared file) and PostgreSQL (a schema of its own per test).
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from temporalio.client import Client

import bpmn.spec_cache as spec_cache
from bpmn.deploy import compile_file
from mom import instances
from mom.deployment import deploy_file
from mom.process_store import ProcessStore
from mom.settings import load_settings
from mom.stack.temporal_server import TemporalDevServer
from mom.task_catalog import known_task_types
from worker import build_worker

ROOT = Path(__file__).resolve().parents[2]
DIAGRAMS = ROOT / "tests" / "diagrams"
POSTGRES_URL = os.environ.get("MOM_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
SECRET = "k-specs-" + "s" * 40  # every host of a plant shares MOM_SECRET_KEY (the Update proof key)


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """One database for all data directories: a SQLite file outside them, or a PostgreSQL schema."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'shared' / 'mom.db'}"
        return
    if os.environ.get("MOM_TEST_SKIP_POSTGRES") == "1":
        pytest.skip("MOM_TEST_SKIP_POSTGRES=1")
    schema = f"mom_test_{secrets.token_hex(6)}"
    admin = sa.create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    try:
        yield f"{POSTGRES_URL}?options=-csearch_path%3D{schema}"
    finally:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        admin.dispose()


def data_dirs(tmp_path: Path) -> tuple[Path, Path, Path]:
    dirs = tuple(tmp_path / name for name in ("data-a", "data-b", "data-c"))
    for path in dirs:
        path.mkdir()
    return dirs  # type: ignore[return-value]


async def mom(*args: str, data_dir: Path, database_url: str, temporal: str, task_queue: str
              ) -> subprocess.CompletedProcess[str]:
    """The ``mom`` CLI as a person on another checkout runs it (off the event loop: the worker runs on it)."""
    env = {**os.environ, "MOM_DATA_DIR": str(data_dir), "MOM_DATABASE_URL": database_url,
           "MOM_TEMPORAL_ADDRESS": temporal, "MOM_TASK_QUEUE": task_queue, "MOM_SECRET_KEY": SECRET}
    return await asyncio.to_thread(subprocess.run, [sys.executable, "-m", "mom.cli", *args], cwd=ROOT, env=env,
                                   capture_output=True, text=True, timeout=240)


async def test_deployed_in_one_data_directory_runs_on_a_worker_with_another_and_mom_run_from_a_third(
        temporal_client: Client, temporal_server: TemporalDevServer, task_queue: str, tmp_path: Path,
        database_url: str) -> None:
    dir_a, dir_b, dir_c = data_dirs(tmp_path)
    where = {"database_url": database_url, "temporal": temporal_server.address, "task_queue": task_queue}
    for diagram in ("call_child.bpmn", "call_parent.bpmn"):
        deployed = await mom("deploy", str(DIAGRAMS / diagram), "--json", data_dir=dir_a, **where)
        assert deployed.returncode == 0, deployed.stderr
    worker_settings = load_settings(environment="test", data_dir=dir_b, database_url=database_url,
                                    secret_key=SECRET, task_queue=task_queue)
    async with build_worker(temporal_client, worker_settings, queue=task_queue):
        started = await instances.start_instance(
            temporal_client, ProcessStore(dir_c, database_url=database_url), "call_parent", task_queue=task_queue,
            variables={"lot": "L1", "measured": 5})
        result = await asyncio.wait_for(instances.wait_result(temporal_client, started.workflow_id), 90)
        assert result.status == "completed", result
        assert result.variables["lot_grade"] == "A"  # graded by the called process, deployed from A

        ran = await mom("run", str(DIAGRAMS / "approval.bpmn"), "--var", "order_id=PO-9", "--var", "qty=3",
                        "--var", "new_qty=4", "--complete-user-tasks",
                        '{"approve": {"approved": true, "comment": "ok"}}', "--json", data_dir=dir_c, **where)
        assert ran.returncode == 0, ran.stdout + ran.stderr
        outcome = json.loads(ran.stdout)
        assert outcome["status"] == "completed" and outcome["variables"]["applied"] is True
    for path in (dir_a, dir_b, dir_c):  # nothing of the deployments is on any data directory
        assert not {"specs", "processes", "sources"} & {p.name for p in path.iterdir()}, list(path.iterdir())


def test_the_files_of_an_older_install_are_imported_into_the_database(tmp_path: Path) -> None:
    """An upgraded single-machine install keeps its deployments: its data/specs, sources and
    processes files are read into the database the first time a store opens on that data directory."""
    dir_a, dir_b, _ = data_dirs(tmp_path)
    database_url = f"sqlite:///{tmp_path / 'shared' / 'mom.db'}"
    compiled, raw = compile_file(DIAGRAMS / "approval.bpmn", known_task_types(), None)
    (dir_a / "specs").mkdir()
    (dir_a / "specs" / f"{compiled.spec_sha256}.json").write_text(compiled.spec_json, encoding="utf-8")
    (dir_a / "sources").mkdir()
    (dir_a / "sources" / f"{compiled.source_sha256}.bpmn").write_bytes(raw)
    (dir_a / "processes").mkdir()
    (dir_a / "processes" / "approval.json").write_text(json.dumps([{
        "process_id": "approval", "version": 1, "spec_sha256": compiled.spec_sha256,
        "source_name": "approval.bpmn", "source_sha256": compiled.source_sha256,
        "deployed_at": "2026-12-01T10:00:00+00:00", "deployed_by": "ada"}]))
    ProcessStore(dir_a, database_url=database_url)  # the upgraded install starts
    elsewhere = ProcessStore(dir_b, database_url=database_url)
    latest = elsewhere.latest("approval")
    assert latest is not None and (latest.version, latest.deployed_by) == (1, "ada")
    assert elsewhere.load_spec(compiled.spec_sha256) == compiled.spec_json
    assert elsewhere.load_source(compiled.source_sha256) == raw


def test_a_spec_missing_from_the_database_is_named_by_its_hash_and_the_database(tmp_path: Path) -> None:
    missing = "ab" * 32
    store = ProcessStore(tmp_path, database_url=f"sqlite:///{tmp_path / 'mom.db'}")
    previous = spec_cache._loader
    spec_cache.install_loader(store.load_spec)
    try:
        with pytest.raises(spec_cache.SpecUnavailable) as unavailable:
            spec_cache.bundle_for(missing)
    finally:
        spec_cache._loader = previous
    assert missing in str(unavailable.value)
    assert f"database sqlite:///{tmp_path / 'mom.db'}" in str(unavailable.value), unavailable.value
    assert "process_specs" in str(unavailable.value)


def test_a_store_keeps_working_after_many_other_databases_were_opened(tmp_path: Path) -> None:
    """A process keeps few databases' connections open (a test session opens hundreds); a store whose
    idle connections were closed meanwhile connects again."""
    first = ProcessStore(tmp_path / "first")
    compiled, _ = compile_file(DIAGRAMS / "approval.bpmn", known_task_types(), None)
    deploy_file(first, DIAGRAMS / "approval.bpmn", deployed_by="test")
    for index in range(12):
        ProcessStore(tmp_path / f"other-{index}")
    assert first.load_spec(compiled.spec_sha256) == compiled.spec_json
    assert [v.version for v in first.versions("approval")] == [1]
