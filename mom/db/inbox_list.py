"""Reading the task inbox: one page of open tasks for a person, in inbox order, with the total.

Built for an inbox of thousands of open tasks read by many people at once (bench/api.py):

- the page is read in the order of the partial index ``ix_human_tasks_inbox_order`` and stops
  after ``limit`` rows; its columns come back as plain tuples (no ORM objects, no ``data`` column);
- the SQL statements are built once per filter shape (which filters are given) with bound
  parameters, so a request neither rebuilds nor re-hashes them;
- the exact total is counted once per inbox revision and filter (:class:`InboxTotals`): a counter
  row that database triggers bump at every change of a task or its candidates (migration 0004).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable, Iterable, Sequence
from datetime import datetime
from functools import lru_cache
from typing import Any, NamedTuple

import sqlalchemy as sa
from sqlalchemy.orm import Session

from mom.db.base import utcnow
from mom.db.models import HumanTask, InboxRevision, TaskCandidateGroup, TaskCandidateUser
from mom.db.models.processes import LOWEST_PRIORITY, OPEN_TASK_PREDICATE
from mom.domain import TaskStatus

OPEN_STATUSES = (TaskStatus.OPEN, TaskStatus.CLAIMED)
MAX_REMEMBERED_TOTALS = 1024
"""Totals one API process remembers (one per person and filter in use)."""


class InboxEntry(NamedTuple):
    """One task of an inbox page (attribute names as on :class:`HumanTask`)."""

    id: int
    workflow_task_id: str | None
    name: str
    element_id: str
    status: TaskStatus
    workflow_id: str | None
    process_key: str | None
    process_version: int | None
    business_key: str | None
    assignee: str | None
    candidate_groups: list[str]
    candidate_users: list[str]
    lane: str | None
    due_at: datetime | None
    priority: int | None
    form_key: str | None
    form_schema: dict[str, Any]
    documentation: str | None
    context: dict[str, Any]
    four_eyes: bool
    requested_by: str | None
    signature: str | None
    created_at: datetime
    completed_at: datetime | None
    completed_by: str | None
    result: dict[str, Any] | None
    closed_reason: str | None


_TASKS = HumanTask.__table__
_GROUPS = TaskCandidateGroup.__table__
_USERS = TaskCandidateUser.__table__
_GROUPS_AT = InboxEntry._fields.index("candidate_groups")
_PAGE_COLUMNS = tuple(_TASKS.c[name] for name in InboxEntry._fields if name != "candidate_groups")
_FILTER_COLUMNS = ("process_key", "workflow_id", "business_key", "element_id")
_REVISION = sa.select(InboxRevision.__table__.c.seq).where(InboxRevision.__table__.c.id == 1)
_GROUPS_OF_TASKS = (sa.select(_GROUPS.c.task_id, _GROUPS.c.group_name)
                    .where(_GROUPS.c.task_id.in_(sa.bindparam("task_ids", expanding=True)))
                    .order_by(_GROUPS.c.task_id, _GROUPS.c.group_name))


class _Shape(NamedTuple):
    """Which filters a listing has; one pair of statements per shape."""

    open_only: bool
    per_user: bool
    mine: bool
    with_groups: bool
    overdue: bool | None
    filters: tuple[str, ...]
    at_work_centers: bool


def _offered(shape: _Shape, per_row: bool) -> sa.ColumnElement[bool]:
    """Unassigned tasks offered to the user by name or to one of their groups: checked per row
    (``EXISTS``: cheap while a page walks the inbox order and stops early, or when a filter such as
    one workflow already narrows the rows), or as one set of task ids (``IN``: cheaper for a count
    over every open task, and the only form PostgreSQL estimates well enough to walk the inbox order
    for a page)."""
    t = _TASKS.c
    by_name = _USERS.c.user_name == sa.bindparam("user")
    in_groups = _GROUPS.c.group_name.in_(sa.bindparam("groups", expanding=True))
    if per_row:
        offered = [sa.exists().where(_USERS.c.task_id == t.id, by_name)]
        if shape.with_groups:
            offered.append(sa.exists().where(_GROUPS.c.task_id == t.id, in_groups))
        return sa.and_(t.assignee.is_(None), sa.or_(*offered))
    ids: sa.Select[Any] | sa.CompoundSelect[Any] = sa.select(_USERS.c.task_id).where(by_name)
    if shape.with_groups:
        ids = sa.union_all(ids, sa.select(_GROUPS.c.task_id).where(in_groups))
    return sa.and_(t.assignee.is_(None), t.id.in_(ids))


@lru_cache(maxsize=256)
def _statements(shape: _Shape, dialect: str) -> tuple[sa.Select[Any], sa.Select[Any]]:
    """The page and the count statement for ``shape``, with bound parameters for the values."""
    t = _TASKS.c
    conditions: list[sa.ColumnElement[bool] | sa.TextClause] = [
        sa.text(f"human_tasks.{OPEN_TASK_PREDICATE}") if shape.open_only
        else t.status.in_(sa.bindparam("statuses", expanding=True))
    ]
    count_conditions = list(conditions)
    if shape.per_user:
        mine = t.assignee == sa.bindparam("user")
        if shape.mine:
            conditions.append(mine)
            count_conditions.append(mine)
        else:
            # per row on SQLite, and wherever a filter already narrows the rows (a workflow, a process...)
            per_row = dialect == "sqlite" or bool(shape.filters)
            conditions.append(sa.or_(mine, _offered(shape, per_row=per_row)))
            count_conditions.append(sa.or_(mine, _offered(shape, per_row=bool(shape.filters))))
    common: list[sa.ColumnElement[bool]] = []
    if shape.overdue is True:
        common.append(t.due_at < sa.bindparam("moment", type_=t.due_at.type))
    elif shape.overdue is False:
        common.append(sa.or_(t.due_at.is_(None), t.due_at >= sa.bindparam("moment", type_=t.due_at.type)))
    common.extend(t[name] == sa.bindparam(name) for name in shape.filters)
    if shape.at_work_centers:
        common.append(sa.or_(t.work_center.is_(None), t.work_center.in_(sa.bindparam("work_centers", expanding=True))))
    page = (sa.select(*_PAGE_COLUMNS).where(*conditions, *common)
            .order_by(t.due_at.is_(None), t.due_at,
                      sa.func.coalesce(t.priority, sa.literal_column(str(LOWEST_PRIORITY))).desc(),
                      t.created_at, t.id)
            .offset(sa.bindparam("offset", type_=sa.Integer())).limit(sa.bindparam("limit", type_=sa.Integer())))
    count = sa.select(sa.func.count(t.id)).where(*count_conditions, *common)
    return page, count


class InboxTotals:
    """Inbox totals, remembered per filter: exact while the inbox revision stays the same, and at
    most ``max_age_s`` behind it when it moved.

    ``inbox_revision.seq`` is bumped by database triggers at every change of a task or its
    candidates, by any process (migration 0004), so a total counted at revision *r* is the total of
    every later read that still sees *r*. While processes run, the revision moves many times a
    second and a recount of 10,000 open tasks costs milliseconds each time; with ``max_age_s`` > 0 a
    total counted less than that long ago (from when its revision was read) is given for a newer
    revision too: the page is always current, its total lags by at most ``max_age_s``. The revision
    is read before the count, so a count that already saw a newer commit is filed under an older
    revision. Concurrent misses of one filter wait for a single count instead of each counting. One
    per API process; thread-safe (the API runs database work in a thread pool)."""

    def __init__(self, max_entries: int = MAX_REMEMBERED_TOTALS, max_age_s: float = 0.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._max_entries = max_entries
        self._max_age_s = max_age_s
        self._clock = clock
        self._lock = threading.Lock()
        self._totals: dict[Hashable, tuple[int, float, int]] = {}  # key -> (revision, read at, total)
        self._counting: dict[Hashable, threading.Lock] = {}

    def total(self, session: Session, key: Hashable, count: Callable[[], int]) -> int:
        revision = session.connection().execute(_REVISION).scalar_one_or_none()
        if revision is None:  # a schema made without the migrations: no triggers, nothing to trust
            return count()
        read_at = self._clock()
        while True:
            with self._lock:
                known = self._totals.get(key)
                if known is not None:
                    counted_revision, counted_at, value = known
                    if counted_revision == revision or (
                            counted_revision < revision and read_at - counted_at < self._max_age_s):
                        return value
                    if counted_revision > revision:
                        return count()  # an older snapshot than the one remembered
                gate = self._counting.setdefault(key, threading.Lock())
            if gate.acquire(blocking=False):
                break
            with gate:  # another thread counts this filter now: then look again
                pass
        try:
            value = count()
            with self._lock:
                known = self._totals.get(key)
                if known is None or known[0] < revision:
                    if known is None and len(self._totals) >= self._max_entries:
                        self._totals.clear()
                    self._totals[key] = (revision, read_at, value)
            return value
        finally:
            with self._lock:
                self._counting.pop(key, None)
            gate.release()


def list_inbox(
    session: Session,
    *,
    user: str | None = None,
    groups: Iterable[str] | None = None,
    mine: bool = False,
    status: Sequence[TaskStatus] = OPEN_STATUSES,
    overdue: bool | None = None,
    process_key: str | None = None,
    workflow_id: str | None = None,
    business_key: str | None = None,
    element_id: str | None = None,
    work_centers: Iterable[str] | None = None,
    now: datetime | None = None,
    offset: int = 0,
    limit: int = 100,
    totals: InboxTotals | None = None,
) -> tuple[list[InboxEntry], int]:
    """Tasks for ``user``: assigned to them, or (unless ``mine``) unassigned and offered to one of
    ``groups`` or to them by name. ``user=None`` lists everyone's. Overdue first, then priority
    (highest first), then oldest. ``work_centers``: only steps at those work centers (or at none).

    With ``totals`` the total is counted once per inbox revision and filter; the ``overdue``
    filter moves with the clock, so such a total is always counted."""
    statuses = sorted(set(status))
    group_list = sorted(set(groups or ()))
    centers = None if work_centers is None else sorted(set(work_centers))
    given = {"process_key": process_key, "workflow_id": workflow_id, "business_key": business_key,
             "element_id": element_id}
    filters = tuple(name for name in _FILTER_COLUMNS if given[name] is not None)
    shape = _Shape(open_only=statuses == sorted(OPEN_STATUSES), per_user=user is not None, mine=mine,
                   with_groups=bool(group_list) and not mine, overdue=overdue, filters=filters,
                   at_work_centers=centers is not None)
    page, count_stmt = _statements(shape, session.get_bind().dialect.name)
    params: dict[str, Any] = {name: given[name] for name in filters}
    if not shape.open_only:
        params["statuses"] = statuses
    if user is not None:
        params["user"] = user
        if shape.with_groups:
            params["groups"] = group_list
    if overdue is not None:
        params["moment"] = now or utcnow()
    if centers is not None:
        params["work_centers"] = centers
    connection = session.connection()
    rows = connection.execute(page, {**params, "offset": offset, "limit": limit}).all()
    groups_of: dict[int, list[str]] = {row[0]: [] for row in rows}
    if rows:
        for task_id, group_name in connection.execute(_GROUPS_OF_TASKS, {"task_ids": list(groups_of)}).all():
            groups_of[task_id].append(group_name)
    items = [InboxEntry._make((*row[:_GROUPS_AT], groups_of[row[0]], list(row[_GROUPS_AT] or ()),
                               *row[_GROUPS_AT + 1:])) for row in rows]

    def count() -> int:
        return int(connection.execute(count_stmt, params).scalar_one())

    if totals is None or overdue is not None:
        return items, count()
    key = (shape, repr(sorted(params.items())))
    return items, totals.total(session, key, count)
