"""Machine writes are checked before they leave: NaN and infinity never, nothing outside the node's
EURange or the ranges the task brings (binding, recipe). Real asyncua simulator servers; the node is
read back to show nothing was written."""

from __future__ import annotations

import asyncio
import json
import math

import pytest
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities.machines import MachineActivities
from connectors.opcua import ValueOutOfRange
from mom.cli import main

NS = "nsu=urn:smart-mom:plant-sim"
PRESSURE = f"{NS};s=Press1.Setpoints.Pressure"
BINDING = {"min": 0.0, "max": 8.0, "source": "binding Setpoints.Pressure of Acme.Press1"}


@pytest.fixture
def activities(pool) -> MachineActivities:
    return MachineActivities(pool, heartbeat_s=0.1)


def refusal(error: ApplicationError) -> dict:
    assert error.type == "BpmnError" and error.non_retryable
    details = error.details[0]
    assert details["code"] == "SETPOINT_OUT_OF_RANGE"
    return details


async def pressure_on(srv, open_session) -> float:
    session = await open_session(srv.endpoint)
    value: float = await session.read_value(PRESSURE)
    return value


@pytest.mark.parametrize(("value", "limits", "shown", "range_"), [
    (math.nan, None, "nan", None),
    (math.inf, None, "inf", None),
    (1e308, None, 1e308, "0..20"),
    (9.0, BINDING, 9.0, "0..8"),
])
async def test_machine_write_out_of_range_is_a_bpmn_error_and_writes_nothing(
    machine_server, activities, open_session, value, limits, shown, range_
):
    srv = await machine_server()
    task = {"endpoint": srv.endpoint, "machine": "Press1", "node": "Setpoints.Pressure", "value": value}
    if limits:
        task["limits"] = limits
    with pytest.raises(ApplicationError) as refused:
        await ActivityEnvironment().run(activities.write, task)
    details = refusal(refused.value)
    assert (details["machine"], details["parameter"], details["value"], details["range"]) == (
        "Press1", "Setpoints.Pressure", shown, range_)
    assert "Press1 Setpoints.Pressure" in details["message"] and "nothing was written" in details["message"]
    if limits:
        assert details["source"] == BINDING["source"]
    elif range_:
        assert details["source"].startswith("EURange of")
    assert await pressure_on(srv, open_session) == 5.0
    assert srv.machine.setpoints["Pressure"] == 5.0


async def test_machine_write_inside_every_range_is_written(machine_server, activities, open_session):
    srv = await machine_server()
    task = {"endpoint": srv.endpoint, "machine": "Press1", "node": "Setpoints.Pressure", "value": 7.5,
            "limits": [BINDING, {"min": 7, "max": 9}]}
    assert (await ActivityEnvironment().run(activities.write, task))["value"] == 7.5
    assert await pressure_on(srv, open_session) == 7.5


@pytest.mark.parametrize(("activity", "setpoint", "limits", "range_"), [
    ("load_recipe", math.nan, None, None),
    ("load_recipe", 1e308, None, "0..20"),
    ("load_recipe", 9.0, {"Pressure": BINDING}, "0..8"),
    ("start_job", 9.0, {"Pressure": [{"min": 4, "max": 7, "source": "recipe R1"}, BINDING]}, "4..7"),
])
async def test_a_recipe_out_of_range_is_refused_before_the_machine_sees_it(
    machine_server, activities, open_session, activity, setpoint, limits, range_
):
    srv = await machine_server()
    recipe = {"recipe_id": "R1", "quantity": 2, "setpoints": {"Pressure": setpoint}}
    if limits:
        recipe["limits"] = limits
    task = {"endpoint": srv.endpoint, "machine": "Press1", "job_id": "J1", "recipe": recipe}
    with pytest.raises(ApplicationError) as refused:
        await ActivityEnvironment().run(getattr(activities, activity), task)
    details = refusal(refused.value)
    assert (details["machine"], details["parameter"], details["range"]) == ("Press1", "Pressure", range_)
    assert "Store" not in srv.calls_received and srv.machine.job is None
    assert await pressure_on(srv, open_session) == 5.0


async def test_limits_are_not_sent_to_the_machine(machine_server, activities):
    srv = await machine_server()
    recipe = {"recipe_id": "R1", "quantity": 2, "setpoints": {"Pressure": 6.5}, "limits": {"Pressure": BINDING}}
    task = {"endpoint": srv.endpoint, "machine": "Press1", "job_id": "J1", "recipe": recipe}
    env = ActivityEnvironment()
    assert (await env.run(activities.load_recipe, task))["changed"] is True
    assert (await env.run(activities.load_recipe, task))["changed"] is False  # same job, same recipe
    assert srv.machine.job is not None and srv.machine.job.recipe.setpoints == {"Pressure": 6.5}


async def test_the_session_refuses_nan_before_sending(machine_server, open_session):
    srv = await machine_server()
    session = await open_session(srv.endpoint)
    with pytest.raises(ValueOutOfRange, match="not a finite number"):
        await session.write(PRESSURE, math.nan)
    assert await session.read_value(PRESSURE) == 5.0


async def mom(capsys, *argv: str) -> tuple[int, dict]:
    capsys.readouterr()
    code = await asyncio.to_thread(main, list(argv))
    return code, json.loads(capsys.readouterr().out)


@pytest.mark.parametrize(("value", "words"), [
    ("nan", "not a finite number"), ("-inf", "not a finite number"), ("1e308", "outside 0..20"),
])
async def test_mom_opcua_write_refuses_nan_inf_and_out_of_range(machine_server, open_session, capsys, value, words):
    srv = await machine_server()
    code, out = await mom(capsys, "opcua", "write", "--endpoint", srv.endpoint, "--json", "--node", PRESSURE,
                          f"--value={value}")
    assert code == 1 and out["type"] == "ValueOutOfRange" and words in out["error"]
    assert await pressure_on(srv, open_session) == 5.0
