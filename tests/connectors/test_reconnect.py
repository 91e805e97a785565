"""Losing the link: server restart, a cut during a command, a session that timed out meanwhile."""

from __future__ import annotations

import asyncio
import dataclasses
import json

import pytest
from opcua_testing import OPTIONS, free_port

from connectors.opcua import CommandOutcomeUnknown, EndpointUnavailable

NS = "nsu=urn:smart-mom:plant-sim"
PRESS, STATE = f"{NS};s=Press1", f"{NS};s=Press1.State"
RECIPE = json.dumps({"recipe_id": "R1", "quantity": 1000})


async def until(predicate, timeout_s: float = 8.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout_s
    while not predicate():
        assert asyncio.get_running_loop().time() < deadline, "condition not reached in time"
        await asyncio.sleep(0.02)


async def drain_until(queue: asyncio.Queue, wanted, timeout_s: float = 5.0):
    while True:
        item = await asyncio.wait_for(queue.get(), timeout_s)
        if wanted(item):
            return item


async def test_server_restart_link_down_fails_fast_then_session_and_subscriptions_come_back(
    machine_server, open_session
):
    port = free_port()
    srv = await machine_server(port=port)
    session = await open_session(srv.endpoint, dataclasses.replace(OPTIONS, reconnect_wait_s=0.3))
    links: list[bool] = []
    session.on_link_change(links.append)
    changes: asyncio.Queue = asyncio.Queue()
    await session.watch_values([STATE], changes.put_nowait, publishing_interval_s=0.05)
    await drain_until(changes, lambda c: c.value == "Idle")

    await srv.stop()
    await until(lambda: links == [False])
    assert not session.is_up
    with pytest.raises(EndpointUnavailable, match=r"link down, not restored within 0\.3 s; values .* unknown"):
        await session.read_value(STATE)

    restarted = await machine_server(port=port)
    await until(lambda: links == [False, True])
    assert await session.read_value(STATE) == "Idle"
    assert session.reconnections == 1
    # the data-change subscription was re-created on the new server
    await session.call(PRESS, f"{NS};s=Press1.Store", "J1", RECIPE)
    await session.call(PRESS, f"{NS};s=Press1.Start", "J1")
    await drain_until(changes, lambda c: c.value in ("Starting", "Execute"))
    assert restarted.machine.starts_accepted == 1


async def test_link_cut_during_a_command_outcome_unknown_then_the_retry_is_a_no_op(machine_server, proxy, open_session):
    srv = await machine_server(server={"command_delay_s": 0.4})
    link = await proxy(srv.port)
    session = await open_session(link.endpoint)
    await session.call(PRESS, f"{NS};s=Press1.Store", "J1", RECIPE)
    start = asyncio.create_task(session.call(PRESS, f"{NS};s=Press1.Start", "J1"))
    await asyncio.sleep(0.15)
    link.cut()
    with pytest.raises(CommandOutcomeUnknown, match=r"call .*Press1.Start .*: link lost"):
        await start
    await until(lambda: session.is_up)
    # whether or not the first Start ran, a retry with the same job id leaves exactly one start
    job_status, _changed = await session.call(PRESS, f"{NS};s=Press1.Start", "J1")
    assert job_status == "Running"
    assert await session.call(PRESS, f"{NS};s=Press1.Start", "J1") == ["Running", False]
    assert srv.machine.starts_accepted == 1


async def test_session_timed_out_during_outage_new_session_and_subscriptions_recreated(
    machine_server, proxy, open_session
):
    srv = await machine_server(server={"min_session_timeout_s": 0.5})
    link = await proxy(srv.port)
    session = await open_session(link.endpoint, dataclasses.replace(OPTIONS, session_timeout_s=1.0))
    token_before = session._client.uaclient.session.authentication_token
    changes: asyncio.Queue = asyncio.Queue()
    pressure = f"{NS};s=Press1.Setpoints.Pressure"
    await session.watch_values([pressure], changes.put_nowait, publishing_interval_s=0.05)
    await drain_until(changes, lambda c: c.value == 5.0)

    link.refuse = True
    link.cut()
    await until(lambda: not session.is_up)
    await asyncio.sleep(2.0)  # longer than the 1 s session timeout: the server drops the session
    assert not srv.server.iserver.subscription_service.subscriptions
    link.refuse = False
    await until(lambda: session.is_up)

    assert session._client.uaclient.session.authentication_token != token_before
    await session.write(pressure, 6.5)
    await drain_until(changes, lambda c: c.value == 6.5)


async def test_server_restarted_with_another_namespace_index_watches_follow_the_namespace_uri(
    machine_server, open_session
):
    port = free_port()
    srv = await machine_server(port=port)
    session = await open_session(srv.endpoint, dataclasses.replace(OPTIONS, reconnect_wait_s=0.3))
    index_before = await session.namespace_index("urn:smart-mom:plant-sim")
    changes: asyncio.Queue = asyncio.Queue()
    events: asyncio.Queue = asyncio.Queue()
    values = await session.watch_values([STATE], changes.put_nowait, publishing_interval_s=0.05)
    job_events = await session.watch_events(PRESS, f"{NS};s=JobStatusEventType", events.put_nowait)
    await drain_until(changes, lambda c: c.value == "Idle")

    await srv.stop()  # the PLC restarts with two vendor namespaces registered before ours
    restarted = await machine_server(port=port, server={"namespaces_before": ("urn:vendor:io", "urn:vendor:diag")})
    await until(lambda: session.is_up and values.renewals == 1 and job_events.renewals == 1)
    assert await session.namespace_index("urn:smart-mom:plant-sim") == index_before + 2

    await session.call(PRESS, f"{NS};s=Press1.Store", "J1", RECIPE)
    await session.call(PRESS, f"{NS};s=Press1.Start", "J1")
    running = await drain_until(changes, lambda c: c.value in ("Starting", "Execute"))
    assert running.node == STATE  # reported under the name the caller gave, on the new node
    event = await drain_until(events, lambda e: e.fields.get("JobStatus") == "Running")
    assert event.fields["JobId"] == "J1" and restarted.machine.starts_accepted == 1
