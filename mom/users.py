"""People and their rights: roles, Argon2 password hashes, and the first administrator.

Roles grant endpoints: ``engineer`` deploys and migrates processes, ``supervisor`` approves and
dispositions, ``operator`` completes station steps (scoped to their work centers), ``admin``
manages users (and passes every role check). Groups are the BPMN candidate groups a person is in.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from enum import StrEnum

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy.orm import Session

from mom.db.engine import create_database_engine, create_session_factory
from mom.db.migrate import upgrade_engine
from mom.db.models import User
from mom.db.transactions import writing
from mom.db.users import count_users, create_user, find_user, set_password_hash
from mom.passwords import MIN_PASSWORD_LENGTH, PasswordRefused, check_password
from mom.settings import Settings

__all__ = ["MIN_PASSWORD_LENGTH", "PasswordRefused", "check_password"]  # the policy, as before (mom.passwords)


class Role(StrEnum):
    ENGINEER = "engineer"
    SUPERVISOR = "supervisor"
    OPERATOR = "operator"
    ADMIN = "admin"


FIRST_ADMIN = "admin"
_hasher = PasswordHasher()
# Verified against when the user does not exist, so a wrong name costs the same time as a wrong password.
DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


def check_roles(roles: Iterable[str]) -> list[str]:
    known = {r.value for r in Role}
    chosen = sorted(set(roles))
    unknown = [r for r in chosen if r not in known]
    if unknown:
        raise ValueError(f"unknown role(s) {unknown}; roles are {sorted(known)}")
    return chosen


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def authenticate(session: Session, *, username: str, password: str) -> User | None:
    """The active user with this name and password, else None (same cost either way)."""
    user = find_user(session, username=username)
    if user is None:
        verify_password(DUMMY_HASH, password)
        return None
    if not verify_password(user.password_hash, password) or not user.active:
        return None
    return user


def add_user(
    session: Session,
    *,
    username: str,
    password: str,
    actor: str,
    roles: Iterable[str] = (),
    groups: Iterable[str] = (),
    work_centers: Iterable[str] = (),
    full_name: str | None = None,
    must_change_password: bool = False,
    password_hash: str | None = None,
) -> User:
    """Create a user; ``password`` passes the policy first (``password_hash``: the caller checked
    and hashed it already, see api.routers.users)."""
    if password_hash is None:
        check_password(password, username=username)
        password_hash = hash_password(password)
    return create_user(
        session, username=username, password_hash=password_hash, actor=actor,
        roles=check_roles(roles), groups=groups, work_centers=work_centers, full_name=full_name,
        must_change_password=must_change_password,
    )


def set_password(session: Session, *, username: str, password: str, actor: str, must_change: bool = False) -> User:
    """Set a password that passed the policy (the user's tokens are revoked, see mom.db.users)."""
    check_password(password, username=username)
    return set_password_hash(session, username=username, password_hash=hash_password(password), actor=actor,
                             must_change=must_change)


def one_time_password(username: str) -> str:
    """A random password (20 characters) that passes the policy."""
    while True:
        password = secrets.token_urlsafe(15)
        try:
            check_password(password, username=username)
        except PasswordRefused:
            continue
        return password


def ensure_first_admin(settings: Settings) -> str | None:
    """On a database without users, create ``admin`` with a random one-time password and return
    it (print it once; the admin must change it). Returns None when users exist already."""
    engine = create_database_engine(settings.effective_database_url)
    try:
        upgrade_engine(engine)
        with writing(create_session_factory(engine)) as session:
            if count_users(session) > 0:
                return None
            password = one_time_password(FIRST_ADMIN)
            add_user(session, username=FIRST_ADMIN, password=password, actor="mom up", roles=[Role.ADMIN],
                     groups=["admins"], must_change_password=True)
            return password
    finally:
        engine.dispose()
