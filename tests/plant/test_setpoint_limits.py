"""The simulator keeps its setpoints inside their engineering range as a real PLC does: it serves
EURange on each setpoint and refuses NaN, infinity and out-of-range values (plain asyncua client)."""

from __future__ import annotations

import asyncio
import json
import math

import pytest
from asyncua import Client, ua

from mom.plant.server import NAMESPACE_URI


async def _pressure(client: Client):
    idx = await client.get_namespace_index(NAMESPACE_URI)
    press = await client.nodes.objects.get_child(f"{idx}:Press1")
    return idx, press, client.get_node(ua.NodeId.from_string(f"ns={idx};s=Press1.Setpoints.Pressure"))


async def test_setpoints_serve_their_eu_range(machine_server):
    srv = await machine_server()
    async with Client(srv.endpoint) as client:
        _, _, node = await _pressure(client)
        eu_range = await (await node.get_child("0:EURange")).read_value()
        assert (eu_range.Low, eu_range.High) == (0.0, 20.0)
        assert (await node.read_type_definition()) == ua.NodeId(ua.ObjectIds.AnalogItemType)


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf, 1e308, 20.5, -1.0])
async def test_a_direct_write_outside_the_range_is_bad_out_of_range_and_changes_nothing(machine_server, value):
    srv = await machine_server()
    async with Client(srv.endpoint) as client:
        idx, press, node = await _pressure(client)
        with pytest.raises(ua.uaerrors.BadOutOfRange):
            await node.write_value(ua.Variant(value, ua.VariantType.Double))
        assert await node.read_value() == 5.0
        await asyncio.sleep(0.05)  # a machine tick: the machine did not take it either
        assert srv.machine.setpoints["Pressure"] == 5.0
        reason = await (await press.get_child(f"{idx}:LastCommandError")).read_value()
        assert reason.startswith("SETPOINT_OUT_OF_RANGE: machine Press1 setpoint Pressure")
        await node.write_value(ua.Variant(20.0, ua.VariantType.Double))  # the range itself is accepted
        assert await node.read_value() == 20.0


@pytest.mark.parametrize(("setpoint", "status"), [
    ("NaN", ua.uaerrors.BadInvalidArgument), ("1e999", ua.uaerrors.BadInvalidArgument),
    ("1e308", ua.uaerrors.BadOutOfRange), ("25", ua.uaerrors.BadOutOfRange),
])
async def test_a_recipe_with_a_setpoint_outside_the_range_is_not_stored(machine_server, setpoint, status):
    srv = await machine_server()
    recipe = '{"recipe_id": "R1", "quantity": 2, "setpoints": {"Pressure": ' + setpoint + '}}'
    async with Client(srv.endpoint) as client:
        idx, press, node = await _pressure(client)
        with pytest.raises(status):
            await press.call_method(f"{idx}:Store", "J1", recipe)
        assert srv.machine.job is None and await node.read_value() == 5.0
        assert await press.call_method(
            f"{idx}:Store", "J1", json.dumps({"recipe_id": "R1", "quantity": 2, "setpoints": {"Pressure": 7.0}})
        ) == ["AllowedToStart", True]
