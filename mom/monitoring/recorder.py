"""Machine events written to the database in batches (one transaction per batch), off the event
loop, so a burst of notifications costs one commit instead of one per value."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from sqlalchemy.orm import Session, sessionmaker

from mom.db.events import record_machine_event
from mom.db.transactions import writing
from mom.monitoring.rules import Observation

_log = logging.getLogger(__name__)


class EventRecorder:
    def __init__(
        self, sessions: sessionmaker[Session], *, batch_size: int = 500, flush_interval_s: float = 0.5
    ) -> None:
        self.sessions = sessions
        self.batch_size = batch_size
        self.flush_interval_s = flush_interval_s
        self.recorded = 0
        self.batches = 0
        self._pending: list[Observation] = []
        self._full = asyncio.Event()
        self._lock = asyncio.Lock()

    def add(self, observation: Observation) -> None:
        self._pending.append(observation)
        if len(self._pending) >= self.batch_size:
            self._full.set()

    async def flush(self) -> int:
        """Write what is pending in one transaction; returns the number of events written."""
        async with self._lock:
            batch, self._pending = self._pending, []
            self._full.clear()
            if not batch:
                return 0
            # The transaction runs in a thread that a cancellation cannot stop: wait for its end
            # before giving up, so a batch is never both committed and kept for a retry.
            write = asyncio.ensure_future(asyncio.to_thread(self._write, batch))
            cancelled = False
            while not write.done():
                try:
                    await asyncio.shield(write)
                except asyncio.CancelledError:
                    cancelled = True
                except Exception:
                    break
            error = write.exception()
            if error is not None:
                self._pending = batch + self._pending  # nothing was committed: try again later
                raise error
            self.recorded += len(batch)
            self.batches += 1
            if cancelled:
                raise asyncio.CancelledError
            return len(batch)

    def _write(self, batch: list[Observation]) -> None:
        with writing(self.sessions) as session:
            for obs in batch:
                record_machine_event(
                    session, work_unit_id=obs.work_unit_id, kind=obs.kind, name=obs.name, at=obs.at,
                    value=obs.value, severity=obs.severity,
                )

    async def run(self) -> None:
        """Flush every ``flush_interval_s`` (sooner when a batch is full) until cancelled."""
        try:
            while True:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._full.wait(), self.flush_interval_s)
                try:
                    await self.flush()
                except Exception:
                    _log.exception("cannot record %d machine events; keeping them for the next batch",
                                   len(self._pending))
        finally:
            await self._final_flush()

    async def _final_flush(self, attempts: int = 5) -> None:
        """At stop: write what is pending, waiting out a busy database a few times; then log."""
        for attempt in range(attempts):
            try:
                await self.flush()
                return
            except Exception:
                if attempt == attempts - 1:
                    _log.exception("stopping: %d machine events could not be recorded", len(self._pending))
                    return
                await asyncio.sleep(0.2 * (attempt + 1))
