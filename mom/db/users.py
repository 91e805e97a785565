"""Data functions for users (the password hash is computed by the caller, see ``mom.users``)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import sqlalchemy as sa
from sqlalchemy.orm import Session

from mom.db.audit import append_audit_entry
from mom.db.base import utcnow
from mom.db.errors import RecordConflict
from mom.db.models import User
from mom.db.queries import fetch_by, page


def create_user(
    session: Session,
    *,
    username: str,
    password_hash: str,
    actor: str,
    roles: Iterable[str] = (),
    groups: Iterable[str] = (),
    work_centers: Iterable[str] = (),
    full_name: str | None = None,
    must_change_password: bool = False,
) -> User:
    if session.scalar(sa.select(User.id).where(User.username == username)) is not None:
        raise RecordConflict(f"user '{username}' already exists")
    user = User(
        username=username,
        full_name=full_name,
        password_hash=password_hash,
        roles=sorted(set(roles)),
        groups=sorted(set(groups)),
        work_centers=sorted(set(work_centers)),
        active=True,
        must_change_password=must_change_password,
    )
    session.add(user)
    session.flush()
    append_audit_entry(
        session,
        actor=actor,
        action="user.created",
        entity_type="user",
        entity_id=username,
        details={"roles": user.roles, "groups": user.groups, "work_centers": user.work_centers},
    )
    return user


def get_user(session: Session, *, username: str) -> User:
    return fetch_by(session, sa.select(User).where(User.username == username), entity="user", key=username)


def find_user(session: Session, *, username: str) -> User | None:
    return session.execute(sa.select(User).where(User.username == username)).scalar_one_or_none()


def count_users(session: Session) -> int:
    return int(session.execute(sa.select(sa.func.count()).select_from(User)).scalar_one())


ADMIN_ROLE = "admin"  # mom.users.Role.ADMIN


def active_admins(session: Session) -> int:
    """Active users with the admin role (as the session sees them, pending changes included)."""
    session.flush()
    return list_users(session, role=ADMIN_ROLE, active=True, limit=1)[1]


def list_users(
    session: Session, *, role: str | None = None, active: bool | None = None, offset: int = 0, limit: int = 100
) -> tuple[Sequence[User], int]:
    stmt = sa.select(User)
    if active is not None:
        stmt = stmt.where(User.active == active)
    items, _ = page(session, stmt.order_by(User.username), offset=0, limit=1000)
    # roles are a JSON list: filter in Python (a plant has hundreds of users, not millions)
    chosen = [u for u in items if role is None or role in u.roles]
    return chosen[offset : offset + limit], len(chosen)


def revoke_tokens(user: User, reason: str) -> None:
    """Every access token issued to ``user`` so far stops working at its next request (api.auth
    compares the token's version with the user's, read with the user on every request)."""
    user.token_version += 1
    user.tokens_revoked_at = utcnow()
    user.tokens_revoked_reason = reason


def set_password_hash(
    session: Session, *, username: str, password_hash: str, actor: str, must_change: bool = False
) -> User:
    """A new password: the user's tokens are revoked. Set by an administrator (``actor`` is not the
    user), it is a one-time password when ``must_change``, and it also unlocks the account."""
    user = get_user(session, username=username)
    user.password_hash = password_hash
    user.must_change_password = must_change
    user.password_changed_at = utcnow()
    by_admin = actor != username
    revoke_tokens(user, f"password reset by {actor}" if by_admin else "password changed")
    if by_admin:
        user.locked_at = None
        user.failed_sign_ins = 0
        user.last_failed_sign_in_at = None
    append_audit_entry(session, actor=actor, action="user.password_changed", entity_type="user", entity_id=username)
    session.flush()
    return user


def unlock_user(session: Session, *, username: str, actor: str) -> User:
    """Clear the lockout and the failed sign-ins of ``username`` (audited)."""
    user = get_user(session, username=username)
    was_locked = user.locked_at is not None
    user.locked_at = None
    user.failed_sign_ins = 0
    user.last_failed_sign_in_at = None
    append_audit_entry(session, actor=actor, action="user.unlocked", entity_type="user", entity_id=username,
                       details={"was_locked": was_locked})
    session.flush()
    return user


def sign_out(session: Session, *, username: str) -> None:
    """Revoke every token of ``username`` (signing out signs out all their sessions)."""
    user = get_user(session, username=username)
    revoke_tokens(user, "signed out")
    append_audit_entry(session, actor=username, action="user.signed_out", entity_type="user", entity_id=username)
    session.flush()


def update_user(
    session: Session,
    *,
    username: str,
    actor: str,
    roles: Iterable[str] | None = None,
    groups: Iterable[str] | None = None,
    work_centers: Iterable[str] | None = None,
    active: bool | None = None,
    full_name: str | None = None,
) -> User:
    user = get_user(session, username=username)
    roles = None if roles is None else list(roles)
    stays_admin = (user.active if active is None else active) and ADMIN_ROLE in (user.roles if roles is None else roles)
    if user.active and ADMIN_ROLE in user.roles and not stays_admin and active_admins(session) <= 1:
        raise RecordConflict(f"user '{username}' is the last active administrator: make another user "
                             f"administrator first (nobody could manage users any more)")
    changes: dict[str, object] = {}
    if roles is not None:
        user.roles = changes["roles"] = sorted(set(roles))
    if groups is not None:
        user.groups = changes["groups"] = sorted(set(groups))
    if work_centers is not None:
        user.work_centers = changes["work_centers"] = sorted(set(work_centers))
    if active is not None:
        if user.active and not active:
            revoke_tokens(user, f"deactivated by {actor}")
        user.active = changes["active"] = active
    if full_name is not None:
        user.full_name = changes["full_name"] = full_name
    append_audit_entry(session, actor=actor, action="user.updated", entity_type="user", entity_id=username,
                       details=changes)
    session.flush()
    return user
