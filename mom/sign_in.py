"""Sign-in protection: back-off per user and per client address, lockout, admin unlock.

How a sign-in goes (``POST /auth/token``, api.routers.auth):

1. :func:`begin_sign_in`, one write transaction with the user's row and the address's row locked:
   a locked account is refused (:class:`AccountLocked`, even with the right password); a user or
   address still in its back-off is refused (:class:`SignInBackoff`, 429 with ``Retry-After``). Else
   the attempt is **charged as a failure before the password is checked**: attempts that run at
   once in several API processes each see the ones before them, so 40 parallel guesses cannot all
   pass the check together.
2. The password is verified outside any transaction, on a bounded number of threads (Argon2 costs
   ~50 ms of a CPU: the event loop and the database threads stay free for the other requests).
3. :func:`end_sign_in`: a success clears the user's failures and takes back the address's charge;
   a failure that reaches ``sign_in_lockout_after`` in a row locks the account (audited).

The back-off after ``n`` failures (``n`` >= the threshold) is ``base * 2 ** (n - threshold)``
seconds from the last failure, at most ``sign_in_backoff_max_s``. The counters live in the
database (``users.failed_sign_ins``, ``sign_in_addresses``): every API process sees the same ones.
An address's failures are forgotten after ``sign_in_address_window_s`` without one (a shared
address, like a proxy or a shop-floor terminal, recovers by itself); a user's stay until a
successful sign-in or an admin's unlock.

Known trade-off: a lockout lets anyone who knows a user name lock that account (the cost of
stopping a slow guesser); an administrator unlocks it (``mom users unlock NAME``,
``POST /users/{name}/unlock``, the Users page), and the CLI works when every administrator is locked.
Unknown user names are counted per address only (they have no row), so after many failures a
locked answer tells an existing name from an unknown one.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from mom.db.audit import append_audit_entry
from mom.db.models import SignInAddress, User
from mom.settings import Settings


@dataclass(frozen=True)
class SignInRules:
    backoff_after: int
    lockout_after: int
    base_s: float
    max_s: float
    address_backoff_after: int
    address_window_s: float

    @classmethod
    def of(cls, settings: Settings) -> SignInRules:
        return cls(settings.sign_in_backoff_after, settings.sign_in_lockout_after, settings.sign_in_backoff_base_s,
                   settings.sign_in_backoff_max_s, settings.sign_in_address_backoff_after,
                   settings.sign_in_address_window_s)

    def backoff_s(self, failures: int, threshold: int) -> float:
        """Seconds to wait after the last of ``failures`` failures (0 below ``threshold``)."""
        if failures < threshold:
            return 0.0
        return min(self.base_s * 2.0 ** min(failures - threshold, 60), self.max_s)


class SignInRefused(Exception):
    """The attempt is refused before its password is checked."""


class AccountLocked(SignInRefused):
    pass


class SignInBackoff(SignInRefused):
    def __init__(self, message: str, retry_after_s: float) -> None:
        super().__init__(message)
        self.retry_after_s = max(1, math.ceil(retry_after_s))


@dataclass(frozen=True)
class Attempt:
    username: str
    address: str
    password_hash: str | None  # None: no such user (a dummy hash is checked instead)
    active: bool


def _locked(session: Session, username: str) -> User | None:
    return session.execute(sa.select(User).where(User.username == username).with_for_update()).scalar_one_or_none()


def _address_row(session: Session, address: str, now: datetime, window: timedelta) -> SignInAddress:
    dialect = session.get_bind().dialect.name
    insert = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(SignInAddress)
    created = session.execute(insert.values(address=address, failures=0, last_failure_at=now)
                              .on_conflict_do_nothing(index_elements=["address"]))
    if getattr(created, "rowcount", 0):  # a new address: forget the others' stale failures (keeps the table small)
        session.execute(sa.delete(SignInAddress).where(SignInAddress.last_failure_at < now - window,
                                                       SignInAddress.address != address))
    row = session.execute(sa.select(SignInAddress).where(SignInAddress.address == address)
                          .with_for_update()).scalar_one()
    if now - row.last_failure_at > window:
        row.failures = 0
    return row


def begin_sign_in(session: Session, rules: SignInRules, *, username: str, address: str, now: datetime) -> Attempt:
    """Refuse the attempt (locked, backing off), or charge it as a failure and return what to check."""
    user = _locked(session, username)
    if user is not None and user.locked_at is not None:
        raise AccountLocked(f"user '{username}' is locked after {user.failed_sign_ins} failed sign-ins in a row "
                            f"(since {user.locked_at:%Y-%m-%d %H:%M:%S} UTC): an administrator unlocks it "
                            f"(mom users unlock {username}, or POST /users/{username}/unlock)")
    window = timedelta(seconds=rules.address_window_s)
    source = _address_row(session, address, now, window)
    if user is not None and user.last_failed_sign_in_at is not None:
        wait = rules.backoff_s(user.failed_sign_ins, rules.backoff_after)
        left = (user.last_failed_sign_in_at + timedelta(seconds=wait) - now).total_seconds()
        if left > 0:
            raise SignInBackoff(f"too many failed sign-ins for user '{username}' ({user.failed_sign_ins} in a row): "
                                f"wait {math.ceil(left)} s before the next try (Retry-After)", left)
    wait = rules.backoff_s(source.failures, rules.address_backoff_after)
    left = (source.last_failure_at + timedelta(seconds=wait) - now).total_seconds()
    if wait and left > 0:
        raise SignInBackoff(f"too many failed sign-ins from {address} ({source.failures} within "
                            f"{rules.address_window_s:g} s): wait {math.ceil(left)} s before the next try "
                            f"(Retry-After)", left)
    source.failures += 1
    source.last_failure_at = now
    if user is None:
        return Attempt(username, address, None, False)
    user.failed_sign_ins += 1
    user.last_failed_sign_in_at = now
    return Attempt(username, address, user.password_hash, user.active)


def end_sign_in(session: Session, rules: SignInRules, attempt: Attempt, *, succeeded: bool, now: datetime) -> None:
    """Take back the charge of a successful attempt, or lock the account at the lockout threshold."""
    if succeeded:
        session.execute(sa.update(User).where(User.username == attempt.username)
                        .values(failed_sign_ins=0, last_failed_sign_in_at=None))
        session.execute(sa.update(SignInAddress).where(SignInAddress.address == attempt.address,
                                                       SignInAddress.failures > 0)
                        .values(failures=SignInAddress.failures - 1))
        return
    if attempt.password_hash is None:
        return
    locked = session.execute(sa.update(User).where(User.username == attempt.username, User.locked_at.is_(None),
                                                   User.failed_sign_ins >= rules.lockout_after)
                             .values(locked_at=now).returning(User.failed_sign_ins)).scalar_one_or_none()
    if locked is not None:
        append_audit_entry(session, actor="sign-in", action="user.locked", entity_type="user",
                           entity_id=attempt.username, details={"failed_sign_ins": locked, "address": attempt.address})
