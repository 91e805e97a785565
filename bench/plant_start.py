"""Start-up of the plant simulator: N machines, each an OPC UA server, until every one answers a read.

Side by side, each in a fresh process: asyncua building the standard address space (~6,000 nodes)
for every server, as it does by itself, and the simulator's shared template
(``mom.plant.address_space``: built once per process, copied node by node as a server touches it).

    .venv/bin/python bench/plant_start.py --machines 20
    .venv/bin/python bench/plant_start.py --machines 4 --json
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import subprocess
import sys
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

MODES = {"own": "asyncua builds the standard nodes per server", "shared": "shared template (mom.plant.address_space)"}


async def measure(mode: str, machines: int) -> dict[str, float]:
    """In this process: start the simulator, then read every machine's State over OPC UA."""
    logging.disable(logging.WARNING)
    import mom.plant.server
    from connectors.opcua import EndpointSession
    from mom.plant.simulator import PlantConfig, PlantSimulator, machine_name
    from mom.stack.ports import free_port_block

    if mode == "own":
        mom.plant.server.share_standard_nodes = lambda server: None  # type: ignore[assignment]
    started = time.perf_counter()
    plant = PlantSimulator(PlantConfig(machines=machines, seed=1, base_port=free_port_block(machines), tick_s=0.05))
    await plant.start()
    serving = time.perf_counter() - started
    try:
        for index, server in enumerate(plant.servers, start=1):
            session = await EndpointSession.open(server.endpoint)
            try:
                state = await session.read_value(f"nsu=urn:smart-mom:plant-sim;s={machine_name(index)}.State")
                assert isinstance(state, str), state
            finally:
                await session.close()
        answered = time.perf_counter() - started
    finally:
        await plant.stop()
    return {"serving_s": serving, "answered_s": answered}


def run_child(mode: str, machines: int) -> dict[str, float]:
    done = subprocess.run([sys.executable, __file__, "--child", mode, "--machines", str(machines)],
                          capture_output=True, text=True, timeout=600, cwd=ROOT)
    if done.returncode != 0:
        raise SystemExit(f"{mode}: {done.stderr[-2000:]}")
    result: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--machines", type=int, default=20)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--child", choices=sorted(MODES), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(asyncio.run(measure(args.child, args.machines))))
        return 0
    results = {mode: run_child(mode, args.machines) for mode in MODES}
    if args.json:
        print(json.dumps({"machines": args.machines, **results}))
        return 0
    table = Table(title=f"Plant simulator start-up, {args.machines} machines (each in a fresh process)")
    table.add_column("standard address space")
    table.add_column("all serving", justify="right")
    table.add_column("all answered a read", justify="right")
    table.add_column("per machine", justify="right")
    for mode, label in MODES.items():
        r = results[mode]
        table.add_row(label, f"{r['serving_s']:.1f} s", f"{r['answered_s']:.1f} s",
                      f"{r['serving_s'] / args.machines * 1000:.0f} ms")
    console = Console()
    console.print(table)
    own, shared = results["own"]["serving_s"], results["shared"]["serving_s"]
    console.print(f"shared template: {own / shared:.1f}x faster to serve {args.machines} machines "
                  f"({own:.1f} s -> {shared:.1f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
