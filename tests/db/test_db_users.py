"""Users in the database: the last active administrator cannot be removed (nobody could manage
users any more), on both databases."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from mom.db.audit import list_audit_entries
from mom.db.errors import RecordConflict
from mom.db.models import User
from mom.db.users import active_admins, create_user, get_user, list_users, update_user


def _admin(session: Session, name: str) -> None:
    create_user(session, username=name, password_hash="x", actor="pytest", roles=["admin"])


def test_the_last_active_admin_can_be_neither_deactivated_nor_demoted(session: Session) -> None:
    for other in [u.username for u in _active_admin_users(session)]:  # a database of this test's own
        update_user(session, username=other, actor="pytest", active=False)
    _admin(session, "ada")
    _admin(session, "bob")
    assert active_admins(session) == 2
    update_user(session, username="bob", actor="pytest", active=False)  # another admin remains: fine
    assert active_admins(session) == 1
    with pytest.raises(RecordConflict, match="'ada' is the last active administrator"):
        update_user(session, username="ada", actor="pytest", active=False)
    assert get_user(session, username="ada").active  # refused before anything changed


def test_demoting_the_last_admin_is_refused_and_nothing_is_written(session: Session) -> None:
    for other in [u.username for u in _active_admin_users(session)]:
        update_user(session, username=other, actor="pytest", active=False)
    _admin(session, "ada")
    create_user(session, username="olga", password_hash="x", actor="pytest", roles=["operator"])
    audited = list_audit_entries(session, action="user.updated")[1]
    with pytest.raises(RecordConflict, match="last active administrator"):
        update_user(session, username="ada", actor="pytest", roles=["supervisor"])
    assert list_audit_entries(session, action="user.updated")[1] == audited
    assert get_user(session, username="ada").roles == ["admin"]
    # making another user admin first, then the change goes through
    update_user(session, username="olga", actor="pytest", roles=["operator", "admin"])
    assert update_user(session, username="ada", actor="pytest", roles=["supervisor"]).roles == ["supervisor"]
    assert get_user(session, username="olga").roles == ["admin", "operator"]


def _active_admin_users(session: Session) -> list[User]:
    return list(list_users(session, role="admin", active=True)[0])
