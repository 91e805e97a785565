"""The standard address space built once per process and copied node by node into each simulated
machine's server (mom.plant.address_space): every server sees the same standard nodes as one that
asyncua built itself, and what one server changes stays its own."""

from __future__ import annotations

from asyncua import Server, ua

from mom.plant.address_space import CopiedOnAccess, share_standard_nodes

PRODUCT_NAME = ua.NodeId(ua.ObjectIds.Server_ServerStatus_BuildInfo_ProductName)


async def shared_server() -> Server:
    server = Server()
    share_standard_nodes(server)
    await server.init()
    assert isinstance(server.iserver.aspace._nodes, CopiedOnAccess)
    return server


def outline(server: Server, nodeid: ua.NodeId) -> tuple[object, ...]:
    node = server.iserver.aspace[nodeid]
    return (node.attributes[ua.AttributeIds.BrowseName].value.Value,
            node.attributes[ua.AttributeIds.NodeClass].value.Value,
            sorted((r.ReferenceTypeId.to_string(), r.NodeId.to_string(), r.IsForward) for r in node.references))


async def test_the_same_standard_nodes_as_asyncua_builds() -> None:
    own = Server()
    await own.init()
    shared = await shared_server()
    own_ids = set(own.iserver.aspace.keys())
    assert own_ids == set(shared.iserver.aspace.keys())
    assert len(own_ids) > 5000
    assert len(shared.iserver.aspace._nodes) == len(own_ids)
    for nodeid in own_ids:
        assert outline(shared, nodeid) == outline(own, nodeid), nodeid


async def test_what_a_server_changes_stays_its_own() -> None:
    first, second = await shared_server(), await shared_server()
    index = await first.register_namespace("urn:smart-mom:test:first-only")
    assert "urn:smart-mom:test:first-only" not in await second.get_namespace_array()

    await first.get_node(PRODUCT_NAME).write_value("first")
    assert await second.get_node(PRODUCT_NAME).read_value() != "first"
    assert await (await shared_server()).get_node(PRODUCT_NAME).read_value() != "first"

    folder = await first.nodes.objects.add_folder(index, "OnlyInFirst")
    assert folder.nodeid in first.iserver.aspace and folder.nodeid not in second.iserver.aspace
    children = {c.nodeid for c in await second.nodes.objects.get_children()}
    assert folder.nodeid not in children

    await first.delete_nodes([first.get_node(PRODUCT_NAME)])
    assert PRODUCT_NAME not in first.iserver.aspace and PRODUCT_NAME not in set(first.iserver.aspace.keys())
    assert PRODUCT_NAME in second.iserver.aspace
    assert await second.get_node(PRODUCT_NAME).read_value() is not None
