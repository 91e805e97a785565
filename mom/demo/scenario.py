"""A shift on the simulated plant: dozens of production orders released at the start and worked by
scripted people, and what goes wrong in a real shift, each handled by its exception process when it
is deployed: a press jams mid-shift (``machine_breakdown``), ERP raises an order's quantity before
it starts (``demand_change``), PLM releases revision B of the product (``engineering_change``), and
a coating is measured out of tolerance (``quality_deviation``).

:class:`ShiftReport.ok` is True only when every order completed (workflow and record) and every
exception process ended as expected.

OEE comes from the plant's shift calendar, as ``mom oee`` computes it: the site works three shifts
a day (:data:`THREE_SHIFTS`, local time of the site); the simulated plant comes up in the middle of
one, so the time before the demo started (that shift's part and the day's earlier shifts) is
recorded as planned downtime of the site ("the simulated plant was not running"). Each machine's
figures are per shift that the run overlapped, over what elapsed of it: planned busy time = shift
time - planned downtime, clipped to the end of the run.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from datetime import time as clock_time
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from mom import instances
from mom.db.equipment import add_planned_downtime, add_shift, equipment_time_zone, get_equipment_by_path
from mom.db.models import Equipment, JobOrder, MachineEvent
from mom.db.orders import get_production_order_by_number
from mom.db.transactions import writing
from mom.demo.people import Decisions, ScriptedPeople, TaskLedger
from mom.demo.plant import EmbeddedPlant
from mom.demo.seed import receive_orders
from mom.domain import ProductionOrderStatus
from mom.oee import oee_by_shift, shift_windows_between
from mom.plant.machine import SimulatedMachine
from mom.plant.packml import PackMLState
from mom.plant_setup import revision_b

_log = logging.getLogger(__name__)
BREAKDOWN, QUANTITY, ECO, DEVIATION = "breakdown", "quantity change", "engineering change", "quality deviation"
THREE_SHIFTS: tuple[tuple[str, clock_time, clock_time], ...] = (
    ("early", clock_time(6), clock_time(14)), ("late", clock_time(14), clock_time(22)),
    ("night", clock_time(22), clock_time(6)))
NOT_RUNNING_YET = "the simulated plant was not running"


def install_shift_calendar(session: Session, *, site_path: str, plant_started_at: datetime,
                           shifts: tuple[tuple[str, clock_time, clock_time], ...] = THREE_SHIFTS) -> None:
    """Give the site its shift calendar (every day, when it has none) and record the shifts of the
    last day before ``plant_started_at`` (the current one up to that moment) as planned downtime:
    nothing was planned to run on a plant that did not exist yet. The caller commits."""
    site = get_equipment_by_path(session, path=site_path)
    if not site.shifts:
        for name, starts, ends in shifts:
            for weekday in range(7):
                add_shift(session, equipment_id=site.id, name=name, weekday=weekday, starts=starts, ends=ends)
    calendar = [(sh.name, sh.weekday, sh.starts, sh.ends) for sh in site.shifts]
    windows = shift_windows_between(calendar, plant_started_at - timedelta(days=1), plant_started_at,
                                    equipment_time_zone(site))
    if not windows or windows[0].starts_at >= plant_started_at:
        return
    since = windows[0].starts_at  # the shifts of the day before the plant came up, the current one included
    recorded = {(_naive_utc(d.starts_at), _naive_utc(d.ends_at)) for d in site.planned_downtimes}
    if (_naive_utc(since), _naive_utc(plant_started_at)) not in recorded:
        add_planned_downtime(session, equipment_id=site.id, starts_at=since, ends_at=plant_started_at,
                             reason=NOT_RUNNING_YET)


def _naive_utc(at: datetime) -> datetime:
    return (at.astimezone(UTC) if at.tzinfo is not None else at).replace(tzinfo=None)


@dataclass(frozen=True)
class ShiftOptions:
    orders: int = 24
    seed: int = 1
    timeout_s: float = 600.0
    min_quantity: int = 4
    max_quantity: int = 12
    breakdown: bool = True
    quantity_change: bool = True
    eco: bool = True
    deviation: bool = True


@dataclass
class Incident:
    kind: str
    subject: str
    workflow_id: str | None = None
    status: str = "pending"  # pending, running, completed, incident, failed, not deployed
    note: str = ""

    @property
    def ended(self) -> bool:
        return self.status not in ("pending", "running")

    @property
    def as_expected(self) -> bool:
        return self.status in ("completed", "not deployed")


@dataclass
class OrderOutcome:
    number: str
    quantity: int
    workflow_id: str | None = None
    status: str = "waiting"  # waiting, running, completed, incident, failed, timed out
    record_status: str = ""
    latency_s: float | None = None


@dataclass
class MachineFigures:
    """One machine in one shift of the calendar (ISO 22400, over what elapsed of the shift)."""

    machine: str
    jobs: int
    good: int
    availability: float | None = None
    performance: float | None = None
    quality: float | None = None
    oee: float | None = None
    shift: str = ""
    shift_starts_at: datetime | None = None
    planned_busy_time_s: float | None = None


@dataclass
class ShiftProgress:
    """Live counters the progress display reads (the shift writes them)."""

    orders: dict[str, OrderOutcome] = field(default_factory=dict)
    incidents: list[Incident] = field(default_factory=list)
    ledger: TaskLedger = field(default_factory=TaskLedger)
    phase: str = "starting the plant"

    def count(self, *statuses: str) -> int:
        return sum(1 for o in self.orders.values() if o.status in statuses)


@dataclass
class ShiftReport:
    orders: list[OrderOutcome]
    machines: list[MachineFigures]
    ledger: TaskLedger
    incidents: list[Incident]
    duration_s: float
    problems: list[str]
    data_dir: str
    mismatches: list[str] = field(default_factory=list)
    """jobs whose record (work unit, recipe) differs from what the machine ran: reported, not failed"""

    @property
    def orders_done(self) -> int:
        return sum(1 for o in self.orders if o.status == "completed" and o.record_status == "completed")

    @property
    def ok(self) -> bool:
        return (self.orders_done == len(self.orders) and all(i.as_expected for i in self.incidents)
                and not self.problems)




def _outcome(kind: str, v: dict[str, Any]) -> str:
    """A few words on what an exception process did, from its final variables."""
    if kind == BREAKDOWN:
        return (f"held {len(v.get('held_jobs') or [])}, rerouted {len(v.get('rerouted') or [])} job(s), "
                f"down {float(v.get('downtime_s') or 0):.1f} s")
    if kind == ECO:
        return f"migrated {len(v.get('migrated_orders') or [])} order(s)"
    if kind == DEVIATION:
        return f"lot {v.get('lot')}: {v.get('disposition') or 'dispositioned'}"
    return ""


class Shift:
    def __init__(self, plant: EmbeddedPlant, options: ShiftOptions, progress: ShiftProgress | None = None) -> None:
        self.plant = plant
        self.options = options
        self.progress = progress or ShiftProgress()
        self.problems: list[str] = []
        self._rng = random.Random(f"shift:{options.seed}")
        self._followers: list[asyncio.Task[None]] = []
        self._started_at = datetime.now(UTC)

    # ------------------------------------------------------------------ the shift

    async def run(self) -> ShiftReport:
        opts, plant, progress = self.options, self.plant, self.progress
        clock = time.monotonic()
        self._started_at = datetime.now(UTC)
        quantities = [self._rng.randint(opts.min_quantity, opts.max_quantity) for _ in range(opts.orders)]
        with writing(plant.sessions) as session:
            install_shift_calendar(session, site_path=plant.layout.area.rsplit(".", 1)[0],
                                   plant_started_at=self._started_at)
            numbers = receive_orders(session, plant.layout, quantities)
        progress.orders = {n: OrderOutcome(n, q) for n, q in zip(numbers, quantities, strict=True)}
        held_back = self._plan_incidents(numbers)
        deviating = {(i.subject, 20) for i in progress.incidents if i.kind == DEVIATION}
        people = ScriptedPeople(plant.client, plant.sessions, {n: m.machine for n, m in plant.machines.items()},
                                Decisions(stock=plant.layout.stock, out_of_tolerance=deviating, seed=opts.seed))
        progress.ledger = people.ledger
        people_task = asyncio.create_task(people.work(), name="scripted people")
        progress.phase = "shift running"
        try:
            for number in numbers:
                if number != held_back:
                    await self._release(number)
            injector = asyncio.create_task(self._inject(held_back), name="incidents")
            finished = await self._wait_until_done(injector, clock + opts.timeout_s)
            if not finished:
                self.problems.append(f"the shift did not finish within {opts.timeout_s:.0f} s")
            injector.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await injector
        finally:
            people_task.cancel()
            for task in self._followers:
                task.cancel()
            await asyncio.gather(people_task, *self._followers, return_exceptions=True)
        progress.phase = "shift over"
        await self._classify_unfinished()
        self.problems.extend(people.ledger.refused)
        self.problems.extend(f"nobody handled the user task {e} of {p}" for p, e in sorted(people.ledger.unknown))
        await asyncio.sleep(0.5)  # the monitor's recorder flushes the last machine events
        ended = datetime.now(UTC)
        return ShiftReport(orders=list(progress.orders.values()), machines=self._machine_figures(ended),
                           ledger=people.ledger, incidents=progress.incidents, duration_s=time.monotonic() - clock,
                           problems=self.problems, data_dir=str(plant.data_dir), mismatches=self._mismatches())

    def _plan_incidents(self, numbers: list[str]) -> str | None:
        opts, deployed, incidents = self.options, self.plant.deployed, self.progress.incidents
        held_back = None
        if opts.breakdown:
            incidents.append(Incident(BREAKDOWN, self.plant.layout.presses[0],
                                      status="pending" if "machine_breakdown" in deployed else "not deployed"))
        if opts.quantity_change and "demand_change" in deployed and len(numbers) >= 2:
            held_back = numbers[-1]
            incidents.append(Incident(QUANTITY, held_back))
        if opts.eco and "engineering_change" in deployed:
            incidents.append(Incident(ECO, "ECO-1 BRACKET rev B"))
        if opts.deviation and "quality_deviation" in deployed:
            incidents.append(Incident(DEVIATION, numbers[len(numbers) // 2]))
        return held_back

    async def _release(self, number: str) -> None:
        outcome = self.progress.orders[number]
        started = await instances.start_instance(
            self.plant.client, self.plant.store, "production_order", task_queue=self.plant.task_queue,
            variables={"order_number": number, "schedule_first": False}, business_key=number, started_by="erp")
        outcome.workflow_id, outcome.status = started.workflow_id, "running"
        self._followers.append(asyncio.create_task(self._follow_order(outcome, time.monotonic())))

    async def _follow_order(self, outcome: OrderOutcome, started: float) -> None:
        assert outcome.workflow_id is not None
        result = await instances.wait_result(self.plant.client, outcome.workflow_id)
        outcome.latency_s = time.monotonic() - started
        outcome.status = result.status
        deviation = result.variables.get("deviation_instance")
        for incident in self.progress.incidents:
            if incident.kind == DEVIATION and incident.subject == outcome.number:
                if deviation:
                    await self._follow(incident, str(deviation))
                else:
                    incident.status, incident.note = "failed", "no deviation was started"

    async def _follow(self, incident: Incident, workflow_id: str) -> None:
        incident.workflow_id, incident.status = workflow_id, "running"
        result = await instances.wait_result(self.plant.client, workflow_id)
        incident.status = result.status
        incident.note = "; ".join(part for part in (incident.note, _outcome(incident.kind, result.variables)) if part)

    # ------------------------------------------------------------------ what goes wrong

    async def _inject(self, held_back: str | None) -> None:
        """Each incident at its moment of the shift, independently of the others."""
        total = len(self.progress.orders)
        jobs = []
        for incident in self.progress.incidents:
            if incident.kind == BREAKDOWN:
                jobs.append(self._break_down(incident, list(self.progress.orders)[total // 4:]))
            elif incident.kind == QUANTITY and held_back is not None:
                jobs.append(self._change_quantity(incident, held_back, max(1, total * 2 // 5)))
            elif incident.kind == ECO:
                jobs.append(self._change_engineering(incident, max(1, total // 2)))
        await asyncio.gather(*jobs)

    async def _until_completed(self, count: int) -> None:
        while self.progress.count("completed", "incident", "failed") < count:
            await asyncio.sleep(0.1)

    async def _break_down(self, incident: Incident, orders: list[str]) -> None:
        """A press jams while pressing one of ``orders`` (the shift's orders from a quarter on)."""
        jobs = {f"{number}-10" for number in orders}
        presses = [self.plant.machines[name].machine for name in self.plant.layout.presses]

        def pressing() -> list[SimulatedMachine]:
            return [p for p in presses if p.state is PackMLState.EXECUTE and p.job is not None and p.job.job_id in jobs]

        deadline = time.monotonic() + self.options.timeout_s
        while not pressing():
            if time.monotonic() > deadline or all(self.progress.orders[n].status not in ("waiting", "running")
                                                  for n in orders):
                incident.status, incident.note = "failed", "no press was seen pressing to jam it"
                return
            await asyncio.sleep(0.002)
        press = pressing()[0]
        incident.subject = press.config.name
        press.fail_now("JAM")
        incident.note = f"JAM on job {press.job.job_id if press.job else '-'}"
        if incident.status == "not deployed":
            return
        incident.status = "running"
        prefix = f"machine_breakdown-{incident.subject}-JAM-"
        for _ in range(300):
            async for wf in self.plant.client.list_workflows("WorkflowType = 'BpmnProcess'"):
                if wf.id.startswith(prefix):
                    self._followers.append(asyncio.create_task(self._follow(incident, wf.id)))
                    return
            await asyncio.sleep(0.1)
        incident.status, incident.note = "failed", "the monitor did not start machine_breakdown within 30 s"

    async def _change_quantity(self, incident: Incident, number: str, after_completed: int) -> None:
        await self._until_completed(after_completed)
        outcome = self.progress.orders[number]
        new_quantity = outcome.quantity + 4
        started = await instances.start_instance(
            self.plant.client, self.plant.store, "demand_change", task_queue=self.plant.task_queue,
            variables={"order_number": number, "new_quantity": new_quantity},
            business_key=number, started_by="erp")
        incident.note = f"{outcome.quantity} -> {new_quantity} pcs"
        await self._follow(incident, started.workflow_id)
        if incident.status == "completed":
            outcome.quantity = new_quantity
        await self._release(number)

    async def _change_engineering(self, incident: Incident, after_completed: int) -> None:
        await self._until_completed(after_completed)
        started = await instances.start_instance(
            self.plant.client, self.plant.store, "engineering_change", task_queue=self.plant.task_queue,
            variables={"eco_number": "ECO-1", "product_code": self.plant.layout.product,
                       "revision": revision_b(self.plant.layout.area)},
            business_key="ECO-1", started_by="eng-ida")
        self._followers.append(asyncio.create_task(self._follow(incident, started.workflow_id)))

    # ------------------------------------------------------------------ the end

    async def _wait_until_done(self, injector: asyncio.Task[None], deadline: float) -> bool:
        last_check = time.monotonic()
        while time.monotonic() < deadline:
            if injector.done() and injector.exception() is not None:
                self.problems.append(f"injecting the incidents failed: {injector.exception()!r}")
                return True
            orders = self.progress.orders.values()
            if injector.done() and all(o.status not in ("waiting", "running") for o in orders) and all(
                    i.ended for i in self.progress.incidents):
                return True
            if time.monotonic() - last_check > 3.0:  # an incident never ends by itself: stop early
                last_check = time.monotonic()
                if await self._any_incident():
                    return True
            await asyncio.sleep(0.1)
        return False

    async def _any_incident(self) -> bool:
        found = False
        running = [(o.workflow_id, f"order {o.number}") for o in self.progress.orders.values()
                   if o.status == "running" and o.workflow_id]
        running += [(i.workflow_id, i.kind) for i in self.progress.incidents if i.status == "running" and i.workflow_id]
        for workflow_id, what in running:
            state = await instances.instance_state(self.plant.client, workflow_id)
            if state.get("status") == "incident":
                self.problems.append(f"{what} ({workflow_id}) has an incident: {state.get('incident')}")
                found = True
        return found

    async def _classify_unfinished(self) -> None:
        for outcome in self.progress.orders.values():
            if outcome.status == "running" and outcome.workflow_id:
                state = await instances.instance_state(self.plant.client, outcome.workflow_id)
                outcome.status = "incident" if state.get("status") == "incident" else "timed out"
        for incident in self.progress.incidents:
            if incident.status == "running" and incident.workflow_id:
                state = await instances.instance_state(self.plant.client, incident.workflow_id)
                incident.status = "incident" if state.get("status") == "incident" else "timed out"
            elif incident.status == "pending":
                incident.status = "not started"
        with self.plant.sessions() as session:
            for outcome in self.progress.orders.values():
                order = get_production_order_by_number(session, order_number=outcome.number)
                outcome.record_status = order.status.value
                if order.status != ProductionOrderStatus.COMPLETED and outcome.status == "completed":
                    self.problems.append(f"order {outcome.number}: the process completed but the order is "
                                         f"{order.status.value}")

    def _mismatches(self) -> list[str]:
        """Jobs the machines ended (monitor's JobStatus events) on another work unit or with another
        recipe than their job order records (e.g. rerouted or migrated after the order started)."""
        ran: dict[str, tuple[int, str]] = {}
        with self.plant.sessions() as session:
            for event in session.scalars(sa.select(MachineEvent).where(MachineEvent.name == "JobStatus")):
                if event.value.get("job_status") == "Ended":
                    ran[str(event.value.get("job_id"))] = (event.work_unit_id, str(event.value.get("recipe_id")))
            names = {key: name for key, name in session.execute(sa.select(Equipment.id, Equipment.name)).all()}
            found = []
            for job in session.scalars(sa.select(JobOrder)):
                job_id = f"{job.production_order.order_number}-{job.sequence}"
                if job_id not in ran:
                    continue
                unit, recipe = ran[job_id]
                recorded = str(job.parameters.get("recipe_id"))
                if unit != job.work_unit_id or recipe != recorded:
                    found.append(f"{job_id} ran on {names.get(unit)} with {recipe}; recorded: "
                                 f"{names.get(job.work_unit_id or -1)} with {recorded}")
        return sorted(found)

    def _machine_figures(self, ended: datetime) -> list[MachineFigures]:
        """Per machine and shift of the site's calendar that the run overlapped (see the module)."""
        figures = []
        ideal = self.plant.options.cycle_time_s / self.plant.options.speed
        with self.plant.sessions() as session:
            for name in self.plant.machines:
                path = self.plant.layout.work_units[name]
                unit = get_equipment_by_path(session, path=path)
                shifts = oee_by_shift(session, starts_at=self._started_at, ends_at=ended, work_unit=path,
                                      planned_run_time_s=ideal)
                for f in shifts:
                    figures.append(MachineFigures(
                        name, _jobs_started(session, unit.id, f.starts_at, f.ends_at), f.good_quantity,
                        f.availability, f.effectiveness, f.quality_ratio, f.oee, f.shift, f.starts_at,
                        f.planned_busy_time_s))
                if not shifts:
                    figures.append(MachineFigures(name, self.plant.machines[name].machine.starts_accepted, 0))
        return figures


def _jobs_started(session: Session, unit_id: int, starts_at: datetime, ends_at: datetime) -> int:
    """Jobs that went Running on the unit in the window (the monitor's job-status events)."""
    events = session.scalars(sa.select(MachineEvent).where(
        MachineEvent.work_unit_id == unit_id, MachineEvent.name == "JobStatus", MachineEvent.at >= starts_at,
        MachineEvent.at < ends_at))
    return len({str(e.value.get("job_id")) for e in events if e.value.get("job_status") == "Running"})
