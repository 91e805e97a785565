"""``mom plant sim``: run the plant simulator (N PackML machines, one OPC UA server each).

    mom plant sim --machines 3 --port 4840                       # anonymous, 127.0.0.1 only
    mom plant sim --host 0.0.0.0 --certificate pki/sim-cert.der --private-key pki/sim-key.pem \\
        --secure-only --users-file pki/users.json --trust pki/trusted-clients

``--users-file`` is a JSON object ``{"user": "password"}``; ``--trust`` a directory of client
certificates (DER/PEM) accepted on the Basic256Sha256 endpoints.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
from dataclasses import replace
from pathlib import Path
from typing import Any

from rich.table import Table

from mom.cli.common import console, print_json
from mom.plant.machine import MachineConfig
from mom.plant.server import ServerSecurity
from mom.plant.simulator import PlantConfig, PlantSimulator


def register(subparsers: argparse._SubParsersAction[Any]) -> None:
    plant = subparsers.add_parser("plant", help="the simulated plant")
    commands = plant.add_subparsers(dest="plant_command", metavar="COMMAND", required=True)
    p = commands.add_parser("sim", help="serve N simulated machines over OPC UA")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (0.0.0.0 in a container)")
    p.add_argument("--machines", type=int, default=3)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--port", type=int, default=4840, help="port of the first machine; the next ones follow")
    p.add_argument("--speed", type=float, default=1.0, help="simulated seconds per wall second")
    p.add_argument("--cycle-time", type=float, default=2.0, help="mean cycle time, simulated seconds")
    p.add_argument("--mtbf", type=float, default=3600.0, help="mean Execute time between failures (0: none)")
    p.add_argument("--mttr", type=float, default=120.0, help="mean time to repair")
    p.add_argument("--sensors", type=int, default=0, help="extra Double signals per machine, updated at 1 Hz")
    p.add_argument("--duration", type=float, default=None, help="stop after this many seconds")
    p.add_argument("--json", action="store_true", help="print the endpoints as JSON")
    sec = p.add_argument_group("security")
    sec.add_argument("--certificate", type=Path, help="server certificate (DER): adds Basic256Sha256 endpoints")
    sec.add_argument("--private-key", type=Path, help="the certificate's private key (PEM)")
    sec.add_argument("--secure-only", action="store_true", help="no endpoint without security")
    sec.add_argument("--user", action="append", default=[], metavar="NAME:PASSWORD",
                     help="accepted user (repeatable; prefer --users-file outside development)")
    sec.add_argument("--users-file", type=Path, help='JSON object {"name": "password"} of accepted users')
    sec.add_argument("--trust", type=Path, metavar="DIR", help="trusted client certificates (DER/PEM files)")
    p.set_defaults(func=cmd_sim)


def plant_config(args: argparse.Namespace) -> PlantConfig:
    """The simulator configuration the ``sim`` arguments describe; errors name the argument."""
    if args.machines < 1:
        raise SystemExit("--machines must be at least 1")
    template = replace(
        MachineConfig(name="template"), cycle_time_s=args.cycle_time, mtbf_s=args.mtbf, mttr_s=args.mttr
    )
    try:
        security = ServerSecurity(
            certificate=args.certificate, private_key=args.private_key, allow_none=not args.secure_only,
            users=_users(args), trusted_clients=args.trust,
        )
    except ValueError as exc:
        raise SystemExit(f"security options: {exc}") from None
    for option, path in (("--certificate", args.certificate), ("--private-key", args.private_key),
                         ("--trust", args.trust)):
        if path is not None and not path.exists():
            raise SystemExit(f"{option} {path}: no such file or directory")
    return PlantConfig(
        machines=args.machines, seed=args.seed, host=args.host, base_port=args.port, speed=args.speed,
        sensors=args.sensors, template=template, security=security,
    )


def _users(args: argparse.Namespace) -> dict[str, str]:
    users: dict[str, str] = {}
    if args.users_file is not None:
        try:
            loaded = json.loads(args.users_file.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise SystemExit(f"--users-file {args.users_file}: {exc}") from None
        if not isinstance(loaded, dict) or not all(isinstance(v, str) for v in loaded.values()):
            raise SystemExit(f'--users-file {args.users_file}: expected a JSON object {{"name": "password"}}')
        users.update(loaded)
    for entry in args.user:
        name, sep, password = entry.partition(":")
        if not sep or not name:
            raise SystemExit(f"--user {entry!r}: expected NAME:PASSWORD")
        users[name] = password
    return users


def cmd_sim(args: argparse.Namespace) -> int:
    config = plant_config(args)
    logging.getLogger("asyncua").setLevel(logging.ERROR)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(PlantSimulator(config), args))
    return 0


async def _serve(plant: PlantSimulator, args: argparse.Namespace) -> None:
    await plant.start()
    try:
        if args.json:
            print_json({"machines": plant.endpoints, "namespace": "urn:smart-mom:plant-sim", "seed": args.seed})
        else:
            table = Table(title=f"plant simulator, seed {args.seed}, namespace urn:smart-mom:plant-sim")
            table.add_column("machine")
            table.add_column("endpoint")
            for name, endpoint in plant.endpoints.items():
                table.add_row(name, endpoint)
            console.print(table)
        if args.duration is None:
            await asyncio.Event().wait()
        else:
            await asyncio.sleep(args.duration)
    finally:
        await plant.stop()
