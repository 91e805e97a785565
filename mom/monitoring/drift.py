"""Early warning: a monitored signal (tool wear, temperature) drifting towards its alarm limit
starts a preventive maintenance process before the machine breaks down.

:class:`DriftRule` says what is watched and when to warn; :class:`DriftWatch` is pure (readings in,
at most one :class:`~mom.monitoring.rules.ExceptionStart` out per unit and drift episode) and warns
when either

- the value crosses ``warn_at`` (a threshold below the alarm limit), or
- the least-squares trend over the last ``window`` readings rises and would reach ``alarm_limit``
  within ``horizon_s`` seconds.

It re-arms once the value falls back below ``rearm_below`` and below the value it warned at (the
tool was changed).
:class:`DriftMonitor` subscribes to the signal of each monitored unit over OPC UA and feeds the
watch; it runs beside :class:`~mom.monitoring.monitor.MachineMonitor` with the same session pool
and the same ``start_exception`` (e.g. :func:`~mom.monitoring.monitor.exception_starter`).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from connectors.opcua import DataChange, OpcUaError, SessionPool, Watch
from mom.monitoring.monitor import MonitoredUnit, StartException
from mom.monitoring.rules import ExceptionStart

PREVENTIVE_MAINTENANCE = "preventive_maintenance"
_log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DriftRule:
    signal: str = "ToolWear"
    """the machine variable below the machine object (``Press1.ToolWear``)"""
    alarm_limit: float = 1.0
    warn_at: float = 0.7
    window: int = 5
    horizon_s: float = 600.0
    rearm_below: float = 0.3
    process_id: str = PREVENTIVE_MAINTENANCE

    def __post_init__(self) -> None:
        if not self.rearm_below <= self.warn_at < self.alarm_limit:
            raise ValueError(f"drift rule {self.signal}: need rearm_below <= warn_at < alarm_limit, got "
                             f"{self.rearm_below}, {self.warn_at}, {self.alarm_limit}")
        if self.window < 2:
            raise ValueError(f"drift rule {self.signal}: window needs at least 2 readings, got {self.window}")


def slope_per_second(readings: Sequence[tuple[datetime, float]]) -> float:
    """Least-squares slope of value over time (units per second); 0 for fewer than 2 readings."""
    if len(readings) < 2:
        return 0.0
    t0 = readings[0][0]
    xs = [(at - t0).total_seconds() for at, _ in readings]
    ys = [value for _, value in readings]
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    spread = sum((x - mx) ** 2 for x in xs)
    if spread <= 0:
        return 0.0
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / spread


@dataclass
class DriftWatch:
    rule: DriftRule = field(default_factory=DriftRule)
    _recent: dict[int, deque[tuple[datetime, float]]] = field(default_factory=dict)
    _warned: dict[int, float] = field(default_factory=dict)
    """unit id -> the value it warned at"""

    def observe(self, unit_id: int, unit_path: str, value: float, at: datetime) -> ExceptionStart | None:
        """One reading of the rule's signal on a unit; the process to start when it warns now."""
        rule = self.rule
        recent = self._recent.setdefault(unit_id, deque(maxlen=rule.window))
        recent.append((at, float(value)))
        if unit_id in self._warned:
            if value < min(rule.rearm_below, self._warned[unit_id]):  # fell back: the tool was changed
                del self._warned[unit_id]
                recent.clear()
                recent.append((at, float(value)))
            return None
        slope = slope_per_second(list(recent))
        reason = None
        if value >= rule.warn_at:
            reason = f"{rule.signal} {value:g} reached the warning level {rule.warn_at:g}"
        elif len(recent) == rule.window and slope > 0 and value < rule.alarm_limit:
            eta = (rule.alarm_limit - value) / slope
            if eta <= rule.horizon_s:
                reason = f"{rule.signal} trend {slope:.4g}/s reaches {rule.alarm_limit:g} in {eta:.0f} s"
        if reason is None:
            return None
        self._warned[unit_id] = float(value)
        machine = unit_path.rsplit(".", 1)[-1]
        eta_s = None if slope <= 0 else round(max(0.0, (rule.alarm_limit - value) / slope), 1)
        return ExceptionStart(rule.process_id, f"{machine}-{rule.signal}-{at.strftime('%Y%m%dT%H%M%S%f')}", {
            "work_unit": unit_path, "work_unit_id": unit_id, "machine": machine, "signal": rule.signal,
            "value": round(float(value), 4), "slope_per_s": round(slope, 6), "alarm_limit": rule.alarm_limit,
            "seconds_to_limit": eta_s, "reason": reason, "detected_at": at.isoformat(),
        })


class DriftMonitor:
    """Watches ``rule.signal`` of each unit over OPC UA and starts the rule's process on a warning."""

    def __init__(self, units: Sequence[MonitoredUnit], *, sessions: SessionPool, start_exception: StartException,
                 rule: DriftRule | None = None, publishing_interval_s: float = 0.2) -> None:
        self.units = list(units)
        self.sessions = sessions
        self.start_exception = start_exception
        self.watch = DriftWatch(rule or DriftRule())
        self.publishing_interval_s = publishing_interval_s
        self.started: list[ExceptionStart] = []
        self._watches: list[Watch] = []
        self._handling: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        for unit in self.units:
            try:
                session = await self.sessions.session(unit.endpoint)
                node = await session.describe(await session.child(unit.machine, self.watch.rule.signal))
                self._watches.append(await session.watch_values(
                    [node], functools.partial(self._pending, unit), publishing_interval_s=self.publishing_interval_s))
            except OpcUaError as exc:
                _log.warning("%s: cannot watch %s for drift (%s)", unit.path, self.watch.rule.signal, exc)

    def _pending(self, unit: MonitoredUnit, change: DataChange) -> None:
        task = asyncio.get_running_loop().create_task(self.on_reading(unit, change))
        self._handling.add(task)
        task.add_done_callback(self._handling.discard)

    async def on_reading(self, unit: MonitoredUnit, change: DataChange) -> None:
        if not isinstance(change.value, int | float) or isinstance(change.value, bool):
            return
        at = change.source_timestamp or datetime.now(UTC)
        at = at if at.tzinfo is not None else at.replace(tzinfo=UTC)
        request = self.watch.observe(unit.work_unit_id, unit.path, float(change.value), at)
        if request is None:
            return
        self.started.append(request)
        try:
            await self.start_exception(request)
        except Exception:
            _log.exception("%s: cannot start %s on drift", unit.path, request.process_id)

    async def stop(self) -> None:
        for watch in self._watches:
            with contextlib.suppress(Exception):
                await watch.close()
        self._watches.clear()

    async def __aenter__(self) -> DriftMonitor:
        await self.start()
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.stop()
