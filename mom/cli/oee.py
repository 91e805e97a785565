"""``mom oee [--work-unit PATH] [--shift-date YYYY-MM-DD] [--json]``: OEE per work unit and shift
(ISO 22400: availability x effectiveness x quality ratio) from the recorded machine events, over the
shifts of each unit's calendar minus planned downtime; a shift still running counts until now."""

from __future__ import annotations

import argparse
from datetime import date
from typing import Any

from rich.table import Table

from mom.cli.common import console, errors, print_json, settings


def register(subparsers: argparse._SubParsersAction[Any]) -> None:
    oee = subparsers.add_parser("oee", help="OEE per work unit and shift, from the machine events")
    oee.add_argument("--work-unit", help="equipment path of one work unit (default: every work unit with shifts)")
    oee.add_argument("--shift-date", type=_date, default=None,
                     help="local date the shifts begin on, YYYY-MM-DD (default: today)")
    oee.add_argument("--database-url", help="default: MOM_DATABASE_URL or the data dir's SQLite")
    oee.add_argument("--json", action="store_true", help="machine-readable output")
    oee.set_defaults(func=cmd_oee)


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"--shift-date {text!r}: expected YYYY-MM-DD, e.g. 2025-03-14") from None


def _percent(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.1f} %"


def cmd_oee(args: argparse.Namespace) -> int:
    from mom.db import create_database_engine, create_session_factory
    from mom.db.errors import RecordNotFound
    from mom.oee import oee_for_shift_date

    engine = create_database_engine(args.database_url or settings().effective_database_url)
    try:
        with create_session_factory(engine)() as session:
            figures = oee_for_shift_date(session, shift_date=args.shift_date or date.today(),
                                         work_unit=args.work_unit)
    except RecordNotFound as exc:
        errors.print(f"[red]{exc}[/]")
        return 1
    finally:
        engine.dispose()
    if args.json:
        print_json([f.as_dict() for f in figures])
        return 0
    table = Table(title="OEE (ISO 22400)")
    for column in ("work unit", "shift", "from", "to", "PBT s", "APT s", "PQ", "GQ", "availability",
                   "effectiveness", "quality", "OEE"):
        table.add_column(column)
    for f in figures:
        table.add_row(f.work_unit, f.shift, f.starts_at.isoformat(timespec="minutes"),
                      f.ends_at.isoformat(timespec="minutes"), f"{f.planned_busy_time_s:.0f}",
                      f"{f.actual_production_time_s:.0f}", str(f.produced_quantity), str(f.good_quantity),
                      _percent(f.availability), _percent(f.effectiveness), _percent(f.quality_ratio), _percent(f.oee))
    console.print(table)
    if not figures:
        console.print("no shifts on that date (add shifts to the work units or their work center)")
    return 0
