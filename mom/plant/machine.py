"""A simulated machine: PackML states, one job order at a time, parts, breakdowns and drift.

Pure and deterministic: no OPC UA and no wall clock. Time passes only through
:meth:`SimulatedMachine.advance` (simulated seconds), commands arrive through the job-control
methods (``store``, ``start``, ``pause``, ``resume``, ``stop``, ``abort``, ``clear``, ``reset``), and
what happened is collected as :class:`MachineEvent` objects for the server to publish.

Randomness comes from two seeded streams drawn only at discrete moments (one quality draw per
part, one failure draw per repair), so the same seed and the same command sequence give the same
parts, failures and alarms whatever the tick size.

Breakdowns follow MTBF/MTTR over Execute time. Failure kinds:

- ``JAM``: no warning; the machine holds (Held) until repaired, then resumes if ``auto_resume``.
- ``OVERTEMP``: Temperature drifts up during ``drift_window_s`` before it (warning alarm
  ``TEMP_HIGH`` half-way), then the machine holds like a jam.
- ``TOOL_BROKEN``: ToolWear drifts up before it (warning ``TOOL_WEAR_HIGH``), then the machine
  aborts and the job is Aborted; Clear is refused until the repair is done.
"""

from __future__ import annotations

import math
import random
from collections import OrderedDict
from dataclasses import dataclass, field

from mom.plant.job_order import JobOrder, JobStatus, Recipe
from mom.plant.packml import PackMLCommand, PackMLState, PackMLStateMachine, is_acting

SETPOINT_NAMES: tuple[str, ...] = ("CycleTime", "Temperature", "Pressure")
SETPOINT_RANGES: tuple[tuple[str, float, float], ...] = (
    ("CycleTime", 0.001, 3600.0), ("Temperature", 0.0, 400.0), ("Pressure", 0.0, 20.0),
)
"""the engineering range of each setpoint (name, low, high): what the machine accepts, served as
its OPC UA EURange; a value outside it (or NaN/inf) is refused as a real PLC would"""
FAILURE_KINDS: tuple[str, ...] = ("JAM", "OVERTEMP", "TOOL_BROKEN")
_EPS = 1e-9
JOB_RESPONSES_KEPT = 256
"""jobs a machine remembers after they were replaced or cleared (its job response list)"""
_WARNINGS = {"OVERTEMP": "TEMP_HIGH", "TOOL_BROKEN": "TOOL_WEAR_HIGH"}

S = PackMLState
C = PackMLCommand


@dataclass(frozen=True)
class MachineConfig:
    """How one simulated machine behaves; times are simulated seconds."""

    name: str
    cycle_time_s: float = 2.0
    acting_time_s: float = 0.5
    bad_rate: float = 0.02
    mtbf_s: float = 3600.0
    mttr_s: float = 120.0
    drift_window_s: float = 300.0
    base_temperature: float = 60.0
    pressure: float = 5.0
    wear_per_part: float = 0.0005
    auto_reset: bool = True
    auto_resume: bool = True
    setpoint_ranges: tuple[tuple[str, float, float], ...] = SETPOINT_RANGES

    def setpoint_range(self, name: str) -> tuple[float, float]:
        for setpoint, low, high in self.setpoint_ranges:
            if setpoint == name:
                return low, high
        return -math.inf, math.inf

    def setpoint_refusal(self, name: str, value: float) -> str | None:
        """Why ``value`` cannot be setpoint ``name`` of this machine (None when it can)."""
        low, high = self.setpoint_range(name)
        if not math.isfinite(value):
            return f"machine {self.name} setpoint {name}: {value!r} is not a finite number"
        if not low <= value <= high:
            return f"machine {self.name} setpoint {name}: {value!r} is outside its range {low:g}..{high:g}"
        return None


@dataclass(frozen=True)
class MachineEvent:
    at: float


@dataclass(frozen=True)
class StateChanged(MachineEvent):
    state: PackMLState
    previous: PackMLState


@dataclass(frozen=True)
class JobStatusChanged(MachineEvent):
    job_id: str
    status: JobStatus
    recipe_id: str
    good_count: int
    bad_count: int


@dataclass(frozen=True)
class AlarmChanged(MachineEvent):
    code: str
    active: bool
    severity: int
    message: str


@dataclass(frozen=True)
class CommandResult:
    """Outcome of an accepted command; ``changed`` is False when it was already done."""

    changed: bool
    job_status: JobStatus


class CommandRefused(Exception):
    """A command the machine will not execute now; ``code`` is a stable business code."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


@dataclass
class _Failure:
    kind: str
    execute_time_left: float
    warned: bool = False


@dataclass
class _Repair:
    kind: str
    time_left: float


@dataclass
class SimulatedMachine:
    config: MachineConfig
    seed: int = 0
    packml: PackMLStateMachine = field(default_factory=PackMLStateMachine)
    job: JobOrder | None = None
    clock: float = 0.0
    tool_wear: float = 0.0
    starts_accepted: int = 0
    setpoints: dict[str, float] = field(default_factory=dict)
    active_alarms: dict[str, AlarmChanged] = field(default_factory=dict)

    def __post_init__(self) -> None:
        name = self.config.name
        self._quality_rng = random.Random(f"{self.seed}:{name}:quality")
        self._failure_rng = random.Random(f"{self.seed}:{name}:failure")
        self._events: list[MachineEvent] = []
        self._acting_left = self.config.acting_time_s if is_acting(self.state) else 0.0
        self._cycle_elapsed = 0.0
        self._fault_hold = False
        self._repair: _Repair | None = None
        self._failure = self._draw_failure()
        self._past_jobs: OrderedDict[str, JobOrder] = OrderedDict()
        self.setpoints = {
            "CycleTime": self.config.cycle_time_s,
            "Temperature": self.config.base_temperature,
            "Pressure": self.config.pressure,
        }

    # ---------------------------------------------------------------- observation

    @property
    def state(self) -> PackMLState:
        return self.packml.state

    @property
    def good_count(self) -> int:
        return self.job.good_count if self.job else 0

    @property
    def bad_count(self) -> int:
        return self.job.bad_count if self.job else 0

    @property
    def temperature(self) -> float:
        noise = random.Random(f"{self.seed}:{self.config.name}:{int(self.clock * 10)}").gauss(0, 0.2)
        drift = 40.0 * self._drift_fraction("OVERTEMP")
        running = 5.0 if self.state is S.EXECUTE else 0.0
        return round(self.setpoints["Temperature"] + running + drift + noise, 3)

    @property
    def tool_wear_signal(self) -> float:
        return round(min(1.0, self.tool_wear + 0.6 * self._drift_fraction("TOOL_BROKEN")), 4)

    def job_response(self, job_id: str) -> JobOrder | None:
        """Job ``job_id`` as the machine last knew it: the job it holds, or one of the last
        :data:`JOB_RESPONSES_KEPT` jobs it replaced or cleared (their final status and counts);
        None when it never held it (or forgot it)."""
        if self.job is not None and self.job.job_id == job_id:
            return self.job
        return self._past_jobs.get(job_id)

    def _remember(self, job: JobOrder) -> None:
        self._past_jobs.pop(job.job_id, None)
        self._past_jobs[job.job_id] = job
        while len(self._past_jobs) > JOB_RESPONSES_KEPT:
            self._past_jobs.popitem(last=False)

    def drain_events(self) -> list[MachineEvent]:
        events, self._events = self._events, []
        return events

    # ---------------------------------------------------------------- job control

    def store(self, job_id: str, recipe: Recipe) -> CommandResult:
        _require_job_id(job_id)
        job = self.job
        if job is not None and job.job_id == job_id:
            if job.recipe != recipe:
                raise CommandRefused(
                    "JOB_CONFLICT",
                    f"job {job_id} is already stored with recipe {job.recipe.recipe_id} "
                    f"({job.recipe.to_json()}); a job id cannot be stored with another recipe",
                )
            return CommandResult(False, job.status)
        for name, value in recipe.setpoints.items():
            reason = self.config.setpoint_refusal(name, value)
            if reason is not None:
                raise CommandRefused("SETPOINT_OUT_OF_RANGE", f"job {job_id}: {reason}")
        self._refuse_when_held_or_aborted("store job " + job_id)
        if job is not None and not job.status.is_final:
            raise CommandRefused(
                "MACHINE_BUSY",
                f"machine {self.config.name} holds job {job.job_id} ({job.status.value}); "
                "stop or abort and clear it first",
            )
        self.setpoints.update(recipe.setpoints)
        if job is not None:
            self._remember(job)
        self._past_jobs.pop(job_id, None)  # a job id stored again is that new job from now on
        self.job = JobOrder(job_id=job_id, recipe=recipe)
        self._job_event()
        return CommandResult(True, JobStatus.ALLOWED_TO_START)

    def start(self, job_id: str) -> CommandResult:
        job = self._current_job(job_id, "start")
        if job.status is not JobStatus.ALLOWED_TO_START:
            return CommandResult(False, job.status)
        self._refuse_when_held_or_aborted(f"start job {job_id}")
        if self.state is not S.IDLE:
            raise CommandRefused(
                "MACHINE_NOT_READY",
                f"machine {self.config.name} is {self.state.label}; Start needs Idle (Reset first)",
            )
        self._command(C.START)
        job.status = JobStatus.RUNNING
        self._cycle_elapsed = 0.0
        self.starts_accepted += 1
        self._job_event()
        return CommandResult(True, job.status)

    def pause(self, job_id: str) -> CommandResult:
        job = self._current_job(job_id, "pause")
        if job.status is not JobStatus.RUNNING or self.state in (S.HOLDING, S.HELD):
            return CommandResult(False, job.status)
        if self.state is not S.EXECUTE:
            raise CommandRefused(
                "INVALID_STATE", f"machine {self.config.name} is {self.state.label}; Pause needs Execute"
            )
        self._command(C.HOLD)
        return CommandResult(True, job.status)

    def resume(self, job_id: str) -> CommandResult:
        job = self._current_job(job_id, "resume")
        if self.state is not S.HELD:
            return CommandResult(False, job.status)
        if self.active_alarms:
            codes = ", ".join(sorted(self.active_alarms))
            raise CommandRefused(
                "ALARM_ACTIVE", f"machine {self.config.name} has active alarms ({codes})"
            )
        self._command(C.UNHOLD)
        self._fault_hold = False
        return CommandResult(True, job.status)

    def stop(self, job_id: str) -> CommandResult:
        job = self._current_job(job_id, "stop")
        if job.status.is_final or self.state in (S.STOPPING, S.ABORTING):
            return CommandResult(False, job.status)
        if job.status is JobStatus.ALLOWED_TO_START:
            job.status = JobStatus.ENDED
            self._job_event()
            return CommandResult(True, job.status)
        self._command(C.STOP)
        return CommandResult(True, job.status)

    def abort(self, job_id: str) -> CommandResult:
        job = self._current_job(job_id, "abort")
        if job.status.is_final or self.state in (S.ABORTING, S.ABORTED):
            return CommandResult(False, job.status)
        if job.status is JobStatus.ALLOWED_TO_START:
            job.status = JobStatus.ABORTED
            self._job_event()
            return CommandResult(True, job.status)
        self._command(C.ABORT)
        return CommandResult(True, job.status)

    def clear(self, job_id: str) -> CommandResult:
        """Remove an ended/aborted job; an Aborted machine is cleared to Stopped."""
        job = self.job
        if job is not None and job_id and job.job_id != job_id:
            return CommandResult(False, JobStatus.NOT_ALLOCATED)
        if job is not None and not job.status.is_final:
            raise CommandRefused(
                "JOB_ACTIVE", f"job {job.job_id} is {job.status.value}; stop or abort it first"
            )
        if self.state is S.ABORTED:
            if self.active_alarms:
                codes = ", ".join(sorted(self.active_alarms))
                raise CommandRefused(
                    "ALARM_ACTIVE", f"machine {self.config.name} has active alarms ({codes})"
                )
            self._command(C.CLEAR)
        if job is None:
            return CommandResult(False, JobStatus.NOT_ALLOCATED)
        self._remember(job)
        self.job = None
        self._events.append(
            JobStatusChanged(
                self.clock, job.job_id, JobStatus.NOT_ALLOCATED, job.recipe.recipe_id,
                job.good_count, job.bad_count,
            )
        )
        return CommandResult(True, JobStatus.NOT_ALLOCATED)

    def reset(self) -> CommandResult:
        status = self.job.status if self.job else JobStatus.NOT_ALLOCATED
        if self.state in (S.IDLE, S.RESETTING):
            return CommandResult(False, status)
        if self.state not in (S.STOPPED, S.COMPLETE):
            raise CommandRefused(
                "INVALID_STATE",
                f"machine {self.config.name} is {self.state.label}; Reset needs Stopped or Complete",
            )
        self._command(C.RESET)
        return CommandResult(True, status)

    # ---------------------------------------------------------------- time

    def advance(self, seconds: float) -> None:
        """Let ``seconds`` of simulated time pass, event by event."""
        remaining = seconds
        while remaining > _EPS:
            step = min(remaining, self._time_to_next_event())
            self._elapse(step)
            remaining -= step
            self._fire_due()

    def _time_to_next_event(self) -> float:
        candidates = [math.inf]
        if self._repair is not None:
            candidates.append(self._repair.time_left)
        if is_acting(self.state):
            candidates.append(self._acting_left)
        if self._producing:
            candidates.append(self._cycle_time - self._cycle_elapsed)
            if self._failure is not None:
                candidates.append(self._failure.execute_time_left)
                if not self._failure.warned and self._failure.kind in _WARNINGS:
                    candidates.append(self._failure.execute_time_left - self.config.drift_window_s / 2)
        return max(0.0, min(candidates))

    @property
    def _producing(self) -> bool:
        return self.state is S.EXECUTE and self.job is not None and self.job.status is JobStatus.RUNNING

    @property
    def _cycle_time(self) -> float:
        return max(0.001, self.setpoints["CycleTime"])

    def _elapse(self, step: float) -> None:
        self.clock += step
        if self._repair is not None:
            self._repair.time_left -= step
        if is_acting(self.state):
            self._acting_left -= step
        if self._producing:
            self._cycle_elapsed += step
            if self._failure is not None:
                self._failure.execute_time_left -= step

    def _fire_due(self) -> None:
        if self._repair is not None and self._repair.time_left <= _EPS:
            self._finish_repair()
        if is_acting(self.state) and self._acting_left <= _EPS:
            self._complete_acting_state()
            return
        if not self._producing:
            return
        if self._failure is not None and self._failure.execute_time_left <= _EPS:
            self._break_down(self._failure.kind)
            return
        self._warn_on_drift()
        if self._cycle_elapsed >= self._cycle_time - _EPS:
            self._cycle_elapsed = 0.0
            self._make_part()

    def _make_part(self) -> None:
        job = self.job
        assert job is not None
        bad_rate = min(0.9, self.config.bad_rate + 0.5 * max(0.0, self.tool_wear_signal - 0.5))
        if self._quality_rng.random() < bad_rate:
            job.bad_count += 1
        else:
            job.good_count += 1
        self.tool_wear = min(1.0, self.tool_wear + self.config.wear_per_part)
        if job.good_count >= job.recipe.quantity:
            self.packml.state_complete()  # Execute -> Completing
            self._entered(S.EXECUTE)

    def fail_now(self, kind: str) -> None:
        """Break down now with failure ``kind`` (commissioning tests and demos); needs Execute."""
        if kind not in FAILURE_KINDS:
            raise ValueError(f"failure kind {kind!r}: use one of {', '.join(FAILURE_KINDS)}")
        if not self._producing:
            raise CommandRefused("INVALID_STATE", f"machine {self.config.name} is {self.state.label}; "
                                 "a breakdown needs a running job (Execute)")
        self._break_down(kind)

    # ---------------------------------------------------------------- failures

    def _draw_failure(self) -> _Failure | None:
        if not math.isfinite(self.config.mtbf_s) or self.config.mtbf_s <= 0:
            return None
        kind = self._failure_rng.choice(FAILURE_KINDS)
        return _Failure(kind, self._failure_rng.expovariate(1.0 / self.config.mtbf_s))

    def _drift_fraction(self, kind: str) -> float:
        failure = self._failure
        window = self.config.drift_window_s
        if failure is None or failure.kind != kind or window <= 0:
            return 0.0
        return max(0.0, min(1.0, 1.0 - failure.execute_time_left / window))

    def _warn_on_drift(self) -> None:
        failure = self._failure
        if failure is None or failure.warned or failure.kind not in _WARNINGS:
            return
        if failure.execute_time_left <= self.config.drift_window_s / 2 + _EPS:
            failure.warned = True
            warning = _WARNINGS[failure.kind]
            self._raise_alarm(warning, 500, f"{self.config.name}: {warning} (drifting)")

    def _break_down(self, kind: str) -> None:
        self._failure = None
        self._raise_alarm(kind, 800, f"{self.config.name}: {kind}")
        mean_repair = max(self.config.mttr_s, _EPS)
        self._repair = _Repair(kind, self._failure_rng.expovariate(1.0 / mean_repair))
        if kind == "TOOL_BROKEN":
            self._command(C.ABORT)
        else:
            self._fault_hold = True
            self._command(C.HOLD)

    def _finish_repair(self) -> None:
        assert self._repair is not None
        self._repair = None
        for code in list(self.active_alarms):
            self._clear_alarm(code)
        if self.tool_wear_signal > 0.5:
            self.tool_wear = 0.0
        self._failure = self._draw_failure()
        if self._fault_hold and self.state is S.HELD:
            self._resume_after_repair()

    def _resume_after_repair(self) -> None:
        if self.config.auto_resume:
            self._fault_hold = False
            self._command(C.UNHOLD)

    def _raise_alarm(self, code: str, severity: int, message: str) -> None:
        alarm = AlarmChanged(self.clock, code, True, severity, message)
        self.active_alarms[code] = alarm
        self._events.append(alarm)

    def _clear_alarm(self, code: str) -> None:
        alarm = self.active_alarms.pop(code)
        self._events.append(AlarmChanged(self.clock, code, False, alarm.severity, alarm.message))

    # ---------------------------------------------------------------- state bookkeeping

    def _command(self, command: PackMLCommand) -> None:
        previous = self.state
        self.packml.command(command)
        self._entered(previous)

    def _complete_acting_state(self) -> None:
        previous = self.state
        self.packml.state_complete()
        self._entered(previous)
        if self.state is S.COMPLETE and self.config.auto_reset:
            self._command(C.RESET)
        elif self.state is S.HELD and self._fault_hold and self._repair is None:
            self._resume_after_repair()

    def _entered(self, previous: PackMLState) -> None:
        state = self.state
        self._acting_left = self.config.acting_time_s if is_acting(state) else 0.0
        self._events.append(StateChanged(self.clock, state, previous))
        job = self.job
        if job is None or job.status.is_final or job.status is JobStatus.ALLOWED_TO_START:
            return
        new_status = {
            S.HELD: JobStatus.INTERRUPTED,
            S.SUSPENDED: JobStatus.INTERRUPTED,
            S.EXECUTE: JobStatus.RUNNING,
            S.COMPLETE: JobStatus.ENDED,
            S.STOPPED: JobStatus.ENDED,
            S.ABORTED: JobStatus.ABORTED,
        }.get(state)
        if new_status is not None and new_status is not job.status:
            job.status = new_status
            self._job_event()

    def _job_event(self) -> None:
        job = self.job
        assert job is not None
        self._events.append(
            JobStatusChanged(
                self.clock, job.job_id, job.status, job.recipe.recipe_id, job.good_count, job.bad_count
            )
        )

    def _current_job(self, job_id: str, verb: str) -> JobOrder:
        _require_job_id(job_id)
        job = self.job
        if job is None or job.job_id != job_id:
            held = f"it holds job {job.job_id}" if job else "it holds no job"
            raise CommandRefused(
                "UNKNOWN_JOB",
                f"cannot {verb} job {job_id} on machine {self.config.name}: {held}; Store it first",
            )
        return job

    def _refuse_when_held_or_aborted(self, what: str) -> None:
        if self.state in (S.HOLDING, S.HELD):
            raise CommandRefused(
                "MACHINE_HELD", f"cannot {what}: machine {self.config.name} is {self.state.label}"
            )
        if self.state in (S.ABORTING, S.ABORTED):
            raise CommandRefused(
                "MACHINE_ABORTED", f"cannot {what}: machine {self.config.name} is {self.state.label}"
            )


def _require_job_id(job_id: str) -> None:
    if not isinstance(job_id, str) or not job_id.strip():
        raise CommandRefused("BAD_ARGUMENT", f"job id must be a non-empty string, got {job_id!r}")
