"""The whole stack as OS processes that can be killed with SIGKILL and restarted, and a chaos loop.

Parts: the Temporal dev server on a SQLite file (restarted on the same file and port), the cloud
worker and the site's edge worker (``python -m worker``), the API under uvicorn; the two
simulated machines run in this process (fast cycles) and count the starts they accept per job id.
The demo plant is seeded in a SQLite database under the data dir; production_order and
quality_deviation are deployed. ERP starts the orders (directly, through :mod:`mom.instances`);
the people of the shift work through the REST API as real users (:mod:`support.api_people`):
operators scoped to their line (op-ann at the press, op-carl at the coater), an inspector
(qa-bob) and a supervisor (sup-eve) sign in, take each step from their inbox, claim it and
complete it with form data, retrying through outages the way a person presses the button again
(the same task id, never a later one); one job per machine at a time, as staged on a shop floor;
every 4th order's coating is out of tolerance, so a quality deviation starts and the supervisor
scraps the lot.

:func:`run_chaos` starts orders spread over the cycles, kills one part at a random moment of
each cycle (seeded RNG; the API while a completion waits for its answer), restarts it after a
short pause, waits (bounded) for every instance to end, and counts what the guarantees promise:
instances lost or stuck, machine jobs started twice, genealogy links and audit entries written
twice, the audit chain, the activity retries the crashes caused (sum of ``attempt - 1`` over
ActivityTaskStarted events), and for the people: steps completed through the API, requests that
found it down, completions sent again, and double completions (a task id completed twice in the
workflow history or the audit log).
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import os
import random
import secrets
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC
from pathlib import Path
from typing import Any, TypeVar

import httpx
import sqlalchemy as sa
from sqlalchemy.orm import Session, sessionmaker
from temporalio.api.enums.v1 import EventType
from temporalio.api.history.v1 import HistoryEvent
from temporalio.client import Client, WorkflowExecutionStatus
from temporalio.converter import PayloadConverter
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from mom import instances
from mom.db import create_database_engine, create_session_factory, upgrade_database
from mom.db.audit import verify_audit_chain
from mom.db.models import HumanTask
from mom.db.models.audit import AuditEntry
from mom.db.models.materials import GenealogyLink
from mom.db.orders import create_production_order
from mom.db.transactions import writing
from mom.deployment import deploy_file
from mom.domain import TaskStatus
from mom.plant.machine import CommandResult, MachineConfig, SimulatedMachine
from mom.plant.server import MachineServer
from mom.plant_setup import PRODUCT, create_demo_plant
from mom.process_store import ProcessStore
from mom.stack.ports import free_port, port_open, wait_for_port
from mom.stack.temporal_server import TemporalDevServer, connect_when_ready
from workflows.contracts import COMPLETE_USER_TASK_UPDATE

from .api_people import PEOPLE, ApiLedger, ApiPerson, add_people
from .worker_process import ROOT, ChildProcess, WorkerProcess

PROCESSES = ROOT / "bpmn" / "processes"
PARTS = ("worker", "edge", "api", "temporal")
T = TypeVar("T")


class ApiProcess(ChildProcess):
    """``uvicorn api.app:create_app --factory`` on a loopback port, as ``mom up`` runs it."""

    def __init__(self, env: dict[str, str], log_file: Path) -> None:
        self.env = env
        self.port = free_port()
        self.log_file = log_file
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 60.0) -> ApiProcess:
        with open(self.log_file, "ab") as log:
            self.spawn(
                [sys.executable, "-m", "uvicorn", "api.app:create_app", "--factory", "--host", "127.0.0.1",
                 "--port", str(self.port), "--log-level", "warning"],
                cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        wait_for_port("127.0.0.1", self.port, timeout, "API")
        return self

    def healthy(self) -> bool:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/health", timeout=2) as response:
                return bool(response.status == 200)
        except OSError:
            return False

class CountingMachine(SimulatedMachine):
    """A simulated machine that counts, per job id, the Start commands that really started it."""

    def __init__(self, config: MachineConfig, seed: int) -> None:
        super().__init__(config, seed=seed)
        self.starts_by_job: collections.Counter[str] = collections.Counter()

    def start(self, job_id: str) -> CommandResult:
        result = super().start(job_id)
        if result.changed:
            self.starts_by_job[job_id] += 1
        return result


@dataclass
class ChaosStack:
    base: Path
    kill_api: bool = True
    site: str = field(default_factory=lambda: f"site{uuid.uuid4().hex[:6]}")
    task_queue: str = field(default_factory=lambda: f"chaos-{uuid.uuid4().hex[:8]}")

    def __post_init__(self) -> None:
        self.data_dir = self.base / "data"
        self.logs = self.base / "logs"
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.logs.mkdir(parents=True, exist_ok=True)
        self.db_url = f"sqlite:///{self.data_dir / 'mom.db'}"
        self.temporal = TemporalDevServer(db_file=self.base / "temporal" / "temporal.db", port=free_port(),
                                          log_file=self.logs / "temporal.log")
        self.machines: dict[str, MachineServer] = {}
        self.store = ProcessStore(self.data_dir)
        self.sessions: sessionmaker[Session] | None = None
        self.client: Client | None = None
        self.cloud: WorkerProcess | None = None
        self.edge: WorkerProcess | None = None
        self.api: ApiProcess | None = None
        self.secret_key = secrets.token_urlsafe(32)  # the plant's own key: tokens stay valid across restarts
        self.kills: collections.Counter[str] = collections.Counter()

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[ChaosStack]:
        engine = None
        try:
            self.temporal.start()
            self.client = await connect_when_ready(self.temporal.address)
            for name in ("Press1", "Coater1"):
                config = MachineConfig(name=name, cycle_time_s=0.02, acting_time_s=0.01, mtbf_s=0.0, bad_rate=0.0)
                server = MachineServer(CountingMachine(config, seed=1), free_port(), tick_s=0.01)
                await server.start()
                self.machines[name] = server
            upgrade_database(self.db_url)
            engine = create_database_engine(self.db_url)
            self.sessions = create_session_factory(engine)
            with writing(self.sessions) as session:
                create_demo_plant(session, site=self.site, endpoints={n: m.endpoint for n, m in self.machines.items()})
            for diagram in ("production_order.bpmn", "quality_deviation.bpmn"):
                deploy_file(self.store, PROCESSES / diagram, deployed_by="chaos")
            self.cloud = self._worker(None)
            self.edge = self._worker(self.site)
            self.cloud.start()
            self.edge.start()
            env = {**os.environ, "MOM_TEMPORAL_ADDRESS": self.temporal.address, "MOM_DATA_DIR": str(self.data_dir),
                   "MOM_DATABASE_URL": self.db_url, "MOM_SECRET_KEY": self.secret_key,
                   "MOM_TASK_QUEUE": self.task_queue}
            self.api = ApiProcess(env, self.logs / "api.log").start()
            yield self
        finally:  # every part stops, each bounded in time; nothing is left running
            for part in (self.api, self.edge, self.cloud):
                if part is not None:
                    with contextlib.suppress(Exception):
                        part.stop()
            with contextlib.suppress(Exception):
                self.temporal.stop()
            for server in self.machines.values():
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(server.stop(), 10)
            if engine is not None:
                engine.dispose()

    def _worker(self, edge: str | None) -> WorkerProcess:
        name = f"edge-{edge}" if edge else "worker"
        worker = WorkerProcess(self.temporal.address, self.data_dir, self.task_queue, self.logs / f"{name}.log",
                               edge=edge)
        worker.env["MOM_DATABASE_URL"] = self.db_url
        worker.env["MOM_SECRET_KEY"] = self.secret_key  # the API's: the workers check its Update proofs
        return worker

    @property
    def parts(self) -> tuple[str, ...]:
        """What the chaos loop kills (the API runs either way: the people work through it)."""
        return PARTS if self.kill_api else tuple(p for p in PARTS if p != "api")

    @property
    def api_url(self) -> str:
        assert self.api is not None
        return f"http://127.0.0.1:{self.api.port}"

    @property
    def area_path(self) -> str:
        return f"Acme.{self.site}.Fabrication"

    def kill(self, part: str) -> None:
        """SIGKILL one part, as a crash or a pulled plug would."""
        self.kills[part] += 1
        if part == "temporal":
            self.temporal.stop(kill=True)
        elif part == "api":
            assert self.api is not None
            self.api.kill()
        else:
            worker = self.cloud if part == "worker" else self.edge
            assert worker is not None
            worker.kill()

    async def restart(self, part: str) -> None:
        if part == "temporal":
            await asyncio.to_thread(self.temporal.start)  # the same SQLite file and port
            return
        if part == "api":
            assert self.api is not None
            await asyncio.to_thread(self.api.start)
            return
        worker = self.cloud if part == "worker" else self.edge
        assert worker is not None
        await asyncio.to_thread(worker.start)

    def ensure_workers_alive(self) -> list[str]:
        """Workers that exited by themselves (not killed by us) are restarted; their names are returned."""
        died = []
        for name, worker in (("worker", self.cloud), ("edge", self.edge)):
            if worker is not None and worker.process is not None and worker.process.poll() is not None:
                died.append(name)
                worker.start()
        return died


# --------------------------------------------------------------------------- scripted people

TRANSIENT = (RPCError, RuntimeError, TimeoutError, ConnectionError)


async def persist(call: Callable[[], Awaitable[T]], deadline: float, what: str) -> T:
    """Call again through outages (server restarting, worker down: queries time out) until the deadline."""
    while True:
        try:
            return await asyncio.wait_for(call(), 10)
        except TRANSIENT as exc:
            if isinstance(exc, RPCError) and exc.status in (RPCStatusCode.NOT_FOUND, RPCStatusCode.INVALID_ARGUMENT):
                raise
            if time.monotonic() > deadline:
                raise TimeoutError(f"{what}: still failing at the deadline: {exc!r}") from exc
            await asyncio.sleep(0.3)


class Operator:
    """Runs one order as the people of the shift do, at the REST API: the order's traveller says
    which instance it is; each step is taken from the person's inbox once (by task id), claimed,
    and completed with form data, sent again with the same id until the API answers. The order
    itself is started as ERP does, directly (not a human step)."""

    def __init__(self, stack: ChaosStack, people: dict[str, ApiPerson], order_number: str,
                 locks: dict[str, asyncio.Lock], deadline: float, measured: tuple[float, float] = (2.02, 24.0),
                 think_s: tuple[float, float] = (0.0, 0.0), seed: int = 0) -> None:
        self.stack = stack
        self.people = people
        self.order_number = order_number
        self.locks = locks
        self.deadline = deadline
        self.measured = measured
        self.workflow_id = f"production_order-{order_number}"
        # records.start_quality_deviation names the deviation after the lot and the instance
        self.deviation_id = f"quality_deviation-{order_number}-20-{self.workflow_id}"[:250]
        self.deviates = measured[1] > 30.0  # coating tolerance 20..30 um
        self.used: set[str] = set()
        self.think_s = think_s
        self.rng = random.Random(f"{seed}-{order_number}")
        self.started = False
        self.error: str | None = None

    @property
    def client(self) -> Client:
        assert self.stack.client is not None
        return self.stack.client

    async def start(self) -> None:
        async def start() -> None:
            with contextlib.suppress(WorkflowAlreadyStartedError):  # an earlier attempt started it, reply lost
                await instances.start_instance(self.client, self.stack.store, "production_order",
                                               task_queue=self.stack.task_queue, workflow_id=self.workflow_id,
                                               variables={"order_number": self.order_number})
        await persist(start, self.deadline, f"start {self.workflow_id}")
        self.started = True

    async def next_step(self, who: str, element_id: str, workflow_id: str | None = None,
                        wait_only: bool = False) -> dict[str, Any] | None:
        """The first step ``element_id`` of the instance in ``who``'s inbox not taken yet; None when
        the instance ended without it (``wait_only``: the machine step before it ended in an incident)."""
        person = self.people[who]
        wid = workflow_id or self.workflow_id
        polls = 0
        while True:
            offered = [t for t in await person.inbox(self.deadline, workflow_id=wid, element_id=element_id)
                       if t["task_id"] not in self.used]
            if offered:
                step = offered[0]
                unit = str((step["context"].get("operation") or {}).get("work_unit") or "")
                if element_id == "stage_material" and unit.rsplit(".", 1)[0] not in person.work_centers:
                    raise AssertionError(f"{wid}: {element_id} at {unit} came to {who}, who works at "
                                         f"{sorted(person.work_centers)}")
                return step
            polls += 1
            if polls % 15 == 0:  # now and then a look at the instance: has it ended (or an incident)?
                status = await person.instance_status(wid, self.deadline)
                if status in ("completed", "incident"):
                    if wait_only:
                        return None
                    raise AssertionError(f"{wid}: {element_id} never came: {status}")
            if time.monotonic() > self.deadline:
                raise AssertionError(f"{wid}: {element_id} never came to {who}'s inbox")
            await asyncio.sleep(0.3)

    async def task(self, who: str, element_id: str, data: dict[str, Any], workflow_id: str | None = None) -> None:
        await asyncio.sleep(self.rng.uniform(*self.think_s))  # a person reads the screen, scans, types
        step = await self.next_step(who, element_id, workflow_id)
        assert step is not None
        self.used.add(step["task_id"])
        person = self.people[who]
        await person.claim(step["task_id"], self.deadline)
        await person.complete(step, data, self.deadline, reason="chaos shift")

    async def run(self) -> None:
        try:
            await self.start()
            order = self.order_number
            await self.task("op-ann", "stage_material", {"operator_id": "op-ann", "lot_ids": "SHEET-002"})  # on hold
            async with self.locks["Press1"]:  # one job on a machine at a time, as on the shop floor
                await self.task("op-ann", "stage_material", {"operator_id": "op-ann", "lot_ids": "SHEET-001"})
                await self.next_step("qa-bob", "quality_check", wait_only=True)  # the press job ended
            await self.task("qa-bob", "quality_check", {"inspector_id": "qa-bob", "measured_value": self.measured[0]})
            async with self.locks["Coater1"]:
                await self.task("op-carl", "stage_material", {"operator_id": "op-carl",
                                                              "lot_ids": f"{order}-10\nPAINT-001"})
                await self.next_step("qa-bob", "quality_check", wait_only=True)
            await self.task("qa-bob", "quality_check", {"inspector_id": "qa-bob", "measured_value": self.measured[1]})
            if self.deviates:  # the supervisor decides on the held lot
                await self.task("sup-eve", "disposition", {"supervisor_id": "sup-eve", "disposition": "scrap",
                                                           "disposition_reason": "coating out of tolerance"},
                                self.deviation_id)
        except Exception as exc:  # counted, not raised: the figures say what went wrong
            self.error = f"{type(exc).__name__}: {exc}"


# --------------------------------------------------------------------------- the loop and the count

@dataclass
class ChaosFigures:
    cycles: int
    orders: int
    seed: int
    kills: dict[str, int]
    instances_started: int = 0
    completed: int = 0
    lost: int = 0
    stuck: int = 0
    failed: int = 0
    duplicate_job_starts: int = 0
    duplicate_genealogy: int = 0
    duplicate_audit: int = 0
    audit_chain_ok: bool = False
    activity_retries: int = 0
    durations_s: list[float] = field(default_factory=list)
    jobs_started: int = 0
    deviations: int = 0
    duplicate_deviations: int = 0
    operator_errors: list[str] = field(default_factory=list)
    workers_died_alone: list[str] = field(default_factory=list)
    api_healthy_after_restarts: bool = True
    elapsed_s: float = 0.0
    # the people at the REST API
    human_steps_via_api: int = 0
    """steps the API confirmed completed (distinct task ids)"""
    human_steps_recorded: int = 0
    """inbox rows completed by the people, as the database says"""
    api_down: dict[str, int] = field(default_factory=dict)
    """requests of the people that found the API down, by kind (refused, reset, timeout, 5xx)"""
    api_kills_mid_completion: int = 0
    """API kills aimed at a completion request still waiting for its answer (the answer may have been
    on its way already: ``lost_answers`` says what the people saw)"""
    completions_sent_again: int = 0
    """completions sent again with the same task id after a lost answer or a 5xx"""
    lost_answers: int = 0
    repeats_already_completed: int = 0
    """completion updates the workflow answered 'already completed' (the first attempt had done it)"""
    lost_after_done: int = 0
    """completions whose answer was lost after the workflow had completed the step (sent again all the same)"""
    double_completions: int = 0
    """task ids completed more than once, in the workflow (history) or in the records (audit)"""
    completions_not_in_workflow: int = 0
    """steps the API confirmed completed that the workflow history does not show completed"""

    @property
    def api_down_attempts(self) -> int:
        return sum(self.api_down.values())

    @property
    def clean(self) -> bool:
        return (self.lost == self.stuck == self.failed == self.duplicate_job_starts == self.duplicate_genealogy
                == self.duplicate_audit == self.duplicate_deviations == self.double_completions
                == self.completions_not_in_workflow == 0 and self.audit_chain_ok
                and self.completed == self.orders + self.deviations
                and self.human_steps_via_api == self.human_steps_recorded == self.human_steps_expected)

    @property
    def human_steps_expected(self) -> int:
        """Per order: stage (a lot on hold, refused), stage, check, stage, check; a disposition per deviation."""
        return 5 * self.orders + self.deviations

    def _durations(self) -> str:
        if not self.durations_s:
            return "-"
        ordered = sorted(self.durations_s)
        return f"{ordered[len(ordered) // 2]:.1f} s / {ordered[-1]:.1f} s"

    def table(self) -> str:
        rows = [
            ("cycles (kill -9 + restart)",
             f"{self.cycles}: " + ", ".join(f"{k} {v}" for k, v in sorted(self.kills.items()))),
            ("orders (+ quality deviations) / instances started",
             f"{self.orders} (+ {self.deviations}) / {self.instances_started}"),
            ("instances completed", str(self.completed)),
            ("instances lost (target 0)", str(self.lost)),
            ("instances stuck (target 0)", str(self.stuck)),
            ("instances failed/incident (target 0)", str(self.failed)),
            ("machine jobs started / started twice (target 0)", f"{self.jobs_started} / {self.duplicate_job_starts}"),
            ("quality deviations started twice (target 0)", str(self.duplicate_deviations)),
            ("genealogy links written twice (target 0)", str(self.duplicate_genealogy)),
            ("audit entries written twice (target 0)", str(self.duplicate_audit)),
            ("audit chain verifies", "yes" if self.audit_chain_ok else "NO"),
            ("raw activity retries (expected > 0)", str(self.activity_retries)),
            ("order duration median / max", self._durations()),
            ("workers that exited by themselves", ", ".join(self.workers_died_alone) or "none"),
            ("API healthy after each restart", "yes" if self.api_healthy_after_restarts else "NO"),
            ("human steps completed through the API / expected / rows",
             f"{self.human_steps_via_api} / {self.human_steps_expected} / {self.human_steps_recorded}"),
            ("requests that found the API down",
             f"{self.api_down_attempts} (" + ", ".join(f"{k} {v}" for k, v in sorted(self.api_down.items())) + ")"),
            ("API kills aimed at a completion in flight", str(self.api_kills_mid_completion)),
            ("completions sent again (same task id) / answers lost",
             f"{self.completions_sent_again} / {self.lost_answers}"),
            ("answers lost after the workflow had completed the step", str(self.lost_after_done)),
            ("repeats answered 'already completed' by the workflow", str(self.repeats_already_completed)),
            ("double completions (target 0)", str(self.double_completions)),
            ("completions confirmed, not in the workflow (target 0)", str(self.completions_not_in_workflow)),
            ("elapsed", f"{self.elapsed_s:.1f} s"),
        ]
        width = max(len(r[0]) for r in rows)
        lines = [f"chaos: seed {self.seed}", *(f"  {name.ljust(width)}  {value}" for name, value in rows)]
        lines += [f"  operator error: {e}" for e in self.operator_errors]
        return "\n".join(lines)


async def run_chaos(base: Path, *, cycles: int, orders: int, seed: int, kill_api: bool = True,
                    gap_s: tuple[float, float] = (0.5, 2.0), pause_s: tuple[float, float] = (0.2, 1.0),
                    settle_timeout_s: float = 90.0, each_part_in_turn: bool = False,
                    think_s: tuple[float, float] = (0.2, 1.5),
                    log: Callable[[str], None] = lambda _: None) -> ChaosFigures:
    """``each_part_in_turn``: the parts are killed in a seeded random order, each once per round
    (bounds the run: one kill of each part per round), instead of a random part per cycle.
    An API kill lands at a random moment of a completion request waiting for its answer (bounded
    wait for one), so that a completion whose answer is lost is sent again."""
    rng = random.Random(seed)
    moments = random.Random(f"{seed}-moments")  # apart, so the seeded kill schedule stays as it was
    began = time.monotonic()
    stack = ChaosStack(base, kill_api=kill_api)
    async with stack.running(), httpx.AsyncClient(base_url=stack.api_url) as http:
        figures = ChaosFigures(cycles=cycles, orders=orders, seed=seed, kills={})
        assert stack.sessions is not None
        numbers = [f"CH{seed}-{i:03d}" for i in range(orders)]
        password = secrets.token_urlsafe(16)
        with writing(stack.sessions) as session:
            for number in numbers:  # ERP sends the orders; 1 piece each keeps the sheet lot from running dry
                create_production_order(session, order_number=number, product_code=PRODUCT, quantity=1, actor="erp")
            centers = add_people(session, area_path=stack.area_path, password=password)
        ledger = ApiLedger()
        people = {name: ApiPerson(name, password, http, ledger, work_centers) for name, work_centers in centers.items()}
        locks = {name: asyncio.Lock() for name in stack.machines}
        work_deadline = time.monotonic() + 60.0 + cycles * (gap_s[1] + pause_s[1] + 6.0) + settle_timeout_s
        operators = [Operator(stack, people, n, locks, work_deadline, think_s=think_s, seed=seed,
                              measured=(2.02, 41.5 if i % 4 == 3 else 24.0))  # every 4th: a quality deviation
                     for i, n in enumerate(numbers)]
        running: list[asyncio.Task[None]] = []
        turn: list[str] = []
        log(f"{time.monotonic() - began:6.1f} s  stack up: Temporal {stack.temporal.address}, {len(stack.parts)} parts")
        # orders start spread over the cycles, so that every cycle hits work in progress
        start_at = {i: (i * cycles) // max(orders, 1) for i in range(orders)}
        for cycle in range(max(cycles, 1)):
            for i, at in start_at.items():
                if at == cycle:
                    running.append(asyncio.create_task(operators[i].run(), name=operators[i].workflow_id))
            if cycle >= cycles:
                break
            await asyncio.sleep(rng.uniform(*gap_s))
            if each_part_in_turn:
                if cycle % len(stack.parts) == 0:
                    turn = rng.sample(stack.parts, len(stack.parts))
                part = turn[cycle % len(stack.parts)]
            else:
                part = rng.choice(stack.parts)
            mid = ""
            after_done = stack.kills["api"] % 2 == 1  # every other API kill: after the workflow did the step
            if part == "api" and await completion_in_flight(ledger, moments, stack.sessions, after_done=after_done):
                figures.api_kills_mid_completion += 1
                mid = f" (a completion waits for its answer{', its step done' if after_done else ''})"
            log(f"{time.monotonic() - began:6.1f} s  cycle {cycle + 1}/{cycles}: kill -9 {part}{mid}")
            stack.kill(part)
            await asyncio.sleep(rng.uniform(*pause_s))
            await stack.restart(part)
            if part == "api" and stack.api is not None and not await asyncio.to_thread(_healthy_soon, stack.api):
                figures.api_healthy_after_restarts = False
            figures.workers_died_alone += await asyncio.to_thread(stack.ensure_workers_alive)
            for operator in operators:  # while the chaos lasts the people keep trying: the bound is after it
                operator.deadline = max(operator.deadline, time.monotonic() + settle_timeout_s)
        figures.kills = dict(stack.kills)
        log(f"{time.monotonic() - began:6.1f} s  cycles done; waiting for the orders to end")
        # the end: every operator finishes its order, every instance ends (bounded)
        settle_deadline = time.monotonic() + settle_timeout_s
        for operator in operators:  # restarts slower than planned (a loaded machine) leave them the settle time
            operator.deadline = max(operator.deadline, settle_deadline)
        while running and time.monotonic() < settle_deadline:
            done, _ = await asyncio.wait(running, timeout=1.0)
            running = [t for t in running if t not in done]
            figures.workers_died_alone += await asyncio.to_thread(stack.ensure_workers_alive)
        for task in running:
            task.cancel()
        await asyncio.gather(*running, return_exceptions=True)
        figures.operator_errors = [f"{o.workflow_id}: {o.error}" for o in operators if o.error]
        started = [o.workflow_id for o in operators if o.started]
        deviations = [o.deviation_id for o in operators if o.started and o.deviates]
        figures.deviations = len(deviations)
        await count(stack, figures, started + deviations, orders + len(deviations),
                    max(settle_deadline, time.monotonic() + 20.0), ledger)
        figures.duplicate_deviations = await deviations_twice(stack)
        log(f"{time.monotonic() - began:6.1f} s  counted; stopping the stack")
        figures.elapsed_s = time.monotonic() - began
        return figures


async def completion_in_flight(ledger: ApiLedger, rng: random.Random, sessions: sessionmaker[Session], *,
                               after_done: bool, bound_s: float = 30.0) -> bool:
    """Wait (bounded) for a completion request on its way, then for the moment to kill the API:
    ``after_done``: once the inbox row says the step is completed (the workflow has done it) while
    the request still waits for its answer (for half the bound at most); else a random moment of
    its wait. True when the request still waits for its answer then (the kill will lose that answer)."""
    deadline = time.monotonic() + bound_s
    while time.monotonic() < deadline:
        if ledger.in_flight:
            number = min(ledger.in_flight)
            if not after_done or time.monotonic() > deadline - bound_s / 2:
                await asyncio.sleep(rng.uniform(0.0, 0.25))
                if number in ledger.in_flight:
                    return True
                continue
            task_id = ledger.in_flight[number]
            while number in ledger.in_flight:
                if await asyncio.to_thread(_row_completed, sessions, task_id):
                    if number in ledger.in_flight:
                        return True
                    break  # answered meanwhile: wait for the next one
                await asyncio.sleep(0.003)
        await asyncio.sleep(0.005)
    return False


def _row_completed(sessions: sessionmaker[Session], task_id: str) -> bool:
    with sessions() as session:
        return session.scalar(sa.select(HumanTask.status).where(HumanTask.workflow_task_id == task_id)) == \
            TaskStatus.COMPLETED


def _healthy_soon(api: ApiProcess, timeout: float = 15.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if api.healthy():
            return True
        time.sleep(0.2)
    return False


async def count(stack: ChaosStack, figures: ChaosFigures, started: list[str], orders: int, deadline: float,
                ledger: ApiLedger) -> None:
    client = stack.client
    assert client is not None and stack.sessions is not None
    figures.instances_started = len(started)
    figures.lost += orders - len(started)  # an order whose instance never started is lost too
    # every instance ends by the deadline; one in an incident is not waited for
    ended: dict[str, str] = {}
    while time.monotonic() < deadline and len(ended) < len(started):
        for wid in started:
            if wid not in ended:
                ended[wid] = await outcome(client, wid, final=False)
                if ended[wid] in ("running", "unknown"):
                    del ended[wid]
        await asyncio.sleep(0.5)
    for wid in started:  # past the deadline: one last look, with time to get an answer
        if wid not in ended:
            ended[wid] = await outcome(client, wid, final=True)
    for wid, what in ended.items():
        if what == "completed":
            figures.completed += 1
        elif what == "missing":
            figures.lost += 1
        elif what in ("running", "unknown"):
            figures.stuck += 1
        else:
            figures.failed += 1
            figures.operator_errors.append(f"{wid}: {what}")
    completions: collections.Counter[str] = collections.Counter()  # task id -> updates that completed it
    completed_at: dict[str, float] = {}
    for wid, what in ended.items():
        if what != "missing":
            history = await read_history(client, wid)
            figures.activity_retries += history.activity_retries
            completions.update(history.completions)
            completed_at.update(history.completed_at)
            figures.repeats_already_completed += history.already_completed
    figures.durations_s = [d for wid in started if (d := await duration(client, wid)) is not None]

    for server in stack.machines.values():
        machine = server.machine
        assert isinstance(machine, CountingMachine)
        figures.jobs_started += len(machine.starts_by_job)
        figures.duplicate_job_starts += sum(1 for n in machine.starts_by_job.values() if n > 1)

    with stack.sessions() as session:
        links = GenealogyLink.__table__
        twice = session.execute(
            sa.select(links.c.consumed_lot_id, links.c.produced_lot_id, links.c.operation, sa.func.count())
            .group_by(links.c.consumed_lot_id, links.c.produced_lot_id, links.c.operation)
            .having(sa.func.count() > 1)).all()
        figures.duplicate_genealogy = sum(int(row[3]) - 1 for row in twice)
        figures.duplicate_audit = sum(n - 1 for n in audit_keys(session).values() if n > 1)
        figures.audit_chain_ok = verify_audit_chain(session) is None
        figures.human_steps_recorded = int(session.execute(
            sa.select(sa.func.count()).select_from(HumanTask)
            .where(HumanTask.status == TaskStatus.COMPLETED, HumanTask.completed_by.in_(sorted(PEOPLE)))).scalar_one())
        recorded = completions_audited(session)

    figures.human_steps_via_api = ledger.total
    figures.api_down = dict(ledger.down)
    figures.completions_sent_again = len(ledger.retried)
    figures.lost_answers = ledger.lost_answers
    done_twice = {t for t, n in completions.items() if n > 1} | {t for t, n in recorded.items() if n > 1}
    figures.double_completions = len(done_twice)
    figures.completions_not_in_workflow = sum(1 for t in ledger.completed if completions[t] == 0)
    figures.lost_after_done = sum(1 for t, lost in ledger.answer_lost_at.items()
                                  if t in completed_at and completed_at[t] < lost)


async def deviations_twice(stack: ChaosStack) -> int:
    """Quality deviation runs beyond one per lot and starting instance, from the visibility store."""
    assert stack.client is not None
    runs: collections.Counter[str] = collections.Counter()
    with contextlib.suppress(*TRANSIENT):
        async for execution in stack.client.list_workflows(f"TaskQueue = '{stack.task_queue}'"):
            if execution.id.startswith("quality_deviation-"):
                runs[execution.id] += 1
    return sum(n - 1 for n in runs.values())


async def outcome(client: Client, workflow_id: str, *, final: bool) -> str:
    """completed, missing (the server does not know it), running, unknown (no answer), or what else
    it is (an incident with its message, failed, terminated...)."""
    tries = 20 if final else 1
    for _ in range(tries):
        try:
            described = await asyncio.wait_for(client.get_workflow_handle(workflow_id).describe(), 10)
        except RPCError as exc:
            if exc.status == RPCStatusCode.NOT_FOUND:
                return "missing"
            await asyncio.sleep(0.5)
            continue
        except (RuntimeError, TimeoutError):
            await asyncio.sleep(0.5)
            continue
        if described.status == WorkflowExecutionStatus.COMPLETED:
            return "completed"
        if described.status != WorkflowExecutionStatus.RUNNING:
            return str(described.status.name if described.status else "unknown").lower()
        with contextlib.suppress(*TRANSIENT):
            state = await asyncio.wait_for(instances.instance_state(client, workflow_id), 10)
            if state.get("status") == "incident":
                return f"incident {state.get('incident')}"
        return "running"
    return "unknown"


async def duration(client: Client, workflow_id: str) -> float | None:
    with contextlib.suppress(*TRANSIENT):
        described = await asyncio.wait_for(client.get_workflow_handle(workflow_id).describe(), 10)
        if described.close_time is not None:
            return (described.close_time - described.start_time).total_seconds()
    return None


def audit_keys(session: Session) -> collections.Counter[tuple[str, ...]]:
    """One key per action that must be written exactly once: a status change of an entity from
    one status to another, a lot produced, a lot inspected (once per lot in this script)."""
    keys: collections.Counter[tuple[str, ...]] = collections.Counter()
    for entry in session.execute(sa.select(AuditEntry)).scalars():
        details = entry.details or {}
        if entry.action.endswith(".status_changed"):
            keys[(entry.action, entry.entity_id, str(details.get("from")), str(details.get("to")))] += 1
        else:
            keys[(entry.action, entry.entity_id.split("/")[0])] += 1
    return keys


def completions_audited(session: Session) -> collections.Counter[str]:
    """Task id -> audit entries saying it was completed (task.completed, .approved, .rejected)."""
    done: collections.Counter[str] = collections.Counter()
    for entity_id in session.scalars(sa.select(AuditEntry.entity_id).where(
            AuditEntry.entity_type == "human task",
            AuditEntry.action.in_(("task.completed", "task.approved", "task.rejected")))):
        done[str(entity_id)] += 1
    return done


@dataclass
class HistoryCounts:
    activity_retries: int = 0
    """sum of ``attempt - 1`` over ActivityTaskStarted events"""
    completions: collections.Counter[str] = field(default_factory=collections.Counter)
    """task id -> completion updates the workflow answered 'completed' (once each, or it was done twice)"""
    already_completed: int = 0
    """completion updates answered 'already completed' (a repeat of one the workflow had done)"""
    completed_at: dict[str, float] = field(default_factory=dict)
    """task id -> when (epoch seconds) the workflow completed it"""


def history_counts(events: Iterable[HistoryEvent], converter: PayloadConverter) -> HistoryCounts:
    counts = HistoryCounts()
    task_of_update: dict[str, str] = {}
    for event in events:
        if event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED:
            counts.activity_retries += max(event.activity_task_started_event_attributes.attempt - 1, 0)
        elif event.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED:
            request = event.workflow_execution_update_accepted_event_attributes.accepted_request
            if request.input.name == COMPLETE_USER_TASK_UPDATE and request.input.args.payloads:
                argument = converter.from_payloads(list(request.input.args.payloads))[0]
                task_of_update[request.meta.update_id] = str(argument["task_id"])
        elif event.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_COMPLETED:
            attributes = event.workflow_execution_update_completed_event_attributes
            task_id = task_of_update.get(attributes.meta.update_id)
            if task_id is None or not attributes.outcome.HasField("success"):
                continue
            answer = converter.from_payloads(list(attributes.outcome.success.payloads))[0]
            status = answer.get("status") if isinstance(answer, dict) else None
            if status == "completed":
                counts.completions[task_id] += 1
                counts.completed_at.setdefault(task_id, event.event_time.ToDatetime(tzinfo=UTC).timestamp())
            elif status == "already_completed":
                counts.already_completed += 1
    return counts


async def read_history(client: Client, workflow_id: str) -> HistoryCounts:
    events: list[HistoryEvent] = []
    with contextlib.suppress(*TRANSIENT):
        async for event in client.get_workflow_handle(workflow_id).fetch_history_events():
            events.append(event)
    return history_counts(events, client.data_converter.payload_converter)


def still_listening(*ports: int) -> list[int]:
    """Loopback ports still open (to check nothing is left running)."""
    return [p for p in ports if port_open("127.0.0.1", p)]
