"""Benchmark: completed production orders/s and end-to-end latency on the embedded stack, side by
side with the plain-Temporal ceiling of this machine measured in the same run on the same server.

    .venv/bin/python bench/plant.py [--orders 200] [--machines 8] [--in-flight 16] [--speed 1000]
                                    [--poll 0.05] [--local] [--monitor] [--no-plain] [--profile FILE]
    .venv/bin/python bench/plant.py --duration 300 [--warmup-seconds 60] [--plain-seconds 60] [--tracemalloc]
                                    [--objects]
    options: [--what-if-local-inbox] [--tick 0.05] [--db-threads N]

The whole production_order process per order (release, dispatch, two operations each with
staging checked against the BOM, recipe + start + end of job on a simulated OPC UA machine
through the edge worker, job result with genealogy, quality check and judgement, completion with
a B2MML export), one piece per order, machine steps simulated fast (``--speed`` simulated seconds
per second). The human steps (2 stagings, 2 quality checks) are done by scripted people reading
the inbox every ``--poll`` seconds; each machine runs one job at a time.

The ceiling: ``bench/plain_order.py``, a plain Temporal workflow (no BPMN, no database, no OPC
UA) with the same activity round trips (count, queues, payload sizes) and user-task updates as one
production order, read from the recorded history of a warm-up order, run with the same
concurrency on the same Temporal dev server by workers in this process.

Prints, for both: completed orders/s, p50/p99 end-to-end latency (start to result), CPU per order
of this process (workers, simulator, people) and of the Temporal server; the ratio, the target
(>= 20 orders/s) and where our CPU goes by thread kind. ``--duration`` keeps ``--in-flight``
orders running for that many seconds (a new one starts when one ends) and adds the RSS of both
processes at start / after ``--warmup-seconds`` / end with the growth per minute after warm-up.
``--objects`` prints, at the end of the warm-up and at the end, RSS as sampled / after
gc.collect() / after malloc_trim, live objects by type and the sizes of the caches and sets we
hold (what grows, without tracemalloc's cost; each snapshot stalls the loop for ~15 s).
``--local`` deploys a variant where the cheap record steps run as local activities (task header
``local=true``); ``--what-if-local-inbox`` adds a plain run whose inbox activities are local
activities (what that interpreter change would gain). ``--profile FILE`` saves CPU profiles
(thread CPU time) of the event loop and of the to_thread work of the measured run. Everything
runs in this one process except the Temporal dev server.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import cProfile
import ctypes
import gc
import io
import logging
import os
import pstats
import re
import statistics
import sys
import threading
import time
from collections import Counter, deque
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil
from rich.console import Console
from rich.table import Table
from sqlalchemy.exc import OperationalError
from temporalio.worker import Worker

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from plain_order import PlainPeople, PlainProductionOrder, Shape, order_shape, plain_step  # noqa: E402

from mom import instances  # noqa: E402
from mom.db.transactions import writing  # noqa: E402
from mom.demo.people import Decisions, ScriptedPeople  # noqa: E402
from mom.demo.plant import PROCESSES, EmbeddedPlant, PlantOptions  # noqa: E402
from mom.demo.seed import receive_orders  # noqa: E402
from mom.deployment import deploy_bytes  # noqa: E402

TARGET = 20.0
LOCAL_TYPES = ("records.release_order", "records.dispatch_order", "records.check_staged_lots",
               "records.record_job_result", "records.quality_result")
PLAIN_QUEUE, PLAIN_EDGE_QUEUE = "plain-cloud", "plain-edge"
console = Console(width=None if sys.stdout.isatty() else 160)  # tables stay readable in a log file


def local_variant(source: str) -> str:
    """production_order with the cheap record steps as local activities."""
    for task_type in LOCAL_TYPES:
        pattern = re.compile(rf'(<zeebe:taskDefinition type="{re.escape(task_type)}" />)')
        source, count = pattern.subn(r'\1<zeebe:taskHeaders><zeebe:header key="local" value="true" />'
                                     r'</zeebe:taskHeaders>', source)
        if count != 1:
            raise SystemExit(f"bench: {task_type} not found once in production_order.bpmn")
    return source


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def thread_cpu() -> dict[str, float]:
    """CPU seconds of this process's threads grouped by kind (Linux: /proc/self/task/*)."""
    names = {t.native_id: t.name for t in threading.enumerate()}
    ticks = os.sysconf("SC_CLK_TCK")
    groups: dict[str, float] = {}
    for task in Path("/proc/self/task").iterdir():
        try:
            fields = (task / "stat").read_text().rsplit(")", 1)[1].split()
            comm = (task / "comm").read_text().strip()
        except OSError:
            continue
        name = names.get(int(task.name), comm)
        kind = ("asyncio loop (activities, OPC UA, people)" if int(task.name) == os.getpid()
                else "workflow tasks (BPMN interpreter)" if "workflow" in name.lower() or "temporal_" in name
                else "to_thread pool (SQLite records)" if name.startswith("asyncio_")
                else "bench order intake (ERP orders, not MOM load)" if name == "order-intake"
                else "Temporal core (Rust)" if "tokio" in comm or "temporal" in comm.lower()
                else f"other ({comm})")
        groups[kind] = groups.get(kind, 0.0) + (int(fields[11]) + int(fields[12])) / ticks
    return groups


def cpu_seconds(process: psutil.Process) -> float:
    times = process.cpu_times()
    return float(times.user + times.system)


def rss(process: psutil.Process) -> int:
    return int(process.memory_info().rss)


@dataclass
class Phase:
    """One measured run of a kind of order."""

    name: str
    completed: int = 0
    latencies: list[float] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    elapsed: float = 0.0
    cpu_me: float = 0.0
    cpu_server: float = 0.0
    threads: dict[str, float] = field(default_factory=dict)

    @property
    def rate(self) -> float:
        return self.completed / self.elapsed if self.elapsed else 0.0

    def per_order_ms(self, seconds: float) -> float:
        return 1000 * seconds / max(1, len(self.latencies))


class OrderIntake:
    """ERP orders for the Smart MOM orders, received in a thread of its own (named ``order-intake``,
    its CPU shown apart: it is the bench's set-up, not the MOM's load), one small transaction per
    round of the presses (a long session slows down with every order it holds)."""

    def __init__(self, plant: EmbeddedPlant, *, ahead: bool) -> None:
        self._plant, self._ahead = plant, ahead
        self._round = 2 * len(plant.layout.presses)  # orders go round-robin over the presses
        self._numbers: list[str] = []
        self._batches = 0
        self._lock = asyncio.Lock()
        self._thread_lock = threading.Lock()  # one intake at a time (order numbers by batch)
        self._topup: asyncio.Task[None] | None = None

    def _receive(self, count: int) -> list[str]:
        numbers: list[str] = []
        with self._thread_lock:
            self._receive_into(numbers, count)
        return numbers

    def _receive_into(self, numbers: list[str], count: int) -> None:
        while len(numbers) < count:
            self._batches += 1
            for attempt in range(5):
                try:
                    with writing(self._plant.sessions) as session:  # waits for the running orders' writers
                        received = receive_orders(session, self._plant.layout, [1] * self._round,
                                                  prefix=f"PO{self._batches:04d}")
                    numbers += received  # only once committed
                    break
                except OperationalError:  # still locked after the busy timeout: the load is high
                    if attempt == 4:
                        raise

    async def _refill(self, count: int) -> None:
        loop = asyncio.get_running_loop()
        done: asyncio.Future[list[str]] = loop.create_future()

        def work() -> None:
            try:
                numbers = self._receive(count)
            except BaseException as exc:
                with contextlib.suppress(RuntimeError):  # the bench ended meanwhile
                    loop.call_soon_threadsafe(done.set_exception, exc)
            else:
                with contextlib.suppress(RuntimeError):
                    loop.call_soon_threadsafe(done.set_result, numbers)

        threading.Thread(target=work, name="order-intake", daemon=True).start()
        self._numbers.extend(await done)

    async def prepare(self, count: int) -> None:
        async with self._lock:
            if len(self._numbers) < count:
                await self._refill(count - len(self._numbers))

    async def next(self) -> str:
        async with self._lock:
            if not self._numbers:
                await self._refill(4 * self._round)
            number = self._numbers.pop(0)
        if self._ahead and len(self._numbers) < 4 * self._round and (self._topup is None or self._topup.done()):
            self._topup = asyncio.create_task(self._refill(8 * self._round))  # ahead of the lanes
        return number


@dataclass
class MemorySamples:
    """RSS of this process and of the Temporal server, every ``every_s`` seconds."""

    me: psutil.Process
    server: psutil.Process
    every_s: float
    samples: list[tuple[float, int, int]] = field(default_factory=list)

    def take(self) -> tuple[float, int, int]:
        sample = (time.monotonic(), rss(self.me), rss(self.server))
        self.samples.append(sample)
        return sample

    async def run(self) -> None:
        while True:
            self.take()
            await asyncio.sleep(self.every_s)

    def between(self, start: float, end: float) -> list[tuple[float, int, int]]:
        return [s for s in self.samples if start <= s[0] <= end]


def slope_mb_per_min(samples: list[tuple[float, int, int]], index: int) -> float:
    """Least-squares growth of RSS column ``index`` in MB per minute."""
    if len(samples) < 2:
        return float("nan")
    xs = [s[0] for s in samples]
    ys = [s[index] / 2**20 for s in samples]
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    var = sum((x - mx) ** 2 for x in xs)
    if var == 0:
        return float("nan")
    return 60 * sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / var


Starter = Callable[[], Awaitable[tuple[str, Awaitable[str]]]]
"""Starts one order; returns its workflow id and an awaitable of its final status."""


async def run_phase(name: str, start: Starter, *, count: int | None, duration: float | None, in_flight: int,
                    timeout: float, server: psutil.Process, me: psutil.Process,
                    progress: Callable[[Phase], str] | None = None) -> Phase:
    """``count`` orders with at most ``in_flight`` at once, or ``in_flight`` lanes that start a new
    order whenever theirs ends, for ``duration`` seconds (orders that end after it are waited for
    but not counted in the rate)."""
    phase = Phase(name)
    pending: dict[str, str] = {}
    cpu_server, cpu_me, threads_before = cpu_seconds(server), cpu_seconds(me), thread_cpu()
    began = time.monotonic()
    deadline = began + duration if duration is not None else None
    remaining = [count or 0]

    async def one() -> None:
        started = time.monotonic()
        workflow_id, result = await start()
        pending[workflow_id] = workflow_id
        status = await result
        del pending[workflow_id]
        ended = time.monotonic()
        if status != "completed":
            phase.failures.append(f"{workflow_id}: {status}")
            return
        phase.latencies.append(ended - started)
        if deadline is None or ended <= deadline:
            phase.completed += 1

    async def lane() -> None:
        while True:
            if deadline is not None and time.monotonic() >= deadline:
                return
            if deadline is None:
                if remaining[0] <= 0:
                    return
                remaining[0] -= 1
            await one()

    async def report() -> None:
        while True:
            await asyncio.sleep(10)
            extra = f", {progress(phase)}" if progress else ""
            console.print(f"  {name}: {len(phase.latencies)} orders done in {time.monotonic() - began:.0f} s, "
                          f"{len(pending)} running, {len(phase.failures)} failed{extra}", style="dim")

    reporter = asyncio.create_task(report())
    try:
        wait = timeout + (duration or 0.0)
        await asyncio.wait_for(asyncio.gather(*(lane() for _ in range(in_flight))), wait)
    except TimeoutError:
        raise SystemExit(f"bench: {name}: {len(pending)} orders not done within {wait:.0f} s: "
                         f"{sorted(pending)[:5]}") from None
    finally:
        reporter.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await reporter
    phase.elapsed = duration if duration is not None else time.monotonic() - began
    phase.cpu_server, phase.cpu_me = cpu_seconds(server) - cpu_server, cpu_seconds(me) - cpu_me
    phase.threads = {k: v - threads_before.get(k, 0.0) for k, v in thread_cpu().items()}
    return phase


async def bench(args: argparse.Namespace) -> int:
    if args.db_threads:  # the to_thread pool that runs the SQLite work of records, inbox and people
        asyncio.get_running_loop().set_default_executor(
            ThreadPoolExecutor(max_workers=args.db_threads, thread_name_prefix="asyncio"))
    options = PlantOptions(machines=args.machines, speed=args.speed, cycle_time_s=1.0, monitor=args.monitor,
                           tick_s=args.tick or None)
    async with EmbeddedPlant(options) as plant:
        if args.local:
            source = local_variant((PROCESSES / "production_order.bpmn").read_text())
            deploy_bytes(plant.store, source.encode(), "production_order.bpmn", deployed_by="bench")
        intake = OrderIntake(plant, ahead=args.duration is not None)
        await intake.prepare(args.warmup + (args.orders if args.duration is None else 2 * args.in_flight))
        people = ScriptedPeople(plant.client, plant.sessions, {n: m.machine for n, m in plant.machines.items()},
                                Decisions(stock=plant.layout.stock), poll_s=args.poll)
        assert plant.temporal.process is not None
        server, me = psutil.Process(plant.temporal.process.pid), psutil.Process()
        memory = MemorySamples(me, server, args.sample)
        sampler = asyncio.create_task(memory.run())
        plain_people = PlainPeople(plant.client)
        plain_workers = [
            Worker(plant.client, task_queue=PLAIN_QUEUE, workflows=[PlainProductionOrder],
                   activities=[plain_step, plain_people.inbox_open, plain_people.inbox_close],
                   max_concurrent_activities=200),
            Worker(plant.client, task_queue=PLAIN_EDGE_QUEUE, activities=[plain_step], max_concurrent_activities=200),
        ]
        first_order: list[str] = []

        async def start_smart() -> tuple[str, Awaitable[str]]:
            number = await intake.next()
            begun = await instances.start_instance(
                plant.client, plant.store, "production_order", task_queue=plant.task_queue,
                variables={"order_number": number, "schedule_first": False}, business_key=number)
            if not first_order:
                first_order.append(begun.workflow_id)

            async def result() -> str:
                return (await instances.wait_result(plant.client, begun.workflow_id)).status
            return begun.workflow_id, result()

        shape_box: list[Shape] = []
        plain_count = [0]

        local_inbox = [False]

        async def start_plain() -> tuple[str, Awaitable[str]]:
            plain_count[0] += 1
            workflow_id = f"plain-order-{plain_count[0]:05d}"
            handle = await plant.client.start_workflow(
                PlainProductionOrder.run,
                {"order_number": workflow_id, "steps": shape_box[0].steps, "edge_queue": PLAIN_EDGE_QUEUE,
                 "local_inbox": local_inbox[0]}, id=workflow_id, task_queue=PLAIN_QUEUE)

            async def result() -> str:
                return str((await handle.result())["status"])
            return workflow_id, result()

        def people_progress(_: Phase) -> str:
            return f"{people.ledger.total} human tasks"

        common = {"in_flight": args.in_flight, "timeout": args.timeout, "server": server, "me": me}
        async with contextlib.AsyncExitStack() as stack:
            for worker in plain_workers:
                await stack.enter_async_context(worker)
            people_task = asyncio.create_task(people.work())
            stack.push_async_callback(_cancel, people_task)
            stack.push_async_callback(_cancel, sampler)
            warm = await run_phase("warm-up (Smart MOM)", start_smart, count=args.warmup, duration=None,
                                   **common)  # type: ignore[arg-type]
            if warm.failures:
                raise SystemExit(f"bench: warm-up orders failed: {warm.failures[:5]}")
            history = await plant.client.get_workflow_handle(first_order[0]).fetch_history()
            shape_box.append(order_shape(history, plant.task_queue))
            console.print(f"one production order ({first_order[0]}), from its history: {shape_box[0].describe()}")

            plain: Phase | None = None
            local: Phase | None = None
            if not args.no_plain:
                await _cancel(people_task)  # the plain run has its own (event-driven) people
                plain_task = asyncio.create_task(plain_people.work())
                await run_phase("plain warm-up", start_plain, count=max(args.in_flight, 8), duration=None,
                                **common)  # type: ignore[arg-type]
                plain = await run_phase(
                    "plain Temporal", start_plain, count=args.orders if args.duration is None else None,
                    duration=None if args.duration is None else args.plain_seconds, **common)  # type: ignore[arg-type]
                if args.what_if_local_inbox:
                    local_inbox[0] = True
                    local = await run_phase(
                        "plain, inbox local", start_plain, count=args.orders if args.duration is None else None,
                        duration=None if args.duration is None else args.plain_seconds, **common)  # type: ignore[arg-type]
                await _cancel(plain_task)
                people_task = asyncio.create_task(people.work())
                stack.push_async_callback(_cancel, people_task)

            profiles = Profiles(args.profile) if args.profile else None
            if profiles:
                profiles.start()
            traced = asyncio.create_task(_trace_memory(args.warmup_seconds)) if args.tracemalloc else None
            accounting = ObjectAccounting(plant, people) if args.objects else None
            counted = asyncio.create_task(_account(accounting, args.warmup_seconds)) if accounting else None
            mark_start = memory.take()
            smart = await run_phase(
                "Smart MOM", start_smart, count=args.orders if args.duration is None else None,
                duration=args.duration, progress=people_progress, **common)  # type: ignore[arg-type]
            mark_end = memory.take()
            if traced is not None:
                await _cancel(traced)
            if counted is not None and accounting is not None:
                await _cancel(counted)
                accounting.snapshot("end of the measured run")
            if profiles:
                profiles.stop()

    report(args, shape_box[0], plain, smart, people.ledger.total, local)
    if args.duration is not None:
        report_memory(memory, mark_start, mark_end, args.warmup_seconds)
    for failure in smart.failures[:10]:
        console.print(f"[red]not completed[/] {failure}")
    return 0 if not smart.failures and (plain is None or not plain.failures) else 1


async def _trace_memory(warmup_s: float) -> None:
    """tracemalloc from the start of the measured run: when cancelled (the end), prints where the
    memory allocated after the warm-up and still held was allocated (top 12 lines)."""
    import tracemalloc

    tracemalloc.start(8)
    await asyncio.sleep(warmup_s)
    warmed = tracemalloc.take_snapshot()
    try:
        await asyncio.Event().wait()
    finally:
        end = tracemalloc.take_snapshot()
        tracemalloc.stop()
        console.print("memory held at the end that was allocated after the warm-up (tracemalloc, top 12):")
        for stat in end.compare_to(warmed, "traceback")[:12]:
            frames = " <- ".join(f"{Path(f.filename).name}:{f.lineno}" for f in list(stat.traceback)[:4])
            console.print(f"  {stat.size_diff / 2**10:+.0f} KiB in {stat.count_diff:+d} blocks: {frames}")


class ObjectAccounting:
    """``--objects``: cheap accounting of what this process holds, at the end of the warm-up and at
    the end of the measured run (no tracemalloc): RSS as sampled, after ``gc.collect()`` and after
    glibc's ``malloc_trim(0)`` (what the allocator keeps but Python freed), counts of live objects
    by type, the sizes of the caches and sets we know of, and the containers that grew the most."""

    def __init__(self, plant: EmbeddedPlant, people: ScriptedPeople) -> None:
        self.plant, self.people = plant, people
        self.types: Counter[str] = Counter()
        self.sizes: dict[str, int] = {}
        self.lengths: dict[int, tuple[str, int]] = {}
        self.rss: tuple[int, int, int] = (0, 0, 0)

    @staticmethod
    def _trim() -> bool:
        try:
            return bool(ctypes.CDLL("libc.so.6").malloc_trim(0))
        except (OSError, AttributeError):
            return False

    def _known_sizes(self) -> dict[str, int]:
        from bpmn import spec_cache

        people = self.people
        sizes = {"spec cache (bpmn/spec_cache.py)": len(spec_cache._cache),
                 "people: busy": len(people._busy), "people: done": len(people._done),
                 "people: station": len(people._station), "people: unloaded": len(people._unloaded),
                 "people: running tasks": len(people._running), "people: known open tasks": len(people._known),
                 "people: refused": len(people.ledger.refused),
                 "logging handlers (all loggers)": sum(len(getattr(lg, "handlers", ()))
                                                       for lg in [logging.getLogger(),
                                                                  *logging.Logger.manager.loggerDict.values()]),
                 "loggers": len(logging.Logger.manager.loggerDict),
                 "asyncio tasks": len(asyncio.all_tasks())}
        for name, server in self.plant.machines.items():
            machine = server.machine
            sizes[f"machine {name}: calls received"] = len(server.calls_received)
            sizes[f"machine {name}: past jobs"] = len(machine._past_jobs)
            sizes[f"machine {name}: undrained events"] = len(machine._events)
            iserver = server.server.iserver if server.server is not None else None
            if iserver is not None:
                subs = iserver.subscription_service.subscriptions
                sizes[f"machine {name}: OPC UA subscriptions"] = len(subs)
                sizes[f"machine {name}: OPC UA monitored items"] = sum(
                    len(s.monitored_item_srv._monitored_items) for s in subs.values())
        sizes["Python allocator blocks in use (sys.getallocatedblocks)"] = sys.getallocatedblocks()
        for obj in gc.get_objects():  # the SDK's Python-side workflow cache (running workflow instances)
            if type(obj).__name__ == "_lru_cache_wrapper" and hasattr(obj, "cache_info"):
                name = f"lru_cache {getattr(obj, '__module__', '?')}.{getattr(obj, '__qualname__', '?')}"
                info = obj.cache_info()
                sizes[f"{name} (max {info.maxsize})"] = info.currsize
            if type(obj).__name__ == "_WorkflowWorker":
                sizes["Temporal worker: cached workflows"] = (sizes.get("Temporal worker: cached workflows", 0)
                                                              + len(obj._running_workflows))
        return sizes

    @staticmethod
    def _containers() -> dict[int, tuple[str, int]]:
        """id -> (type, length) of every dict/list/set/deque with >= 50 items, untracked dicts too."""
        found: dict[int, tuple[str, int]] = {}
        kinds = (dict, list, set, deque)
        for obj in gc.get_objects():
            if isinstance(obj, kinds) and len(obj) >= 50:
                found[id(obj)] = (type(obj).__name__, len(obj))
            for ref in gc.get_referents(obj):
                if type(ref) is dict and not gc.is_tracked(ref) and len(ref) >= 50:
                    found[id(ref)] = ("dict (untracked)", len(ref))
        return found

    @staticmethod
    def _owner(target_id: int) -> str:
        """Where a container lives: ``Owner.attribute`` or the kinds of objects that refer to it."""
        target = next((o for o in gc.get_objects() if id(o) == target_id), None)
        if target is None:
            return "?"
        names = []
        for ref in gc.get_referrers(target):
            if isinstance(ref, dict):
                keys = [k for k, v in ref.items() if v is target]
                owners = [type(o).__name__ for o in gc.get_referrers(ref) if getattr(o, "__dict__", None) is ref]
                names.append(f"{owners[0] if owners else 'dict'}.{keys[0] if keys else '?'}")
            elif type(ref).__name__ != "frame":
                names.append(type(ref).__name__)
        return ", ".join(names[:3]) or "?"

    def snapshot(self, label: str) -> None:
        me = psutil.Process()
        raw = rss(me)
        gc.collect()
        collected = rss(me)
        trimmed_ok = self._trim()
        trimmed = rss(me)
        types = Counter(type(o).__name__ for o in gc.get_objects())
        sizes = self._known_sizes()
        lengths = self._containers()
        console.print(f"--objects {label}: RSS {raw / 2**20:.1f} MB as sampled, {collected / 2**20:.1f} MB after "
                      f"gc.collect(), {trimmed / 2**20:.1f} MB after malloc_trim(0) "
                      f"({'released' if trimmed_ok else 'nothing released'}); {sum(types.values())} gc objects")
        if self.types:
            before = self.rss
            console.print(f"  growth since the last snapshot: {(raw - before[0]) / 2**20:+.1f} MB as sampled, "
                          f"{(collected - before[1]) / 2**20:+.1f} MB after gc, "
                          f"{(trimmed - before[2]) / 2**20:+.1f} MB after trim")
            grown = sorted(((n - self.types.get(t, 0), t) for t, n in types.items()), reverse=True)[:15]
            console.print("  objects by type, top growth: " + ", ".join(f"{t} {d:+d} (now {types[t]})"
                                                                       for d, t in grown if d))
            changed = [f"{k} {self.sizes.get(k, 0)}->{v}" for k, v in sizes.items() if v != self.sizes.get(k, 0)]
            console.print("  known structures that changed: " + ("; ".join(changed) or "none"))
            growth = sorted(((n - self.lengths[i][1], i, kind) for i, (kind, n) in lengths.items()
                             if i in self.lengths and self.lengths[i][0] == kind), reverse=True)[:8]
            for delta, ident, kind in growth:
                if delta > 0:
                    console.print(f"  container grew {delta:+d} to {lengths[ident][1]}: {kind} in {self._owner(ident)}")
        else:
            console.print("  known structures: " + "; ".join(f"{k} {v}" for k, v in sizes.items()))
        self.types, self.sizes, self.lengths, self.rss = types, sizes, lengths, (raw, collected, trimmed)


async def _account(accounting: ObjectAccounting, warmup_s: float) -> None:
    await asyncio.sleep(warmup_s)
    accounting.snapshot("end of the warm-up")


async def _cancel(task: asyncio.Task[Any]) -> None:
    if task.done():
        return
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


class Profiles:
    """cProfile of the event loop's thread (activities, OPC UA, people, the SDK's Python side) and,
    merged, of every function run through ``asyncio.to_thread`` (the SQLite work of records, inbox
    and people), saved as ``FILE`` and ``FILE.threads``."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.loop = cProfile.Profile(time.thread_time)  # CPU, not waits
        self.threads: list[cProfile.Profile] = []
        self._lock = threading.Lock()
        self._to_thread = asyncio.to_thread

    def start(self) -> None:
        original, threads, lock = self._to_thread, self.threads, self._lock

        def profiled(func: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Any:
            def run() -> Any:
                profile = cProfile.Profile(time.thread_time)
                try:
                    return profile.runcall(func, *args, **kwargs)
                finally:
                    with lock:
                        threads.append(profile)
            return original(run)

        asyncio.to_thread = profiled  # type: ignore[assignment]
        self.loop.enable()

    def stop(self) -> None:
        self.loop.disable()
        asyncio.to_thread = self._to_thread
        self.loop.dump_stats(self.path)
        with self._lock:
            if self.threads:
                merged = pstats.Stats(self.threads[0])
                for profile in self.threads[1:]:
                    merged.add(profile)
                merged.dump_stats(f"{self.path}.threads")
        console.print(f"profiles of the measured Smart MOM run: {self.path} (event loop), {self.path}.threads "
                      "(to_thread work); read them with python -m pstats")


def report(args: argparse.Namespace, shape: Shape, plain: Phase | None, smart: Phase, human_tasks: int,
           local: Phase | None = None) -> None:
    mode = f"{args.duration:.0f} s sustained" if args.duration is not None else f"{args.orders} orders"
    table = Table(title=f"production_order vs plain Temporal, {mode}, {args.in_flight} in flight, "
                        f"{args.machines} machines, {'local' if args.local else 'regular'} record activities")
    for column in ("", "orders", "orders/s", "p50 latency", "p99 latency", "our CPU ms/order",
                   "server CPU ms/order", "total CPU ms/order"):
        table.add_column(column, justify="right")
    for phase in (p for p in (plain, local, smart) if p is not None):
        table.add_row(phase.name, str(phase.completed), f"{phase.rate:.2f}",
                      f"{statistics.median(phase.latencies):.2f} s" if phase.latencies else "-",
                      f"{percentile(phase.latencies, 0.99):.2f} s",
                      f"{phase.per_order_ms(phase.cpu_me):.0f} ({100 * phase.cpu_me / phase.elapsed:.0f} % of a core)",
                      f"{phase.per_order_ms(phase.cpu_server):.0f} "
                      f"({100 * phase.cpu_server / phase.elapsed:.0f} % of a core)",
                      f"{phase.per_order_ms(phase.cpu_me + phase.cpu_server):.0f}")
    console.print(table)
    cores = psutil.cpu_count() or 1
    console.print(f"one order = {shape.describe()}; {human_tasks} human tasks done by the scripted people")
    console.print(f"machine: {cores} cores, load average {psutil.getloadavg()[0]:.1f} (other work shares the cores)")
    smart_total = smart.per_order_ms(smart.cpu_me + smart.cpu_server)
    if plain is not None:
        plain_total = plain.per_order_ms(plain.cpu_me + plain.cpu_server)
        console.print(f"plain Temporal ceiling: {plain.rate:.2f} orders/s; Smart MOM: {smart.rate:.2f} orders/s; "
                      f"ratio {smart.rate / plain.rate:.2f} (Smart MOM / plain)" if plain.rate else "plain: no order")
        console.print(f"CPU-bound rate if all {cores} cores were ours: plain {1000 * cores / plain_total:.1f} "
                      f"orders/s, Smart MOM {1000 * cores / smart_total:.1f} orders/s")
        if local is not None and local.rate:
            console.print(f"what if the interpreter ran the {2 * shape.count('user_task')} inbox activities as local "
                          f"activities: plain {local.rate:.2f} orders/s ({local.rate / plain.rate:.2f}x), server CPU "
                          f"{local.per_order_ms(local.cpu_server):.0f} ms/order instead of "
                          f"{plain.per_order_ms(plain.cpu_server):.0f}")
        ceiling = plain.rate
        where = "ABOVE" if ceiling < TARGET else "within"
        console.print(f"target >= {TARGET:.0f} orders/s: {where} the plain-Temporal ceiling measured here "
                      f"({ceiling:.2f} orders/s); Smart MOM {'meets' if smart.rate >= TARGET else 'is BELOW'} it")
    else:
        console.print(f"Smart MOM {smart.rate:.2f} orders/s {'meets' if smart.rate >= TARGET else 'is BELOW'} the "
                      f"target of >= {TARGET:.0f} orders/s (CPU per order {smart_total:.0f} ms)")
    split = Table(title="CPU by thread kind (measured Smart MOM orders)")
    split.add_column("threads")
    split.add_column("CPU s", justify="right")
    split.add_column("ms per order", justify="right")
    for kind, seconds in sorted(smart.threads.items(), key=lambda kv: -kv[1]):
        split.add_row(kind, f"{seconds:.1f}", f"{smart.per_order_ms(seconds):.0f}")
    split.add_row("Temporal dev server (other process)", f"{smart.cpu_server:.1f}",
                  f"{smart.per_order_ms(smart.cpu_server):.0f}")
    console.print(split)


def report_memory(memory: MemorySamples, start: tuple[float, int, int], end: tuple[float, int, int],
                  warmup_s: float) -> None:
    warm_at = start[0] + warmup_s
    after = [s for s in memory.between(warm_at, end[0])]
    warmed = after[0] if after else end
    table = Table(title=f"memory (RSS, MB), sampled every {memory.every_s:.0f} s; warm-up {warmup_s:.0f} s")
    for column in ("process", "start", "after warm-up", "end", "growth after warm-up MB/min",
                   "1st half / 2nd half MB/min"):
        table.add_column(column, justify="right")
    half = len(after) // 2
    for label, index in (("this process (workers, simulator, people)", 1), ("Temporal dev server", 2)):
        table.add_row(label, f"{start[index] / 2**20:.0f}", f"{warmed[index] / 2**20:.0f}",
                      f"{end[index] / 2**20:.0f}", f"{slope_mb_per_min(after, index):+.2f}",
                      f"{slope_mb_per_min(after[:half + 1], index):+.2f} / "
                      f"{slope_mb_per_min(after[half:], index):+.2f}")
    console.print(table)
    step = max(1, round(300 / memory.every_s))  # one point per 5 minutes: growth that levels off shows here
    timeline = [*memory.between(start[0], end[0])[::step], end]
    console.print("RSS every 5 min (min: this process / Temporal server, MB): " + ", ".join(
        f"{(s[0] - start[0]) / 60:.0f}: {s[1] / 2**20:.0f} / {s[2] / 2**20:.0f}" for s in timeline))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--orders", type=int, default=200, help="measured orders of each kind (without --duration)")
    parser.add_argument("--duration", type=float, default=None,
                        help="seconds of sustained load instead of a count of orders")
    parser.add_argument("--warmup", type=int, default=10, help="Smart MOM orders run first, not measured")
    parser.add_argument("--warmup-seconds", type=float, default=60.0,
                        help="with --duration: memory growth is measured after this many seconds")
    parser.add_argument("--plain-seconds", type=float, default=60.0,
                        help="with --duration: seconds of the plain-Temporal ceiling run")
    parser.add_argument("--what-if-local-inbox", action="store_true",
                        help="also run the plain workflow with its inbox activities as local activities (what an "
                             "interpreter change would gain)")
    parser.add_argument("--no-plain", action="store_true", help="skip the plain-Temporal ceiling")
    parser.add_argument("--machines", type=int, default=8, help="half presses, half coaters")
    parser.add_argument("--in-flight", type=int, default=16, help="orders running at once, at most")
    parser.add_argument("--speed", type=float, default=1000.0, help="simulated seconds per second")
    parser.add_argument("--tick", type=float, default=0.05,
                        help="wall seconds between steps of a simulated machine (0: the demo's default, 10 ms at "
                             "--speed 1000)")
    parser.add_argument("--poll", type=float, default=0.05, help="seconds between inbox polls of the people")
    parser.add_argument("--db-threads", type=int, default=0,
                        help="threads of the to_thread pool (SQLite work); 0: Python's default (cores + 4)")
    parser.add_argument("--sample", type=float, default=5.0, help="seconds between RSS samples")
    parser.add_argument("--timeout", type=float, default=600.0)
    parser.add_argument("--local", action="store_true", help="record steps as local activities")
    parser.add_argument("--monitor", action="store_true", help="run the machine monitor too (events into SQLite)")
    parser.add_argument("--tracemalloc", action="store_true",
                        help="print where memory held at the end was allocated after the warm-up (slow)")
    parser.add_argument("--objects", action="store_true",
                        help="with --duration: live objects by type, known caches and RSS after gc.collect() and "
                             "malloc_trim at the end of the warm-up and at the end (what grows)")
    parser.add_argument("--profile", metavar="FILE", help="save a profile (pstats) of the measured Smart MOM run")
    args = parser.parse_args()
    if args.orders < 1 or args.in_flight < 1 or args.warmup < 1:
        parser.error("--orders, --in-flight and --warmup must be >= 1")
    logging.basicConfig(level=logging.ERROR)
    if isinstance(sys.stdout, io.TextIOWrapper):
        sys.stdout.reconfigure(line_buffering=True)  # progress lines show up when redirected to a file
    return asyncio.run(bench(args))


if __name__ == "__main__":
    raise SystemExit(main())
