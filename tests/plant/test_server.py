"""The simulator's OPC UA face, checked with a plain asyncua client (no project connector)."""

from __future__ import annotations

import asyncio
import json

import pytest
from asyncua import Client, ua

from mom.plant.server import NAMESPACE_URI
from mom.plant.simulator import PlantConfig, PlantSimulator, machine_configs

RECIPE = json.dumps({"recipe_id": "R1", "quantity": 5, "setpoints": {"Pressure": 7.25}})


class Events:
    def __init__(self) -> None:
        self.queue: asyncio.Queue[dict] = asyncio.Queue()

    def event_notification(self, event) -> None:
        self.queue.put_nowait(event.get_event_props_as_fields_dict())


async def test_job_runs_through_methods_and_reports_job_status_events(machine_server):
    srv = await machine_server()
    async with Client(srv.endpoint) as client:
        idx = await client.get_namespace_index(NAMESPACE_URI)
        press = await client.nodes.objects.get_child(f"{idx}:Press1")
        events = Events()
        sub = await client.create_subscription(20, events)
        await sub.subscribe_events(press, client.get_node(ua.NodeId.from_string(f"ns={idx};s=JobStatusEventType")))
        assert await press.call_method(f"{idx}:Store", "J1", RECIPE) == ["AllowedToStart", True]
        assert await press.call_method(f"{idx}:Start", "J1") == ["Running", True]
        assert await press.call_method(f"{idx}:Start", "J1") == ["Running", False]
        statuses = []
        while "Ended" not in statuses:
            fields = await asyncio.wait_for(events.queue.get(), 5)
            statuses.append(fields["JobStatus"].Value)
        assert statuses == ["AllowedToStart", "Running", "Ended"]
        good = await (await press.get_child(f"{idx}:GoodCount")).read_value()
        pressure = await (await press.get_child([f"{idx}:Setpoints", f"{idx}:Pressure"])).read_value()
        assert (good, pressure) == (5, 7.25)
        assert await (await press.get_child(f"{idx}:StartsAccepted")).read_value() == 1


async def test_refusals_are_status_codes_with_the_reason_in_last_command_error(machine_server):
    srv = await machine_server()
    async with Client(srv.endpoint) as client:
        idx = await client.get_namespace_index(NAMESPACE_URI)
        press = await client.nodes.objects.get_child(f"{idx}:Press1")
        with pytest.raises(ua.uaerrors.BadNotFound):
            await press.call_method(f"{idx}:Start", "J404")
        reason = await (await press.get_child(f"{idx}:LastCommandError")).read_value()
        assert reason.startswith("UNKNOWN_JOB: cannot start job J404")
        with pytest.raises(ua.uaerrors.BadInvalidArgument):
            await press.call_method(f"{idx}:Store", "J1", '{"recipe_id": "R", "quantity": -1}')
        with pytest.raises(ua.uaerrors.BadInvalidArgument):
            await press.call_method(f"{idx}:Start", ua.Variant(5, ua.VariantType.Int32))


async def test_setpoints_written_by_a_client_reach_the_machine(machine_server):
    srv = await machine_server()
    async with Client(srv.endpoint) as client:
        idx = await client.get_namespace_index(NAMESPACE_URI)
        node = client.get_node(ua.NodeId.from_string(f"ns={idx};s=Press1.Setpoints.CycleTime"))
        await node.write_value(ua.Variant(0.5, ua.VariantType.Double))
        for _ in range(1000):
            if srv.machine.setpoints["CycleTime"] == 0.5:
                break
            await asyncio.sleep(0.01)
        assert srv.machine.setpoints["CycleTime"] == 0.5


async def test_the_plant_serves_n_machines_on_consecutive_ports_deterministically():
    config = PlantConfig(machines=2, seed=5, base_port=_free_port_pair(), tick_s=0.02)
    assert machine_configs(config) == machine_configs(PlantConfig(machines=2, seed=5))
    assert machine_configs(config) != machine_configs(PlantConfig(machines=2, seed=6))
    plant = PlantSimulator(config)
    await plant.start()
    try:
        assert list(plant.endpoints) == ["Press1", "Mill2"]
        async with Client(plant.endpoints["Mill2"]) as client:
            idx = await client.get_namespace_index(NAMESPACE_URI)
            state = client.get_node(ua.NodeId.from_string(f"ns={idx};s=Mill2.State"))
            assert await state.read_value() == "Idle"
    finally:
        await plant.stop()


def _free_port_pair() -> int:
    import socket

    for _ in range(20):
        with socket.socket() as a:
            a.bind(("127.0.0.1", 0))
            base = a.getsockname()[1]
        with socket.socket() as b:
            try:
                b.bind(("127.0.0.1", base + 1))
            except OSError:
                continue
        return base
    raise RuntimeError("no two consecutive free ports")
