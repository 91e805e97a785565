"""EndpointSession against a real simulated machine: reads, typed writes, calls, subscriptions."""

from __future__ import annotations

import asyncio
import json

import pytest

from connectors.opcua import (
    EndpointUnavailable,
    MethodFailed,
    UnknownNamespace,
    UnknownNode,
    WriteRefused,
    WrongType,
)

NS = "nsu=urn:smart-mom:plant-sim"
RECIPE = json.dumps({"recipe_id": "R1", "quantity": 3})


async def test_namespace_index_is_looked_up_by_uri(machine_server, open_session):
    srv = await machine_server()
    session = await open_session(srv.endpoint)
    idx = await session.namespace_index("urn:smart-mom:plant-sim")
    assert idx == (await session.namespaces()).index("urn:smart-mom:plant-sim")
    assert await session.read_value(f"ns={idx};s=Press1.State") == await session.read_value(f"{NS};s=Press1.State")
    with pytest.raises(UnknownNamespace, match=r"opc.tcp://127.0.0.1:\d+/: namespace 'urn:nope' is not on this"):
        await session.read_value("nsu=urn:nope;s=X")


async def test_many_nodes_are_read_in_one_request(machine_server, open_session, monkeypatch):
    srv = await machine_server(server={"sensors": 300})
    session = await open_session(srv.endpoint)
    client = session._client
    calls = []
    original = client.uaclient.read

    async def counting_read(params):
        calls.append(len(params.NodesToRead))
        return await original(params)

    monkeypatch.setattr(client.uaclient, "read", counting_read)
    nodes = [f"{NS};s=Press1.Sensors.Signal{i:04d}" for i in range(300)] + [f"{NS};s=Press1.State"]
    values = await session.read(nodes)
    assert calls == [301]
    assert all(v.good for v in values) and values[-1].value == "Idle"
    assert values[0].source_timestamp is not None


async def test_unknown_nodes_are_named(machine_server, open_session):
    srv = await machine_server()
    session = await open_session(srv.endpoint)
    with pytest.raises(UnknownNode, match=r"node nsu=urn:smart-mom:plant-sim;s=Press1.Nope does not exist"):
        await session.read([f"{NS};s=Press1.State", f"{NS};s=Press1.Nope"])
    with pytest.raises(UnknownNode, match=r"Press1\.Nope"):
        await session.write(f"{NS};s=Press1.Nope", 1.0)
    with pytest.raises(UnknownNode, match="Press1/Nope"):
        await session.child(f"{NS};s=Press1", "Nope")


async def test_writes_are_typed_by_the_node(machine_server, open_session):
    srv = await machine_server()
    session = await open_session(srv.endpoint)
    node = f"{NS};s=Press1.Setpoints.Pressure"
    written = await session.write(node, "6.25", from_text=True)
    assert written.VariantType.name == "Double"
    assert await session.read_value(node) == 6.25
    await session.write(node, 7)  # an int is a fine Double
    assert await session.read_value(node) == 7.0
    with pytest.raises(WrongType, match=r"node .*Setpoints.Pressure takes Double, got 'high' \(str\)"):
        await session.write(node, "high")
    with pytest.raises(WrongType, match="takes Double"):
        await session.write(node, "high", from_text=True)
    with pytest.raises(WriteRefused, match=r"write to node .*Press1.State refused: Bad"):
        await session.write(f"{NS};s=Press1.State", "Execute")


async def test_method_calls_are_typed_by_their_input_arguments(machine_server, open_session):
    srv = await machine_server()
    session = await open_session(srv.endpoint)
    press = f"{NS};s=Press1"
    assert await session.call(press, f"{NS};s=Press1.Store", "J1", RECIPE) == ["AllowedToStart", True]
    assert await session.call(press, f"{NS};s=Press1.Start", "J1") == ["Running", True]
    with pytest.raises(WrongType, match=r"Press1.Start argument JobId takes String, got 7 \(int\)"):
        await session.call(press, f"{NS};s=Press1.Start", 7)
    with pytest.raises(WrongType, match=r"takes 1 argument\(s\) \(JobId: String\)"):
        await session.call(press, f"{NS};s=Press1.Start")
    with pytest.raises(UnknownNode, match=r"Press1\.Launch"):
        await session.call(press, f"{NS};s=Press1.Launch", "J1")
    with pytest.raises(MethodFailed, match=r"method .*Press1.Start on .*Press1 failed: BadNotFound"):
        await session.call(press, f"{NS};s=Press1.Start", "J2")


async def test_browse_lists_children_with_namespace_uris(machine_server, open_session):
    srv = await machine_server()
    session = await open_session(srv.endpoint)
    top = {e.browse_name.split(":")[1]: e for e in await session.browse()}
    assert top["Press1"].node == f"{NS};s=Press1"
    children = {e.browse_name.split(":")[1]: e.node_class for e in await session.browse(f"{NS};s=Press1")}
    assert children["State"] == "Variable" and children["Start"] == "Method" and children["Setpoints"] == "Object"


async def test_data_changes_and_job_events_are_delivered(machine_server, open_session):
    srv = await machine_server()
    session = await open_session(srv.endpoint)
    changes: asyncio.Queue = asyncio.Queue()
    events: asyncio.Queue = asyncio.Queue()
    await session.watch_values([f"{NS};s=Press1.State"], changes.put_nowait, publishing_interval_s=0.02)
    await session.watch_events(f"{NS};s=Press1", f"{NS};s=JobStatusEventType", events.put_nowait)
    assert (await asyncio.wait_for(changes.get(), 3)).value == "Idle"
    await session.call(f"{NS};s=Press1", f"{NS};s=Press1.Store", "J1", RECIPE)
    await session.call(f"{NS};s=Press1", f"{NS};s=Press1.Start", "J1")
    statuses, states = [], []
    while "Ended" not in statuses:
        statuses.append((await asyncio.wait_for(events.get(), 3)).fields["JobStatus"])
    assert statuses == ["AllowedToStart", "Running", "Ended"]
    while not changes.empty():
        states.append(changes.get_nowait().value)
    assert "Starting" in states or "Execute" in states


async def test_a_server_that_is_not_there_is_unavailable_quickly(open_session):
    from opcua_testing import free_port

    with pytest.raises(EndpointUnavailable, match=r"opc.tcp://127.0.0.1:\d+/: cannot connect"):
        await open_session(f"opc.tcp://127.0.0.1:{free_port()}/")


async def test_the_pool_reuses_one_session_per_endpoint(machine_server, pool):
    srv = await machine_server()
    first = await pool.session(srv.endpoint)
    assert await pool.session(srv.endpoint) is first
    assert pool.endpoints == [srv.endpoint]


async def test_closed_watches_leave_no_subscription_behind_in_the_client(machine_server, open_session):
    """asyncua's Client lists every subscription it created until it reconnects; a pooled session
    runs one watch per machine job, so a closed watch must leave that list (it grew by one per job)."""
    srv = await machine_server()
    session = await open_session(srv.endpoint)
    client = session._client
    before = len(client._subscriptions)
    for _ in range(5):
        watch = await session.watch_events(f"{NS};s=Press1", f"{NS};s=JobStatusEventType", lambda _: None)
        assert len(client._subscriptions) == before + 1
        await watch.close()
        assert len(client._subscriptions) == before
    still = await session.watch_values([f"{NS};s=Press1.State"], lambda _: None)
    assert still.subscription in client._subscriptions  # an open watch stays (re-created after a reconnect)
