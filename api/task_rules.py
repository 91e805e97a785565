"""Who may act on an inbox task: the assignee, else a candidate user or a member of a candidate
group; an operator only at their work centers; with four-eyes, never the requester."""

from __future__ import annotations

from fastapi import HTTPException, status

from api.deps import Principal
from mom.db.models import HumanTask
from mom.users import Role

OVERSEERS = frozenset({Role.SUPERVISOR, Role.ADMIN})


def offered_to(task: HumanTask, user: Principal) -> bool:
    """Is the task for ``user`` (ignoring who claimed it)?"""
    groups, users = set(task.candidate_groups), set(task.candidate_users or [])
    if not groups and not users:
        return True  # offered to anyone allowed to work on tasks
    return user.username in users or bool(groups & user.groups)


def check_may_work_on(task: HumanTask, user: Principal, *, action: str) -> None:
    ref = f"task {task.workflow_task_id} ({task.name})"
    if task.assignee is not None and task.assignee != user.username:
        raise HTTPException(status.HTTP_403_FORBIDDEN, f"{ref} is assigned to {task.assignee}; {user.username} "
                            f"may not {action} it")
    if task.assignee is None and not offered_to(task, user):
        raise HTTPException(status.HTTP_403_FORBIDDEN,
                            f"{ref} is offered to groups {task.candidate_groups} and users {task.candidate_users}; "
                            f"{user.username} is in groups {sorted(user.groups)}")
    if operator_only(user) and task.work_center and task.work_center not in user.work_centers:
        raise HTTPException(status.HTTP_403_FORBIDDEN, f"{ref} is at work center {task.work_center}; operator "
                            f"{user.username} works at {sorted(user.work_centers)}")
    if action == "complete" and task.four_eyes and task.requested_by == user.username:
        raise HTTPException(status.HTTP_403_FORBIDDEN, f"{ref} needs four eyes: {user.username} requested it and "
                            "may not also approve it")


def operator_only(user: Principal) -> bool:
    """An operator without supervisor/engineer/admin rights: sees and works only at their work centers."""
    return Role.OPERATOR in user.roles and not (user.roles & {r.value for r in OVERSEERS | {Role.ENGINEER}})
