"""``mom monitor``: the machine monitor next to the machines of a site.

    mom monitor --site Acme.Lyon --rule JAM=machine_breakdown --rule OVERTEMP=machine_breakdown

Reads the work units with an OPC UA endpoint below ``--site`` from the database, subscribes to
their states, counters, job statuses and alarms, records them (``machine_events``), and starts
the exception process of a rule when a machine raises that alarm. Runs until Ctrl-C (or
``--duration`` seconds). Exit status: 0 stopped, 1 nothing to monitor, 2 usage error.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
from typing import Any

from mom.cli.common import connect, console, errors, settings


def register(subparsers: argparse._SubParsersAction[Any]) -> None:
    p = subparsers.add_parser("monitor", help="record machine states and alarms; start exception processes")
    p.add_argument("--site", metavar="PATH", help="equipment path to monitor below (default: every work unit)")
    p.add_argument("--rule", action="append", default=[], metavar="ALARM=PROCESS",
                   help="start PROCESS when a machine raises ALARM (repeatable), e.g. JAM=machine_breakdown")
    p.add_argument("--drift", metavar="SIGNAL:WARN_AT:ALARM_LIMIT",
                   help="early warning: start preventive_maintenance when SIGNAL (e.g. ToolWear) reaches WARN_AT "
                        "or trends towards ALARM_LIMIT, e.g. ToolWear:0.7:1.0")
    p.add_argument("--task-queue", help="queue of the exception processes (default: MOM_TASK_QUEUE)")
    p.add_argument("--batch", type=int, default=500, help="machine events per database transaction, at most")
    p.add_argument("--duration", type=float, default=None, help="stop after this many seconds")
    p.set_defaults(func=cmd_monitor)


def cmd_monitor(args: argparse.Namespace) -> int:
    from mom.monitoring.rules import parse_rule

    try:
        rules = dict(parse_rule(r) for r in args.rule)
    except ValueError as exc:
        errors.print(f"--rule: {exc}")
        return 2
    try:
        args.drift_rule = parse_drift(args.drift) if args.drift else None
    except ValueError as exc:
        errors.print(f"--drift: {exc}")
        return 2
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("asyncua").setLevel(logging.WARNING)
    with contextlib.suppress(KeyboardInterrupt):
        return asyncio.run(_monitor(args, rules))
    return 0


async def _monitor(args: argparse.Namespace, rules: dict[str, str]) -> int:
    from connectors.opcua import SessionPool
    from mom.db import create_database_engine, create_session_factory
    from mom.db.migrate import upgrade_engine
    from mom.messages import publish_message
    from mom.monitoring.monitor import MachineMonitor, exception_starter, load_monitored_units
    from mom.monitoring.recorder import EventRecorder
    from mom.monitoring.rules import MonitorRules
    from mom.process_store import ProcessStore

    config = settings()
    engine = create_database_engine(config.effective_database_url)
    upgrade_engine(engine)
    sessions = create_session_factory(engine)
    with sessions() as session:
        units = load_monitored_units(session, under_path=args.site)
    if not units:
        where = f"below {args.site}" if args.site else "in the database"
        errors.print(f"no work unit with an OPC UA endpoint {where} (set one with the equipment API)")
        return 1
    client = await connect(config)
    task_queue = args.task_queue or config.task_queue
    starter = exception_starter(client, ProcessStore.for_settings(config), task_queue=task_queue)
    start_exception = starter if rules else None

    async def deliver(name: str, correlation_key: str, variables: dict[str, Any]) -> None:
        # job completed / alarm on the machine of job J -> the instances waiting for it
        await publish_message(client, name, correlation_key, variables, task_queue=task_queue)

    pool = SessionPool()
    monitor = MachineMonitor(units, sessions=pool, recorder=EventRecorder(sessions, batch_size=args.batch),
                             rules=MonitorRules(rules), start_exception=start_exception, deliver=deliver)
    console.print(f"monitoring {len(units)} work unit(s): {', '.join(u.path for u in units)}")
    try:
        async with contextlib.AsyncExitStack() as running:
            await running.enter_async_context(monitor)
            if args.drift_rule is not None:
                from mom.monitoring.drift import DriftMonitor

                drift = DriftMonitor(units, sessions=pool, start_exception=starter, rule=args.drift_rule)
                await running.enter_async_context(drift)
                console.print(f"early warning on {args.drift_rule.signal} at {args.drift_rule.warn_at} "
                              f"(alarm limit {args.drift_rule.alarm_limit}) -> {args.drift_rule.process_id}")
            if args.duration is None:
                await asyncio.Event().wait()
            else:
                await asyncio.sleep(args.duration)
    finally:
        await pool.close()
        engine.dispose()
    return 0


def parse_drift(text: str) -> Any:
    """``SIGNAL:WARN_AT:ALARM_LIMIT`` -> a DriftRule (re-armed below half the warning level)."""
    from mom.monitoring.drift import DriftRule

    parts = text.split(":")
    if len(parts) != 3:
        raise ValueError(f"expected SIGNAL:WARN_AT:ALARM_LIMIT, got {text!r}")
    try:
        warn_at, alarm_limit = float(parts[1]), float(parts[2])
    except ValueError:
        raise ValueError(f"WARN_AT and ALARM_LIMIT must be numbers, got {parts[1]!r} and {parts[2]!r}") from None
    return DriftRule(signal=parts[0], warn_at=warn_at, alarm_limit=alarm_limit, rearm_below=warn_at / 2)
