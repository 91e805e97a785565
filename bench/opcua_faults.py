"""OPC UA faults: the link to a machine goes silent for a while, longer than the session timeout,
or the machine's server restarts; what the MOM sees and how fast it is back.

A TCP proxy on loopback (:class:`FaultProxy`) sits between the client and a simulated machine
(``mom.plant``). During a *silent* outage it forwards nothing in either direction and holds new
connections (a pulled cable: TCP state survives, bytes are late); a *restart* stops the machine's
server and starts a new one on the same port. For each scenario:

- ``detect_s``: outage start -> the session reports the link down (None: not noticed);
- ``link_back_s``: outage end -> the link is up again;
- ``resubscribe_s``: outage end -> the first data-change notification of a value written after the
  outage (the subscription delivers again: kept, transferred or re-created);
- ``lost``: values the server wrote (a counter, every ``tick_s``) that never reached the client;
- ``stale_conclusions``: ``machine.wait_job_end`` results produced while the link was down (the job
  ends during the outage; nothing may be concluded until the link is back): must be 0;
- ``job_counts_ok``: the result, after the link is back, carries the machine's real final counts.

    .venv/bin/python bench/opcua_faults.py                       # 5 s, 60 s, > session timeout, restart
    .venv/bin/python bench/opcua_faults.py --outages 5 --expired 12 --session-timeout 8 --json

Everything runs on 127.0.0.1 and stops by itself (about 2.5 minutes with the defaults).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import socket
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from asyncua import ua  # noqa: E402
from temporalio.exceptions import ApplicationError  # noqa: E402

from activities.machines import MachineActivities  # noqa: E402
from connectors.opcua import DataChange, EndpointSession, SessionOptions, SessionPool  # noqa: E402
from mom.plant.machine import MachineConfig, SimulatedMachine  # noqa: E402
from mom.plant.server import MachineServer  # noqa: E402

NS = "nsu=urn:smart-mom:plant-sim"
MACHINE = "Press1"
COUNTER = f"{NS};s={MACHINE}.Setpoints.Pressure"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class FaultProxy:
    """Forwards ``127.0.0.1:port`` to ``127.0.0.1:target_port``; :meth:`go_silent` stops all
    traffic (held, not lost, like TCP over a pulled cable) until :meth:`restore`."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.port = free_port()
        self.connections = 0
        self._open = asyncio.Event()
        self._open.set()
        self._server: asyncio.AbstractServer | None = None
        self._transports: set[asyncio.WriteTransport] = set()

    @property
    def endpoint(self) -> str:
        return f"opc.tcp://127.0.0.1:{self.port}/"

    @property
    def silent(self) -> bool:
        return not self._open.is_set()

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", self.port)

    async def stop(self) -> None:
        self._open.set()
        for transport in list(self._transports):
            transport.abort()
        if self._server is not None:
            self._server.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), 2)

    def go_silent(self) -> None:
        self._open.clear()

    def restore(self) -> None:
        self._open.set()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._transports.add(writer.transport)
        await self._open.wait()  # a connection attempt during an outage waits for the link
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
        except OSError:
            writer.transport.abort()
            self._transports.discard(writer.transport)
            return
        self.connections += 1
        self._transports.add(up_writer.transport)
        await asyncio.gather(self._pump(reader, up_writer), self._pump(up_reader, writer))

    async def _pump(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(Exception):
            while data := await reader.read(65536):
                await self._open.wait()
                writer.write(data)
                await writer.drain()
        writer.transport.abort()
        self._transports.discard(writer.transport)


@dataclass
class FaultFigures:
    scenario: str
    outage_s: float
    session_timeout_s: float
    detect_s: float | None = None
    link_back_s: float | None = None
    resubscribe_s: float | None = None
    written: int = 0
    lost: int = 0
    lost_before_outage: int = 0
    new_session: bool = False
    stale_conclusions: int = 0
    job_ended_during_outage: bool = False
    job_outcome: str = ""
    job_ok: bool = False
    notes: list[str] = field(default_factory=list)


@dataclass
class Machine:
    port: int
    server: MachineServer

    @classmethod
    async def start(cls, port: int, session_timeout_s: float) -> Machine:
        config = MachineConfig(name=MACHINE, cycle_time_s=0.05, acting_time_s=0.02, mtbf_s=0.0, bad_rate=0.0)
        server = MachineServer(SimulatedMachine(config, seed=1), port, tick_s=0.01,
                               min_session_timeout_s=min(session_timeout_s, 5.0))
        await server.start()
        return cls(port, server)

    async def write_counter(self, value: int) -> None:
        server = self.server.server
        if server is None:
            return
        idx = await server.get_namespace_index("urn:smart-mom:plant-sim")
        node = ua.NodeId(ua.String(f"{MACHINE}.Setpoints.Pressure"), ua.Int16(idx))
        await server.write_attribute_value(node, ua.DataValue(ua.Variant(float(value), ua.VariantType.Double)))



async def _retried_like_temporal(attempt: Callable[[], Awaitable[Any]], interval_s: float = 0.5) -> Any:
    """An activity that fails with MachineUnreachable (the link went down before its subscription
    was made, as on a loaded machine) is retried by Temporal's retry policy; do the same here."""
    while True:
        try:
            return await attempt()
        except ApplicationError as exc:
            if exc.type != "MachineUnreachable":
                raise
            await asyncio.sleep(interval_s)

async def run_scenario(
    kind: str, outage_s: float, *, session_timeout_s: float, tick_s: float = 0.1,
    health_check_s: float = 0.5, request_timeout_s: float = 1.0, settle_s: float = 8.0,
) -> FaultFigures:
    """``kind``: "silent" (the proxy holds all traffic for ``outage_s``) or "restart" (the server
    is stopped for ``outage_s`` and a new one starts on the same port)."""
    figures = FaultFigures(f"{kind} {outage_s:g} s", outage_s, session_timeout_s)
    options = SessionOptions(request_timeout_s=request_timeout_s, health_check_s=health_check_s,
                             session_timeout_s=session_timeout_s, reconnect_wait_s=0.5,
                             reconnect_max_delay_s=0.5)
    port = free_port()
    machine = await Machine.start(port, session_timeout_s)
    proxy = FaultProxy(port)
    await proxy.start()
    session = await EndpointSession.open(proxy.endpoint, options)
    pool = SessionPool(options)
    activities = MachineActivities(pool, heartbeat_s=0.2)
    loop = asyncio.get_running_loop()
    links: list[tuple[float, bool]] = []
    received: dict[int, float] = {}
    session.on_link_change(lambda up: links.append((loop.time(), up)))

    def on_change(change: DataChange) -> None:
        if isinstance(change.value, float) and change.value >= 1000:
            received.setdefault(int(change.value), loop.time())

    written: dict[int, float] = {}
    counter_task: asyncio.Task[None] | None = None
    try:
        await session.watch_values([COUNTER], on_change, publishing_interval_s=0.05)
        client_of = session._client  # the asyncua client, to see whether the session was replaced
        token_before = client_of.uaclient.session.authentication_token if client_of else None

        async def count() -> None:
            seq = 1000
            while True:
                seq += 1
                with contextlib.suppress(Exception):
                    await machine.write_counter(seq)
                    written[seq] = loop.time()
                await asyncio.sleep(tick_s)

        counter_task = asyncio.create_task(count())
        await asyncio.sleep(1.0)  # baseline: every value arrives
        # a job that ends while the link is down
        job = {"endpoint": proxy.endpoint, "machine": MACHINE, "job_id": "J-FAULT",
               "recipe": {"recipe_id": "R1", "quantity": max(2, int(outage_s * 0.4 / 0.05))}}
        await activities.start_job(job)
        waiting = asyncio.create_task(_retried_like_temporal(lambda: activities.wait_job_end(job)))
        await asyncio.sleep(0.1)

        outage_start = loop.time()
        baseline = [s for s, at in written.items() if at < outage_start - 0.3]
        figures.lost_before_outage = len([s for s in baseline if s not in received])
        if kind == "silent":
            proxy.go_silent()
        else:
            await machine.server.stop()
        outage_end = outage_start + outage_s
        while loop.time() < outage_end:
            if waiting.done():
                figures.stale_conclusions += 1
                figures.notes.append(f"wait_job_end concluded during the outage: {waiting.result()!r}")
                break
            await asyncio.sleep(0.05)
        final_counts = None
        if kind == "silent":
            final_counts = (machine.server.machine.good_count, machine.server.machine.bad_count)
            job_order = machine.server.machine.job
            figures.job_ended_during_outage = job_order is not None and job_order.status.value == "Ended"
        if kind == "silent":
            proxy.restore()
        else:
            machine = await Machine.start(port, session_timeout_s)
        outage_end = loop.time()

        deadline = outage_end + settle_s
        while loop.time() < deadline:
            fresh = [at for s, at in received.items() if s in written and written[s] > outage_end]
            if fresh and session.is_up:
                figures.resubscribe_s = round(min(fresh) - outage_end, 2)
                break
            await asyncio.sleep(0.02)
        downs = [at for at, up in links if not up and at >= outage_start]
        ups = [at for at, up in links if up and at >= outage_start]
        figures.detect_s = round(downs[0] - outage_start, 2) if downs else None
        if downs:
            back = [at for at in ups if at > downs[0]]
            figures.link_back_s = round(back[0] - outage_end, 2) if back else None
        client_after = session._client
        token_after = client_after.uaclient.session.authentication_token if client_after else None
        figures.new_session = token_after != token_before
        try:
            result = await asyncio.wait_for(waiting, settle_s)
        except Exception as exc:  # a restarted machine lost the job: the process is told, no guess
            figures.job_outcome = f"{type(exc).__name__}: {exc}"
            figures.job_ok = kind == "restart" and "UNKNOWN_JOB" in str(exc)
        else:
            figures.job_outcome = f"{result['job_status']} good={result['good_count']} bad={result['bad_count']}"
            figures.job_ok = final_counts is not None and result["job_status"] == "Ended" \
                and (result["good_count"], result["bad_count"]) == final_counts
        during = [s for s, at in written.items() if outage_start - 0.3 <= at <= outage_end]
        figures.written = len(during)
        figures.lost = len([s for s in during if s not in received])
    finally:
        if counter_task is not None:
            counter_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await counter_task
        await session.close()
        await pool.close()
        await proxy.stop()
        await machine.server.stop()
    return figures


async def run_all(outages: list[float], expired: float, session_timeout: float, restart: float,
                  long_session_timeout: float) -> list[FaultFigures]:
    results = []
    for outage in outages:
        results.append(await run_scenario("silent", outage, session_timeout_s=long_session_timeout))
    results.append(await run_scenario("silent", expired, session_timeout_s=session_timeout))
    results.append(await run_scenario("restart", restart, session_timeout_s=long_session_timeout))
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--outages", default="5,60", help="silent outages in seconds, comma-separated")
    parser.add_argument("--expired", type=float, default=15.0, help="an outage longer than --session-timeout")
    parser.add_argument("--session-timeout", type=float, default=10.0)
    parser.add_argument("--long-session-timeout", type=float, default=120.0,
                        help="session timeout of the other scenarios (longer than every outage)")
    parser.add_argument("--restart", type=float, default=3.0, help="seconds the server is down")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.CRITICAL)
    started = time.monotonic()
    results = asyncio.run(run_all([float(x) for x in args.outages.split(",") if x], args.expired,
                                  args.session_timeout, args.restart, args.long_session_timeout))
    if args.json:
        print(json.dumps([asdict(r) for r in results], indent=2))
    else:
        from rich.console import Console
        from rich.table import Table

        table = Table(title=f"OPC UA faults on loopback ({time.monotonic() - started:.0f} s)")
        for column in ("scenario", "session timeout", "detect", "link back", "re-subscribed", "lost / written",
                       "new session", "stale conclusions", "job result"):
            table.add_column(column)
        for r in results:
            table.add_row(r.scenario, f"{r.session_timeout_s:g} s", _s(r.detect_s), _s(r.link_back_s),
                          _s(r.resubscribe_s), f"{r.lost} / {r.written}", "yes" if r.new_session else "no",
                          str(r.stale_conclusions), ("" if r.job_ok else "WRONG: ") + _short(r.job_outcome))
        Console(width=170).print(table)
    bad = [r for r in results if r.stale_conclusions or r.resubscribe_s is None or not r.job_ok]
    return 1 if bad else 0


def _short(outcome: str) -> str:
    return "BpmnError UNKNOWN_JOB (machine lost it)" if "UNKNOWN_JOB" in outcome else outcome[:60]


def _s(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f} s"


if __name__ == "__main__":
    sys.exit(main())


__all__: list[Any] = ["FaultFigures", "FaultProxy", "run_scenario"]
