"""An asyncua server exposing one simulated machine, as a PLC would (one endpoint per machine).

Address space (namespace URI :data:`NAMESPACE_URI`; its index is whatever the server assigns,
clients look it up by URI). ``<M>`` is the machine name, e.g. ``Press1``; every node id is a
string id ``ns=<idx>;s=<M>.<Child>``, and every child also has the browse name ``<idx>:<Child>``::

    Objects/
      <M>                         object, event notifier (job-status events and alarms)
        State        String       PackML state name (Idle, Starting, Execute, Held, Aborted...)
        StateCode    Int32        PackML state code (OPC 30050: Idle=4, Execute=6, Held=11...)
        JobId        String       job order held by the machine ("" when none)
        JobStatus    String       ISA-95 job order state (NotAllocated, AllowedToStart, Running,
                                  Interrupted, Ended, Aborted)
        RecipeId     String
        GoodCount    Int32        good parts of the current job
        BadCount     Int32
        ToolWear     Double       0..1, rises before TOOL_BROKEN failures
        Temperature  Double       degC, drifts up before OVERTEMP failures
        ActiveAlarms String       comma-separated alarm codes ("" when none)
        LastCommandError String   "CODE: message" of the last refused command
        StartsAccepted UInt32     Start commands that really started a job (diagnostics)
        Setpoints/   object       CycleTime, Temperature, Pressure: Double, writable; each has the
                                  standard EURange property (0:EURange, a Range: the machine's
                                  engineering limits, AnalogItemType style); a client write that is
                                  NaN, infinite or outside EURange is refused with BadOutOfRange
                                  (nothing written, reason in LastCommandError), as a real PLC does
        Sensors/     object       Signal0000..: Double, updated every second (bench load)
        Store(JobId: String, Recipe: String JSON) -> (JobStatus: String, Changed: Boolean)
        Start(JobId) / Pause(JobId) / Resume(JobId) / Stop(JobId) / Abort(JobId) / Clear(JobId)
                                  -> (JobStatus, Changed)
        Reset() -> (JobStatus, Changed)
        RequestJobResponseByJobOrderID(JobId) -> (JobStatus: String, JobResponse: String JSON)
                                  the job as the machine last knew it, also after it was replaced
                                  or cleared (its last 256 jobs; after OPC 10031-4's job response
                                  provider): {"job_id", "job_status", "recipe_id", "good_count",
                                  "bad_count"}; JobStatus NotAllocated for a job it never held

Recipe JSON: ``{"recipe_id": "R1", "quantity": 10, "setpoints": {"Pressure": 6.5}}``.
Commands are idempotent by job id (``Changed`` is False when the command was already done).
A refused command returns BadInvalidState (machine state), BadNotFound (unknown job) or
BadInvalidArgument (arguments, recipe, job id reused with another recipe) and records the
reason in ``LastCommandError``.

Events, emitted by ``<M>``: ``JobStatusEventType`` (fields JobId, JobStatus, RecipeId,
GoodCount, BadCount, MachineState) on every job status change, ``MachineAlarmEventType``
(AlarmCode, Active, MachineState, JobId: the job held; Severity 500 warning / 800 fault) when an alarm is raised or
cleared. They are plain BaseEventType subtypes, not Alarms & Conditions (first cut).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import math
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

from asyncua import Server, ua
from asyncua.common.node import Node
from asyncua.crypto.permission_rules import User, UserRole
from asyncua.crypto.truststore import TrustStore
from asyncua.crypto.validator import CertificateValidator, CertificateValidatorOptions
from asyncua.server.event_generator import EventGenerator

from mom.plant.address_space import share_standard_nodes
from mom.plant.job_order import Recipe, RecipeError
from mom.plant.machine import (
    SETPOINT_NAMES,
    AlarmChanged,
    CommandRefused,
    CommandResult,
    JobStatusChanged,
    SimulatedMachine,
)

NAMESPACE_URI = "urn:smart-mom:plant-sim"
JOB_METHODS = ("Start", "Pause", "Resume", "Stop", "Abort", "Clear")
JOB_RESPONSE_METHOD = "RequestJobResponseByJobOrderID"
_log = logging.getLogger(__name__)

_REFUSAL_STATUS = {
    "UNKNOWN_JOB": ua.StatusCodes.BadNotFound,
    "JOB_CONFLICT": ua.StatusCodes.BadInvalidArgument,
    "BAD_ARGUMENT": ua.StatusCodes.BadInvalidArgument,
    "BAD_RECIPE": ua.StatusCodes.BadInvalidArgument,
    "SETPOINT_OUT_OF_RANGE": ua.StatusCodes.BadOutOfRange,
}


@dataclass(frozen=True)
class ServerSecurity:
    """Certificates for Basic256Sha256 endpoints, the accepted user names and passwords, and the
    trust list of client certificates (a directory of DER/PEM files: the client's certificate or
    its CA). Without a trust list any client certificate is accepted (a simulator default)."""

    certificate: Path | None = None
    private_key: Path | None = None
    allow_none: bool = True
    users: dict[str, str] = field(default_factory=dict)
    trusted_clients: Path | None = None

    def __post_init__(self) -> None:
        if (self.certificate is None) != (self.private_key is None):
            raise ValueError("server security needs both a certificate and its private key, or neither")
        if not self.allow_none and self.certificate is None:
            raise ValueError("allow_none=False leaves no endpoint: give a certificate and private key")
        if self.trusted_clients is not None and self.certificate is None:
            raise ValueError("a trust list of client certificates needs the server's own certificate")


class _PasswordUsers:
    def __init__(self, users: dict[str, str]) -> None:
        self._users = users

    def get_user(
        self, iserver: Any, username: str | None = None, password: str | None = None,
        certificate: Any = None,
    ) -> User | None:
        if username is not None and self._users.get(username) == password:
            return User(role=UserRole.User, name=username)
        return None


class MachineServer:
    """Serves one :class:`SimulatedMachine` on ``opc.tcp://127.0.0.1:<port>/``.

    ``speed`` simulated seconds pass per wall second; ``tick_s`` is the wall period of the
    machine loop (state, counters, events). Sensor signals change once per wall second.
    """

    def __init__(
        self,
        machine: SimulatedMachine,
        port: int,
        *,
        host: str = "127.0.0.1",
        speed: float = 1.0,
        tick_s: float = 0.05,
        sensors: int = 0,
        security: ServerSecurity | None = None,
        min_session_timeout_s: float = 5.0,
        command_delay_s: float = 0.0,
        namespaces_before: tuple[str, ...] = (),
    ) -> None:
        self.machine = machine
        self.port = port
        self.host = host
        self.speed = speed
        self.tick_s = tick_s
        self.sensors = sensors
        self.security = security or ServerSecurity()
        self.min_session_timeout_s = min_session_timeout_s
        self.command_delay_s = command_delay_s
        self.namespaces_before = namespaces_before  # registered first, as vendor namespaces of a PLC
        self.server: Server | None = None
        self._loop_task: asyncio.Task[None] | None = None
        self._published: dict[str, Any] = {}
        self._setpoints_seen: dict[str, float] = {}
        self._nodes: dict[str, ua.NodeId] = {}
        self._sensor_ids: list[ua.NodeId] = []
        self._job_events: EventGenerator | None = None
        self._alarm_events: EventGenerator | None = None
        self._lock = asyncio.Lock()
        self.calls_received: deque[str] = deque(maxlen=1000)  # the last method calls (tests, commissioning)

    @property
    def name(self) -> str:
        return self.machine.config.name

    @property
    def endpoint(self) -> str:
        return f"opc.tcp://{self.host}:{self.port}/"

    async def start(self) -> None:
        server = Server()
        share_standard_nodes(server)  # ~2 s of building the standard nodes saved per machine
        await server.init()
        server.set_endpoint(self.endpoint)
        server.set_server_name(f"Smart MOM plant simulator: {self.name}")
        server.iserver.min_session_timeout_ms = self.min_session_timeout_s * 1000
        await self._configure_security(server)
        for uri in self.namespaces_before:
            await server.register_namespace(uri)
        idx = await server.register_namespace(NAMESPACE_URI)
        await self._build_address_space(server, idx)
        self._guard_setpoint_writes(server)
        await server.start()
        self.server = server
        await self._publish(force=True)
        self._loop_task = asyncio.create_task(self._run(), name=f"plant-sim {self.name}")
        _log.info("machine %s serving on %s", self.name, self.endpoint)

    async def stop(self) -> None:
        if self._loop_task is not None:
            self._loop_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._loop_task
            self._loop_task = None
        if self.server is not None:
            clock = self.server.iserver.time_task  # sleeps 1 s between ticks: do not wait for it
            if clock is not None:
                clock.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await clock
                self.server.iserver.time_task = None
            # Stop accepting first: a client reconnecting while we close would otherwise keep
            # the listener's wait_closed() waiting for its fresh connection.
            bserver = self.server.bserver
            listener = getattr(bserver, "_server", None) if bserver is not None else None
            if listener is not None:
                listener.close()
                for transport in list(self.server.iserver.asyncio_transports):
                    transport.abort()
            await self.server.stop()
            # asyncua keeps a session with subscriptions alive after its connection is lost (for the
            # client to come back to it, OPC UA Part 4 6.7): a stopped server must end them itself,
            # as a PLC that powers off does, or their timers and publish loops run on.
            sessions = getattr(self.server.iserver, "_external_sessions", {})
            for session in list(sessions.values()):
                with contextlib.suppress(Exception):
                    await session.close_session(True)
            self.server = None

    async def _configure_security(self, server: Server) -> None:
        sec = self.security
        policies = [ua.SecurityPolicyType.NoSecurity] if sec.allow_none else []
        if sec.certificate and sec.private_key:
            await server.load_certificate(str(sec.certificate))
            await server.load_private_key(str(sec.private_key))
            policies += [
                ua.SecurityPolicyType.Basic256Sha256_Sign,
                ua.SecurityPolicyType.Basic256Sha256_SignAndEncrypt,
            ]
        server.set_security_policy(policies)
        if sec.trusted_clients is not None:
            if not sec.trusted_clients.exists():
                raise FileNotFoundError(f"trust list {sec.trusted_clients} does not exist")
            store = TrustStore([sec.trusted_clients], [])
            await store.load()
            options = CertificateValidatorOptions.TRUSTED | CertificateValidatorOptions.TIME_RANGE
            server.set_certificate_validator(CertificateValidator(options, store))  # type: ignore[arg-type]
        if sec.users:
            server.iserver.user_manager = _PasswordUsers(dict(sec.users))  # type: ignore[assignment]
            server.set_identity_tokens([ua.UserNameIdentityToken])

    # ------------------------------------------------------------------ address space

    async def _build_address_space(self, server: Server, idx: int) -> None:
        name = self.name
        job_type = await _event_type(
            server, idx, "JobStatusEventType",
            [
                ("JobId", ua.VariantType.String), ("JobStatus", ua.VariantType.String),
                ("RecipeId", ua.VariantType.String), ("GoodCount", ua.VariantType.Int32),
                ("BadCount", ua.VariantType.Int32), ("MachineState", ua.VariantType.String),
            ],
        )
        alarm_type = await _event_type(
            server, idx, "MachineAlarmEventType",
            [
                ("AlarmCode", ua.VariantType.String), ("Active", ua.VariantType.Boolean),
                ("MachineState", ua.VariantType.String), ("JobId", ua.VariantType.String),
            ],
        )
        obj = await server.nodes.objects.add_object(_sid(name, idx), ua.QualifiedName(name, idx))
        variables: list[tuple[str, Any, ua.VariantType]] = [
            ("State", "", ua.VariantType.String),
            ("StateCode", 0, ua.VariantType.Int32),
            ("JobId", "", ua.VariantType.String),
            ("JobStatus", "", ua.VariantType.String),
            ("RecipeId", "", ua.VariantType.String),
            ("GoodCount", 0, ua.VariantType.Int32),
            ("BadCount", 0, ua.VariantType.Int32),
            ("ToolWear", 0.0, ua.VariantType.Double),
            ("Temperature", 0.0, ua.VariantType.Double),
            ("ActiveAlarms", "", ua.VariantType.String),
            ("LastCommandError", "", ua.VariantType.String),
            ("StartsAccepted", 0, ua.VariantType.UInt32),
        ]
        for child, initial, vtype in variables:
            node = await obj.add_variable(
                _sid(f"{name}.{child}", idx), ua.QualifiedName(child, idx), initial, vtype
            )
            self._nodes[child] = node.nodeid
        setpoints = await obj.add_object(
            _sid(f"{name}.Setpoints", idx), ua.QualifiedName("Setpoints", idx)
        )
        for sp in SETPOINT_NAMES:
            node = await setpoints.add_variable(
                _sid(f"{name}.Setpoints.{sp}", idx), ua.QualifiedName(sp, idx),
                self.machine.setpoints[sp], ua.VariantType.Double,
            )
            await node.set_writable()
            await _make_analog_item(node)
            low, high = self.machine.config.setpoint_range(sp)
            await node.add_property(
                _sid(f"{name}.Setpoints.{sp}.EURange", idx), ua.QualifiedName("EURange", 0),
                ua.Range(Low=low, High=high), ua.VariantType.ExtensionObject, ua.NodeId(ua.Int32(ua.ObjectIds.Range)),
            )
            self._nodes[f"Setpoints.{sp}"] = node.nodeid
            self._setpoints_seen[sp] = self.machine.setpoints[sp]
        if self.sensors:
            folder = await obj.add_object(
                _sid(f"{name}.Sensors", idx), ua.QualifiedName("Sensors", idx)
            )
            for i in range(self.sensors):
                node = await folder.add_variable(
                    _sid(f"{name}.Sensors.Signal{i:04d}", idx),
                    ua.QualifiedName(f"Signal{i:04d}", idx), 0.0, ua.VariantType.Double,
                )
                self._sensor_ids.append(node.nodeid)
        await self._add_methods(obj, idx)
        self._job_events = await server.get_event_generator(job_type, obj.nodeid)
        self._alarm_events = await server.get_event_generator(alarm_type, obj.nodeid)

    async def _add_methods(self, obj: Node, idx: int) -> None:
        name = self.name
        out = [_argument("JobStatus", ua.ObjectIds.String), _argument("Changed", ua.ObjectIds.Boolean)]
        job_id_arg = _argument("JobId", ua.ObjectIds.String)
        await obj.add_method(
            _sid(f"{name}.Store", idx), ua.QualifiedName("Store", idx),
            self._method("Store", self._store), [job_id_arg, _argument("Recipe", ua.ObjectIds.String)],
            out,
        )
        commands: dict[str, Callable[[str], CommandResult]] = {
            "Start": self.machine.start, "Pause": self.machine.pause,
            "Resume": self.machine.resume, "Stop": self.machine.stop,
            "Abort": self.machine.abort, "Clear": self.machine.clear,
        }
        for method, command in commands.items():
            await obj.add_method(
                _sid(f"{name}.{method}", idx), ua.QualifiedName(method, idx),
                self._method(method, command), [job_id_arg], out,
            )
        await obj.add_method(
            _sid(f"{name}.Reset", idx), ua.QualifiedName("Reset", idx),
            self._method("Reset", lambda: self.machine.reset()), [], out,
        )
        await obj.add_method(
            _sid(f"{name}.{JOB_RESPONSE_METHOD}", idx), ua.QualifiedName(JOB_RESPONSE_METHOD, idx),
            self._job_response, [job_id_arg],
            [_argument("JobStatus", ua.ObjectIds.String), _argument("JobResponse", ua.ObjectIds.String)],
        )

    async def _job_response(self, parent: ua.NodeId, *args: ua.Variant) -> Any:
        """A read, not a command: nothing changes on the machine and LastCommandError is kept."""
        if len(args) != 1 or args[0].VariantType is not ua.VariantType.String:
            return ua.StatusCode(ua.UInt32(ua.StatusCodes.BadInvalidArgument))
        job_id = str(args[0].Value)
        async with self._lock:
            job = self.machine.job_response(job_id)
            response = {"job_id": job_id, "job_status": "NotAllocated", "recipe_id": "", "good_count": 0,
                        "bad_count": 0}
            if job is not None:
                response.update(job_status=job.status.value, recipe_id=job.recipe.recipe_id,
                                good_count=job.good_count, bad_count=job.bad_count)
        return [ua.Variant(str(response["job_status"]), ua.VariantType.String),
                ua.Variant(json.dumps(response, sort_keys=True), ua.VariantType.String)]

    def _store(self, job_id: str, recipe_json: str) -> CommandResult:
        try:
            recipe = Recipe.from_json(recipe_json, SETPOINT_NAMES)
        except RecipeError as exc:
            raise CommandRefused("BAD_RECIPE", f"job {job_id}: {exc}") from None
        return self.machine.store(job_id, recipe)

    def _method(
        self, method: str, command: Callable[..., CommandResult]
    ) -> Callable[..., Awaitable[Any]]:
        async def handler(parent: ua.NodeId, *args: ua.Variant) -> Any:
            self.calls_received.append(method)
            values: list[str] = []
            for i, arg in enumerate(args):
                if arg.VariantType is not ua.VariantType.String:
                    return await self._refuse(
                        CommandRefused(
                            "BAD_ARGUMENT",
                            f"{self.name}.{method} argument {i + 1} must be a String, "
                            f"got {arg.VariantType.name}",
                        )
                    )
                values.append(arg.Value)
            if self.command_delay_s:
                await asyncio.sleep(self.command_delay_s)
            async with self._lock:
                try:
                    result = command(*values)
                except CommandRefused as refusal:
                    return await self._refuse(refusal)
                except TypeError:
                    return await self._refuse(
                        CommandRefused("BAD_ARGUMENT", f"{self.name}.{method}: wrong argument count")
                    )
                await self._flush()
            return [
                ua.Variant(result.job_status.value, ua.VariantType.String),
                ua.Variant(result.changed, ua.VariantType.Boolean),
            ]

        return handler

    async def _refuse(self, refusal: CommandRefused) -> ua.StatusCode:
        _log.info("machine %s refused: %s", self.name, refusal)
        await self._write("LastCommandError", str(refusal), ua.VariantType.String)
        return ua.StatusCode(ua.UInt32(_REFUSAL_STATUS.get(refusal.code, ua.StatusCodes.BadInvalidState)))

    def _guard_setpoint_writes(self, server: Server) -> None:
        """Refuse client writes of NaN, infinity or a value outside EURange to a setpoint with
        BadOutOfRange, before anything is stored; other writes go through as before. Only the
        client write service is guarded: the server's own publication writes the address space."""
        service = server.iserver.attribute_service
        write = service.write
        setpoints = {self._nodes[f"Setpoints.{sp}"]: sp for sp in SETPOINT_NAMES}

        async def guarded(params: ua.WriteParameters, user: Any = None) -> list[ua.StatusCode]:
            refused: dict[int, ua.StatusCode] = {}
            passed = ua.WriteParameters()
            for i, item in enumerate(params.NodesToWrite):
                setpoint = setpoints.get(item.NodeId)
                value = item.Value.Value.Value if item.Value is not None and item.Value.Value is not None else None
                if setpoint is not None and item.AttributeId == ua.AttributeIds.Value and isinstance(value, float):
                    reason = self.machine.config.setpoint_refusal(setpoint, value)
                    if reason is not None:
                        await self._refuse(CommandRefused("SETPOINT_OUT_OF_RANGE", reason))
                        refused[i] = ua.StatusCode(ua.UInt32(ua.StatusCodes.BadOutOfRange))
                        continue
                passed.NodesToWrite.append(item)
            results = iter(await (write(passed, user) if user is not None else write(passed)))
            return [refused[i] if i in refused else next(results) for i in range(len(params.NodesToWrite))]

        service.write = guarded  # type: ignore[method-assign]

    # ------------------------------------------------------------------ machine loop

    async def _run(self) -> None:
        last = time.monotonic()
        last_sensor_second = -1
        while True:
            await asyncio.sleep(self.tick_s)
            now = time.monotonic()
            async with self._lock:
                self._take_written_setpoints()
                self.machine.advance((now - last) * self.speed)
                await self._flush()
            last = now
            second = int(now)
            if self._sensor_ids and second != last_sensor_second:
                last_sensor_second = second
                await self._update_sensors(second)

    def _take_written_setpoints(self) -> None:
        assert self.server is not None
        for sp in SETPOINT_NAMES:
            value = self.server.read_attribute_value(self._nodes[f"Setpoints.{sp}"]).Value
            written = value.Value if value is not None else None
            if isinstance(written, float) and written != self._setpoints_seen[sp]:
                self.machine.setpoints[sp] = written
                self._setpoints_seen[sp] = written

    async def _flush(self) -> None:
        """Publish variables, then job-status and alarm events, of what the machine did."""
        await self._publish()
        for event in self.machine.drain_events():
            if isinstance(event, JobStatusChanged) and self._job_events is not None:
                ev = self._job_events.event
                ev.JobId, ev.JobStatus, ev.RecipeId = event.job_id, event.status.value, event.recipe_id
                ev.GoodCount, ev.BadCount = event.good_count, event.bad_count
                ev.MachineState = self.machine.state.label
                ev.Severity = 100
                await self._job_events.trigger(
                    message=f"{self.name}: job {event.job_id} {event.status.value}"
                )
            elif isinstance(event, AlarmChanged) and self._alarm_events is not None:
                ev = self._alarm_events.event
                ev.AlarmCode, ev.Active = event.code, event.active
                ev.MachineState = self.machine.state.label
                ev.JobId = self.machine.job.job_id if self.machine.job is not None else ""
                ev.Severity = event.severity
                word = "raised" if event.active else "cleared"
                await self._alarm_events.trigger(message=f"{event.message} {word}")

    async def _publish(self, force: bool = False) -> None:
        m = self.machine
        job = m.job
        values: list[tuple[str, Any, ua.VariantType]] = [
            ("State", m.state.label, ua.VariantType.String),
            ("StateCode", m.state.value, ua.VariantType.Int32),
            ("JobId", job.job_id if job else "", ua.VariantType.String),
            ("JobStatus", job.status.value if job else "NotAllocated", ua.VariantType.String),
            ("RecipeId", job.recipe.recipe_id if job else "", ua.VariantType.String),
            ("GoodCount", m.good_count, ua.VariantType.Int32),
            ("BadCount", m.bad_count, ua.VariantType.Int32),
            ("ToolWear", m.tool_wear_signal, ua.VariantType.Double),
            ("Temperature", m.temperature, ua.VariantType.Double),
            ("ActiveAlarms", ",".join(sorted(m.active_alarms)), ua.VariantType.String),
            ("StartsAccepted", m.starts_accepted, ua.VariantType.UInt32),
        ]
        values += [(f"Setpoints.{sp}", m.setpoints[sp], ua.VariantType.Double) for sp in SETPOINT_NAMES]
        for child, value, vtype in values:
            if force or self._published.get(child) != value:
                await self._write(child, value, vtype)
        for sp in SETPOINT_NAMES:
            self._setpoints_seen[sp] = m.setpoints[sp]

    async def _update_sensors(self, second: int) -> None:
        assert self.server is not None
        stamp = _now()
        for i, nodeid in enumerate(self._sensor_ids):
            value = round(math.sin(second / 10 + i) * 10 + i % 7, 3)
            await self.server.write_attribute_value(
                nodeid,
                ua.DataValue(ua.Variant(value, ua.VariantType.Double), SourceTimestamp=stamp,
                             ServerTimestamp=stamp),
            )

    async def _write(self, child: str, value: Any, vtype: ua.VariantType) -> None:
        if self.server is None:
            return
        stamp = _now()
        await self.server.write_attribute_value(
            self._nodes[child],
            ua.DataValue(ua.Variant(value, vtype), SourceTimestamp=stamp, ServerTimestamp=stamp),
        )
        self._published[child] = value


def _argument(name: str, datatype: int) -> ua.Argument:
    arg = ua.Argument()
    arg.Name = name
    arg.DataType = ua.NodeId(ua.Int32(datatype))
    arg.ValueRank = -1
    return arg


async def _event_type(
    server: Server, idx: int, name: str, fields: list[tuple[str, ua.VariantType]]
) -> Node:
    """A BaseEventType subtype with string node ids ``<name>`` and ``<name>.<field>``."""
    base = server.get_node(ua.ObjectIds.BaseEventType)
    event_type = await base.add_object_type(_sid(name, idx), ua.QualifiedName(name, idx))
    for field_name, vtype in fields:
        await event_type.add_property(
            _sid(f"{name}.{field_name}", idx), ua.QualifiedName(field_name, idx),
            ua.get_default_value(vtype), varianttype=vtype,
        )
    return event_type


async def _make_analog_item(node: Node) -> None:
    """Type the variable AnalogItemType (it has an EURange), as OPC UA Part 8 describes setpoints."""
    base = ua.NodeId(ua.Int32(ua.ObjectIds.BaseDataVariableType))
    analog = ua.NodeId(ua.Int32(ua.ObjectIds.AnalogItemType))
    has_type = ua.NodeId(ua.Int32(ua.ObjectIds.HasTypeDefinition))
    await node.delete_reference(base, has_type, forward=True, bidirectional=False)
    await node.add_reference(analog, has_type, forward=True, bidirectional=False)


def _sid(identifier: str, idx: int) -> ua.NodeId:
    """A string node id in namespace ``idx``."""
    return ua.NodeId(ua.String(identifier), ua.Int16(idx))


def _now() -> ua.DateTime:
    return cast(ua.DateTime, datetime.now(UTC))
