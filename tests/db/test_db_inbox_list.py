"""The inbox listing and its remembered totals (mom.db.inbox_list), on SQLite and PostgreSQL.

A total is remembered per filter until the inbox revision changes; the revision is bumped by
triggers (migration 0004) at every change of a task or its candidates, whoever makes it. These
tests change the inbox through other connections, as the worker process does, and compare every
remembered total with a fresh count."""

from __future__ import annotations

import secrets
import threading
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from mom.db import create_session_factory
from mom.db.inbox import get_task_by_workflow_id, mark_task_completed, open_workflow_tasks, set_task_assignee
from mom.db.inbox_list import InboxTotals, list_inbox
from mom.db.migrate import upgrade_database
from mom.db.models import TaskCandidateGroup
from mom.domain import TaskStatus

SUPERVISOR = {"user": "sam", "groups": ["supervisors"]}


@pytest.fixture
def migrated_engine(empty_database: Any) -> Iterator[Engine]:
    """A database of its own per test: these tests commit (other connections must see the changes),
    so they stay out of the shared session database that other tests count audit entries in."""
    upgrade_database(empty_database.url, connect_args=empty_database.connect_args, actor="pytest")
    engine = empty_database.engine()
    yield engine
    engine.dispose()


@pytest.fixture
def sessions(migrated_engine: Engine) -> sessionmaker[Session]:
    return create_session_factory(migrated_engine)


@pytest.fixture
def process_key() -> str:
    return f"inbox_{secrets.token_hex(4)}"


def open_tasks(sessions: sessionmaker[Session], process_key: str, count: int, **view: Any) -> list[str]:
    ids = [str(uuid.uuid4()) for _ in range(count)]
    with sessions() as session, session.begin():
        for n, task_id in enumerate(ids):
            open_workflow_tasks(session, workflow_id=f"{process_key}-{task_id}", process_key=process_key,
                                tasks=[{"task_id": task_id, "element_id": f"step{n}", "name": f"Step {n}",
                                        "candidate_groups": ["supervisors"], **view}])
    return ids


def revision(engine: Engine) -> int:
    with engine.connect() as connection:
        return int(connection.exec_driver_sql("SELECT seq FROM inbox_revision WHERE id = 1").scalar_one())


def listed(sessions: sessionmaker[Session], process_key: str, totals: InboxTotals | None,
           **filters: Any) -> tuple[list[str], int]:
    with sessions() as session, session.begin():
        items, total = list_inbox(session, process_key=process_key, totals=totals, limit=500,
                                  **{**SUPERVISOR, **filters})
    return [item.workflow_task_id or "" for item in items], total


@pytest.fixture
def count_statements(migrated_engine: Engine) -> Iterator[list[str]]:
    """The COUNT statements run on the engine while the test runs."""
    seen: list[str] = []

    def record(*args: Any) -> None:
        if args[2].lstrip().upper().startswith("SELECT COUNT"):
            seen.append(args[2])

    sa.event.listen(migrated_engine, "before_cursor_execute", record)
    yield seen
    sa.event.remove(migrated_engine, "before_cursor_execute", record)


def test_every_change_of_a_task_or_its_candidates_bumps_the_revision(
    migrated_engine: Engine, sessions: sessionmaker[Session], process_key: str
) -> None:
    steps: list[tuple[str, Any]] = []
    before = revision(migrated_engine)
    [task_id] = open_tasks(sessions, process_key, 1, candidate_users=["olga"])
    steps.append(("open", revision(migrated_engine)))
    with sessions() as session, session.begin():
        set_task_assignee(session, task=get_task_by_workflow_id(session, workflow_task_id=task_id), assignee="sam",
                          actor="sam")
    steps.append(("claim", revision(migrated_engine)))
    with migrated_engine.begin() as connection:
        task = connection.exec_driver_sql(f"SELECT id FROM human_tasks WHERE workflow_task_id = '{task_id}'").scalar()
        connection.exec_driver_sql(f"UPDATE task_candidate_groups SET group_name = 'planners' WHERE task_id = {task}")
    steps.append(("candidate group renamed", revision(migrated_engine)))
    with migrated_engine.begin() as connection:
        connection.exec_driver_sql(f"DELETE FROM task_candidate_users WHERE task_id = {task}")
    steps.append(("candidate user removed", revision(migrated_engine)))
    with migrated_engine.begin() as connection:
        connection.exec_driver_sql(f"INSERT INTO task_candidate_users (task_id, user_name) VALUES ({task}, 'otto')")
    steps.append(("candidate user added", revision(migrated_engine)))
    with migrated_engine.begin() as connection:
        connection.exec_driver_sql(f"DELETE FROM human_tasks WHERE id = {task}")
    steps.append(("task deleted", revision(migrated_engine)))
    previous = before
    for name, seen in steps:
        assert seen > previous, f"{name}: the inbox revision stayed at {previous}"
        previous = seen


def test_a_remembered_total_is_counted_once_and_follows_every_change(
    sessions: sessionmaker[Session], process_key: str, count_statements: list[str]
) -> None:
    totals = InboxTotals()
    ids = open_tasks(sessions, process_key, 5)
    assert listed(sessions, process_key, totals)[1] == 5
    counted = len(count_statements)
    for _ in range(3):
        assert listed(sessions, process_key, totals)[1] == 5
    assert len(count_statements) == counted, "the remembered total was counted again with no change"
    assert listed(sessions, process_key, totals) == listed(sessions, process_key, None)

    def check(expected: int, why: str) -> None:
        remembered = listed(sessions, process_key, totals)
        fresh = listed(sessions, process_key, None)
        assert remembered == fresh and fresh[1] == expected, (
            f"after {why}: {remembered[1]} remembered, {fresh[1]} counted, {expected} expected")

    open_tasks(sessions, process_key, 2)  # another connection, as the worker's inbox activity
    check(7, "two tasks opened")
    with sessions() as session, session.begin():
        task = get_task_by_workflow_id(session, workflow_task_id=ids[0])
        set_task_assignee(session, task=task, assignee="olga", actor="olga")
    check(6, "a task claimed by someone else")
    with sessions() as session, session.begin():
        task = get_task_by_workflow_id(session, workflow_task_id=ids[1])
        assert mark_task_completed(session, task=task, user="sam", result={"ok": True})
    check(5, "a task completed")
    with sessions() as session, session.begin():
        task = get_task_by_workflow_id(session, workflow_task_id=ids[2])
        session.execute(sa.delete(TaskCandidateGroup).where(TaskCandidateGroup.task_id == task.id))
    check(4, "a task's candidate group removed")
    # each filter has a total of its own
    assert listed(sessions, process_key, totals, mine=True)[1] == 0
    assert listed(sessions, process_key, totals, user="olga", groups=[])[1] == 1
    assert listed(sessions, process_key, totals, status=[TaskStatus.COMPLETED])[1] == 1
    assert listed(sessions, process_key, totals)[1] == 4


def test_concurrent_readers_share_one_count_and_see_the_final_total(
    sessions: sessionmaker[Session], process_key: str
) -> None:
    totals = InboxTotals()
    open_tasks(sessions, process_key, 3)
    errors: list[str] = []
    seen: list[int] = []
    writer_done = threading.Event()

    def read() -> None:
        try:
            while not writer_done.is_set():
                seen.append(listed(sessions, process_key, totals)[1])
            ids, total = listed(sessions, process_key, totals)
            if total != len(ids) or total != 13:
                errors.append(f"after the writes: total {total}, {len(ids)} rows, 13 expected")
        except Exception as exc:
            errors.append(repr(exc))

    readers = [threading.Thread(target=read) for _ in range(6)]
    for reader in readers:
        reader.start()
    for _ in range(10):
        open_tasks(sessions, process_key, 1)
    writer_done.set()
    for reader in readers:
        reader.join(timeout=120)
    assert not errors, errors
    assert seen and min(seen) >= 3 and max(seen) <= 13


def test_page_and_total_show_exactly_the_tasks_offered_to_each_person(
    sessions: sessionmaker[Session], process_key: str
) -> None:
    """Assigned to me, offered to me by name, offered to one of my groups, or none of these: the page
    and the total, checked per row or as one set of offered task ids (which one depends on the
    database and the filters), must agree with each other and with who should see what, for every
    kind of viewer, including tasks offered to me both ways. (This test has a database of its own.)"""
    views = [
        {"candidate_groups": ["supervisors"]},
        {"candidate_groups": ["planners"]},
        {"candidate_groups": ["supervisors", "planners"]},
        {"candidate_groups": [], "candidate_users": ["olga"]},
        {"candidate_groups": ["planners"], "candidate_users": ["olga"]},
        {"candidate_groups": ["supervisors"], "candidate_users": ["olga"]},
        {"candidate_groups": [], "candidate_users": ["otto"]},
    ]
    offered: dict[str, dict[str, Any]] = {}
    for view in views:
        for task_id in open_tasks(sessions, process_key, 2, **view):
            offered[task_id] = {"groups": set(view["candidate_groups"]), "users": set(view.get("candidate_users", []))}
    claimed = {next(iter(offered)): "olga", list(offered)[5]: "sam"}  # an assignee hides it from the others
    with sessions() as session, session.begin():
        for task_id, who in claimed.items():
            set_task_assignee(session, task=get_task_by_workflow_id(session, workflow_task_id=task_id), assignee=who,
                              actor=who)
    viewers = [("sam", ["supervisors"]), ("olga", []), ("olga", ["planners"]), ("otto", ["supervisors", "planners"]),
               ("nobody", []), ("pia", ["planners"])]
    for user, groups in viewers:
        expected = {task_id for task_id, offer in offered.items()
                    if claimed.get(task_id) == user
                    or (task_id not in claimed and (user in offer["users"] or offer["groups"] & set(groups)))}
        for totals in (None, InboxTotals()):
            for key in (process_key, None):  # a filter (per-row checks) and none (one set of offered ids)
                ids, total = listed(sessions, key, totals, user=user, groups=groups)  # type: ignore[arg-type]
                assert set(ids) == expected and len(ids) == len(expected), (user, groups, key)
                assert total == len(expected), (user, groups, key, total)
        mine, mine_total = listed(sessions, process_key, None, user=user, groups=groups, mine=True)
        assert set(mine) == {t for t, who in claimed.items() if who == user} and mine_total == len(mine)


def test_a_total_lags_the_inbox_by_at_most_max_age(sessions: sessionmaker[Session], process_key: str,
                                                    count_statements: list[str]) -> None:
    """With max_age_s, a total counted at an older revision is given until it is max_age_s old
    (measured from when its revision was read); the page is current all along."""
    now = [100.0]
    totals = InboxTotals(max_age_s=1.0, clock=lambda: now[0])
    open_tasks(sessions, process_key, 3)
    assert listed(sessions, process_key, totals)[1] == 3
    counted = len(count_statements)
    open_tasks(sessions, process_key, 2)
    now[0] += 0.5
    ids, total = listed(sessions, process_key, totals)
    assert len(ids) == 5 and total == 3, "within max_age the total may lag, the page may not"
    assert len(count_statements) == counted
    now[0] += 0.6  # the remembered total is now 1.1 s old
    assert listed(sessions, process_key, totals)[1] == 5
    assert len(count_statements) == counted + 1
    now[0] += 5.0  # old, but the inbox did not change since: still exact, not counted again
    assert listed(sessions, process_key, totals)[1] == 5
    assert len(count_statements) == counted + 1
