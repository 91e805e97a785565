"""Sign-in (OAuth2 password flow), who am I, and changing one's own password."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, status
from fastapi.security import OAuth2PasswordRequestForm
from sqlalchemy.orm import Session

from api.auth import ACCESS_TOKEN_MINUTES, CurrentUser, create_access_token
from api.deps import ContextDep
from api.schemas.users import PasswordChange, Token, UserOut
from mom.db.users import get_user, set_password_hash
from mom.users import authenticate, hash_password, verify_password

router = APIRouter(prefix="/auth", tags=["auth"])


@router.post("/token", response_model=Token)
async def sign_in(context: ContextDep, form: Annotated[OAuth2PasswordRequestForm, Depends()]) -> Token:
    user = await context.db(lambda s: authenticate(s, username=form.username, password=form.password),
                            write=False)
    if user is None:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "wrong user name or password (or the account is inactive)",
                            headers={"WWW-Authenticate": "Bearer"})
    return Token(access_token=create_access_token(context, user.username), expires_in=ACCESS_TOKEN_MINUTES * 60)


@router.get("/me", response_model=UserOut)
async def me(context: ContextDep, user: CurrentUser) -> UserOut:
    return await context.db(lambda s: UserOut.model_validate(get_user(s, username=user.username)), write=False)


@router.post("/password", response_model=UserOut)
async def change_password(context: ContextDep, user: CurrentUser, body: PasswordChange) -> UserOut:
    def change(session: Session) -> UserOut:
        row = get_user(session, username=user.username)
        if not verify_password(row.password_hash, body.current_password):
            raise HTTPException(status.HTTP_403_FORBIDDEN, "current_password is wrong")
        if body.new_password == body.current_password:
            raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "new_password must differ from the current one")
        return UserOut.model_validate(set_password_hash(session, username=user.username,
                                                        password_hash=hash_password(body.new_password),
                                                        actor=user.username))

    return await context.db(change)
