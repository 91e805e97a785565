"""``mom users add|list|passwd|unlock``: the people who sign in to the API, their roles and groups."""

from __future__ import annotations

import argparse
import getpass
import os
from typing import Any

from rich.table import Table

from mom.cli.common import console, errors, print_json, settings
from mom.db import RecordConflict, RecordNotFound, create_database_engine, create_session_factory
from mom.db.migrate import upgrade_engine
from mom.db.transactions import writing
from mom.db.users import list_users, unlock_user
from mom.users import Role, add_user, check_password, set_password

PASSWORD_ENV = "MOM_NEW_PASSWORD"


def register(subparsers: argparse._SubParsersAction[Any]) -> None:
    users = subparsers.add_parser("users", help="API users: add, list, change passwords, unlock")
    commands = users.add_subparsers(dest="users_command", metavar="COMMAND", required=True)
    add = commands.add_parser("add", help="create a user (password asked, or from $MOM_NEW_PASSWORD)")
    add.add_argument("username")
    add.add_argument("--role", action="append", choices=[r.value for r in Role], default=[],
                     help="repeat for several roles")
    add.add_argument("--group", action="append", default=[], help="a BPMN candidate group; repeat for several")
    add.add_argument("--work-center", action="append", default=[], help="equipment path scoping an operator")
    add.add_argument("--full-name")
    add.set_defaults(func=cmd_add)
    show = commands.add_parser("list", help="list users and their roles")
    show.add_argument("--json", action="store_true")
    show.set_defaults(func=cmd_list)
    passwd = commands.add_parser("passwd", help="set a user's password (they must change it at next sign-in)")
    passwd.add_argument("username")
    passwd.add_argument("--keep", action="store_true", help="do not force a change at the next sign-in")
    passwd.set_defaults(func=cmd_passwd)
    unlock = commands.add_parser("unlock", help="unlock a user locked after too many failed sign-ins")
    unlock.add_argument("username")
    unlock.set_defaults(func=cmd_unlock)


def _new_password(username: str) -> str:
    password = os.environ.get(PASSWORD_ENV)
    if password is None:
        password = getpass.getpass("new password: ")
        if getpass.getpass("again: ") != password:
            raise SystemExit("the two passwords differ")
    try:
        check_password(password, username=username)
    except ValueError as exc:
        raise SystemExit(str(exc)) from None
    return password


def _sessions() -> Any:
    engine = create_database_engine(settings().effective_database_url)
    upgrade_engine(engine)
    return create_session_factory(engine)


def cmd_add(args: argparse.Namespace) -> int:
    password = _new_password(args.username)
    try:
        with writing(_sessions()) as session:
            add_user(session, username=args.username, password=password, actor="cli", roles=args.role,
                     groups=args.group, work_centers=args.work_center, full_name=args.full_name)
    except (RecordConflict, ValueError) as exc:
        errors.print(f"[red]{exc}[/red]")
        return 1
    console.print(f"user {args.username} created with roles {sorted(args.role) or 'none'}")
    return 0


def cmd_list(args: argparse.Namespace) -> int:
    with _sessions()() as session:
        items, _ = list_users(session, limit=1000)
        rows: list[dict[str, Any]] = [
            {"username": u.username, "roles": u.roles, "groups": u.groups, "work_centers": u.work_centers,
             "active": u.active, "must_change_password": u.must_change_password, "locked": u.locked_at is not None}
            for u in items
        ]
    if args.json:
        print_json(rows)
        return 0
    table = Table("user", "roles", "groups", "work centers", "active", "locked")
    for row in rows:
        table.add_row(row["username"], ", ".join(row["roles"]), ", ".join(row["groups"]),
                      ", ".join(row["work_centers"]), "yes" if row["active"] else "no",
                      "yes" if row["locked"] else "no")
    console.print(table)
    return 0


def cmd_passwd(args: argparse.Namespace) -> int:
    password = _new_password(args.username)
    try:
        with writing(_sessions()) as session:
            set_password(session, username=args.username, password=password, actor="cli", must_change=not args.keep)
    except RecordNotFound as exc:
        errors.print(f"[red]{exc}[/red]")
        return 1
    console.print(f"password of {args.username} changed (their tokens no longer work; the account is unlocked)")
    return 0


def cmd_unlock(args: argparse.Namespace) -> int:
    try:
        with writing(_sessions()) as session:
            user = unlock_user(session, username=args.username, actor="cli")
            active = user.active
    except RecordNotFound as exc:
        errors.print(f"[red]{exc}[/red]")
        return 1
    console.print(f"{args.username} unlocked" + ("" if active else " (the account is still deactivated)"))
    return 0
