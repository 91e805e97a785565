"""Record activities: what production processes write into the plant's records (ISA-95 data).

Every activity takes ONE dict (the BPMN task's inputs) and returns a dict; the data work runs in
a thread (``asyncio.to_thread``), one transaction per call, through :mod:`mom.db.execution`.

Idempotency (activities run at least once): release, dispatch, job results, holds and order
completion are keyed by business keys (order number, operation sequence, lot number) and find
what an earlier attempt recorded; inspections and dispositions are keyed by workflow id, run id
and activity id from ``activity.info()`` (stored with their audit entry). Starting a quality
deviation uses a workflow id made of the lot and the starting instance, so it starts once.

Refusals the diagram handles raise ``ApplicationError(type="BpmnError")`` with
``details=[{"code": ..., "message": ..., ...}]``; codes: LOT_NOT_AVAILABLE, LOT_NOT_IN_BOM,
LOT_NOT_HOLDABLE, LOT_NOT_ON_HOLD, ORDER_UNKNOWN, ORDER_NOT_RELEASABLE, ORDER_WITHOUT_OPERATIONS,
ORDER_NOT_DONE, NO_WORK_UNIT (also from current_assignment: a job order left without a work unit).
Bad inputs and other rule violations are non-retryable ``InvalidInput`` / ``DomainError`` failures
(an incident naming the element).

``records.current_assignment`` is a read (no write lock, nothing recorded): the production order
calls it right before loading the recipe of each operation, so a job rerouted by a breakdown or
moved to a new recipe by an ECO after dispatch runs on the machine and recipe recorded now. A job
order of a released order found without a work unit (its operation moved to another work center
and nobody re-dispatched it) is dispatched then to the first free unit of its work center
(:func:`activities.changes.redispatch_unassigned`, a write); NO_WORK_UNIT only when there is none.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy.orm import Session, sessionmaker
from temporalio import activity
from temporalio.client import Client
from temporalio.exceptions import ApplicationError

from activities.acting import acting_actor, acting_person, said
from activities.changes import redispatch_unassigned
from mom.b2mml import write_production_performance
from mom.db import RecordConflict, RecordNotFound, execution
from mom.db.audit import noting
from mom.db.exchange import production_performance
from mom.db.orders import get_production_order_by_number
from mom.db.transactions import writing
from mom.domain import DomainError
from workflows.contracts import ACTING_INPUT

logger = logging.getLogger("mom.records")
T = TypeVar("T")

# Starts a process instance: (process_id, variables, workflow_id, task_queue) -> workflow id.
ProcessStarter = Callable[[str, dict[str, Any], str, str], Awaitable[str]]
SYSTEM = "system"


def _text(inputs: dict[str, Any], name: str) -> str:
    value = inputs.get(name)
    if value is None or str(value).strip() == "":
        raise ApplicationError(f"records: input '{name}' is required (got inputs {sorted(inputs)})",
                               type="InvalidInput", non_retryable=True)
    return str(value).strip()


def _integer(inputs: dict[str, Any], name: str) -> int:
    value = inputs.get(name)
    if isinstance(value, bool) or not isinstance(value, int | float | str) or not str(value).strip().isdigit():
        raise ApplicationError(f"records: input '{name}' must be a whole number >= 0, got {value!r}",
                               type="InvalidInput", non_retryable=True)
    return int(str(value).strip())


def _lot_numbers(value: Any) -> list[str]:
    """Scanned lot ids: a list, or one text with ids separated by commas, spaces or new lines."""
    if isinstance(value, list):
        return [str(v).strip() for v in value if str(v).strip()]
    if isinstance(value, str):
        return [part for part in value.replace(",", " ").split() if part]
    raise ApplicationError(f"records: lot_ids must be a list or a text of lot ids, got {value!r}",
                           type="InvalidInput", non_retryable=True)


def _request_key() -> str:
    info = activity.info()
    return f"{info.workflow_id}/{info.workflow_run_id}/{info.activity_id}"


class RecordActivities:
    """Activities on the plant's records; ``exchange_dir`` receives B2MML documents and
    ``start_process`` starts another process instance (quality deviations)."""

    def __init__(self, session_factory: sessionmaker[Session], *, exchange_dir: Path | None = None,
                 start_process: ProcessStarter | None = None) -> None:
        self._sessions = session_factory
        self._exchange_dir = exchange_dir
        self._start_process = start_process

    async def _write(self, work: Callable[[Session], T]) -> T:
        def run() -> T:
            try:
                with writing(self._sessions) as session:
                    return work(session)
            except execution.ExecutionRefused as exc:
                raise ApplicationError(str(exc), {"code": exc.code, "message": str(exc)},
                                       type="BpmnError", non_retryable=True) from exc
            except (RecordNotFound, RecordConflict, DomainError) as exc:
                raise ApplicationError(str(exc), type=type(exc).__name__, non_retryable=True) from exc
        return await asyncio.to_thread(run)

    @activity.defn(name="records.release_order")
    async def release_order(self, inputs: dict[str, Any]) -> dict[str, Any]:
        number = _text(inputs, "order_number")
        actor = acting_actor(inputs)

        def work(session: Session) -> dict[str, Any]:
            order = execution.release_order(session, order_number=number, actor=actor,
                                            product_code=inputs.get("product_code"), quantity=inputs.get("quantity"))
            return {"order_number": number, "status": order.status.value,
                    "operations": execution.operations_of(session, order),
                    "schedule_problem": execution.schedule_problem(session, order)}
        with noting(said(inputs, "released_by")):
            return await self._write(work)

    @activity.defn(name="records.dispatch_order")
    async def dispatch_order(self, inputs: dict[str, Any]) -> dict[str, Any]:
        number = _text(inputs, "order_number")
        plan = inputs.get("plan") if isinstance(inputs.get("plan"), dict) else None

        def work(session: Session) -> dict[str, Any]:
            operations = execution.dispatch_order(session, order_number=number, plan=plan,
                                                  actor=acting_actor(inputs))
            return {"operations": operations, "planned": plan is not None}
        with noting(said(inputs, "dispatched_by")):
            return await self._write(work)

    async def _read(self, work: Callable[[Session], T]) -> T:
        def run() -> T:
            try:
                with self._sessions() as session:
                    return work(session)
            except execution.ExecutionRefused as exc:
                raise ApplicationError(str(exc), {"code": exc.code, "message": str(exc)},
                                       type="BpmnError", non_retryable=True) from exc
            except (RecordNotFound, DomainError) as exc:
                raise ApplicationError(str(exc), type=type(exc).__name__, non_retryable=True) from exc
        return await asyncio.to_thread(run)

    @activity.defn(name="records.current_assignment")
    async def current_assignment(self, inputs: dict[str, Any]) -> dict[str, Any]:
        """The job order's machine (site, endpoint, machine, work unit) and recipe as recorded now:
        a reroute or an ECO after dispatch wins over what the process got at dispatch. A read."""
        number, sequence = _text(inputs, "order_number"), _integer(inputs, "sequence")
        try:
            return await self._read(lambda session: execution.current_assignment(
                session, order_number=number, sequence=sequence))
        except ApplicationError as exc:
            if not exc.details or not isinstance(exc.details[0], dict) or exc.details[0].get("code") != "NO_WORK_UNIT":
                raise

        def dispatch_then_read(session: Session) -> dict[str, Any]:
            order = get_production_order_by_number(session, order_number=number)
            redispatch_unassigned(session, order, actor=acting_actor(inputs), sequence=sequence,
                                  reason="job order without a work unit when its operation became due")
            return execution.current_assignment(session, order_number=number, sequence=sequence)
        return await self._write(dispatch_then_read)

    @activity.defn(name="records.check_staged_lots")
    async def check_staged_lots(self, inputs: dict[str, Any]) -> dict[str, Any]:
        number, sequence = _text(inputs, "order_number"), _integer(inputs, "sequence")
        lots = _lot_numbers(inputs.get("lot_ids"))

        def work(session: Session) -> dict[str, Any]:
            return {"staged": execution.check_staged_lots(session, order_number=number, sequence=sequence,
                                                          lot_numbers=lots)}
        return await self._write(work)

    @activity.defn(name="records.record_job_result")
    async def record_job_result(self, inputs: dict[str, Any]) -> dict[str, Any]:
        number, sequence = _text(inputs, "order_number"), _integer(inputs, "sequence")
        staged = inputs.get("staged") or []
        good, bad = _integer(inputs, "good_count"), _integer(inputs, "bad_count")
        by = acting_actor(inputs)
        if not isinstance(staged, list):
            raise ApplicationError(f"records.record_job_result: staged must be a list, got {staged!r}",
                                   type="InvalidInput", non_retryable=True)

        def work(session: Session) -> dict[str, Any]:
            return execution.record_job_result(session, order_number=number, sequence=sequence, staged=staged,
                                               good=good, bad=bad, performed_by=by)
        with noting(said(inputs, "performed_by")):
            return await self._write(work)

    @activity.defn(name="records.quality_result")
    async def quality_result(self, inputs: dict[str, Any]) -> dict[str, Any]:
        lot = _text(inputs, "lot")
        measurements = inputs.get("measurements")
        if not isinstance(measurements, dict) or not measurements:
            raise ApplicationError(f"records.quality_result: measurements of lot {lot} must be an object "
                                   f"characteristic -> value, got {measurements!r}", type="InvalidInput",
                                   non_retryable=True)
        key = _request_key()
        sequence = inputs.get("sequence")

        def work(session: Session) -> dict[str, Any]:
            return execution.inspect_lot(
                session, lot_number=lot, measurements=measurements, inspection=key,
                inspected_by=acting_actor(inputs), order_number=inputs.get("order_number"),
                sequence=None if sequence is None else int(sequence))
        with noting(said(inputs, "inspected_by")):
            return await self._write(work)

    @activity.defn(name="records.hold_lot")
    async def hold_lot(self, inputs: dict[str, Any]) -> dict[str, Any]:
        lot = _text(inputs, "lot")

        def work(session: Session) -> dict[str, Any]:
            return execution.hold_lot(session, lot_number=lot, actor=acting_actor(inputs),
                                      reason=str(inputs.get("reason") or "quality deviation"))
        with noting(said(inputs, "held_by")):
            return await self._write(work)

    @activity.defn(name="records.disposition_lot")
    async def disposition_lot(self, inputs: dict[str, Any]) -> dict[str, Any]:
        lot, disposition = _text(inputs, "lot"), _text(inputs, "disposition")
        key = _request_key()

        def work(session: Session) -> dict[str, Any]:
            return execution.disposition_lot(session, lot_number=lot, disposition=disposition, request=key,
                                             decided_by=acting_actor(inputs),
                                             reason=str(inputs.get("reason") or disposition))
        _text(inputs, "decided_by")  # the form's badge: required, kept as a detail
        with noting(said(inputs, "decided_by")):
            return await self._write(work)

    @activity.defn(name="records.complete_order")
    async def complete_order(self, inputs: dict[str, Any]) -> dict[str, Any]:
        number = _text(inputs, "order_number")
        actor = acting_actor(inputs)

        def work(session: Session) -> tuple[str, bytes]:
            order = execution.complete_order(session, order_number=number, actor=actor)
            performance = production_performance(session, order_numbers=[number],
                                                 performance_id=f"PP-{number}", location=inputs.get("site"))
            return order.status.value, write_production_performance(performance)
        with noting(said(inputs, "completed_by")):
            status, document = await self._write(work)
        path = None
        if self._exchange_dir is not None:
            path = self._exchange_dir / f"ProductionPerformance-{number}.xml"
            await asyncio.to_thread(_write_file, path, document)
        return {"order_number": number, "status": status, "b2mml_file": None if path is None else str(path)}

    @activity.defn(name="records.start_quality_deviation")
    async def start_quality_deviation(self, inputs: dict[str, Any]) -> dict[str, Any]:
        lot = _text(inputs, "lot")
        if self._start_process is None:
            raise ApplicationError("records.start_quality_deviation: this worker cannot start processes",
                                   type="NotConfigured", non_retryable=True)
        info = activity.info()
        variables = {k: v for k, v in inputs.items() if k not in ("process_id", ACTING_INPUT)}
        # started for the person the starting instance acts for (its source_instance names the instance)
        variables[ACTING_INPUT] = acting_person(inputs)
        variables.setdefault("source_instance", info.workflow_id)
        process_id = str(inputs.get("process_id") or "quality_deviation")
        workflow_id = f"{process_id}-{lot}-{info.workflow_id}"[:250]
        started = await self._start_process(process_id, variables, workflow_id, info.task_queue)
        logger.info("[%s] lot %s: started %s", info.workflow_id, lot, started)
        return {"started": started}


def _write_file(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    temporary.write_bytes(data)
    temporary.replace(path)


def process_starter(connect: Callable[[], Awaitable[Client]], data_dir: Path, *,
                    database_url: str | None = None) -> ProcessStarter:
    """Start process instances from an activity: one client, connected on first use; a workflow
    id already started (a retried activity) is the instance it started."""
    from temporalio.exceptions import WorkflowAlreadyStartedError

    from mom.instances import start_instance
    from mom.process_store import ProcessStore

    clients: list[Client] = []

    async def start(process_id: str, variables: dict[str, Any], workflow_id: str, task_queue: str) -> str:
        if not clients:
            clients.append(await connect())
        person = variables.pop(ACTING_INPUT, None)
        try:
            store = ProcessStore(data_dir, database_url=database_url)
            started = await start_instance(clients[0], store, process_id, task_queue=task_queue,
                                           variables=variables, workflow_id=workflow_id,
                                           started_by=str(person or variables.get("source_instance") or SYSTEM))
        except WorkflowAlreadyStartedError:
            return workflow_id
        return started.workflow_id

    return start
