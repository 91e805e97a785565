"""``mom migrate PROCESS_ID --to VERSION [--dry-run]``: move running instances to a new version."""

from __future__ import annotations

import argparse
from typing import Any

from rich.table import Table

from mom.cli.common import connect, console, errors, print_json, run_async, settings
from mom.migration import audit_details, migrate_process
from mom.process_store import ProcessStore


def register(subparsers: argparse._SubParsersAction[Any]) -> None:
    p = subparsers.add_parser("migrate", help="migrate running instances to another version (replay-checked)")
    p.add_argument("process_id", metavar="PROCESS_ID")
    p.add_argument("--to", type=int, required=True, metavar="VERSION", dest="version")
    p.add_argument("--dry-run", action="store_true", help="only report per instance: safe / unsafe and why")
    p.add_argument("--by", default="cli", help="who migrates (recorded in the audit log)")
    p.add_argument("--reason", help="why (recorded in the audit log)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_migrate)


def cmd_migrate(args: argparse.Namespace) -> int:
    cfg = settings()
    store = ProcessStore.for_settings(cfg)

    async def migrate() -> int:
        client = await connect(cfg)
        try:
            verdicts = await migrate_process(client, store, args.process_id, args.version, dry_run=args.dry_run,
                                             user=args.by, reason=args.reason, proof_key=cfg.update_proof_key)
        except LookupError as exc:
            errors.print(str(exc))
            return 1
        if not args.dry_run and any(v.migrated for v in verdicts):
            _audit(cfg.effective_database_url, args, verdicts)
        if args.json:
            print_json([v.__dict__ for v in verdicts])
        else:
            title = f"{args.process_id} -> version {args.version}"
            table = Table("instance", "verdict", "migrated", "why", title=title)
            for v in verdicts:
                table.add_row(v.instance_id, "safe" if v.safe else "[red]unsafe[/red]", "yes" if v.migrated else "no",
                              "; ".join(v.reasons))
            console.print(table)
        return 0

    return run_async(migrate())


def _audit(database_url: str, args: argparse.Namespace, verdicts: list[Any]) -> None:
    from mom.db import create_database_engine, create_session_factory
    from mom.db.audit import append_audit_entry
    from mom.db.migrate import upgrade_engine
    from mom.db.transactions import writing

    versions = ProcessStore.for_settings(settings()).versions(args.process_id)
    target = next(v for v in versions if v.version == args.version)
    engine = create_database_engine(database_url)
    try:
        upgrade_engine(engine)
        with writing(create_session_factory(engine)) as session:
            for verdict in (v for v in verdicts if v.migrated):
                append_audit_entry(session, actor=args.by, action="instance.migrated", entity_type="process_instance",
                                   entity_id=verdict.instance_id, reason=args.reason,
                                   details=audit_details(verdict, target))
    finally:
        engine.dispose()
