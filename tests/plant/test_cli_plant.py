"""``mom plant sim`` options: listen address and security, as the plant simulator receives them."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest
from asyncua import Client

from connectors.opcua import ensure_certificate
from mom.cli import build_parser
from mom.cli.plant import plant_config
from mom.plant.simulator import PlantSimulator


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def sim_args(*argv: str):
    return build_parser().parse_args(["plant", "sim", *argv])


def test_defaults_listen_on_loopback_without_security():
    config = plant_config(sim_args())
    assert (config.host, config.base_port) == ("127.0.0.1", 4840)
    assert config.security is not None and config.security.allow_none and not config.security.users
    assert plant_config(sim_args("--host", "0.0.0.0")).host == "0.0.0.0"


def test_bad_security_options_name_the_option(tmp_path: Path):
    with pytest.raises(SystemExit, match="--user 'edge': expected NAME:PASSWORD"):
        plant_config(sim_args("--user", "edge"))
    with pytest.raises(SystemExit, match=r"allow_none=False leaves no endpoint"):
        plant_config(sim_args("--secure-only"))
    with pytest.raises(SystemExit, match=r"--certificate .*nope.der: no such file"):
        plant_config(sim_args("--certificate", str(tmp_path / "nope.der"), "--private-key", str(tmp_path / "k")))


async def test_a_secure_simulator_from_the_command_line(tmp_path: Path):
    cert, key = await ensure_certificate(tmp_path, "sim", "urn:smart-mom:plant-sim:server", server=True)
    client_cert, client_key = await ensure_certificate(tmp_path, "client", "urn:smart-mom:opcua-client")
    trusted = tmp_path / "trusted"
    trusted.mkdir()
    (trusted / client_cert.name).write_bytes(client_cert.read_bytes())
    users = tmp_path / "users.json"
    users.write_text(json.dumps({"edge": "s3cret"}))
    config = plant_config(sim_args(
        "--machines", "1", "--port", str(free_port()), "--certificate", str(cert), "--private-key", str(key),
        "--secure-only", "--users-file", str(users), "--trust", str(trusted),
    ))
    plant = PlantSimulator(config)
    await plant.start()
    try:
        client = Client(plant.endpoints["Press1"])
        client.application_uri = "urn:smart-mom:opcua-client"
        await client.set_security_string(f"Basic256Sha256,SignAndEncrypt,{client_cert},{client_key}")
        client.set_user("edge")
        client.set_password("s3cret")
        async with client:
            idx = await client.get_namespace_index("urn:smart-mom:plant-sim")
            assert await client.get_node(f"ns={idx};s=Press1.State").read_value() == "Idle"
        with pytest.raises(Exception):  # noqa: B017 - anonymous, unencrypted: no such endpoint
            async with Client(plant.endpoints["Press1"]):
                pass
    finally:
        await plant.stop()
