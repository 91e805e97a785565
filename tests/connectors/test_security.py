"""User name/password and Basic256Sha256 (Sign, SignAndEncrypt) with self-signed certificates."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from opcua_testing import OPTIONS

from connectors.opcua import BadCredentials, EndpointSession, SecurityConfig, SecurityRejected, ensure_certificate
from mom.plant.server import ServerSecurity

STATE = "nsu=urn:smart-mom:plant-sim;s=Press1.State"


@pytest.fixture(scope="module")
async def certificates(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, Path]]:
    base = tmp_path_factory.mktemp("pki")
    return {
        "server": await ensure_certificate(base, "server", "urn:smart-mom:plant-sim:server", server=True),
        "client": await ensure_certificate(base, "client", "urn:smart-mom:opcua-client"),
    }


def options(**security) -> object:
    return dataclasses.replace(OPTIONS, security=SecurityConfig(**security))


async def test_user_name_and_password(machine_server, open_session):
    srv = await machine_server(server={"security": ServerSecurity(users={"edge": "s3cret"})})
    session = await open_session(srv.endpoint, options(username="edge", password="s3cret"))
    assert await session.read_value(STATE) == "Idle"
    with pytest.raises(BadCredentials, match=r"opc.tcp://127.0.0.1:\d+/: user 'edge' was rejected"):
        await EndpointSession.open(srv.endpoint, options(username="edge", password="wrong"))
    with pytest.raises(BadCredentials, match="user None was rejected"):
        await EndpointSession.open(srv.endpoint, OPTIONS)


@pytest.mark.parametrize("mode", ["Sign", "SignAndEncrypt"])
async def test_basic256sha256_with_certificates(machine_server, open_session, certificates, mode):
    server_cert, server_key = certificates["server"]
    client_cert, client_key = certificates["client"]
    security = ServerSecurity(
        certificate=server_cert, private_key=server_key, allow_none=False, users={"edge": "s3cret"}
    )
    srv = await machine_server(server={"security": security})
    session = await open_session(
        srv.endpoint,
        options(
            policy="Basic256Sha256", mode=mode, certificate=client_cert, private_key=client_key,
            username="edge", password="s3cret",
        ),
    )
    assert await session.read_value(STATE) == "Idle"
    assert session._client.security_policy.Mode.name == mode
    with pytest.raises(SecurityRejected, match="server offers no endpoint for no security"):
        await EndpointSession.open(srv.endpoint, options(username="edge", password="s3cret"))


def test_a_secure_policy_needs_a_certificate():
    with pytest.raises(ValueError, match="Basic256Sha256 needs a client certificate and private key"):
        SecurityConfig(policy="Basic256Sha256")


def trust_list(base: Path, name: str, *certificates: Path) -> Path:
    directory = base / name
    directory.mkdir(exist_ok=True)
    for cert in certificates:
        (directory / cert.name).write_bytes(cert.read_bytes())
    return directory


async def test_trust_lists_on_both_sides_reject_unknown_certificates(
    machine_server, open_session, certificates, tmp_path
):
    server_cert, server_key = certificates["server"]
    client_cert, client_key = certificates["client"]
    intruder_cert, intruder_key = await ensure_certificate(tmp_path, "intruder", "urn:smart-mom:opcua-client")
    other_server_cert, _ = await ensure_certificate(tmp_path, "other-server", "urn:other", server=True)
    security = ServerSecurity(
        certificate=server_cert, private_key=server_key, allow_none=False,
        trusted_clients=trust_list(tmp_path, "clients", client_cert),
    )
    srv = await machine_server(server={"security": security})

    def secure(cert: Path, key: Path, trusted: Path) -> object:
        return options(policy="Basic256Sha256", certificate=cert, private_key=key, trusted_servers=trusted)

    servers_ok = trust_list(tmp_path, "servers", server_cert)
    session = await open_session(srv.endpoint, secure(client_cert, client_key, servers_ok))
    assert await session.read_value(STATE) == "Idle"
    # the server refuses a client certificate that is not in its trust list
    untrusted = r"Basic256Sha256 SignAndEncrypt was rejected \(Bad(CertificateUntrusted|SecurityChecksFailed)\)"
    with pytest.raises(SecurityRejected, match=untrusted):
        await EndpointSession.open(srv.endpoint, secure(intruder_cert, intruder_key, servers_ok))
    # the client refuses a server whose certificate is not in its own trust list
    servers_other = trust_list(tmp_path, "other-servers", other_server_cert)
    not_trusted = r"server certificate CN=server.* is not in the trust list .*other-servers"
    with pytest.raises(SecurityRejected, match=not_trusted):
        await EndpointSession.open(srv.endpoint, secure(client_cert, client_key, servers_other))


def test_a_trust_list_needs_security():
    with pytest.raises(ValueError, match=r"trusted_servers=.* needs policy Basic256Sha256"):
        SecurityConfig(trusted_servers=Path("pki/trusted"))
    with pytest.raises(ValueError, match="needs the server's own certificate"):
        ServerSecurity(trusted_clients=Path("pki/clients"))
