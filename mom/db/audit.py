"""The audit log: append-only, each entry hash-chained to the previous one.

``hash = sha256(prev_hash + canonical JSON of the entry)`` where the canonical JSON has sorted
keys, no spaces, and the timestamp in UTC ISO 8601 with microseconds. The first entry chains to
``GENESIS_HASH``. :func:`verify_audit_chain` recomputes the chain and returns the first entry that
was edited, deleted or inserted. What it cannot see: someone with write access who rewrites the
whole chain from the tampered entry onwards and the head; anchor :func:`audit_head` outside the
database (printed by ``mom audit verify``) to catch that too.

Who (issue J.3): ``actor`` is the signed-in user, or the system component acting for a person
("worker for alice", see activities/acting.py), never a name taken from data. Names that data gave
(a badge typed in a form, a diagram's literal such as ``held_by='quality'``) are kept as extra data:
inside :func:`noting`, every entry appended gets them in ``details["noted"]``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy.orm import Session

from mom.db.base import utcnow
from mom.db.models import AuditEntry, AuditHead
from mom.db.queries import page

GENESIS_HASH = "0" * 64
HEAD_ID = 1

BreakKind = Literal["edited", "deleted", "inserted"]

_NOTED: ContextVar[dict[str, str] | None] = ContextVar("audit_noted", default=None)


@contextmanager
def noting(said: dict[str, str]) -> Iterator[None]:
    """Keep ``said`` (names the data gave for who did it) in ``details["noted"]`` of every entry
    appended within (this thread or task; ``asyncio.to_thread`` carries it into the thread)."""
    kept = {**(_NOTED.get() or {}), **said}
    token = _NOTED.set(kept or None)
    try:
        yield
    finally:
        _NOTED.reset(token)


def _json_default(value: object) -> object:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat(timespec="microseconds")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, set | frozenset | tuple):
        return sorted(value, key=str) if isinstance(value, set | frozenset) else list(value)
    raise TypeError(f"audit details: {type(value).__name__} value {value!r} is not JSON data")


def canonical_json(value: object) -> str:
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=_json_default
    )


def _timestamp(at: datetime) -> str:
    return at.astimezone(UTC).isoformat(timespec="microseconds")


def entry_hash(
    *,
    prev_hash: str,
    seq: int,
    at: datetime,
    actor: str,
    action: str,
    entity_type: str,
    entity_id: str,
    reason: str | None,
    details: dict[str, Any],
) -> str:
    body = canonical_json(
        {
            "seq": seq,
            "at": _timestamp(at),
            "actor": actor,
            "action": action,
            "entity_type": entity_type,
            "entity_id": entity_id,
            "reason": reason,
            "details": details,
        }
    )
    return hashlib.sha256((prev_hash + body).encode("utf-8")).hexdigest()


def append_audit_entry(
    session: Session,
    *,
    actor: str,
    action: str,
    entity_type: str,
    entity_id: object,
    reason: str | None = None,
    details: dict[str, Any] | None = None,
    at: datetime | None = None,
) -> AuditEntry:
    """Add one entry at the end of the chain, in the caller's transaction.

    The head row is locked (``SELECT ... FOR UPDATE`` on PostgreSQL) so concurrent appends queue
    up instead of forking the chain; on SQLite the write lock does the same.
    """
    if not actor:
        raise ValueError(f"audit entry '{action}': actor is required (who did it)")
    noted = _NOTED.get()
    if noted:
        details = {**(details or {}), "noted": noted}
    clean_details: dict[str, Any] = json.loads(canonical_json(details or {}))
    when = (at or utcnow()).astimezone(UTC)
    head = session.get(AuditHead, HEAD_ID, with_for_update=True, populate_existing=True)
    if head is None:
        head = AuditHead(id=HEAD_ID, seq=0, hash=GENESIS_HASH)
        session.add(head)
    seq = head.seq + 1
    fields: dict[str, Any] = {
        "seq": seq,
        "at": when,
        "actor": actor,
        "action": action,
        "entity_type": entity_type,
        "entity_id": str(entity_id),
        "reason": reason,
        "details": clean_details,
    }
    digest = entry_hash(prev_hash=head.hash, **fields)
    entry = AuditEntry(prev_hash=head.hash, hash=digest, **fields)
    session.add(entry)
    head.seq = seq
    head.hash = digest
    session.flush()
    return entry


def append_audit_entries(session: Session, entries: Sequence[dict[str, Any]]) -> list[AuditEntry]:
    """Add entries (each the keyword arguments of :func:`append_audit_entry`) at the end of the
    chain, in order: the head locked once, the entries written in one flush (bulk imports: a
    1,000-request B2MML schedule). The same entries and hashes as appending them one by one."""
    for wanted in entries:
        if not wanted.get("actor"):
            raise ValueError(f"audit entry '{wanted.get('action')}': actor is required (who did it)")
    noted = _NOTED.get()
    head = session.get(AuditHead, HEAD_ID, with_for_update=True, populate_existing=True)
    if head is None:
        head = AuditHead(id=HEAD_ID, seq=0, hash=GENESIS_HASH)
        session.add(head)
    added = []
    for given in entries:
        details = {**(given.get("details") or {}), "noted": noted} if noted else given.get("details")
        seq = head.seq + 1
        fields: dict[str, Any] = {
            "seq": seq,
            "at": (given.get("at") or utcnow()).astimezone(UTC),
            "actor": given["actor"],
            "action": given["action"],
            "entity_type": given["entity_type"],
            "entity_id": str(given["entity_id"]),
            "reason": given.get("reason"),
            "details": json.loads(canonical_json(details or {})),
        }
        digest = entry_hash(prev_hash=head.hash, **fields)
        added.append(AuditEntry(prev_hash=head.hash, hash=digest, **fields))
        head.seq = seq
        head.hash = digest
    session.add_all(added)
    session.flush()
    return added


def lock_audit_head(session: Session) -> None:
    """Queue up behind every other audited write of the database until this transaction ends
    (``SELECT ... FOR UPDATE`` of the chain head on PostgreSQL; SQLite's write lock does the same).
    For check-then-insert writes that are audited anyway, so two of them cannot both insert."""
    session.get(AuditHead, HEAD_ID, with_for_update=True, populate_existing=True)


@dataclass(frozen=True, slots=True)
class AuditBreak:
    """The first place the chain does not hold: ``seq`` of the entry and what happened."""

    seq: int
    kind: BreakKind
    message: str


@dataclass(frozen=True, slots=True)
class AuditHeadInfo:
    seq: int
    hash: str


def audit_head(session: Session) -> AuditHeadInfo:
    head = session.get(AuditHead, HEAD_ID)
    return AuditHeadInfo(0, GENESIS_HASH) if head is None else AuditHeadInfo(head.seq, head.hash)


def _recompute(row: sa.Row[Any], *, seq: int | None = None) -> str:
    return entry_hash(
        prev_hash=row.prev_hash,
        seq=row.seq if seq is None else seq,
        at=row.at,
        actor=row.actor,
        action=row.action,
        entity_type=row.entity_type,
        entity_id=row.entity_id,
        reason=row.reason,
        details=row.details or {},
    )


def _check_entry(
    row: sa.Row[Any], expected_seq: int, prev_hash: str, before_prev_hash: str | None
) -> AuditBreak | None:
    seq = row.seq
    if seq > expected_seq:
        return AuditBreak(
            expected_seq,
            "deleted",
            f"entries {expected_seq}..{seq - 1} are missing (the next entry present is {seq})",
        )
    if _recompute(row) != row.hash:
        if _recompute(row, seq=seq - 1) == row.hash:
            return AuditBreak(
                seq - 1,
                "inserted",
                f"an entry was inserted at {seq - 1}; entry {seq} was written as {seq - 1}",
            )
        if _recompute(row, seq=seq + 1) == row.hash:
            return AuditBreak(
                seq,
                "deleted",
                f"an entry was deleted before {seq}; entry {seq} was written as {seq + 1}",
            )
        return AuditBreak(seq, "edited", f"entry {seq} does not match its hash: it was edited")
    if row.prev_hash != prev_hash:
        if before_prev_hash is not None and row.prev_hash == before_prev_hash:
            return AuditBreak(
                seq - 1,
                "inserted",
                f"entry {seq - 1} was inserted: entry {seq} chains to the entry before it",
            )
        return AuditBreak(
            seq - 1 if seq > 1 else seq,
            "edited",
            f"entry {seq} does not chain to entry {seq - 1}: entry {seq - 1} was edited and "
            "re-hashed, or replaced",
        )
    return None


def verify_audit_chain(session: Session, *, batch_size: int = 1000) -> AuditBreak | None:
    """Walk the whole chain; return the first break, or ``None`` when every entry holds."""
    table = AuditEntry.__table__
    rows = session.execute(sa.select(table).order_by(table.c.seq)).yield_per(batch_size)
    expected_seq = 1
    prev_hash = GENESIS_HASH
    before_prev_hash: str | None = None
    for row in rows:
        broken = _check_entry(row, expected_seq, prev_hash, before_prev_hash)
        if broken is not None:
            rows.close()
            return broken
        before_prev_hash, prev_hash = prev_hash, row.hash
        expected_seq = row.seq + 1
    last_seq = expected_seq - 1
    head = audit_head(session)
    if head.seq > last_seq:
        return AuditBreak(
            last_seq + 1,
            "deleted",
            f"entries {last_seq + 1}..{head.seq} were cut off the end (the head says {head.seq})",
        )
    if head.seq < last_seq:
        return AuditBreak(
            head.seq + 1,
            "inserted",
            f"entries {head.seq + 1}..{last_seq} were added without going through the log",
        )
    if head.hash != prev_hash:
        return AuditBreak(last_seq, "edited", f"entry {last_seq} differs from the chain head")
    return None


def list_audit_entries(
    session: Session,
    *,
    entity_type: str | None = None,
    entity_id: str | None = None,
    actor: str | None = None,
    action: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    offset: int = 0,
    limit: int = 100,
) -> tuple[Sequence[AuditEntry], int]:
    """Entries newest first, filtered by any of the given fields."""
    stmt = sa.select(AuditEntry)
    if entity_type is not None:
        stmt = stmt.where(AuditEntry.entity_type == entity_type)
    if entity_id is not None:
        stmt = stmt.where(AuditEntry.entity_id == entity_id)
    if actor is not None:
        stmt = stmt.where(AuditEntry.actor == actor)
    if action is not None:
        stmt = stmt.where(AuditEntry.action == action)
    if since is not None:
        stmt = stmt.where(AuditEntry.at >= since)
    if until is not None:
        stmt = stmt.where(AuditEntry.at < until)
    return page(session, stmt.order_by(AuditEntry.seq.desc()), offset=offset, limit=limit)
