"""OAuth2 password flow with short-lived JWT access tokens (HS256, signed with
``settings.signing_secret``). Every request re-reads the user, so a deactivated account or a changed
role takes effect at once.

Revocation: a token carries the user's token version (claim ``ver``) when it was issued; a password
change or reset, a deactivation and a sign-out bump the version (mom.db.users.revoke_tokens), so
every token issued before is refused at its next request, naming why. The version is read in the
same one-row statement as the user's rights, which runs on every request anyway: revocation costs
no extra query and holds at once in every API process (nothing is cached across requests but the
signature check)."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Annotated

import jwt
import sqlalchemy as sa
from fastapi import Depends, HTTPException, Request, status
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy.orm import Session

from api.deps import ApiContext, ContextDep, Principal
from mom.db.models import User

ALGORITHM = "HS256"
ACCESS_TOKEN_MINUTES = 30
TOKEN_URL = "/auth/token"
PASSWORD_CHANGE_PATH = "/auth/password"
SIGN_OUT_PATH = "/auth/sign-out"
BEFORE_PASSWORD_CHANGE = frozenset({PASSWORD_CHANGE_PATH, SIGN_OUT_PATH})
"""What a user with a one-time password may do before choosing their own."""

oauth2_scheme = OAuth2PasswordBearer(tokenUrl=TOKEN_URL, auto_error=False)


def _unauthorized(reason: str) -> HTTPException:
    return HTTPException(status.HTTP_401_UNAUTHORIZED, reason, headers={"WWW-Authenticate": "Bearer"})


def create_access_token(context: ApiContext, username: str, *, version: int,
                        minutes: int = ACCESS_TOKEN_MINUTES) -> str:
    now = datetime.now(UTC)
    claims = {"sub": username, "iat": now, "exp": now + timedelta(minutes=minutes), "jti": uuid.uuid4().hex,
              "ver": version}
    return jwt.encode(claims, context.settings.signing_secret, algorithm=ALGORITHM)


MAX_VERIFIED_TOKENS = 4096
"""Signature-checked tokens an API process remembers (a token is re-sent with every request of a
session: checking the HS256 signature and claims once saves ~0.5 ms a request)."""
_EXPIRED = "access token expired; sign in again at POST /auth/token"


def decode_access_token(context: ApiContext, token: str) -> tuple[str, int]:
    """The user name and token version in a valid token, else 401 naming why. A token verified
    before is only checked for expiry again (its signature and claims cannot have changed)."""
    known = context.verified_tokens.get(token)
    if known is not None:
        username, expires, version = known
        if expires <= time.time():  # as PyJWT decides it, without leeway
            raise _unauthorized(_EXPIRED)
        return username, version
    try:
        claims = jwt.decode(token, context.settings.signing_secret, algorithms=[ALGORITHM],
                            options={"require": ["sub", "exp"]})
    except jwt.ExpiredSignatureError:
        raise _unauthorized(_EXPIRED) from None
    except jwt.InvalidTokenError as exc:
        raise _unauthorized(f"access token invalid ({exc})") from None
    if len(context.verified_tokens) >= MAX_VERIFIED_TOKENS:
        context.verified_tokens.clear()
    version = claims.get("ver", 0)
    if not isinstance(version, int):
        raise _unauthorized("access token invalid (claim 'ver' is not an integer)")
    context.verified_tokens[token] = (str(claims["sub"]), int(claims["exp"]), version)
    return str(claims["sub"]), version


_USERS = User.__table__
_RIGHTS = sa.select(_USERS.c.username, _USERS.c.active, _USERS.c.roles, _USERS.c.groups, _USERS.c.work_centers,
                    _USERS.c.must_change_password, _USERS.c.token_version, _USERS.c.tokens_revoked_at,
                    _USERS.c.tokens_revoked_reason).where(_USERS.c.username == sa.bindparam("username"))
"""The signed-in user's rights and token version: one statement, built once (it runs on every request)."""


def _principal(session: Session, username: str, version: int) -> Principal | str:
    """The user, or why their token no longer works."""
    user = session.connection().execute(_RIGHTS, {"username": username}).one_or_none()
    if user is None:
        return f"user '{username}' no longer exists"
    if not user.active:
        return f"user '{username}' is deactivated"
    if version != user.token_version:
        when = user.tokens_revoked_at
        at = f" at {when:%Y-%m-%d %H:%M:%S} UTC" if isinstance(when, datetime) else ""
        return (f"access token revoked ({user.tokens_revoked_reason or 'revoked'}{at}): "
                f"sign in again at POST /auth/token")
    return Principal(user.username, frozenset(user.roles), frozenset(user.groups), frozenset(user.work_centers),
                     user.must_change_password)


async def current_user(
    request: Request, context: ContextDep, token: Annotated[str | None, Depends(oauth2_scheme)]
) -> Principal:
    if not token:
        raise _unauthorized("not signed in: send 'Authorization: Bearer <token>' from POST /auth/token")
    username, version = decode_access_token(context, token)
    user = await context.db(lambda s: _principal(s, username, version), write=False)
    if isinstance(user, str):
        raise _unauthorized(user)
    if user.must_change_password and request.url.path not in BEFORE_PASSWORD_CHANGE:
        raise HTTPException(status.HTTP_403_FORBIDDEN,
                            f"{username} must change the one-time password first (POST {PASSWORD_CHANGE_PATH})")
    return user


CurrentUser = Annotated[Principal, Depends(current_user)]
