"""Who sees which open task in the inbox (candidate users kept in their own table since migration
0003, candidate groups) and in which order: overdue first, then priority, then oldest."""

from __future__ import annotations

import secrets
import uuid
from typing import Any

from api_client import Api

from mom.db import create_database_engine, create_session_factory
from mom.db.inbox import open_workflow_tasks
from mom.db.transactions import writing


def open_tasks(url: str, process_key: str, views: list[dict[str, Any]]) -> None:
    engine = create_database_engine(url)
    try:
        with writing(create_session_factory(engine)) as session:
            for n, view in enumerate(views):
                open_workflow_tasks(session, workflow_id=f"{process_key}-{n}", process_key=process_key,
                                    tasks=[{"task_id": str(uuid.uuid4()), "element_id": f"step{n}", **view}])
    finally:
        engine.dispose()


async def test_offered_by_name_or_group_in_inbox_order(api: Api) -> None:
    process_key = f"offers_{secrets.token_hex(3)}"
    open_tasks(api.database.url, process_key, [
        {"name": "for otto by name", "candidate_users": ["otto"], "priority": 10},
        {"name": "for operators, urgent", "candidate_groups": ["operators"], "priority": 90},
        {"name": "for operators, overdue", "candidate_groups": ["operators"], "due_date": "2020-01-01T00:00:00"},
        {"name": "for supervisors", "candidate_groups": ["supervisors"], "priority": 99},
        {"name": "for olga by name", "candidate_users": ["olga"]},
    ])
    otto = await api.get("/tasks", "otto", params={"process_id": process_key})
    assert [t["name"] for t in otto.json()["items"]] == [
        "for operators, overdue", "for operators, urgent", "for otto by name"]
    assert otto.json()["items"][2]["candidate_users"] == ["otto"]
    olga = await api.get("/tasks", "olga", params={"process_id": process_key})
    assert [t["name"] for t in olga.json()["items"]] == [
        "for operators, overdue", "for operators, urgent", "for olga by name"]
    everyone = await api.get("/tasks", "sam", params={"scope": "all", "process_id": process_key})
    assert everyone.json()["total"] == 5
    assert (await api.get("/tasks", "sam", params={"process_id": process_key})).json()["total"] == 1


def planner_rows(url: str) -> float:
    """The rows of human_tasks as the query planner last counted them (0 if never counted)."""
    engine = create_database_engine(url)
    try:
        with engine.connect() as connection:
            if engine.dialect.name == "sqlite":
                stat = connection.exec_driver_sql(
                    "SELECT stat FROM sqlite_stat1 WHERE tbl = 'human_tasks' AND idx IS NULL OR "
                    "tbl = 'human_tasks' AND idx = 'ix_human_tasks_inbox_order'").scalars().first()
                return float(stat.split()[0]) if stat else 0.0
            return float(connection.exec_driver_sql(
                "SELECT reltuples FROM pg_class WHERE oid = 'human_tasks'::regclass").scalar_one())
    finally:
        engine.dispose()


async def test_the_api_refreshes_planner_statistics_as_the_inbox_grows(api: Api, app: Any) -> None:
    """SQLite keeps no row statistics by itself: without a refresh an inbox that grew since the API
    started is read through the wrong index. The API refreshes them every planner_statistics_interval_s."""
    context = app.state.context
    await api.get("/tasks", "sam")  # statistics as the start-up schema upgrade left them
    before = planner_rows(api.database.url)
    process_key = f"growth_{secrets.token_hex(3)}"
    open_tasks(api.database.url, process_key, [{"name": f"lot {n}", "candidate_groups": ["supervisors"]}
                                               for n in range(400)])
    await api.get("/tasks", "sam")
    assert planner_rows(api.database.url) == before  # not yet due
    context._statistics_due = 0.0  # the interval has passed
    assert (await api.get("/tasks", "sam", params={"process_id": process_key})).json()["total"] == 400
    assert planner_rows(api.database.url) >= before + 400
    assert context._statistics_due > 0.0
