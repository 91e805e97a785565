"""``mom audit verify`` (check the hash chain) and ``mom audit log`` (read recent entries)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from rich.table import Table
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import Session

from mom.cli.common import console, errors, print_json, settings

EXIT_INTACT, EXIT_BROKEN, EXIT_NO_DATABASE = 0, 1, 2


def register(subparsers: argparse._SubParsersAction[Any]) -> None:
    audit = subparsers.add_parser("audit", help="the hash-chained audit log")
    commands = audit.add_subparsers(dest="audit_command", metavar="COMMAND", required=True)
    verify = commands.add_parser(
        "verify", help="recompute the chain; exit 1 at the first edited, deleted or inserted entry"
    )
    _database_option(verify)
    verify.set_defaults(func=cmd_verify)
    log = commands.add_parser("log", help="show recent entries, newest first")
    _database_option(log)
    log.add_argument("--entity-type", help="e.g. 'production order', 'lot', 'human task'")
    log.add_argument("--entity-id")
    log.add_argument("--actor")
    log.add_argument("--action", help="e.g. task.approved, process.deployed, machine.command")
    log.add_argument("--limit", type=int, default=20)
    log.set_defaults(func=cmd_log)


def _database_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--database-url", help="default: MOM_DATABASE_URL or the data dir's SQLite")
    parser.add_argument("--json", action="store_true", help="machine-readable output")


def _open(args: argparse.Namespace) -> Engine | None:
    from mom.db.engine import create_database_engine

    url = args.database_url or settings().effective_database_url
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database and not Path(parsed.database).exists():
        errors.print(f"[red]no database at {parsed.database}[/]; create it with the migrations first")
        return None
    engine = create_database_engine(url)
    try:
        has_log = sa.inspect(engine).has_table("audit_entries")
    except sa.exc.OperationalError as exc:
        errors.print(f"[red]cannot open {parsed.render_as_string(hide_password=True)}[/]: {exc.orig}")
        engine.dispose()
        return None
    if not has_log:
        errors.print(f"[red]{parsed.render_as_string(hide_password=True)} has no audit log[/]: not migrated")
        engine.dispose()
        return None
    return engine


def cmd_verify(args: argparse.Namespace) -> int:
    from mom.db.audit import audit_head, verify_audit_chain

    engine = _open(args)
    if engine is None:
        return EXIT_NO_DATABASE
    try:
        with Session(engine) as session:
            broken = verify_audit_chain(session)
            head = audit_head(session)
    finally:
        engine.dispose()
    if args.json:
        print_json(
            {
                "intact": broken is None,
                "entries": head.seq,
                "head_hash": head.hash,
                "first_break": None
                if broken is None
                else {"seq": broken.seq, "kind": broken.kind, "message": broken.message},
            }
        )
    elif broken is None:
        console.print(f"[green]audit log intact[/]: {head.seq} entries, head hash {head.hash}")
        console.print("keep the head hash outside the database to detect a rewritten chain later")
    else:
        console.print(f"[bold red]audit log broken at entry {broken.seq} ({broken.kind})[/]: {broken.message}")
    return EXIT_INTACT if broken is None else EXIT_BROKEN


def cmd_log(args: argparse.Namespace) -> int:
    from mom.db.audit import list_audit_entries

    engine = _open(args)
    if engine is None:
        return EXIT_NO_DATABASE
    try:
        with Session(engine) as session:
            entries, total = list_audit_entries(
                session,
                entity_type=args.entity_type,
                entity_id=args.entity_id,
                actor=args.actor,
                action=args.action,
                limit=max(1, min(args.limit, 1000)),
            )
            rows = [
                {
                    "seq": e.seq,
                    "at": e.at.isoformat(),
                    "actor": e.actor,
                    "action": e.action,
                    "entity": f"{e.entity_type} {e.entity_id}",
                    "reason": e.reason,
                    "details": e.details,
                }
                for e in entries
            ]
    finally:
        engine.dispose()
    if args.json:
        print_json({"total": total, "entries": rows})
        return 0
    table = Table(title=f"audit log ({len(rows)} of {total})")
    for column in ("seq", "at", "actor", "action", "entity", "reason"):
        table.add_column(column)
    for row in rows:
        table.add_row(*(str(row[c] or "") for c in ("seq", "at", "actor", "action", "entity", "reason")))
    console.print(table)
    return 0
