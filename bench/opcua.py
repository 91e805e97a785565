"""OPC UA monitoring benchmark: monitored items at 1 Hz across N simulated machines.

The plant simulator runs in a child process (``mom plant sim --sensors K``), so the CPU figure
is the worker side only. For each scenario the client subscribes to every sensor (publishing
interval 0.5 s), writes each notification to a SQLite table (WAL, one commit every 0.2 s) and
measures the lag from the value's source timestamp to its commit. Then it compares a batched
Read of many nodes with one Read per node.

    .venv/bin/python bench/opcua.py --machines 10 --items 5000 --seconds 20
    .venv/bin/python bench/opcua.py --machines 4 --items 1000 --seconds 10 --json

Target (issue D): 5,000 items on one worker, p99 lag < 1 s.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sqlite3
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from connectors.opcua import DataChange, EndpointSession, SessionOptions  # noqa: E402
from mom.stack.ports import free_port_block  # noqa: E402

NS = "nsu=urn:smart-mom:plant-sim"


@dataclass
class MonitorResult:
    scenario: str
    items: int
    sessions: int
    notifications_per_s: float
    p50_lag_s: float
    p99_lag_s: float
    max_lag_s: float
    cpu_percent: float


def sensor_nodes(name: str, sensors: int) -> list[str]:
    return [f"{NS};s={name}.Sensors.Signal{i:04d}" for i in range(sensors)]


class Recorder:
    """Buffers notifications and commits them to SQLite every ``flush_s``; records the lag."""

    def __init__(self, path: Path, flush_s: float = 0.2) -> None:
        self.db = sqlite3.connect(path)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("CREATE TABLE IF NOT EXISTS sample (node TEXT, value REAL, source_ts TEXT)")
        self.flush_s = flush_s
        self.pending: list[DataChange] = []
        self.lags: list[float] = []
        self.count = 0
        self.recording = False

    def add(self, change: DataChange) -> None:
        self.pending.append(change)

    def flush(self) -> None:
        batch, self.pending = self.pending, []
        if not batch:
            return
        self.db.executemany(
            "INSERT INTO sample VALUES (?, ?, ?)",
            [(c.node, c.value, c.source_timestamp.isoformat() if c.source_timestamp else None) for c in batch],
        )
        self.db.commit()
        if not self.recording:
            return
        now = datetime.now(UTC)
        self.count += len(batch)
        self.lags += [(now - c.source_timestamp).total_seconds() for c in batch if c.source_timestamp]

    async def run(self) -> None:
        while True:
            await asyncio.sleep(self.flush_s)
            self.flush()


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def monitor(
    endpoints: dict[str, str], sensors: int, sessions_per_machine: int, seconds: float, db: Path
) -> MonitorResult:
    options = SessionOptions(request_timeout_s=20.0, reconnect_wait_s=20.0)
    recorder = Recorder(db)
    opened: list[EndpointSession] = []
    for name, endpoint in endpoints.items():
        nodes = sensor_nodes(name, sensors)
        share = -(-len(nodes) // sessions_per_machine)
        for k in range(sessions_per_machine):
            session = await EndpointSession.open(endpoint, options)
            opened.append(session)
            await session.watch_values(nodes[k * share : (k + 1) * share], recorder.add, publishing_interval_s=0.5)
    flusher = asyncio.create_task(recorder.run())
    await asyncio.sleep(2.0)  # initial values and warm-up are not measured
    recorder.flush()
    recorder.recording = True
    cpu0, wall0 = time.process_time(), time.monotonic()
    await asyncio.sleep(seconds)
    recorder.flush()
    cpu, wall = time.process_time() - cpu0, time.monotonic() - wall0
    recorder.recording = False
    flusher.cancel()
    for session in opened:
        await session.close()
    return MonitorResult(
        scenario=f"{sessions_per_machine} session(s) per machine",
        items=sensors * len(endpoints),
        sessions=len(opened),
        notifications_per_s=round(recorder.count / wall, 1),
        p50_lag_s=round(percentile(recorder.lags, 0.50), 3),
        p99_lag_s=round(percentile(recorder.lags, 0.99), 3),
        max_lag_s=round(max(recorder.lags, default=float("nan")), 3),
        cpu_percent=round(100 * cpu / wall, 1),
    )


async def reads(endpoint: str, name: str, sensors: int) -> dict[str, float]:
    nodes = sensor_nodes(name, sensors)
    async with EndpointSession(endpoint, SessionOptions(request_timeout_s=20.0)) as session:
        await session.read(nodes[:1])
        t0 = time.perf_counter()
        await session.read(nodes)
        batched = time.perf_counter() - t0
        t0 = time.perf_counter()
        for node in nodes:
            await session.read([node])
        per_node = time.perf_counter() - t0
    return {
        "nodes": sensors,
        "batched_ms": round(batched * 1000, 1),
        "per_node_ms": round(per_node * 1000, 1),
        "ratio": round(per_node / batched, 1) if batched else float("nan"),
    }


async def wait_ports(base: int, count: int, timeout_s: float = 60.0) -> None:
    deadline = time.monotonic() + timeout_s
    for i in range(count):
        while True:
            try:
                _, writer = await asyncio.open_connection("127.0.0.1", base + i)
                writer.close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"plant simulator did not open port {base + i}") from None
                await asyncio.sleep(0.2)


async def main_async(args: argparse.Namespace) -> dict[str, object]:
    sensors = max(1, args.items // args.machines)
    base = free_port_block(args.machines)
    plant = subprocess.Popen(
        [sys.executable, "-m", "mom.cli", "plant", "sim", "--machines", str(args.machines), "--port", str(base),
         "--sensors", str(sensors), "--mtbf", "0", "--seed", "1"],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        await wait_ports(base, args.machines)
        from mom.plant.simulator import machine_name

        endpoints = {machine_name(i + 1): f"opc.tcp://127.0.0.1:{base + i}/" for i in range(args.machines)}
        results = []
        with tempfile.TemporaryDirectory() as tmp:
            for k in args.sessions:
                results.append(await monitor(endpoints, sensors, k, args.seconds, Path(tmp) / f"bench{k}.db"))
        first = next(iter(endpoints.items()))
        read_result = await reads(first[1], first[0], min(sensors, args.read_nodes))
        return {"monitor": [asdict(r) for r in results], "reads": read_result}
    finally:
        plant.terminate()
        plant.wait(10)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--machines", type=int, default=10)
    parser.add_argument("--items", type=int, default=5000, help="monitored items in total")
    parser.add_argument("--seconds", type=float, default=20.0, help="measured time per scenario")
    parser.add_argument("--sessions", type=int, nargs="+", default=[1, 2], help="sessions per machine to compare")
    parser.add_argument("--read-nodes", type=int, default=500)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    import logging

    logging.getLogger("asyncua").setLevel(logging.ERROR)
    report = asyncio.run(main_async(args))
    if args.json:
        sys.stdout.write(json.dumps(report, indent=2) + "\n")
        return 0
    console = Console()
    table = Table(title=f"monitored items at 1 Hz, {args.machines} machines (target: p99 < 1 s at 5,000 items)")
    for column in ("scenario", "items", "sessions", "notif/s", "p50 lag s", "p99 lag s", "max lag s", "worker CPU %"):
        table.add_column(column)
    for r in report["monitor"]:  # type: ignore[union-attr]
        table.add_row(*(str(v) for v in r.values()))  # type: ignore[union-attr]
    console.print(table)
    rd = report["reads"]
    console.print(
        f"read {rd['nodes']} nodes: one batched Read {rd['batched_ms']} ms, "  # type: ignore[index]
        f"one Read per node {rd['per_node_ms']} ms ({rd['ratio']}x)"  # type: ignore[index]
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
