"""User administration (role admin): create, list, change roles, reset passwords, unlock."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, status
from sqlalchemy.orm import Session

from api.deps import Admin, ContextDep
from api.pagination import Page, Paging
from api.schemas.users import PasswordReset, UserCreate, UserOut, UserUpdate
from mom.db.users import get_user, list_users, set_password_hash, unlock_user, update_user
from mom.passwords import check_password
from mom.users import Role, add_user, hash_password

router = APIRouter(prefix="/users", tags=["users"])


@router.post("", response_model=UserOut, status_code=status.HTTP_201_CREATED)
async def create(context: ContextDep, admin: Admin, body: UserCreate) -> UserOut:
    check_password(body.password, username=body.username)
    password_hash = await context.hashing(lambda: hash_password(body.password))

    def work(session: Session) -> UserOut:
        user = add_user(session, username=body.username, password=body.password, actor=admin.username,
                        roles=[r.value for r in body.roles], groups=body.groups, work_centers=body.work_centers,
                        full_name=body.full_name, must_change_password=body.must_change_password,
                        password_hash=password_hash)
        return UserOut.model_validate(user)

    return await context.db(work)


@router.get("", response_model=Page[UserOut])
async def index(context: ContextDep, admin: Admin, paging: Paging,
                role: Annotated[Role | None, Query()] = None,
                active: Annotated[bool | None, Query()] = None) -> Page[UserOut]:
    def work(session: Session) -> Page[UserOut]:
        items, total = list_users(session, role=role.value if role else None, active=active,
                                  offset=paging.offset, limit=paging.limit)
        return Page(items=[UserOut.model_validate(u) for u in items], total=total, **paging.model_dump())

    return await context.db(work, write=False)


@router.get("/{username}", response_model=UserOut)
async def show(context: ContextDep, admin: Admin, username: str) -> UserOut:
    return await context.db(lambda s: UserOut.model_validate(get_user(s, username=username)))


@router.patch("/{username}", response_model=UserOut)
async def change(context: ContextDep, admin: Admin, username: str, body: UserUpdate) -> UserOut:
    def work(session: Session) -> UserOut:
        user = update_user(session, username=username, actor=admin.username,
                           roles=None if body.roles is None else [r.value for r in body.roles],
                           groups=body.groups, work_centers=body.work_centers, active=body.active,
                           full_name=body.full_name)
        return UserOut.model_validate(user)

    return await context.db(work)


@router.post("/{username}/password", response_model=UserOut)
async def reset_password(context: ContextDep, admin: Admin, username: str, body: PasswordReset) -> UserOut:
    """Set a new password the user must change at the next sign-in (it passes the policy). Their
    tokens are revoked and the account is unlocked."""
    check_password(body.new_password, username=username)
    password_hash = await context.hashing(lambda: hash_password(body.new_password))
    return await context.db(lambda s: UserOut.model_validate(
        set_password_hash(s, username=username, password_hash=password_hash, actor=admin.username, must_change=True)))


@router.post("/{username}/unlock", response_model=UserOut)
async def unlock(context: ContextDep, admin: Admin, username: str) -> UserOut:
    """Unlock a user locked after too many failed sign-ins (their failures are cleared)."""
    return await context.db(lambda s: UserOut.model_validate(unlock_user(s, username=username, actor=admin.username)))
