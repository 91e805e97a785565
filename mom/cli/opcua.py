"""``mom opcua browse|read|write|call|watch``: commissioning commands against one OPC UA endpoint.

NODEID is the standard string form: ``ns=2;s=Press1.State`` or, better,
``nsu=urn:smart-mom:plant-sim;s=Press1.State``. Output is readable (rich) or JSON with ``--json``
(``watch --json`` prints one JSON object per line). Exit status: 0 done, 1 OPC UA error (the
message names endpoint, node and type), 2 usage error.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import os
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from rich.table import Table

from connectors.opcua import (
    DataChange,
    EndpointSession,
    InvalidNodeId,
    OpcUaError,
    SecurityConfig,
    SessionOptions,
    plain,
)
from mom.cli.common import console, errors, print_json


def register(subparsers: argparse._SubParsersAction[Any]) -> None:
    opcua = subparsers.add_parser("opcua", help="browse, read, write, call and watch an OPC UA server")
    commands = opcua.add_subparsers(dest="opcua_command", metavar="COMMAND", required=True)

    p = commands.add_parser("browse", help="list the children of a node (default: Objects)")
    _common(p)
    p.add_argument("--node", metavar="NODEID")
    p.set_defaults(func=_handler(_browse))

    p = commands.add_parser("read", help="read node values (one batched request)")
    _common(p)
    p.add_argument("--node", metavar="NODEID", action="append", required=True)
    p.set_defaults(func=_handler(_read))

    p = commands.add_parser("write", help="write a value, typed by the node's data type")
    _common(p)
    p.add_argument("--node", metavar="NODEID", required=True)
    p.add_argument("--value", metavar="V", required=True, help="text; JSON array for array nodes")
    p.set_defaults(func=_handler(_write))

    p = commands.add_parser("call", help="call a method; arguments typed by its InputArguments")
    _common(p)
    p.add_argument("--object", metavar="NODEID", required=True)
    p.add_argument("--method", metavar="NODEID", required=True)
    p.add_argument("args", nargs="*", metavar="ARG")
    p.set_defaults(func=_handler(_call))

    p = commands.add_parser("watch", help="print data changes of nodes until interrupted")
    _common(p)
    p.add_argument("--node", metavar="NODEID", nargs="+", action="extend", required=True)
    p.add_argument("--interval", type=float, default=0.5, help="publishing interval, seconds")
    p.add_argument("--duration", type=float, default=None, help="stop after this many seconds")
    p.add_argument("--count", type=int, default=None, help="stop after this many changes")
    p.set_defaults(func=_handler(_watch))


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--endpoint", required=True, metavar="URL", help="e.g. opc.tcp://127.0.0.1:4840/")
    p.add_argument("--json", action="store_true")
    p.add_argument("--timeout", type=float, default=5.0, help="request timeout, seconds")
    p.add_argument("--user", help="user name (password from --password or MOM_OPCUA_PASSWORD)")
    p.add_argument("--password")
    p.add_argument("--policy", choices=["None", "Basic256Sha256"], default="None")
    p.add_argument("--mode", choices=["Sign", "SignAndEncrypt"], default="SignAndEncrypt")
    p.add_argument("--cert", type=Path, help="client certificate (DER) for Basic256Sha256")
    p.add_argument("--key", type=Path, help="client private key (PEM) for Basic256Sha256")


Command = Callable[[EndpointSession, argparse.Namespace], Awaitable[Any]]


def _handler(command: Command) -> Callable[[argparse.Namespace], int]:
    def handle(args: argparse.Namespace) -> int:
        logging.getLogger("asyncua").setLevel(logging.CRITICAL)
        try:
            options = _options(args)
        except ValueError as exc:
            errors.print(f"[red]{exc}[/red]")
            return 2
        try:
            asyncio.run(_run(command, args, options))
        except (OpcUaError, InvalidNodeId) as exc:
            if args.json:
                print_json({"error": str(exc), "type": type(exc).__name__})
            else:
                errors.print(f"[red]{type(exc).__name__}:[/red] {exc}", highlight=False)
            return 1
        except KeyboardInterrupt:
            return 0
        return 0

    return handle


def _options(args: argparse.Namespace) -> SessionOptions:
    security = SecurityConfig(
        policy=args.policy,
        mode=args.mode,
        certificate=args.cert,
        private_key=args.key,
        username=args.user,
        password=args.password or os.environ.get("MOM_OPCUA_PASSWORD") if args.user else None,
    )
    return SessionOptions(request_timeout_s=args.timeout, reconnect_wait_s=args.timeout, security=security)


async def _run(command: Command, args: argparse.Namespace, options: SessionOptions) -> None:
    async with EndpointSession(args.endpoint, options) as session:
        await command(session, args)


async def _browse(session: EndpointSession, args: argparse.Namespace) -> None:
    entries = await session.browse(args.node)
    if args.json:
        print_json([e.__dict__ for e in entries])
        return
    table = Table(title=f"{args.endpoint} {args.node or 'Objects'}")
    for column in ("browse name", "class", "node id"):
        table.add_column(column)
    for e in entries:
        table.add_row(e.browse_name, e.node_class, e.node)
    console.print(table)


async def _read(session: EndpointSession, args: argparse.Namespace) -> None:
    values = await session.read(args.node)
    if args.json:
        print_json(
            [
                {"node": v.node, "value": plain(v.value), "status": v.status,
                 "source_timestamp": plain(v.source_timestamp)}
                for v in values
            ]
        )
        return
    table = Table()
    for column in ("node", "value", "status", "source time"):
        table.add_column(column)
    for v in values:
        table.add_row(v.node, repr(plain(v.value)), v.status, str(plain(v.source_timestamp) or ""))
    console.print(table)


async def _write(session: EndpointSession, args: argparse.Namespace) -> None:
    variant = await session.write(args.node, args.value, from_text=True)
    result = {"node": args.node, "value": plain(variant.Value), "type": variant.VariantType.name}
    if args.json:
        print_json(result)
    else:
        console.print(f"wrote {result['value']!r} ({result['type']}) to {args.node}", highlight=False)


async def _call(session: EndpointSession, args: argparse.Namespace) -> None:
    outputs = await session.call(args.object, args.method, *args.args, from_text=True)
    if args.json:
        print_json({"outputs": [plain(o) for o in outputs]})
    else:
        console.print(f"{args.method} -> {[plain(o) for o in outputs]!r}", highlight=False)


async def _watch(session: EndpointSession, args: argparse.Namespace) -> None:
    changes: asyncio.Queue[DataChange] = asyncio.Queue()
    unsubscribe = session.on_link_change(
        lambda up: errors.print(f"[yellow]link {'restored' if up else 'lost: values UNKNOWN'}[/yellow]")
    )
    watch = await session.watch_values(args.node, changes.put_nowait, publishing_interval_s=args.interval)
    seen = 0
    loop = asyncio.get_running_loop()
    deadline = loop.time() + args.duration if args.duration is not None else None
    try:
        while args.count is None or seen < args.count:
            timeout = None if deadline is None else max(0.0, deadline - loop.time())
            try:
                change = await asyncio.wait_for(changes.get(), timeout)
            except TimeoutError:
                break
            seen += 1
            record = {"node": change.node, "value": plain(change.value), "status": change.status,
                      "source_timestamp": plain(change.source_timestamp)}
            if args.json:
                sys.stdout.write(json.dumps(record) + "\n")
                sys.stdout.flush()
            else:
                console.print(f"{record['source_timestamp']}  {change.node} = {record['value']!r}", highlight=False)
    finally:
        unsubscribe()
        with contextlib.suppress(Exception):
            await watch.close()
