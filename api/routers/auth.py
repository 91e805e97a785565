"""Sign-in (OAuth2 password flow, with back-off and lockout: mom.sign_in), who am I, changing
one's own password, and signing out."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request, Response, status
from fastapi.security import OAuth2PasswordRequestForm
from sqlalchemy.orm import Session

from api.auth import ACCESS_TOKEN_MINUTES, SIGN_OUT_PATH, CurrentUser, create_access_token
from api.deps import ContextDep
from api.schemas.users import PasswordChange, Token, UserOut
from mom.db.base import utcnow
from mom.db.users import get_user, set_password_hash, sign_out
from mom.passwords import check_password
from mom.sign_in import AccountLocked, Attempt, SignInBackoff, SignInRules, begin_sign_in, end_sign_in
from mom.users import DUMMY_HASH, hash_password, verify_password

router = APIRouter(prefix="/auth", tags=["auth"])
_WRONG = "wrong user name or password (or the account is inactive)"


def _client_address(request: Request) -> str:
    return (request.client.host if request.client else "unknown")[:100]


@router.post("/token", response_model=Token, responses={
    401: {"description": _WRONG},
    423: {"description": "the account is locked after too many failed sign-ins: an administrator unlocks it"},
    429: {"description": "too many failed sign-ins for this user or from this address: retry after Retry-After s"}})
async def sign_in(context: ContextDep, request: Request,
                  form: Annotated[OAuth2PasswordRequestForm, Depends()]) -> Token:
    rules = SignInRules.of(context.settings)
    address = _client_address(request)
    try:
        attempt: Attempt = await context.db(lambda s: begin_sign_in(s, rules, username=form.username, address=address,
                                                                     now=utcnow()))
    except AccountLocked as exc:
        raise HTTPException(status.HTTP_423_LOCKED, str(exc)) from None
    except SignInBackoff as exc:
        raise HTTPException(status.HTTP_429_TOO_MANY_REQUESTS, str(exc),
                            headers={"Retry-After": str(exc.retry_after_s)}) from None
    stored = attempt.password_hash or DUMMY_HASH  # an unknown name costs the same time as a wrong password
    right = await context.hashing(lambda: verify_password(stored, form.password))
    succeeded = right and attempt.password_hash is not None and attempt.active

    def finish(session: Session) -> int:
        end_sign_in(session, rules, attempt, succeeded=succeeded, now=utcnow())
        return get_user(session, username=attempt.username).token_version if succeeded else 0

    version = await context.db(finish)
    if not succeeded:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, _WRONG, headers={"WWW-Authenticate": "Bearer"})
    return Token(access_token=create_access_token(context, attempt.username, version=version),
                 expires_in=ACCESS_TOKEN_MINUTES * 60)


@router.get("/me", response_model=UserOut)
async def me(context: ContextDep, user: CurrentUser) -> UserOut:
    return await context.db(lambda s: UserOut.model_validate(get_user(s, username=user.username)), write=False)


@router.post("/password", response_model=UserOut)
async def change_password(context: ContextDep, user: CurrentUser, body: PasswordChange) -> UserOut:
    """Change one's own password (it passes the policy). Every token of the user is revoked, this
    one too: sign in again with the new password."""
    if body.new_password == body.current_password:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "new_password must differ from the current one")
    check_password(body.new_password, username=user.username)
    stored = await context.db(lambda s: get_user(s, username=user.username).password_hash, write=False)
    if not await context.hashing(lambda: verify_password(stored, body.current_password)):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "current_password is wrong")
    new_hash = await context.hashing(lambda: hash_password(body.new_password))
    return await context.db(lambda s: UserOut.model_validate(
        set_password_hash(s, username=user.username, password_hash=new_hash, actor=user.username)))


@router.post(SIGN_OUT_PATH.removeprefix("/auth"), status_code=status.HTTP_204_NO_CONTENT)
async def sign_out_everywhere(context: ContextDep, user: CurrentUser) -> Response:
    """Sign out: every token of the user stops working (all their sessions, on every device)."""
    await context.db(lambda s: sign_out(s, username=user.username))
    return Response(status_code=status.HTTP_204_NO_CONTENT)
