"""The embedded stack of a demo or a benchmark, in this process: a Temporal dev server (SQLite file
under the data dir), the cloud worker and the site's edge worker, simulated machines on free
loopback ports, the demo plant in a SQLite database, every reference process deployed, and the
machine monitor (alarm rules -> exception processes, machine events -> OEE).

    async with EmbeddedPlant(PlantOptions(machines=4)) as plant:
        plant.client, plant.sessions, plant.machines["Press1"].machine.fail_now("JAM") ...
"""

from __future__ import annotations

import asyncio
import logging
import shutil
import tempfile
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

from sqlalchemy.orm import Session, sessionmaker
from temporalio.client import Client

from connectors.opcua import SessionPool
from mom.db import create_database_engine, create_session_factory, upgrade_database
from mom.db.transactions import writing
from mom.demo.seed import ShiftPlant, create_shift_plant, machine_names
from mom.deployment import deploy_file
from mom.monitoring.monitor import MachineMonitor, exception_starter, load_monitored_units
from mom.monitoring.recorder import EventRecorder
from mom.monitoring.rules import MonitorRules
from mom.plant.machine import MachineConfig, SimulatedMachine
from mom.plant.server import MachineServer
from mom.process_store import ProcessStore
from mom.settings import Settings, load_settings
from mom.stack.ports import free_port
from mom.stack.temporal_server import TemporalDevServer, connect_when_ready
from worker import build_worker

PROCESSES = Path(__file__).resolve().parents[2] / "bpmn" / "processes"
ALARM_RULES = {"JAM": "machine_breakdown", "OVERTEMP": "machine_breakdown"}
_log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PlantOptions:
    machines: int = 4
    seed: int = 1
    speed: float = 20.0
    """simulated seconds per wall second on the machines"""
    cycle_time_s: float = 1.0
    """simulated seconds per part"""
    mttr_s: float = 40.0
    """simulated seconds a breakdown takes to repair"""
    data_dir: Path | None = None
    """kept after the run; None: a temporary directory, removed at the end"""
    monitor: bool = True
    site: str = "Lyon"
    tick_s: float | None = None
    """wall seconds between two steps of each simulated machine; None: half a part's cycle, within
    10-50 ms (at high speeds a coarser tick costs less CPU: 8 machines at 10 ms use ~90 ms of CPU
    per second doing nothing, at 50 ms ~35 ms; a job's end is then seen up to one tick later)"""


@dataclass
class EmbeddedPlant:
    options: PlantOptions = field(default_factory=PlantOptions)
    client: Client = field(init=False)
    settings: Settings = field(init=False)
    sessions: sessionmaker[Session] = field(init=False)
    store: ProcessStore = field(init=False)
    layout: ShiftPlant = field(init=False)
    temporal: TemporalDevServer = field(init=False)
    machines: dict[str, MachineServer] = field(init=False, default_factory=dict)
    deployed: set[str] = field(init=False, default_factory=set)
    deploy_errors: dict[str, str] = field(init=False, default_factory=dict)
    monitor: MachineMonitor | None = field(init=False, default=None)
    _stack: AsyncExitStack = field(init=False, default_factory=AsyncExitStack)

    @property
    def task_queue(self) -> str:
        return self.settings.task_queue

    @property
    def data_dir(self) -> Path:
        return self.settings.data_dir

    def machine(self, name: str) -> SimulatedMachine:
        return self.machines[name].machine

    async def __aenter__(self) -> EmbeddedPlant:
        try:
            await self._start()
        except BaseException:
            await self._stack.aclose()
            raise
        return self

    async def __aexit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        await self._stack.aclose()

    async def _start(self) -> None:
        opts, stack = self.options, self._stack
        data_dir = opts.data_dir
        if data_dir is None:
            data_dir = Path(tempfile.mkdtemp(prefix="mom-demo-"))
            stack.callback(shutil.rmtree, data_dir, True)
        data_dir.mkdir(parents=True, exist_ok=True)
        self.temporal = TemporalDevServer(db_file=data_dir / "temporal" / "temporal.db",
                                          log_file=data_dir / "temporal.log")
        await asyncio.to_thread(self.temporal.start)
        stack.callback(self.temporal.stop)
        self.client = await connect_when_ready(self.temporal.address)
        self.settings = load_settings(data_dir=data_dir, temporal_address=self.temporal.address,
                                      database_url="", task_queue="mom")
        await self._start_machines()
        self._seed_database()
        self._deploy()
        await stack.enter_async_context(build_worker(self.client, self.settings, queue=self.task_queue))
        # the site's edge worker, as `worker.py --edge` builds it: it closes its machine sessions when it
        # stops, before the machines do
        await stack.enter_async_context(build_worker(self.client, self.settings, edge_site=self.layout.site))
        if opts.monitor:
            await self._start_monitor()


    async def _start_machines(self) -> None:
        opts = self.options
        presses, coaters = machine_names(opts.machines)
        for i, name in enumerate((*presses, *coaters)):
            config = MachineConfig(name=name, cycle_time_s=opts.cycle_time_s, acting_time_s=0.2 * opts.cycle_time_s,
                                   bad_rate=0.0, mtbf_s=0.0, mttr_s=opts.mttr_s)
            tick = opts.tick_s or min(0.05, max(0.01, opts.cycle_time_s / opts.speed / 2))
            server = MachineServer(SimulatedMachine(config, seed=opts.seed + i), free_port(), speed=opts.speed,
                                   tick_s=tick)
            await server.start()
            self._stack.push_async_callback(server.stop)
            self.machines[name] = server

    def _seed_database(self) -> None:
        url = self.settings.effective_database_url
        upgrade_database(url)
        engine = create_database_engine(url)
        self._stack.callback(engine.dispose)
        self.sessions = create_session_factory(engine)
        with writing(self.sessions) as session:
            self.layout = create_shift_plant(session, site=self.options.site,
                                             endpoints={n: m.endpoint for n, m in self.machines.items()})

    def _deploy(self) -> None:
        self.store = ProcessStore.for_settings(self.settings)
        for path in sorted(PROCESSES.glob("*.bpmn")):
            try:
                deployment = deploy_file(self.store, path, deployed_by="demo")
            except Exception as exc:  # a diagram still being drawn: the demo runs without it
                self.deploy_errors[path.stem] = str(exc)
                _log.warning("not deployed: %s: %s", path.name, exc)
                continue
            self.deployed.add(deployment.version.process_id)

    async def _start_monitor(self) -> None:
        with self.sessions() as session:
            units = load_monitored_units(session)
        rules = {alarm: process for alarm, process in ALARM_RULES.items() if process in self.deployed}
        pool = SessionPool()
        self._stack.push_async_callback(pool.close)
        self.monitor = MachineMonitor(
            units, sessions=pool, recorder=EventRecorder(self.sessions, flush_interval_s=0.2),
            rules=MonitorRules(rules),
            start_exception=exception_starter(self.client, self.store, task_queue=self.task_queue) if rules else None)
        await self._stack.enter_async_context(self.monitor)
        deadline = asyncio.get_running_loop().time() + 20
        while len(self.monitor.connected) < len(units):
            if asyncio.get_running_loop().time() > deadline:
                raise TimeoutError(f"machine monitor: {len(self.monitor.connected)} of {len(units)} machines "
                                   "connected after 20 s")
            await asyncio.sleep(0.05)

