"""What every router needs, built once per app by :func:`api.app.create_app` (no globals):
the database (sessions run in a worker thread), the Temporal client (connected on first use),
the process store, and the signed-in user with their roles.

No ``from __future__ import annotations`` here: FastAPI must resolve the dependency annotations
of :func:`require_roles`' inner function, which refer to a name imported inside it."""

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Annotated, Any, TypeVar

from fastapi import Depends, HTTPException, Request, status
from fastapi.concurrency import run_in_threadpool
from sqlalchemy.orm import Session, sessionmaker
from temporalio.client import Client

from mom import temporal_connection
from mom.db.inbox_list import InboxTotals
from mom.db.migrate import refresh_planner_statistics
from mom.db.transactions import reading, writing
from mom.process_store import ProcessStore
from mom.settings import Settings
from mom.users import Role

T = TypeVar("T")


@dataclass
class ApiContext:
    settings: Settings
    sessions: sessionmaker[Session]
    store: ProcessStore
    temporal_client: Client | None = None
    inbox_totals: InboxTotals = field(init=False)
    verified_tokens: dict[str, tuple[str, int, int]] = field(default_factory=dict)  # token -> (user, expiry, version)
    _hashing: asyncio.Semaphore = field(init=False)
    _connect_lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    _statistics_due: float = field(default_factory=time.monotonic)

    def __post_init__(self) -> None:
        self.inbox_totals = InboxTotals(max_age_s=self.settings.inbox_total_max_age_s)
        self._hashing = asyncio.Semaphore(self.settings.password_hashing_threads)

    async def hashing(self, work: Callable[[], T]) -> T:
        """Run Argon2 ``work`` (hash or verify, ~50 ms of a CPU) in a worker thread, at most
        ``password_hashing_threads`` at once: parallel sign-ins queue here instead of taking the
        threads every other request's database work needs (16 parallel sign-ins made ``GET /tasks``
        40 times slower before)."""
        async with self._hashing:
            return await run_in_threadpool(work)

    async def db(self, work: Callable[[Session], T], *, write: bool = True) -> T:
        """Run ``work(session)`` in one transaction, in a worker thread; commit when it returns.
        ``write=False`` for reads (no write lock taken on SQLite)."""

        def run() -> T:
            with (writing if write else reading)(self.sessions) as session:
                return work(session)

        result = await run_in_threadpool(run)
        if time.monotonic() >= self._statistics_due:
            await self.refresh_statistics()
        return result

    async def refresh_statistics(self) -> None:
        """Refresh the query planner's row statistics, at most every ``planner_statistics_interval_s``:
        an inbox that grew from a few tasks to thousands since the last refresh is otherwise read
        through the wrong index (13 ms instead of 0.2 ms a page of 10,000 open tasks on SQLite)."""
        self.statistics_refreshed()
        await run_in_threadpool(refresh_planner_statistics, self.sessions.kw["bind"])

    def statistics_refreshed(self) -> None:
        """The statistics were just refreshed (by the schema upgrade at start, or by us): next due later."""
        self._statistics_due = time.monotonic() + self.settings.planner_statistics_interval_s

    async def temporal(self) -> Client:
        if self.temporal_client is None:
            async with self._connect_lock:
                if self.temporal_client is None:
                    try:
                        self.temporal_client = await temporal_connection.connect(self.settings)
                    except Exception as exc:
                        raise HTTPException(
                            status.HTTP_503_SERVICE_UNAVAILABLE,
                            f"Temporal at {self.settings.temporal_address} is not reachable ({exc})",
                        ) from None
        return self.temporal_client


def get_context(request: Request) -> ApiContext:
    context: ApiContext = request.app.state.context
    return context


ContextDep = Annotated[ApiContext, Depends(get_context)]


@dataclass(frozen=True)
class Principal:
    """The signed-in user as the endpoints see it (a snapshot, not a database row)."""

    username: str
    roles: frozenset[str]
    groups: frozenset[str]
    work_centers: frozenset[str]
    must_change_password: bool = False

    @property
    def is_admin(self) -> bool:
        return Role.ADMIN in self.roles

    def has_any(self, roles: set[Role] | frozenset[Role]) -> bool:
        return self.is_admin or bool(self.roles & {r.value for r in roles})


def require_roles(*roles: Role) -> Callable[..., Any]:
    """A dependency: the signed-in user must hold one of ``roles`` (admin passes every check)."""
    from api.auth import current_user

    wanted = frozenset(roles)
    names = ", ".join(sorted(r.value for r in roles))

    async def check(request: Request, user: Annotated[Principal, Depends(current_user)]) -> Principal:
        if not user.has_any(wanted):
            raise HTTPException(
                status.HTTP_403_FORBIDDEN,
                f"{request.method} {request.url.path} needs role {names}; {user.username} has "
                f"{', '.join(sorted(user.roles)) or 'no role'}",
            )
        return user

    return check


ANY_ROLE = tuple(Role)
TASK_ROLES = (Role.OPERATOR, Role.SUPERVISOR, Role.ENGINEER)

AnyUser = Annotated[Principal, Depends(require_roles(*ANY_ROLE))]
Engineer = Annotated[Principal, Depends(require_roles(Role.ENGINEER))]
Supervisor = Annotated[Principal, Depends(require_roles(Role.SUPERVISOR))]
EngineerOrSupervisor = Annotated[Principal, Depends(require_roles(Role.ENGINEER, Role.SUPERVISOR))]
TaskWorker = Annotated[Principal, Depends(require_roles(*TASK_ROLES))]
Admin = Annotated[Principal, Depends(require_roles(Role.ADMIN))]
