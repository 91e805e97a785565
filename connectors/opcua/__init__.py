"""OPC UA client connector: sessions with reconnect, namespaces by URI, typed values, subscriptions.

Used only where machines are reachable (edge workers, commissioning CLI); the cloud worker never
imports it. Start with :class:`SessionPool` (one session per endpoint) or :class:`EndpointSession`.
"""

from connectors.opcua.errors import (
    BadCredentials,
    CommandOutcomeUnknown,
    EndpointUnavailable,
    InvalidNodeId,
    MethodFailed,
    OpcUaError,
    SecurityRejected,
    UnknownNamespace,
    UnknownNode,
    WriteRefused,
    WrongType,
)
from connectors.opcua.limits import Limit, ValueOutOfRange, limits_of
from connectors.opcua.node_ids import NodeRef, format_node_id, parse_node_id
from connectors.opcua.pool import SessionPool
from connectors.opcua.security import SecurityConfig, ensure_certificate
from connectors.opcua.session import (
    BrowseEntry,
    DataChange,
    EndpointSession,
    EventNotification,
    ReadValue,
    SessionOptions,
    Watch,
)
from connectors.opcua.values import ValueType, plain

__all__ = [
    "BadCredentials",
    "BrowseEntry",
    "CommandOutcomeUnknown",
    "DataChange",
    "EndpointSession",
    "EndpointUnavailable",
    "EventNotification",
    "InvalidNodeId",
    "Limit",
    "MethodFailed",
    "NodeRef",
    "OpcUaError",
    "ReadValue",
    "SecurityConfig",
    "SecurityRejected",
    "SessionOptions",
    "SessionPool",
    "UnknownNamespace",
    "UnknownNode",
    "ValueOutOfRange",
    "ValueType",
    "Watch",
    "WriteRefused",
    "WrongType",
    "ensure_certificate",
    "format_node_id",
    "limits_of",
    "parse_node_id",
    "plain",
]
