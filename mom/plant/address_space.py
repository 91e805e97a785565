"""The OPC UA standard address space of the simulated machines, built once per process.

asyncua builds the ~6,000 nodes of the standard address space anew for every server: about 2.5 s
of one core each, so a simulator of 20 machines took 50 s to start (4 s now, bench/plant_start.py)
and the test suite spent minutes on it. Here the nodes are built once, kept as a template, and
each server gets a node of its own copied from the template the first time it touches it; a
server's changes (values, references, namespaces, deleted nodes) stay its own. asyncua's shelf
loading (``Server.init(shelf_file)``, ``AddressSpace.load_aspace_shelf``) does the same from a file.
"""

from __future__ import annotations

import asyncio
import copy
import threading
from collections.abc import Iterator, Mapping, MutableMapping
from typing import Any, cast

from asyncua import Server, ua
from asyncua.server.address_space import AddressSpace, AttributeValue, NodeData, NodeManagementService

_template: dict[ua.NodeId, NodeData] | None = None
_template_lock = threading.Lock()


def _build_template() -> dict[ua.NodeId, NodeData]:
    global _template
    with _template_lock:
        if _template is None:
            from asyncua.server.standard_address_space import standard_address_space

            aspace = AddressSpace()
            standard_address_space.fill_address_space(NodeManagementService(aspace))
            _template = dict(aspace._nodes)
        return _template


def _copy_value(value: ua.DataValue | None) -> ua.DataValue | None:
    """A value of the server's own: asyncua replaces a stored value on write, but a value read
    through the server is the stored object itself, and a list read may be changed and written
    back (``register_namespace`` appends to NamespaceArray's list): lists and dicts are copied."""
    if value is None:
        return None
    copied = copy.copy(value)
    if copied.Value is not None and isinstance(copied.Value.Value, list | dict):
        copied.Value = copy.copy(copied.Value)
        copied.Value.Value = copy.copy(copied.Value.Value)
    return copied


def _copy(node: NodeData) -> NodeData:
    """A node of the server's own: new attribute holders (asyncua sets callbacks on them) and
    reference list (a reference is added or removed, never changed in place)."""
    copied = NodeData(node.nodeid)
    copied.attributes = {attr: AttributeValue(cast(ua.DataValue, _copy_value(held.value)))  # None stays None
                         for attr, held in node.attributes.items()}
    copied.references = list(node.references)
    copied.call = node.call
    return copied


class CopiedOnAccess(MutableMapping[ua.NodeId, NodeData]):
    """A server's nodes: its own, plus the template's, each copied the first time it is read."""

    def __init__(self, template: Mapping[ua.NodeId, NodeData]) -> None:
        self._template = template
        self._own: dict[ua.NodeId, NodeData] = {}
        self._deleted: set[ua.NodeId] = set()

    def __getitem__(self, key: ua.NodeId) -> NodeData:
        node = self._own.get(key)
        if node is not None:
            return node
        if key in self._deleted:
            raise KeyError(key)
        node = self._own[key] = _copy(self._template[key])
        return node

    def __setitem__(self, key: ua.NodeId, value: NodeData) -> None:
        self._own[key] = value
        self._deleted.discard(key)

    def __delitem__(self, key: ua.NodeId) -> None:
        if key not in self:
            raise KeyError(key)
        self._own.pop(key, None)
        if key in self._template:
            self._deleted.add(key)

    def __contains__(self, key: object) -> bool:
        return key in self._own or (key in self._template and key not in self._deleted)

    def __iter__(self) -> Iterator[ua.NodeId]:
        # a list: asyncua reads nodes (copying them in) while it walks the keys
        return iter([*self._own, *(k for k in self._template if k not in self._own and k not in self._deleted)])

    def __len__(self) -> int:
        return len(self._own) + sum(1 for k in self._template if k not in self._own and k not in self._deleted)


def share_standard_nodes(server: Server) -> None:
    """Make ``server.init()`` take the standard nodes from the process's template (built on first
    use, in a thread) instead of building them again. Call before ``init``."""
    iserver: Any = server.iserver
    if not isinstance(getattr(iserver.aspace, "_nodes", None), dict):
        return  # an asyncua that keeps its nodes otherwise: let it build them

    async def load_standard_address_space(shelf_file: object = None) -> None:
        template = _template if _template is not None else await asyncio.to_thread(_build_template)
        iserver.aspace._nodes = CopiedOnAccess(template)

    iserver.load_standard_address_space = load_standard_address_space
