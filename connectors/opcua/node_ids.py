"""Node ids in the standard string form, with namespaces named by URI.

``ns=2;s=Press1.State`` names the namespace by index; ``nsu=urn:smart-mom:plant-sim;s=Press1.State``
by URI, which is what configuration should use: indexes belong to one server's namespace
array and may change when it restarts. ``i=2253`` (namespace 0) is accepted too.
"""

from __future__ import annotations

from dataclasses import dataclass

from asyncua import ua

from connectors.opcua.errors import InvalidNodeId

_IDENTIFIER_KINDS = ("i=", "s=", "g=", "b=")


@dataclass(frozen=True)
class NodeRef:
    """A parsed node id: namespace given by ``uri`` or ``index``, and the identifier part."""

    identifier: str
    uri: str | None = None
    index: int = 0

    def with_index(self, index: int) -> ua.NodeId:
        return ua.NodeId.from_string(f"ns={index};{self.identifier}")

    def __str__(self) -> str:
        if self.uri is not None:
            return f"nsu={self.uri};{self.identifier}"
        return f"ns={self.index};{self.identifier}" if self.index else self.identifier


def parse_node_id(text: str) -> NodeRef:
    """Parse ``[ns=N;|nsu=URI;](i=|s=|g=|b=)ID``; raises :class:`InvalidNodeId` naming the text."""
    text = text.strip()
    uri: str | None = None
    index = 0
    rest = text
    if text.startswith("nsu="):
        uri, sep, rest = text[4:].partition(";")
        if not sep or not uri:
            raise InvalidNodeId(f"node id {text!r}: 'nsu=URI' must be followed by ';' and an identifier")
    elif text.startswith("ns="):
        raw_index, sep, rest = text[3:].partition(";")
        if not sep or not raw_index.isdigit():
            raise InvalidNodeId(f"node id {text!r}: expected 'ns=<number>;<identifier>'")
        index = int(raw_index)
    if not rest.startswith(_IDENTIFIER_KINDS) or len(rest) < 3:
        raise InvalidNodeId(
            f"node id {text!r}: identifier must start with i=, s=, g= or b= "
            "(e.g. 'ns=1;s=Press1.State' or 'nsu=urn:smart-mom:plant-sim;s=Press1.State')"
        )
    ref = NodeRef(identifier=rest, uri=uri, index=index)
    try:
        ref.with_index(index)
    except (ValueError, ua.UaStringParsingError) as exc:
        raise InvalidNodeId(f"node id {text!r}: {exc}") from None
    return ref


def format_node_id(node_id: ua.NodeId, namespaces: list[str] | None = None) -> str:
    """The string form of a node id; with ``namespaces``, non-zero namespaces are given by URI."""
    text: str = node_id.to_string()
    if namespaces is None or node_id.NamespaceIndex == 0:
        return text
    if node_id.NamespaceIndex < len(namespaces):
        _, _, identifier = text.partition(";")
        return f"nsu={namespaces[node_id.NamespaceIndex]};{identifier}"
    return text
