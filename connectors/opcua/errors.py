"""Errors of the OPC UA connector; each names the endpoint and, where it applies, the node."""

from __future__ import annotations

from typing import Any


class OpcUaError(Exception):
    """Base of the connector's errors; ``endpoint`` is the server URL."""

    def __init__(self, endpoint: str, message: str) -> None:
        super().__init__(f"{endpoint}: {message}")
        self.endpoint = endpoint


class EndpointUnavailable(OpcUaError):
    """The server cannot be reached now (refused, lost, still reconnecting). Retry later."""


class CommandOutcomeUnknown(EndpointUnavailable):
    """The link broke while a write or method call was in flight: it may or may not have run."""


class BadCredentials(OpcUaError):
    """The server rejected the user identity (user name/password or certificate)."""


class SecurityRejected(OpcUaError):
    """Secure channel refused: policy/mode not offered, or certificate not trusted."""


class InvalidNodeId(ValueError):
    """A node id string that is not in the standard form (``ns=1;s=X``, ``nsu=URI;i=5``...)."""


class UnknownNamespace(OpcUaError):
    def __init__(self, endpoint: str, uri: str, known: list[str]) -> None:
        super().__init__(
            endpoint, f"namespace {uri!r} is not on this server; it has: {', '.join(known)}"
        )
        self.uri = uri


class UnknownNode(OpcUaError):
    def __init__(self, endpoint: str, node: str, detail: str = "") -> None:
        more = f" ({detail})" if detail else ""
        super().__init__(endpoint, f"node {node} does not exist on this server{more}")
        self.node = node


class WrongType(OpcUaError):
    """A value that does not fit the node's (or method argument's) data type."""

    def __init__(self, endpoint: str, node: str, expected: str, value: Any, detail: str = "") -> None:
        more = f": {detail}" if detail else ""
        super().__init__(
            endpoint,
            f"node {node} takes {expected}, got {value!r} ({type(value).__name__}){more}",
        )
        self.node = node
        self.expected = expected
        self.value = value


class WriteRefused(OpcUaError):
    def __init__(self, endpoint: str, node: str, status: str) -> None:
        super().__init__(endpoint, f"write to node {node} refused: {status}")
        self.node = node
        self.status = status


class MethodFailed(OpcUaError):
    """The server ran (or refused) a method call with a Bad status code, e.g. BadInvalidState."""

    def __init__(self, endpoint: str, obj: str, method: str, status: str) -> None:
        super().__init__(endpoint, f"method {method} on {obj} failed: {status}")
        self.object = obj
        self.method = method
        self.status = status
