"""The migration builds the schema from empty on both databases, and matches the models."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy.orm import Session

from mom.db.audit import list_audit_entries, verify_audit_chain
from mom.db.migrate import head_revision, upgrade_database
from mom.db.models import Base


def test_upgrade_from_empty_creates_every_table_and_is_audited(
    empty_database: Any,
) -> None:
    before = upgrade_database(empty_database.url, connect_args=empty_database.connect_args, actor="ops")
    assert before is None
    engine = empty_database.engine()
    try:
        tables = set(sa.inspect(engine).get_table_names())
        assert set(Base.metadata.tables) <= tables
        with Session(engine) as session:
            entries, total = list_audit_entries(session, action="database.migrated")
            assert total == 1
            assert entries[0].actor == "ops"
            assert entries[0].details == {"from_revision": None, "to_revision": head_revision()}
            assert verify_audit_chain(session) is None
        # running it again changes nothing and records nothing
        assert upgrade_database(empty_database.url, connect_args=empty_database.connect_args) == head_revision()
        with Session(engine) as session:
            assert list_audit_entries(session, action="database.migrated")[1] == 1
    finally:
        engine.dispose()


def test_models_match_the_migration(empty_database: Any) -> None:
    upgrade_database(empty_database.url, connect_args=empty_database.connect_args)
    engine = empty_database.engine()
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            diff = compare_metadata(context, Base.metadata)
        assert diff == [], f"models and migration differ; write a migration for: {diff}"
    finally:
        engine.dispose()


def test_audit_entries_refuse_update_and_delete(empty_database: Any) -> None:
    upgrade_database(empty_database.url, connect_args=empty_database.connect_args)
    engine = empty_database.engine()
    try:
        for statement in ("UPDATE audit_entries SET actor = 'mallory'", "DELETE FROM audit_entries"):
            with pytest.raises(sa.exc.DatabaseError, match="append-only"), engine.begin() as conn:
                conn.exec_driver_sql(statement)
    finally:
        engine.dispose()


INSERT_TASK = ("INSERT INTO human_tasks (element_id, token, name, status, form_schema, data, created_at, "
               "candidate_users, context, four_eyes) VALUES ('a', '{token}', 'A', 'open', '{{}}', '{{}}', "
               "CURRENT_TIMESTAMP, '[]', '{{}}', false)")


def test_the_inbox_revision_migration_goes_down_and_up_again(empty_database: Any) -> None:
    """0004 (inbox revision counter and its triggers) downgrades cleanly, and upgrading again
    brings back triggers that count."""
    from alembic import command

    from mom.db.migrate import alembic_config

    upgrade_database(empty_database.url, connect_args=empty_database.connect_args)
    engine = empty_database.engine()
    try:
        config = alembic_config()
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.downgrade(config, "0003")
        assert "inbox_revision" not in sa.inspect(engine).get_table_names()
        with engine.begin() as connection:  # no trigger left behind that would need the dropped table
            connection.exec_driver_sql(INSERT_TASK.format(token="before"))
            connection.exec_driver_sql("UPDATE human_tasks SET name = name")
        upgrade_database(empty_database.url, connect_args=empty_database.connect_args)
        with engine.begin() as connection:
            connection.exec_driver_sql(INSERT_TASK.format(token="after"))
        with engine.connect() as connection:
            assert connection.exec_driver_sql("SELECT seq FROM inbox_revision WHERE id = 1").scalar_one() == 1
    finally:
        engine.dispose()


STARTER = """
import json, sys, time
from pathlib import Path
from mom.db.migrate import upgrade_database
gate, url, connect_args, count = Path(sys.argv[1]), sys.argv[2], json.loads(sys.argv[3]), int(sys.argv[4])
(gate / sys.argv[5]).touch()
while len(list(gate.iterdir())) < count:  # all imported: now start together
    time.sleep(0.005)
print(json.dumps(upgrade_database(url, connect_args=connect_args)))
"""


def test_processes_starting_together_on_a_new_database_migrate_one_after_the_other(
        empty_database: Any, tmp_path: Path) -> None:
    """The API's workers, a worker and ``mom users`` may all start on a new database at once: one
    migrates, the others wait for it and find the schema current (none fails), audited once."""
    starters = 4
    gate = tmp_path / "gate"
    gate.mkdir()
    processes = [
        subprocess.Popen([sys.executable, "-c", STARTER, str(gate), empty_database.url,
                          json.dumps(empty_database.connect_args), str(starters), f"starter{number}"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for number in range(starters)]
    befores = []
    for process in processes:
        out, err = process.communicate(timeout=120)
        assert process.returncode == 0, err[-2000:]
        befores.append(json.loads(out))
    assert befores.count(None) == 1 and befores.count(head_revision()) == starters - 1, befores
    engine = empty_database.engine()
    try:
        with Session(engine) as session:
            assert list_audit_entries(session, action="database.migrated")[1] == 1
            assert verify_audit_chain(session) is None
    finally:
        engine.dispose()
