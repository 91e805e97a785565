"""``mom opcua ...`` and ``mom plant sim`` as scripts use them (JSON output, exit codes)."""

from __future__ import annotations

import asyncio
import json

from opcua_testing import free_port

from mom.cli import main

NS = "nsu=urn:smart-mom:plant-sim"


async def mom(capsys, *argv: str) -> tuple[int, object]:
    capsys.readouterr()
    code = await asyncio.to_thread(main, list(argv))
    out = capsys.readouterr().out
    return code, json.loads(out) if out.strip().startswith(("{", "[")) else out


async def test_read_write_call_browse_as_json(machine_server, capsys):
    srv = await machine_server()
    e = ["--endpoint", srv.endpoint, "--json"]
    code, out = await mom(capsys, "opcua", "write", *e, "--node", f"{NS};s=Press1.Setpoints.Pressure", "--value", "6.5")
    assert code == 0 and out == {"node": f"{NS};s=Press1.Setpoints.Pressure", "value": 6.5, "type": "Double"}
    code, out = await mom(capsys, "opcua", "read", *e, "--node", f"{NS};s=Press1.Setpoints.Pressure")
    assert code == 0 and out[0]["value"] == 6.5 and out[0]["status"] == "Good"
    code, out = await mom(
        capsys, "opcua", "call", *e, "--object", f"{NS};s=Press1", "--method", f"{NS};s=Press1.Store",
        "J1", '{"recipe_id": "R1", "quantity": 2}',
    )
    assert code == 0 and out == {"outputs": ["AllowedToStart", True]}
    code, out = await mom(capsys, "opcua", "browse", *e, "--node", f"{NS};s=Press1")
    assert code == 0 and {"browse_name": "2:Start", "node_class": "Method"}.items() <= {
        k: v for entry in out if entry["browse_name"].endswith("Start") for k, v in entry.items()
    }.items()


async def test_errors_exit_1_and_name_endpoint_node_and_type(machine_server, capsys):
    srv = await machine_server()
    e = ["--endpoint", srv.endpoint, "--json"]
    code, out = await mom(capsys, "opcua", "write", *e, "--node", f"{NS};s=Press1.Setpoints.Pressure", "--value", "x")
    assert code == 1 and out["type"] == "WrongType" and srv.endpoint in out["error"] and "takes Double" in out["error"]
    code, out = await mom(capsys, "opcua", "read", *e, "--node", f"{NS};s=Press1.Nope")
    assert code == 1 and out["type"] == "UnknownNode"
    code, out = await mom(capsys, "opcua", "read", *e, "--node", "Press1.State")
    assert code == 1 and out["type"] == "InvalidNodeId"


async def test_watch_prints_json_lines(machine_server, capsys):
    srv = await machine_server()
    code, out = await mom(
        capsys, "opcua", "watch", "--endpoint", srv.endpoint, "--json", "--node", f"{NS};s=Press1.State",
        "--interval", "0.05", "--count", "1",
    )
    assert code == 0 and out["value"] == "Idle"  # one JSON line


async def test_plant_sim_serves_and_stops(capsys):
    port = free_port()
    code, out = await mom(capsys, "plant", "sim", "--machines", "1", "--port", str(port), "--duration", "0.1", "--json")
    assert code == 0 and out["machines"] == {"Press1": f"opc.tcp://127.0.0.1:{port}/"}
