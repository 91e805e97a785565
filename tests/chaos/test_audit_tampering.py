"""Someone with write access to the database edits, deletes or inserts audit rows in plain SQL
(after dropping the append-only triggers): ``mom audit verify`` exits 1 and names the first entry
that does not hold, on SQLite and on PostgreSQL.

PostgreSQL runs in a schema of its own (dropped at the end); ``MOM_TEST_SKIP_POSTGRES=1`` skips it.
"""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, cast

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from mom.cli import main as mom
from mom.db import create_database_engine, create_session_factory
from mom.db.audit import append_audit_entry, entry_hash
from mom.db.migrate import upgrade_database
from mom.db.models import AuditEntry, AuditHead

POSTGRES_URL = os.environ.get("MOM_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
ENTRIES = 6  # after the migration's own entry: seq 1..7
ENTRY = cast(sa.Table, AuditEntry.__table__)
HEAD = cast(sa.Table, AuditHead.__table__)


@dataclass
class AuditDatabase:
    backend: str
    url: str
    engine: Engine
    rows: list[dict[str, Any]]
    head: dict[str, Any]

    def restore(self) -> None:
        with self.engine.begin() as conn:
            conn.execute(ENTRY.delete())
            conn.execute(ENTRY.insert(), self.rows)
            conn.execute(HEAD.update().values(seq=self.head["seq"], hash=self.head["hash"]))


def _drop_append_only_triggers(conn: Connection, backend: str) -> None:
    """What an attacker with the database owner's rights does first."""
    if backend == "postgresql":
        conn.exec_driver_sql("DROP TRIGGER IF EXISTS audit_entries_append_only ON audit_entries")
        conn.exec_driver_sql("DROP TRIGGER IF EXISTS audit_entries_no_truncate ON audit_entries")
    else:
        conn.exec_driver_sql("DROP TRIGGER IF EXISTS audit_entries_no_update")
        conn.exec_driver_sql("DROP TRIGGER IF EXISTS audit_entries_no_delete")


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def audit_db(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[AuditDatabase]:
    backend = request.param
    admin = None
    schema = f"mom_chaos_{secrets.token_hex(5)}"
    if backend == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('audit') / 'mom.db'}"
    else:
        if os.environ.get("MOM_TEST_SKIP_POSTGRES") == "1":
            pytest.skip("MOM_TEST_SKIP_POSTGRES=1")
        admin = sa.create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
        try:
            with admin.connect() as conn:
                conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
        except sa.exc.OperationalError as exc:
            pytest.fail(f"PostgreSQL at {POSTGRES_URL} is not reachable ({exc.orig}); "
                        "set MOM_TEST_SKIP_POSTGRES=1 to run without it")
        url = f"{POSTGRES_URL}?options=-csearch_path%3D{schema}"
    upgrade_database(url, actor="pytest")
    engine = create_database_engine(url)
    with create_session_factory(engine)() as session, session.begin():
        for i in range(ENTRIES):
            append_audit_entry(session, actor=f"user{i}", action="task.complete", entity_type="task",
                               entity_id=f"T{i}", reason="checked", details={"qty": i, "lot": f"L{i:03d}"})
    with engine.begin() as conn:
        _drop_append_only_triggers(conn, backend)
        rows = [dict(r._mapping) for r in conn.execute(sa.select(ENTRY).order_by(ENTRY.c.seq))]
        head = dict(conn.execute(sa.select(HEAD)).one()._mapping)
    assert len(rows) == ENTRIES + 1
    yield AuditDatabase(backend, url, engine, rows, head)
    engine.dispose()
    if admin is not None:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        admin.dispose()


def _rehash(row: dict[str, Any], **changes: Any) -> dict[str, Any]:
    """The row as a careful attacker writes it: changed, and its own hash recomputed."""
    new = {**row, **changes}
    new["hash"] = entry_hash(prev_hash=new["prev_hash"], seq=new["seq"], at=new["at"], actor=new["actor"],
                             action=new["action"], entity_type=new["entity_type"], entity_id=new["entity_id"],
                             reason=new["reason"], details=new["details"] or {})
    return new


def edit_actor(db: AuditDatabase, conn: Connection) -> None:
    conn.execute(ENTRY.update().where(ENTRY.c.seq == 4).values(actor="mallory"))


def edit_details(db: AuditDatabase, conn: Connection) -> None:
    conn.execute(ENTRY.update().where(ENTRY.c.seq == 4).values(details={"qty": 999, "lot": "L003"}))


def edit_time(db: AuditDatabase, conn: Connection) -> None:
    conn.execute(ENTRY.update().where(ENTRY.c.seq == 4).values(at=db.rows[3]["at"] - timedelta(days=1)))


def edit_and_rehash(db: AuditDatabase, conn: Connection) -> None:
    forged = _rehash(db.rows[3], actor="mallory")
    conn.execute(ENTRY.update().where(ENTRY.c.seq == 4).values(actor="mallory", hash=forged["hash"]))


def delete_middle(db: AuditDatabase, conn: Connection) -> None:
    conn.execute(ENTRY.delete().where(ENTRY.c.seq == 4))


def delete_last(db: AuditDatabase, conn: Connection) -> None:
    conn.execute(ENTRY.delete().where(ENTRY.c.seq == ENTRIES + 1))


def insert_at_end(db: AuditDatabase, conn: Connection) -> None:
    last = db.rows[-1]
    forged = _rehash({**last, "seq": last["seq"] + 1, "prev_hash": last["hash"], "actor": "mallory",
                      "at": datetime.now(UTC)})
    conn.execute(ENTRY.insert().values(**forged))


def insert_in_the_middle(db: AuditDatabase, conn: Connection) -> None:
    """Shift entries 4.. up by one and slip a forged entry in at 4, chained to entry 3."""
    for row in reversed(db.rows[3:]):
        conn.execute(ENTRY.update().where(ENTRY.c.seq == row["seq"]).values(seq=row["seq"] + 1))
    forged = _rehash({**db.rows[3], "prev_hash": db.rows[2]["hash"], "actor": "mallory"})
    conn.execute(ENTRY.insert().values(**forged))
    conn.execute(HEAD.update().values(seq=db.head["seq"] + 1))


Tamper = Callable[[AuditDatabase, Connection], None]
SCENARIOS: list[tuple[Tamper, int, str]] = [
    (edit_actor, 4, "edited"),
    (edit_details, 4, "edited"),
    (edit_time, 4, "edited"),
    (edit_and_rehash, 4, "edited"),
    (delete_middle, 4, "deleted"),
    (delete_last, ENTRIES + 1, "deleted"),
    (insert_at_end, ENTRIES + 2, "inserted"),
    (insert_in_the_middle, 4, "inserted"),
]


def verify(url: str, capsys: pytest.CaptureFixture[str], *extra: str) -> tuple[int, str]:
    capsys.readouterr()
    status = mom(["audit", "verify", "--database-url", url, *extra])
    return status, capsys.readouterr().out


@pytest.mark.parametrize(("tamper", "seq", "kind"), SCENARIOS, ids=[s[0].__name__ for s in SCENARIOS])
def test_verify_exits_1_naming_the_tampered_entry(
    audit_db: AuditDatabase, tamper: Tamper, seq: int, kind: str, capsys: pytest.CaptureFixture[str]
) -> None:
    status, out = verify(audit_db.url, capsys, "--json")
    assert status == 0 and json.loads(out)["intact"] is True, out
    try:
        with audit_db.engine.begin() as conn:
            tamper(audit_db, conn)
        status, out = verify(audit_db.url, capsys, "--json")
        assert status == 1, out
        report = json.loads(out)
        assert report["intact"] is False
        assert (report["first_break"]["seq"], report["first_break"]["kind"]) == (seq, kind), report
        status, out = verify(audit_db.url, capsys)
        assert status == 1 and f"broken at entry {seq} ({kind})" in " ".join(out.split()), out
    finally:
        audit_db.restore()
    assert verify(audit_db.url, capsys)[0] == 0
