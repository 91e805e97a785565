"""The audit chain holds, and verify finds the first edited, deleted or inserted entry."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from mom.db.audit import append_audit_entry, audit_head, entry_hash, verify_audit_chain
from mom.db.models import AuditEntry


def _append(session: Session, count: int) -> list[int]:
    return [
        append_audit_entry(
            session,
            actor=f"user{n}",
            action="task.approved",
            entity_type="human task",
            entity_id=n,
            reason="looks right",
            details={"approved": True, "qty": 1.5, "note": "é"},
        ).seq
        for n in range(count)
    ]


def _allow_tampering(session: Session) -> None:
    """What an attacker with database rights does first: drop the append-only triggers."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(sa.text("ALTER TABLE audit_entries DISABLE TRIGGER USER"))
    else:
        session.execute(sa.text("DROP TRIGGER audit_entries_no_update"))
        session.execute(sa.text("DROP TRIGGER audit_entries_no_delete"))


def _sql(session: Session, statement: str, **params: object) -> None:
    session.execute(sa.text(statement), params)
    session.expire_all()


def test_an_untouched_chain_verifies(session: Session) -> None:
    seqs = _append(session, 5)
    assert seqs == list(range(seqs[0], seqs[0] + 5))
    assert verify_audit_chain(session) is None
    assert audit_head(session).seq == seqs[-1]


def test_the_database_refuses_updates(session: Session) -> None:
    seq = _append(session, 1)[0]
    with pytest.raises(sa.exc.DatabaseError, match="append-only"), session.begin_nested():
        session.execute(sa.text("UPDATE audit_entries SET actor = 'x' WHERE seq = :s"), {"s": seq})


def test_an_edited_entry_is_found(session: Session) -> None:
    seqs = _append(session, 5)
    _allow_tampering(session)
    _sql(session, "UPDATE audit_entries SET reason = 'nothing to see' WHERE seq = :s", s=seqs[2])
    broken = verify_audit_chain(session)
    assert broken is not None and (broken.seq, broken.kind) == (seqs[2], "edited")


def test_an_edited_and_rehashed_entry_is_found(session: Session) -> None:
    seqs = _append(session, 5)
    target = seqs[1]
    entry = session.get(AuditEntry, target)
    assert entry is not None
    forged = entry_hash(
        prev_hash=entry.prev_hash,
        seq=entry.seq,
        at=entry.at,
        actor="mallory",
        action=entry.action,
        entity_type=entry.entity_type,
        entity_id=entry.entity_id,
        reason=entry.reason,
        details=entry.details,
    )
    _allow_tampering(session)
    _sql(session, "UPDATE audit_entries SET actor = 'mallory', hash = :h WHERE seq = :s", h=forged, s=target)
    broken = verify_audit_chain(session)
    assert broken is not None and (broken.seq, broken.kind) == (target, "edited")


def test_a_deleted_entry_is_found(session: Session) -> None:
    seqs = _append(session, 5)
    _allow_tampering(session)
    _sql(session, "DELETE FROM audit_entries WHERE seq = :s", s=seqs[3])
    broken = verify_audit_chain(session)
    assert broken is not None and (broken.seq, broken.kind) == (seqs[3], "deleted")


def test_a_deleted_tail_is_found(session: Session) -> None:
    seqs = _append(session, 4)
    _allow_tampering(session)
    _sql(session, "DELETE FROM audit_entries WHERE seq >= :s", s=seqs[2])
    broken = verify_audit_chain(session)
    assert broken is not None and (broken.seq, broken.kind) == (seqs[2], "deleted")
    assert "cut off the end" in broken.message


def test_a_deleted_entry_with_renumbering_is_found(session: Session) -> None:
    seqs = _append(session, 5)
    _allow_tampering(session)
    _sql(session, "DELETE FROM audit_entries WHERE seq = :s", s=seqs[2])
    _sql(session, "UPDATE audit_entries SET seq = -(seq - 1) WHERE seq > :s", s=seqs[2])
    _sql(session, "UPDATE audit_entries SET seq = -seq WHERE seq < 0")
    broken = verify_audit_chain(session)
    assert broken is not None and (broken.seq, broken.kind) == (seqs[2], "deleted")


def _forge_after(session: Session, seq: int, prev_hash: str) -> None:
    at = datetime(2026, 1, 1, tzinfo=UTC)
    fields = {
        "seq": seq,
        "at": at,
        "actor": "mallory",
        "action": "task.approved",
        "entity_type": "human task",
        "entity_id": "99",
        "reason": None,
        "details": {},
    }
    session.add(AuditEntry(prev_hash=prev_hash, hash=entry_hash(prev_hash=prev_hash, **fields), **fields))
    session.flush()
    session.expire_all()


def test_an_entry_inserted_at_the_end_is_found(session: Session) -> None:
    _append(session, 3)
    head = audit_head(session)
    _forge_after(session, head.seq + 1, head.hash)
    broken = verify_audit_chain(session)
    assert broken is not None and (broken.seq, broken.kind) == (head.seq + 1, "inserted")


def test_an_entry_inserted_in_the_middle_is_found(session: Session) -> None:
    seqs = _append(session, 5)
    target = seqs[2]
    previous = session.get(AuditEntry, target - 1)
    assert previous is not None
    prev_hash = previous.hash
    _allow_tampering(session)
    _sql(session, "UPDATE audit_entries SET seq = -(seq + 1) WHERE seq >= :s", s=target)
    _sql(session, "UPDATE audit_entries SET seq = -seq WHERE seq < 0")
    _forge_after(session, target, prev_hash)
    _sql(session, "UPDATE audit_head SET seq = seq + 1")
    broken = verify_audit_chain(session)
    assert broken is not None and (broken.seq, broken.kind) == (target, "inserted")


def test_an_entry_inserted_without_renumbering_is_found(session: Session) -> None:
    """An extra entry chained to the right predecessor but written between two others."""
    seqs = _append(session, 4)
    target = seqs[2]
    entry = session.get(AuditEntry, target)
    previous = session.get(AuditEntry, target - 1)
    assert entry is not None and previous is not None
    # replace entry `target` by a forged one chained correctly: its successor no longer chains
    _allow_tampering(session)
    _sql(session, "DELETE FROM audit_entries WHERE seq = :s", s=target)
    _forge_after(session, target, previous.hash)
    broken = verify_audit_chain(session)
    assert broken is not None and broken.seq == target and broken.kind in ("edited", "inserted")
