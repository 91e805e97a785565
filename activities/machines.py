"""Machine activities: commands to machines over OPC UA, run only by edge workers.

Every activity takes ONE dict (the BPMN task's inputs) and returns a dict. Common inputs:

- ``endpoint``: the machine's OPC UA server, e.g. ``opc.tcp://10.0.0.5:4840/``;
- ``machine``: the machine object, a node id (``nsu=urn:smart-mom:plant-sim;s=Press1``) or a
  bare name (``Press1``), which means ``nsu=<namespace>;s=<name>``;
- ``namespace``: the namespace URI for bare names (default ``urn:smart-mom:plant-sim``).

The machine follows the job-control address space of :mod:`mom.plant.server` (State, JobId,
JobStatus, GoodCount, BadCount, LastCommandError, methods Store/Start/..., JobStatusEventType);
children are found by browse name, never by hard-coded namespace index.

Idempotency: commands are keyed by ``job_id``. ``machine.start_job`` reads the machine first
and does nothing when the job already runs or ran; the machine's Start is idempotent too, so a
retry after a lost reply (worker killed, link cut mid-call) never starts a job twice.
A machine holds one job at a time: when it already holds the next job, what became of ``job_id``
is asked from its job response list (``RequestJobResponseByJobOrderID``, after OPC 10031-4), so
``machine.wait_job_end`` answers an ended job's counts and ``machine.start_job`` /
``machine.load_recipe`` do not run it again, however late or often the activity runs; and
``machine.load_recipe`` on a machine still busy with another order's job waits its turn (bounded,
then MACHINE_BUSY).

Limits: nothing is written to a machine unless every number is finite and inside every range
that applies (:mod:`connectors.opcua.limits`): the node's EURange read from the machine (for a
recipe, the EURange of ``Setpoints.<name>``), the recipe's ``limits`` (``{"Pressure": {"min": 4,
"max": 8, "source": ...}}``, or a list of such ranges per setpoint: what ``records.current_assignment``
puts there from the equipment binding ``Setpoints.<name>`` and the recipe parameters' limits) and the
task's ``limits`` input (the same form for a recipe; one range, or a list, for ``machine.write``).
The edge worker has no database: the ranges it does not read from the machine travel with the task.
A refused value is checked before anything is sent (no Store, no write) and raises the BPMN error
SETPOINT_OUT_OF_RANGE naming machine, parameter, value and range (``min``, ``max``, ``source``).
``limits`` are not sent to the machine; the recipe it stores is ``recipe_id``, ``quantity``,
``setpoints``.

Errors:
- business refusals raise ``ApplicationError(type="BpmnError", non_retryable=True)`` with
  ``details=[{"code": ..., "message": ..., "machine": ..., "state": ...}]``; codes:
  MACHINE_HELD, MACHINE_ABORTED, MACHINE_NOT_READY, MACHINE_BUSY, UNKNOWN_JOB, JOB_CONFLICT,
  BAD_RECIPE, JOB_ABORTED, METHOD_FAILED, SETPOINT_OUT_OF_RANGE;
- an unreachable machine raises a retryable ``ApplicationError(type="MachineUnreachable")``:
  Temporal retries, and while the link is down no value is read or reported (state UNKNOWN);
- wrong node ids, unknown nodes and wrong types raise a non-retryable
  ``ApplicationError(type="OpcUaConfigurationError")`` (an incident to fix in the diagram).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from temporalio import activity
from temporalio.exceptions import ApplicationError

from connectors.opcua import (
    EndpointSession,
    EndpointUnavailable,
    EventNotification,
    InvalidNodeId,
    Limit,
    MethodFailed,
    OpcUaError,
    SessionPool,
    UnknownNamespace,
    UnknownNode,
    ValueOutOfRange,
    WriteRefused,
    WrongType,
    limits_of,
    plain,
)
from connectors.opcua.limits import check

PLANT_NAMESPACE = "urn:smart-mom:plant-sim"
JOB_RESPONSE_METHOD = "RequestJobResponseByJobOrderID"
UNKNOWN_STATE = "UNKNOWN"
_STARTED = {"Running", "Interrupted", "Ended", "Aborted"}
_FINAL = {"Ended", "Aborted"}
_STATE_CODES = {
    "Held": "MACHINE_HELD",
    "Holding": "MACHINE_HELD",
    "Aborted": "MACHINE_ABORTED",
    "Aborting": "MACHINE_ABORTED",
}


@dataclass(frozen=True)
class MachineStatus:
    state: str
    job_id: str
    job_status: str
    good_count: int
    bad_count: int

    def for_job(self, job_id: str) -> str:
        """The status of ``job_id`` on the machine ("NotAllocated" when it holds another job)."""
        return self.job_status if self.job_id == job_id else "NotAllocated"

    def as_dict(self) -> dict[str, Any]:
        return {
            "machine_state": self.state,
            "job_id": self.job_id,
            "job_status": self.job_status,
            "good_count": self.good_count,
            "bad_count": self.bad_count,
        }


def bpmn_error(code: str, message: str, **details: Any) -> ApplicationError:
    return ApplicationError(
        f"{code}: {message}",
        {"code": code, "message": message, **details},
        type="BpmnError",
        non_retryable=True,
    )


@contextlib.contextmanager
def _opcua_errors() -> Iterator[None]:
    """Turn connector errors into the ApplicationErrors Temporal and the diagram understand."""
    try:
        yield
    except EndpointUnavailable as exc:
        raise ApplicationError(str(exc), type="MachineUnreachable") from exc
    except ValueOutOfRange as exc:
        raise _out_of_range(exc.endpoint, exc.node, exc.value, exc) from exc
    except (UnknownNode, UnknownNamespace, WrongType, WriteRefused, InvalidNodeId) as exc:
        raise ApplicationError(str(exc), type="OpcUaConfigurationError", non_retryable=True) from exc


def _require(inputs: dict[str, Any], *names: str) -> None:
    missing = [n for n in names if not inputs.get(n)]
    if missing:
        raise ApplicationError(
            f"machine activity inputs lack {', '.join(missing)} (got {sorted(inputs)})",
            type="InvalidInput",
            non_retryable=True,
        )


class MachineActivities:
    """Built once per edge worker with its session pool (one OPC UA session per endpoint)."""

    def __init__(self, sessions: SessionPool, *, heartbeat_s: float = 5.0, busy_wait_s: float = 20.0) -> None:
        self.sessions = sessions
        self.heartbeat_s = heartbeat_s
        self.busy_wait_s = busy_wait_s
        self._without_job_responses: set[tuple[str, str]] = set()

    # ------------------------------------------------------------------ activities

    @activity.defn(name="machine.load_recipe")
    async def load_recipe(self, inputs: dict[str, Any]) -> dict[str, Any]:
        """Store job ``job_id`` with ``recipe`` on the machine (idempotent by job id).

        A machine still busy with another order's job is waited for (its turn at the machine), on
        job-status events, up to ``busy_wait_s`` (less than the task's timeout); then MACHINE_BUSY.
        A job the machine already ran and replaced (a late retry) is not stored again."""
        _require(inputs, "endpoint", "machine", "job_id", "recipe")
        job_id = str(inputs["job_id"])
        with _opcua_errors():
            session, machine = await self._machine(inputs)
            status = await self._status(session, machine)
            if status.job_id not in ("", job_id):
                earlier = await self._job_response(session, machine, job_id, status.state)
                if earlier is not None and earlier.job_status != "NotAllocated":
                    return {"job_id": job_id, "job_status": earlier.job_status, "changed": False}
            recipe = await self._checked_recipe(session, machine, inputs)
            try:
                result = await self._command(session, machine, "Store", job_id, recipe)
            except ApplicationError as exc:
                if _code(exc) != "MACHINE_BUSY":
                    raise
                result = await self._store_when_free(session, machine, job_id, recipe, exc)
        return {"job_id": job_id, **result}

    @activity.defn(name="machine.start_job")
    async def start_job(self, inputs: dict[str, Any]) -> dict[str, Any]:
        """Start job ``job_id`` (storing ``recipe`` first when given); starts it at most once."""
        _require(inputs, "endpoint", "machine", "job_id")
        job_id = str(inputs["job_id"])
        with _opcua_errors():
            session, machine = await self._machine(inputs)
            status = await self._status(session, machine)
            if status.for_job(job_id) in _STARTED:
                return {"job_id": job_id, "changed": False, **status.as_dict()}
            if status.for_job(job_id) == "NotAllocated":  # replaced by the next job after it ran?
                earlier = await self._job_response(session, machine, job_id, status.state)
                if earlier is not None and earlier.job_status in _STARTED:
                    return {"job_id": job_id, "changed": False, **earlier.as_dict()}
            self._refuse_when_held_or_aborted(machine, status, f"start job {job_id}")
            if status.for_job(job_id) == "NotAllocated":
                if not inputs.get("recipe"):
                    raise bpmn_error(
                        "UNKNOWN_JOB",
                        f"job {job_id} is not stored on {machine}; load its recipe first "
                        "or give a 'recipe' input",
                        machine=machine,
                        state=status.state,
                    )
                await self._command(session, machine, "Store", job_id,
                                    await self._checked_recipe(session, machine, inputs))
            result = await self._command(session, machine, "Start", job_id)
            status = await self._status(session, machine)
        return {"job_id": job_id, "changed": result["changed"], **status.as_dict()}

    @activity.defn(name="machine.wait_job_end")
    async def wait_job_end(self, inputs: dict[str, Any]) -> dict[str, Any]:
        """Wait, on job-status events, for job ``job_id`` to end; heartbeats while waiting.

        Returns the final counts when the job Ended; raises BpmnError JOB_ABORTED when it was
        aborted. While the link is down the machine state is UNKNOWN (heartbeat details say so)
        and nothing is concluded; after the link comes back the status is read again.
        """
        _require(inputs, "endpoint", "machine", "job_id")
        job_id = str(inputs["job_id"])
        with _opcua_errors():
            session, machine = await self._machine(inputs)
            queue: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()
            unsubscribe = session.on_link_change(lambda up: queue.put_nowait(("link", up)))
            watch = await session.watch_events(
                machine,
                await self._event_type(session, machine, "JobStatusEventType"),
                lambda ev: queue.put_nowait(("event", ev)),
            )
            try:
                return await self._wait_for_end(session, machine, job_id, queue)
            finally:
                unsubscribe()
                await watch.close()

    @activity.defn(name="machine.read")
    async def read(self, inputs: dict[str, Any]) -> dict[str, Any]:
        """Read ``nodes`` (node ids, or paths below ``machine`` like ``Setpoints.Pressure``)."""
        _require(inputs, "endpoint")
        names = inputs.get("nodes") or ([inputs["node"]] if inputs.get("node") else [])
        if not names:
            raise ApplicationError("machine.read needs 'nodes' or 'node'", type="InvalidInput", non_retryable=True)
        with _opcua_errors():
            session = await self.sessions.session(inputs["endpoint"])
            ids = [await self._node(session, inputs, str(n)) for n in names]
            results = await session.read(ids)
        return {
            "values": {str(n): plain(r.value) for n, r in zip(names, results, strict=True)},
            "statuses": {str(n): r.status for n, r in zip(names, results, strict=True)},
        }

    @activity.defn(name="machine.write")
    async def write(self, inputs: dict[str, Any]) -> dict[str, Any]:
        """Write ``value`` to ``node``, typed by the node's data type (idempotent by nature)."""
        _require(inputs, "endpoint", "node")
        if "value" not in inputs:
            raise ApplicationError("machine.write needs a 'value'", type="InvalidInput", non_retryable=True)
        limits = _limits(inputs.get("limits"), f"task input limits of {inputs['node']}")
        with _opcua_errors():
            session = await self.sessions.session(inputs["endpoint"])
            node = await self._node(session, inputs, str(inputs["node"]))
            try:
                variant = await session.write(node, inputs["value"], limits=limits)
            except ValueOutOfRange as exc:
                machine = str(inputs.get("machine") or inputs.get("object") or inputs["endpoint"])
                raise _out_of_range(machine, str(inputs["node"]), inputs["value"], exc) from exc
        return {"node": inputs["node"], "value": plain(variant.Value), "type": variant.VariantType.name}

    @activity.defn(name="machine.call")
    async def call(self, inputs: dict[str, Any]) -> dict[str, Any]:
        """Call ``method`` on ``object`` with ``args``; idempotent only if the method is."""
        _require(inputs, "endpoint", "method")
        with _opcua_errors():
            session = await self.sessions.session(inputs["endpoint"])
            obj_name = inputs.get("object") or inputs.get("machine")
            if not obj_name:
                raise ApplicationError(
                    "machine.call needs 'object' or 'machine'", type="InvalidInput", non_retryable=True
                )
            obj = await self._node(session, {**inputs, "machine": None}, str(obj_name), bare_is_machine=True)
            method = await self._node(session, {**inputs, "machine": str(obj_name)}, str(inputs["method"]))
            try:
                outputs = await session.call(obj, method, *inputs.get("args", []))
            except MethodFailed as exc:
                raise bpmn_error("METHOD_FAILED", str(exc), status=exc.status) from exc
        return {"outputs": [plain(v) for v in outputs]}

    # ------------------------------------------------------------------ helpers

    async def _machine(self, inputs: dict[str, Any]) -> tuple[EndpointSession, str]:
        session = await self.sessions.session(str(inputs["endpoint"]))
        return session, _machine_id(inputs, str(inputs["machine"]))

    async def _node(
        self, session: EndpointSession, inputs: dict[str, Any], name: str, *, bare_is_machine: bool = False
    ) -> str:
        """A node id string; names without '=' are a machine (bare_is_machine) or a path below it."""
        if "=" in name:
            return name
        if bare_is_machine or not inputs.get("machine"):
            return _machine_id(inputs, name)
        machine = _machine_id(inputs, str(inputs["machine"]))
        node = await session.child(machine, *name.split("."))
        return await session.describe(node)

    async def _checked_recipe(self, session: EndpointSession, machine: str, inputs: dict[str, Any]) -> str:
        """The recipe JSON to store, once each setpoint is checked against its ranges (see the
        module's docstring); a setpoint out of range raises SETPOINT_OUT_OF_RANGE, nothing stored."""
        recipe = inputs.get("recipe")
        if isinstance(recipe, str):
            try:
                recipe = json.loads(recipe)
            except json.JSONDecodeError:
                return str(inputs["recipe"])  # the machine refuses it (BAD_RECIPE) and says why
        if not isinstance(recipe, dict):
            return _recipe_json(inputs)
        setpoints = recipe.get("setpoints")
        recipe_limits = recipe.get("limits") or {}
        input_limits = inputs.get("limits") or {}
        if isinstance(setpoints, dict):
            recipe_id = recipe.get("recipe_id", "?")
            for name, value in setpoints.items():
                limits = [*_limits(_entry(recipe_limits, name), f"recipe {recipe_id} limits of {name}"),
                          *_limits(_entry(input_limits, name), f"task input limits of {name}")]
                try:
                    node = await session.child(machine, "Setpoints", str(name))
                except UnknownNode:
                    node = None  # the machine refuses an unknown setpoint itself
                eu_range = await session.eu_range(node) if node is not None else None
                try:
                    check(session.endpoint, f"{machine} Setpoints.{name}", value,
                          [*limits, *([eu_range] if eu_range else [])])
                except ValueOutOfRange as exc:
                    raise _out_of_range(str(inputs["machine"]), str(name), value, exc) from exc
        sent = {k: v for k, v in recipe.items() if k != "limits"}
        return json.dumps(sent, sort_keys=True)

    async def _event_type(self, session: EndpointSession, machine: str, name: str) -> str:
        machine_id = await session.resolve(machine)
        namespaces = await session.namespaces()
        return f"nsu={namespaces[machine_id.NamespaceIndex]};s={name}"

    async def _status(self, session: EndpointSession, machine: str) -> MachineStatus:
        children = ("State", "JobId", "JobStatus", "GoodCount", "BadCount")
        ids = [await session.child(machine, c) for c in children]
        state, job_id, job_status, good, bad = (r.value for r in await session.read(ids))
        return MachineStatus(state, job_id or "", job_status or "NotAllocated", good or 0, bad or 0)

    async def _command(self, session: EndpointSession, machine: str, method: str, *args: str) -> dict[str, Any]:
        method_id = await session.child(machine, method)
        try:
            job_status, changed = await session.call(machine, method_id, *args)
        except MethodFailed as exc:
            raise await self._refusal(session, machine, method, exc) from exc
        return {"job_status": job_status, "changed": changed}

    async def _refusal(
        self, session: EndpointSession, machine: str, method: str, exc: MethodFailed
    ) -> ApplicationError:
        """Name the business reason of a refused command, from the machine's own words."""
        status = await self._status(session, machine)
        reason = ""
        with contextlib.suppress(OpcUaError):
            reason = str(await session.read_value(await session.child(machine, "LastCommandError")))
        code = reason.split(":", 1)[0] if reason else ""
        if not code or not code.isupper():
            code = _STATE_CODES.get(status.state, "METHOD_FAILED")
        message = reason.split(":", 1)[1].strip() if ":" in reason else str(exc)
        return bpmn_error(code, message, machine=machine, state=status.state, method=method, status=exc.status)

    def _refuse_when_held_or_aborted(self, machine: str, status: MachineStatus, what: str) -> None:
        code = _STATE_CODES.get(status.state)
        if code:
            raise bpmn_error(code, f"cannot {what}: {machine} is {status.state}", machine=machine, state=status.state)

    async def _wait_for_end(
        self, session: EndpointSession, machine: str, job_id: str, queue: asyncio.Queue[tuple[str, Any]]
    ) -> dict[str, Any]:
        known: MachineStatus | None = await self._status_or_unknown(session, machine)
        interval = self._heartbeat_interval()
        while True:
            if known is not None and known.for_job(job_id) == "NotAllocated":
                # the machine holds another job (or none): J may have ended before, ask its job list
                earlier = await self._job_response(session, machine, job_id, known.state)
                if earlier is not None and earlier.job_status != "NotAllocated":
                    known = earlier
            if known is not None:
                job_status = known.for_job(job_id)
                if job_status == "Ended":
                    return {"job_id": job_id, **known.as_dict()}
                if job_status == "Aborted":
                    raise bpmn_error(
                        "JOB_ABORTED", f"job {job_id} was aborted on {machine}", machine=machine, state=known.state
                    )
                if job_status == "NotAllocated":
                    raise bpmn_error(
                        "UNKNOWN_JOB", f"job {job_id} is not on {machine} (it holds {known.job_id or 'none'}) "
                        "and not in its job responses",
                        machine=machine, state=known.state,
                    )
            _heartbeat(known, job_id, session.is_up)
            try:
                kind, payload = await asyncio.wait_for(queue.get(), interval)
            except TimeoutError:
                continue
            if kind == "link":
                # down: what we knew is stale; up: events may have been lost, read again
                known = await self._status_or_unknown(session, machine) if payload else None
            elif isinstance(payload, EventNotification) and payload.fields.get("JobId") == job_id:
                f = payload.fields
                known = MachineStatus(
                    str(f.get("MachineState") or UNKNOWN_STATE), job_id, str(f.get("JobStatus")),
                    int(f.get("GoodCount") or 0), int(f.get("BadCount") or 0),
                )

    async def _store_when_free(
        self, session: EndpointSession, machine: str, job_id: str, recipe: str, busy: ApplicationError
    ) -> dict[str, Any]:
        """Store once the machine's current job is done (job-status events wake the wait)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._busy_wait()
        changed = asyncio.Event()
        watch = await session.watch_events(
            machine, await self._event_type(session, machine, "JobStatusEventType"), lambda _: changed.set()
        )
        try:
            while loop.time() < deadline:
                changed.clear()
                if activity.in_activity():
                    activity.heartbeat({"job_id": job_id, "waiting_for": "machine busy with another job"})
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(changed.wait(), max(0.01, min(1.0, deadline - loop.time())))
                try:
                    return await self._command(session, machine, "Store", job_id, recipe)
                except ApplicationError as exc:
                    if _code(exc) != "MACHINE_BUSY":
                        raise
                    busy = exc
        finally:
            await watch.close()
        raise busy

    def _busy_wait(self) -> float:
        """``busy_wait_s``, kept 5 s (or a quarter) inside the task's start-to-close timeout."""
        wait = self.busy_wait_s
        if activity.in_activity():
            timeout = activity.info().start_to_close_timeout
            if timeout:
                seconds = timeout.total_seconds()
                wait = min(wait, max(seconds - 5.0, seconds * 0.75))
        return max(0.0, wait)

    async def _job_response(
        self, session: EndpointSession, machine: str, job_id: str, machine_state: str
    ) -> MachineStatus | None:
        """Job ``job_id`` from the machine's job response list (also after the machine replaced or
        cleared it); None when the machine has no such list or the link is down."""
        key = (session.endpoint, machine)
        if key in self._without_job_responses:
            return None
        try:
            method = await session.child(machine, JOB_RESPONSE_METHOD)
            _, text = await session.call(machine, method, job_id)
        except (UnknownNode, WrongType):
            self._without_job_responses.add(key)  # a machine without a job list: ask once
            return None
        except (EndpointUnavailable, MethodFailed):
            return None
        try:
            response = json.loads(text)
        except (TypeError, json.JSONDecodeError):
            return None
        return MachineStatus(machine_state, job_id, str(response.get("job_status") or "NotAllocated"),
                             int(response.get("good_count") or 0), int(response.get("bad_count") or 0))

    def _heartbeat_interval(self) -> float:
        """``heartbeat_s``, or a third of the task's heartbeat timeout when that is shorter."""
        if activity.in_activity():
            timeout = activity.info().heartbeat_timeout
            if timeout:
                return min(self.heartbeat_s, max(timeout.total_seconds() / 3, 0.05))
        return self.heartbeat_s

    async def _status_or_unknown(self, session: EndpointSession, machine: str) -> MachineStatus | None:
        try:
            return await self._status(session, machine)
        except EndpointUnavailable:
            return None


def _heartbeat(known: MachineStatus | None, job_id: str, link_up: bool) -> None:
    if not activity.in_activity():
        return
    details = known.as_dict() if known is not None else {"machine_state": UNKNOWN_STATE, "job_id": job_id}
    activity.heartbeat({**details, "link": "up" if link_up and known is not None else "down"})


def _code(error: ApplicationError) -> str | None:
    """The business code of a BpmnError raised here, else None."""
    if error.type != "BpmnError" or not error.details or not isinstance(error.details[0], dict):
        return None
    code = error.details[0].get("code")
    return str(code) if code else None


def _entry(limits: Any, name: str) -> Any:
    if not isinstance(limits, dict):
        raise ApplicationError(
            f"recipe limits must be an object of setpoint name -> {{'min': x, 'max': y}}, got {limits!r}",
            type="InvalidInput", non_retryable=True,
        )
    return limits.get(name)


def _limits(data: Any, source: str) -> list[Limit]:
    try:
        return limits_of(data, source)
    except ValueError as exc:
        raise ApplicationError(str(exc), type="InvalidInput", non_retryable=True) from None


def _out_of_range(machine: str, parameter: str, value: Any, exc: ValueOutOfRange) -> ApplicationError:
    """SETPOINT_OUT_OF_RANGE naming machine, parameter, value and the range it broke."""
    limit = exc.limit
    shown = value if isinstance(value, int | float) and not isinstance(value, bool) else str(value)
    if isinstance(shown, float) and not math.isfinite(shown):
        shown = str(shown)  # "nan", "inf": JSON has no such numbers
    if limit is None:
        message = f"{machine} {parameter} = {shown} {exc.detail}; nothing was written"
        return bpmn_error("SETPOINT_OUT_OF_RANGE", message, machine=machine, parameter=parameter, value=shown,
                          range=None, min=None, max=None, source=None)
    message = f"{machine} {parameter} = {shown} is outside {limit} ({limit.source}); nothing was written"
    return bpmn_error("SETPOINT_OUT_OF_RANGE", message, machine=machine, parameter=parameter, value=shown,
                      range=str(limit), min=limit.low, max=limit.high, source=limit.source)


def _machine_id(inputs: dict[str, Any], machine: str) -> str:
    if "=" in machine:
        return machine
    return f"nsu={inputs.get('namespace') or PLANT_NAMESPACE};s={machine}"


def _recipe_json(inputs: dict[str, Any]) -> str:
    recipe = inputs.get("recipe")
    if isinstance(recipe, dict):
        recipe = {k: v for k, v in recipe.items() if k != "limits"}
    return recipe if isinstance(recipe, str) else json.dumps(recipe, sort_keys=True)
