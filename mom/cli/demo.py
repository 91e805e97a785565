"""``mom demo``: a shift on the simulated plant, on an embedded stack started for the run.

    mom demo [--orders 24] [--machines 4] [--seed 1] [--speed 20] [--timeout 600] [--data-dir DIR]

Exit status: 0 only if every order completed and every exception process ended as expected;
1 otherwise; 2 on a usage error.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
from pathlib import Path
from typing import Any

from mom.cli.common import console, errors


def register(subparsers: argparse._SubParsersAction[Any]) -> None:
    p = subparsers.add_parser("demo", help="run a shift on the simulated plant (orders, breakdown, ECO...)")
    p.add_argument("--orders", type=int, default=24, help="production orders of the shift")
    p.add_argument("--machines", type=int, default=4, help="simulated machines (half presses, half coaters)")
    p.add_argument("--seed", type=int, default=1, help="same seed, same quantities and measurements")
    p.add_argument("--speed", type=float, default=20.0, help="simulated seconds per second on the machines")
    p.add_argument("--timeout", type=float, default=600.0, help="seconds the shift may take at most")
    p.add_argument("--data-dir", type=Path, default=None,
                   help="keep the databases and logs here (default: a temporary directory, removed)")
    p.add_argument("--no-incidents", action="store_true", help="only production orders")
    p.set_defaults(func=cmd_demo)


def cmd_demo(args: argparse.Namespace) -> int:
    if args.orders < 1 or args.machines < 2 or args.speed <= 0 or args.timeout <= 0:
        errors.print("--orders >= 1, --machines >= 2, --speed > 0 and --timeout > 0, please")
        return 2
    return asyncio.run(_demo(args))


async def _demo(args: argparse.Namespace) -> int:
    from mom.demo.plant import EmbeddedPlant, PlantOptions
    from mom.demo.progress import summary, with_progress
    from mom.demo.scenario import Shift, ShiftOptions, ShiftProgress

    _quiet_logs(args.data_dir)
    incidents = not args.no_incidents
    plant_options = PlantOptions(machines=args.machines, seed=args.seed, speed=args.speed, data_dir=args.data_dir)
    shift_options = ShiftOptions(orders=args.orders, seed=args.seed, timeout_s=args.timeout, breakdown=incidents,
                                 quantity_change=incidents, eco=incidents, deviation=incidents)
    console.print("starting Temporal, the workers, the machines and the monitor...")
    async with EmbeddedPlant(plant_options) as plant:
        machines = ", ".join(plant.machines)
        console.print(f"plant {plant.layout.site}: {machines}; processes: {', '.join(sorted(plant.deployed))}")
        for name, error in sorted(plant.deploy_errors.items()):
            errors.print(f"[yellow]not deployed[/] {name}: {error}")
        progress = ShiftProgress()
        report = await with_progress(console, progress, Shift(plant, shift_options, progress).run())
        console.print(summary(report))
        console.print("stopping the stack...")
    return 0 if report.ok else 1


def _quiet_logs(data_dir: Path | None) -> None:
    """Warnings only, into a file when there is a data dir: the progress bars own the terminal."""
    handler: logging.Handler
    if data_dir is not None:
        data_dir.mkdir(parents=True, exist_ok=True)
        handler = logging.FileHandler(data_dir / "demo.log")
    else:
        handler = logging.NullHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logging.basicConfig(level=logging.WARNING, handlers=[handler], force=True)
    for noisy in ("asyncua", "temporalio", "spiff"):
        logging.getLogger(noisy).setLevel(logging.ERROR)
