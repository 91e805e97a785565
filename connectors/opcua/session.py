"""One OPC UA session per endpoint, kept alive and re-established as OPC UA Part 4 §6.7 says.

:class:`EndpointSession` wraps an asyncua ``Client`` started with ``auto_reconnect``: its supervisor
probes ServerStatus every ``health_check_s`` and watches subscription keep-alives; on loss it opens
a new secure channel and first tries ActivateSession on the old session (subscriptions survive),
then CreateSession and re-creates the subscriptions. This class adds what the MOM needs on top:

- a *link* state (up/down) with listeners, so callers can treat machine values as UNKNOWN while
  the link is down and re-read after it comes back (notifications during the outage are lost);
- requests that fail fast with :class:`EndpointUnavailable` when the link stays down longer than
  ``reconnect_wait_s`` (:class:`CommandOutcomeUnknown` when a write/call was in flight);
- namespace indexes looked up by URI (``nsu=`` node ids), cached per connection;
- batched reads, typed writes and typed method calls with errors naming endpoint, node and type;
- writes checked before they leave (:mod:`connectors.opcua.limits`): NaN and infinity never, and a
  number outside the node's EURange (read from the server, cached) or a range the caller gives is
  refused with :class:`~connectors.opcua.limits.ValueOutOfRange`, as is the server's BadOutOfRange;
- data-change and event subscriptions delivering plain dataclasses.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

from asyncua import Client, ua
from asyncua.client.ua_client import UaClientState
from asyncua.common.subscription import DataChangeNotif, Subscription
from asyncua.common.ua_utils import data_type_to_variant_type

from connectors.opcua.errors import (
    BadCredentials,
    CommandOutcomeUnknown,
    EndpointUnavailable,
    MethodFailed,
    OpcUaError,
    SecurityRejected,
    UnknownNamespace,
    UnknownNode,
    WriteRefused,
    WrongType,
)
from connectors.opcua.limits import Limit, ValueOutOfRange, check
from connectors.opcua.node_ids import NodeRef, format_node_id, parse_node_id
from connectors.opcua.security import SecurityConfig, TrustList, apply_security
from connectors.opcua.values import TypeMismatch, ValueType, plain, to_variant

_log = logging.getLogger(__name__)
T = TypeVar("T")
NodeLike = str | NodeRef | ua.NodeId
READ_CHUNK = 1000

_LINK_STATUS = {
    ua.StatusCodes.BadConnectionClosed, ua.StatusCodes.BadSecureChannelClosed,
    ua.StatusCodes.BadSessionClosed, ua.StatusCodes.BadSessionIdInvalid,
    ua.StatusCodes.BadSessionNotActivated, ua.StatusCodes.BadTimeout,
    ua.StatusCodes.BadCommunicationError, ua.StatusCodes.BadServerNotConnected,
    ua.StatusCodes.BadShutdown, ua.StatusCodes.BadServerHalted,
    ua.StatusCodes.BadRequestTimeout,
}
_CREDENTIAL_STATUS = {
    ua.StatusCodes.BadUserAccessDenied, ua.StatusCodes.BadIdentityTokenRejected,
    ua.StatusCodes.BadIdentityTokenInvalid,
}
_SECURITY_STATUS = {
    ua.StatusCodes.BadSecurityPolicyRejected, ua.StatusCodes.BadSecurityChecksFailed,
    ua.StatusCodes.BadCertificateInvalid, ua.StatusCodes.BadCertificateUntrusted,
    ua.StatusCodes.BadCertificateUriInvalid, ua.StatusCodes.BadCertificateTimeInvalid,
    ua.StatusCodes.BadSecurityModeRejected,
}
_UNKNOWN_NODE_STATUS = {
    ua.StatusCodes.BadNodeIdUnknown, ua.StatusCodes.BadNodeIdInvalid,
    ua.StatusCodes.BadMethodInvalid, ua.StatusCodes.BadNoMatch,
}
_ARGUMENT_STATUS = {
    ua.StatusCodes.BadTypeMismatch, ua.StatusCodes.BadArgumentsMissing,
    ua.StatusCodes.BadTooManyArguments,
}


@dataclass(frozen=True)
class SessionOptions:
    """Timeouts in seconds; keep them short in tests."""

    request_timeout_s: float = 4.0
    health_check_s: float = 1.0
    session_timeout_s: float = 60.0
    reconnect_wait_s: float = 10.0
    reconnect_max_delay_s: float = 10.0
    security: SecurityConfig = field(default_factory=SecurityConfig)


@dataclass(frozen=True)
class ReadValue:
    node: str
    value: Any
    status: str
    source_timestamp: datetime | None
    server_timestamp: datetime | None

    @property
    def good(self) -> bool:
        return self.status == "Good"


@dataclass(frozen=True)
class BrowseEntry:
    node: str
    browse_name: str
    display_name: str
    node_class: str


@dataclass(frozen=True)
class DataChange:
    node: str
    value: Any
    status: str
    source_timestamp: datetime | None
    server_timestamp: datetime | None


@dataclass(frozen=True)
class EventNotification:
    fields: dict[str, Any]


class Watch:
    """A live subscription. asyncua re-creates it after a reconnect; when the server came back
    with another namespace layout (a restart that registered namespaces in another order), the
    session re-creates it on the nodes looked up again by URI. ``close()`` ends it."""

    def __init__(
        self,
        session: EndpointSession | None,
        subscription: Subscription,
        nodes: list[str],
        *,
        handler: _Handler | None = None,
        refs: Sequence[NodeLike] = (),
        ids: Sequence[ua.NodeId] = (),
        create: Callable[[], Awaitable[tuple[Subscription, _Handler, list[ua.NodeId]]]] | None = None,
    ) -> None:
        self.session = session
        self.subscription = subscription
        self.nodes = nodes
        self.handler = handler
        self.refs = list(refs)
        self.ids = list(ids)
        self.create = create
        self.renewals = 0

    async def close(self) -> None:
        if self.session is not None:
            self.session._watches.discard(self)
        if self.handler is not None:
            self.handler.mute()
        with contextlib.suppress(Exception):
            await self.subscription.delete()
        if self.session is not None:
            self.session._forget_deleted_subscriptions()


class _Handler:
    def __init__(
        self,
        on_change: Callable[[DataChange], None] | None = None,
        on_event: Callable[[EventNotification], None] | None = None,
        names: dict[str, str] | None = None,
    ) -> None:
        self._on_change = on_change
        self._on_event = on_event
        self._names = names or {}

    def mute(self) -> None:
        """Drop further notifications (of a subscription being replaced or closed)."""
        self._on_change = None
        self._on_event = None

    def datachange_notification(self, node: Any, val: Any, data: DataChangeNotif) -> None:
        if self._on_change is None:
            return
        dv = data.monitored_item.Value
        status = dv.StatusCode.name if dv.StatusCode is not None else "Good"
        node_id = node.nodeid.to_string()
        name = self._names.get(node_id, node_id)
        self._on_change(DataChange(name, val, status, dv.SourceTimestamp, dv.ServerTimestamp))

    def event_notification(self, event: Any) -> None:
        if self._on_event is None:
            return
        fields = {k: plain(v) for k, v in event.get_event_props_as_fields_dict().items()}
        self._on_event(EventNotification(fields))

    def status_change_notification(self, status: Any) -> None:
        _log.info("subscription status change: %s", status)


class EndpointSession:
    """The session to one OPC UA server. Build with :meth:`open` or ``connect()`` then use."""

    def __init__(self, endpoint: str, options: SessionOptions | None = None) -> None:
        self.endpoint = endpoint
        self.options = options or SessionOptions()
        self.reconnections = 0
        self._client: Client | None = None
        self._up = asyncio.Event()
        self._listeners: list[Callable[[bool], None]] = []
        self._watch_task: asyncio.Task[None] | None = None
        self._connect_lock = asyncio.Lock()
        self._namespaces: list[str] | None = None
        self._value_types: dict[ua.NodeId, ValueType] = {}
        self._argument_types: dict[ua.NodeId, list[tuple[str, ValueType]]] = {}
        self._eu_ranges: dict[ua.NodeId, Limit | None] = {}
        self._watches: set[Watch] = set()
        self._renewal: asyncio.Task[None] | None = None

    @classmethod
    async def open(cls, endpoint: str, options: SessionOptions | None = None) -> EndpointSession:
        session = cls(endpoint, options)
        await session.connect()
        return session

    async def __aenter__(self) -> EndpointSession:
        await self.connect()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # ------------------------------------------------------------------ link

    @property
    def is_up(self) -> bool:
        return self._up.is_set()

    def on_link_change(self, listener: Callable[[bool], None]) -> Callable[[], None]:
        """Call ``listener(up)`` whenever the link goes down or comes back; returns an unsubscribe."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener) if listener in self._listeners else None

    async def wait_up(self, timeout_s: float) -> bool:
        try:
            await asyncio.wait_for(self._up.wait(), timeout_s)
        except TimeoutError:
            return False
        return True

    async def connect(self) -> None:
        async with self._connect_lock:
            if self._client is not None:
                return
            o = self.options
            client = Client(
                self.endpoint, timeout=o.request_timeout_s, watchdog_intervall=o.health_check_s,
                auto_reconnect=True, reconnect_max_delay=o.reconnect_max_delay_s,
                reconnect_request_timeout=o.reconnect_wait_s,
            )
            client.session_timeout = int(o.session_timeout_s * 1000)
            client.name = client.description = "Smart MOM"
            try:
                await apply_security(client, o.security)
                await asyncio.wait_for(client.connect(), o.request_timeout_s * 2)
            except Exception as exc:
                with contextlib.suppress(Exception):
                    await client.disconnect()
                raise self._connect_error(exc, client) from exc
            self._client = client
            self._set_link(True)
            self._watch_task = asyncio.create_task(self._watch_link(client))

    async def close(self) -> None:
        client, self._client = self._client, None
        self._watches.clear()
        if self._renewal is not None:
            self._renewal.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._renewal
            self._renewal = None
        if self._watch_task is not None:
            self._watch_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watch_task
            self._watch_task = None
        if client is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(client.disconnect(), self.options.request_timeout_s)
        self._set_link(False)

    async def _watch_link(self, client: Client) -> None:
        async with client.subscribe_state() as states:
            while True:
                state = await states.next_change()
                up = state is UaClientState.CONNECTED
                if up and not self.is_up:
                    self.reconnections += 1
                    self._forget_server_facts()
                    if self._watches:
                        self._renewal = asyncio.create_task(self._renew_watches())
                if up != self.is_up:
                    _log.info("%s: link %s", self.endpoint, "restored" if up else "lost")
                    self._set_link(up)

    async def _renew_watches(self) -> None:
        """After a reconnect: look the watched nodes up again by URI; re-create a subscription
        whose node ids changed (the server restarted with another namespace index)."""
        for watch in list(self._watches):
            if watch.create is None:
                continue
            try:
                ids = [await self.resolve(r) for r in watch.refs]
                if ids == watch.ids:
                    continue
                _log.info("%s: namespace indexes changed; re-creating the watch of %s", self.endpoint,
                          ", ".join(watch.nodes))
                if watch.handler is not None:
                    watch.handler.mute()
                with contextlib.suppress(Exception):
                    await watch.subscription.delete()
                watch.subscription, watch.handler, watch.ids = await watch.create()
                watch.renewals += 1
            except Exception:
                _log.exception("%s: cannot re-create the watch of %s", self.endpoint, ", ".join(watch.nodes))

    def _set_link(self, up: bool) -> None:
        if up == self.is_up:
            return
        if up:
            self._up.set()
        else:
            self._up.clear()
        for listener in list(self._listeners):
            try:
                listener(up)
            except Exception:
                _log.exception("%s: link listener failed", self.endpoint)

    def _forget_server_facts(self) -> None:
        """After a reconnect the server may have restarted: namespaces and types may differ."""
        self._namespaces = None
        self._value_types.clear()
        self._argument_types.clear()
        self._eu_ranges.clear()

    def _connect_error(self, exc: Exception, client: Client) -> OpcUaError:
        user = self.options.security.username
        trust = client.certificate_validator
        if isinstance(trust, TrustList) and trust.rejected:
            return SecurityRejected(
                self.endpoint, f"server {trust.rejected} is not in the trust list {trust.location}"
            )
        if isinstance(exc, FileNotFoundError):
            return OpcUaError(self.endpoint, str(exc))
        if isinstance(exc, ua.UaStatusCodeError):
            name = ua.StatusCode(exc.code).name
            if exc.code in _CREDENTIAL_STATUS:
                return BadCredentials(self.endpoint, f"user {user!r} was rejected ({name})")
            if exc.code in _SECURITY_STATUS:
                return SecurityRejected(
                    self.endpoint, f"{self.options.security.describe()} was rejected ({name})"
                )
            return EndpointUnavailable(self.endpoint, f"cannot connect: {name}")
        if isinstance(exc, ua.UaError) and "endpoint" in str(exc).lower():
            return SecurityRejected(
                self.endpoint, f"server offers no endpoint for {self.options.security.describe()}"
            )
        if isinstance(exc, OSError | TimeoutError | ConnectionError):
            return EndpointUnavailable(self.endpoint, f"cannot connect: {exc or type(exc).__name__}")
        return OpcUaError(self.endpoint, f"cannot connect: {exc!r}")

    async def _ready(self) -> Client:
        if self._client is None:
            await self.connect()
        if not self.is_up and not await self.wait_up(self.options.reconnect_wait_s):
            raise EndpointUnavailable(
                self.endpoint,
                f"link down, not restored within {self.options.reconnect_wait_s:g} s; "
                "values from this server are unknown",
            )
        assert self._client is not None
        return self._client

    async def _request(
        self, what: str, send: Callable[[Client], Awaitable[T]], *, command: bool = False
    ) -> T:
        client = await self._ready()
        failure = CommandOutcomeUnknown if command else EndpointUnavailable
        try:
            return await send(client)
        except (ConnectionError, OSError, TimeoutError) as exc:
            raise failure(self.endpoint, f"{what}: link lost ({exc or type(exc).__name__})") from exc
        except ua.UaStatusCodeError as exc:
            if exc.code in _LINK_STATUS:
                name = ua.StatusCode(exc.code).name
                raise failure(self.endpoint, f"{what}: link lost ({name})") from exc
            raise

    # ------------------------------------------------------------------ namespaces & node ids

    async def namespaces(self) -> list[str]:
        if self._namespaces is None:
            self._namespaces = await self._request(
                "read NamespaceArray", lambda c: c.get_namespace_array()
            )
        return self._namespaces

    async def namespace_index(self, uri: str) -> int:
        namespaces = await self.namespaces()
        if uri not in namespaces:
            self._namespaces = None
            namespaces = await self.namespaces()
        if uri not in namespaces:
            raise UnknownNamespace(self.endpoint, uri, namespaces)
        return namespaces.index(uri)

    async def resolve(self, node: NodeLike) -> ua.NodeId:
        if isinstance(node, ua.NodeId):
            return node
        ref = parse_node_id(node) if isinstance(node, str) else node
        if ref.uri is None:
            return ref.with_index(ref.index)
        return ref.with_index(await self.namespace_index(ref.uri))

    async def describe(self, node_id: ua.NodeId) -> str:
        """The node id with its namespace given by URI, for messages and output."""
        return format_node_id(node_id, await self.namespaces())

    async def child(self, parent: NodeLike, *path: str) -> ua.NodeId:
        """The node at browse path ``path`` (``"2:State"`` or ``"State"`` in parent's namespace)."""
        parent_id = await self.resolve(parent)
        names = [p if ":" in p else f"{parent_id.NamespaceIndex}:{p}" for p in path]
        try:
            node = await self._request(
                f"browse {parent}/{'/'.join(path)}", lambda c: c.get_node(parent_id).get_child(names)
            )
        except ua.UaStatusCodeError as exc:
            if exc.code in _UNKNOWN_NODE_STATUS:
                raise UnknownNode(self.endpoint, f"{parent}/{'/'.join(path)}") from None
            raise
        return node.nodeid

    # ------------------------------------------------------------------ services

    async def read(self, nodes: Sequence[NodeLike]) -> list[ReadValue]:
        """Read the Value of many nodes in as few Read requests as possible (chunks of 1000)."""
        ids = [await self.resolve(n) for n in nodes]
        results: list[ua.DataValue] = []
        for start in range(0, len(ids), READ_CHUNK):
            params = ua.ReadParameters()
            params.TimestampsToReturn = ua.TimestampsToReturn.Both
            for nid in ids[start : start + READ_CHUNK]:
                rv = ua.ReadValueId()
                rv.NodeId = nid
                rv.AttributeId = ua.AttributeIds.Value
                params.NodesToRead.append(rv)
            results += await self._request(
                f"read {len(params.NodesToRead)} nodes", _read_request(params)
            )
        unknown = [
            str(n) for n, dv in zip(nodes, results, strict=True)
            if dv.StatusCode is not None and dv.StatusCode.value in _UNKNOWN_NODE_STATUS
        ]
        if unknown:
            raise UnknownNode(self.endpoint, ", ".join(unknown))
        return [
            ReadValue(
                node=str(n), value=dv.Value.Value if dv.Value is not None else None,
                status=dv.StatusCode.name if dv.StatusCode is not None else "Good",
                source_timestamp=dv.SourceTimestamp, server_timestamp=dv.ServerTimestamp,
            )
            for n, dv in zip(nodes, results, strict=True)
        ]

    async def read_value(self, node: NodeLike) -> Any:
        (result,) = await self.read([node])
        if not result.good:
            raise OpcUaError(self.endpoint, f"node {node} has no good value ({result.status})")
        return result.value

    async def node_class(self, node: NodeLike) -> str | None:
        """The node's class name (Object, Variable, Method...), None when the node does not exist."""
        nid = await self.resolve(node)
        params = ua.ReadParameters()
        rv = ua.ReadValueId()
        rv.NodeId = nid
        rv.AttributeId = ua.AttributeIds.NodeClass
        params.NodesToRead.append(rv)
        (dv,) = await self._request(f"read node class of {node}", _read_request(params))
        if dv.Value is None or (dv.StatusCode is not None and not dv.StatusCode.is_good()):
            return None
        return ua.NodeClass(dv.Value.Value).name

    async def value_type(self, node: NodeLike) -> ValueType:
        nid = await self.resolve(node)
        if nid in self._value_types:
            return self._value_types[nid]
        params = ua.ReadParameters()
        for attr in (ua.AttributeIds.DataType, ua.AttributeIds.ValueRank):
            rv = ua.ReadValueId()
            rv.NodeId = nid
            rv.AttributeId = attr
            params.NodesToRead.append(rv)
        dtype, rank = await self._request(f"read type of {node}", lambda c: c.uaclient.read(params))
        if dtype.StatusCode is not None and dtype.StatusCode.value in _UNKNOWN_NODE_STATUS:
            raise UnknownNode(self.endpoint, str(node))
        if (dtype.StatusCode is not None and not dtype.StatusCode.is_good()) or dtype.Value is None:
            raise WrongType(self.endpoint, str(node), "a Variable node", "(not a variable)")
        assert self._client is not None
        dtype_node = self._client.get_node(dtype.Value.Value)
        variant = await self._request(
            f"read data type of {node}", lambda c: data_type_to_variant_type(dtype_node)
        )
        value_rank = rank.Value.Value if rank.Value is not None else -1
        result = ValueType(variant, is_array=value_rank is not None and value_rank >= 0)
        self._value_types[nid] = result
        return result

    async def eu_range(self, node: NodeLike) -> Limit | None:
        """The node's EURange property (AnalogItemType: its engineering limits), None without one."""
        nid = await self.resolve(node)
        if nid not in self._eu_ranges:
            limit: Limit | None = None
            try:
                prop = await self.child(nid, "0:EURange")
            except UnknownNode:
                prop = None
            if prop is not None:
                (result,) = await self.read([prop])
                value = result.value
                if result.good and isinstance(value, ua.Range):
                    limit = Limit(value.Low, value.High, f"EURange of {node}")
            self._eu_ranges[nid] = limit
        return self._eu_ranges[nid]

    async def write(
        self, node: NodeLike, value: Any, *, from_text: bool = False, limits: Sequence[Limit] = ()
    ) -> ua.Variant:
        """Write ``value`` typed by the node's DataType; returns the Variant written.

        Nothing is written unless every number is finite and inside the node's EURange and
        ``limits`` (:class:`~connectors.opcua.limits.ValueOutOfRange` otherwise)."""
        nid = await self.resolve(node)
        value_type = await self.value_type(nid)
        try:
            variant = to_variant(value, value_type, from_text=from_text)
        except TypeMismatch as exc:
            raise WrongType(self.endpoint, str(node), str(value_type), value, exc.detail) from None
        check(self.endpoint, str(node), variant.Value, [])
        eu_range = await self.eu_range(nid)
        check(self.endpoint, str(node), variant.Value, [*limits, *([eu_range] if eu_range else [])])
        params = ua.WriteParameters()
        wv = ua.WriteValue()
        wv.NodeId = nid
        wv.AttributeId = ua.AttributeIds.Value
        wv.Value = ua.DataValue(variant)
        params.NodesToWrite.append(wv)
        (status,) = await self._request(
            f"write {node}", lambda c: c.uaclient.write(params), command=True
        )
        if status.is_good():
            return variant
        if status.value in _UNKNOWN_NODE_STATUS:
            raise UnknownNode(self.endpoint, str(node))
        if status.value == ua.StatusCodes.BadTypeMismatch:
            raise WrongType(self.endpoint, str(node), str(value_type), value, "server refused type")
        if status.value == ua.StatusCodes.BadOutOfRange:
            raise ValueOutOfRange(self.endpoint, str(node), value, None, "was refused by the server (BadOutOfRange)")
        raise WriteRefused(self.endpoint, str(node), status.name)

    async def argument_types(self, method: NodeLike) -> list[tuple[str, ValueType]]:
        mid = await self.resolve(method)
        if mid in self._argument_types:
            return self._argument_types[mid]
        node_class = await self.node_class(mid)
        if node_class is None:
            raise UnknownNode(self.endpoint, str(method), "no such method")
        if node_class != "Method":
            raise WrongType(self.endpoint, str(method), "a Method node", f"a {node_class} node")
        try:
            prop = await self.child(mid, "0:InputArguments")
        except UnknownNode:
            arguments: list[Any] = []
        else:
            arguments = await self.read_value(prop) or []
        types: list[tuple[str, ValueType]] = []
        assert self._client is not None
        for arg in arguments:
            dtype_node = self._client.get_node(arg.DataType)
            variant = await self._request(
                f"read argument type of {method}", _variant_type_request(dtype_node)
            )
            types.append((arg.Name, ValueType(variant, is_array=arg.ValueRank >= 0)))
        self._argument_types[mid] = types
        return types

    async def call(
        self, obj: NodeLike, method: NodeLike, *args: Any, from_text: bool = False
    ) -> list[Any]:
        """Call ``method`` on ``obj`` with arguments typed by the method's InputArguments."""
        oid, mid = await self.resolve(obj), await self.resolve(method)
        types = await self.argument_types(mid)
        if len(args) != len(types):
            names = ", ".join(f"{n}: {t}" for n, t in types) or "none"
            raise WrongType(
                self.endpoint, f"{method}", f"{len(types)} argument(s) ({names})", list(args),
                f"{len(args)} given",
            )
        variants = []
        for (name, value_type), value in zip(types, args, strict=True):
            try:
                variants.append(to_variant(value, value_type, from_text=from_text))
            except TypeMismatch as exc:
                raise WrongType(
                    self.endpoint, f"{method} argument {name}", str(value_type), value, exc.detail
                ) from None
            check(self.endpoint, f"{method} argument {name}", variants[-1].Value, [])
        request = ua.CallMethodRequest()
        request.ObjectId = oid
        request.MethodId = mid
        request.InputArguments = variants
        (result,) = await self._request(
            f"call {method} on {obj}", lambda c: c.uaclient.call([request]), command=True
        )
        status = result.StatusCode
        if not status.is_good():
            if status.value in _UNKNOWN_NODE_STATUS:
                raise UnknownNode(self.endpoint, f"{method} on {obj}", status.name)
            if status.value in _ARGUMENT_STATUS:
                raise WrongType(self.endpoint, f"{method}", "other arguments", list(args), status.name)
            raise MethodFailed(self.endpoint, str(obj), str(method), status.name)
        return [v.Value for v in result.OutputArguments]

    async def browse(self, node: NodeLike | None = None) -> list[BrowseEntry]:
        nid = await self.resolve(node) if node is not None else ua.NodeId.from_string(f"i={ua.ObjectIds.ObjectsFolder}")
        try:
            refs = await self._request(
                f"browse {node}", lambda c: c.get_node(nid).get_children_descriptions()
            )
        except ua.UaStatusCodeError as exc:
            if exc.code in _UNKNOWN_NODE_STATUS:
                raise UnknownNode(self.endpoint, str(node)) from None
            raise
        namespaces = await self.namespaces()
        return [
            BrowseEntry(
                node=format_node_id(ref.NodeId, namespaces),
                browse_name=f"{ref.BrowseName.NamespaceIndex}:{ref.BrowseName.Name}",
                display_name=ref.DisplayName.Text or "",
                node_class=ref.NodeClass.name,
            )
            for ref in refs
        ]

    # ------------------------------------------------------------------ subscriptions

    async def watch_values(
        self,
        nodes: Sequence[NodeLike],
        on_change: Callable[[DataChange], None],
        *,
        publishing_interval_s: float = 0.5,
        sampling_interval_s: float = 0.0,
    ) -> Watch:
        """Monitor the Value of ``nodes``; ``on_change`` runs for every notification."""

        async def create() -> tuple[Subscription, _Handler, list[ua.NodeId]]:
            ids = [await self.resolve(n) for n in nodes]
            names = {nid.to_string(): str(n) for nid, n in zip(ids, nodes, strict=True)}
            handler = _Handler(on_change=on_change, names=names)
            sub = await self._request(
                "create subscription",
                lambda c: c.create_subscription(publishing_interval_s * 1000, handler),
            )
            assert self._client is not None
            client = self._client
            handles = await self._request(
                f"monitor {len(ids)} nodes",
                lambda c: sub.subscribe_data_change(
                    [client.get_node(i) for i in ids], sampling_interval=ua.Double(sampling_interval_s * 1000)
                ),
            )
            bad = [str(n) for n, h in zip(nodes, handles, strict=True) if isinstance(h, ua.StatusCode)]
            if bad:
                await Watch(None, sub, [], handler=handler).close()
                raise UnknownNode(self.endpoint, ", ".join(bad), "cannot monitor")
            return sub, handler, ids

        return self._register(await create(), [str(n) for n in nodes], list(nodes), create)

    async def watch_events(
        self,
        source: NodeLike,
        event_type: NodeLike,
        on_event: Callable[[EventNotification], None],
        *,
        publishing_interval_s: float = 0.1,
    ) -> Watch:
        """Receive events of ``event_type`` (and subtypes) emitted by ``source``."""

        async def create() -> tuple[Subscription, _Handler, list[ua.NodeId]]:
            source_id, type_id = await self.resolve(source), await self.resolve(event_type)
            handler = _Handler(on_event=on_event)
            sub = await self._request(
                "create subscription",
                lambda c: c.create_subscription(publishing_interval_s * 1000, handler),
            )
            try:
                await self._request(
                    f"subscribe to {event_type} events of {source}",
                    lambda c: sub.subscribe_events(source_id, type_id),
                )
            except ua.UaStatusCodeError as exc:
                await Watch(None, sub, [], handler=handler).close()
                if exc.code in _UNKNOWN_NODE_STATUS:
                    raise UnknownNode(self.endpoint, f"{source} / {event_type}") from None
                raise
            return sub, handler, [source_id, type_id]

        return self._register(await create(), [str(source)], [source, event_type], create)

    def _forget_deleted_subscriptions(self) -> None:
        """asyncua's Client keeps every subscription it created (to re-create them after a reconnect)
        and drops the deleted ones only when it reconnects: a pooled session that lives for days
        would hold every closed watch (subscription, handler, event filter) forever."""
        created = getattr(self._client, "_subscriptions", None)
        if isinstance(created, list):
            created[:] = [s for s in created if not s.is_deleted]

    def _register(
        self,
        created: tuple[Subscription, _Handler, list[ua.NodeId]],
        names: list[str],
        refs: list[NodeLike],
        create: Callable[[], Awaitable[tuple[Subscription, _Handler, list[ua.NodeId]]]],
    ) -> Watch:
        sub, handler, ids = created
        self._forget_deleted_subscriptions()  # a subscription deleted when its creation failed
        watch = Watch(self, sub, names, handler=handler, refs=refs, ids=ids, create=create)
        self._watches.add(watch)
        return watch


def _read_request(params: ua.ReadParameters) -> Callable[[Client], Awaitable[list[ua.DataValue]]]:
    return lambda c: c.uaclient.read(params)


def _variant_type_request(dtype_node: Any) -> Callable[[Client], Awaitable[ua.VariantType]]:
    return lambda c: data_type_to_variant_type(dtype_node)
