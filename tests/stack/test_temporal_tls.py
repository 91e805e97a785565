"""The API's and workers' Temporal client speaks mutual TLS with the files the settings name, and
the certificates the README's openssl commands make work for it.

``temporal server start-dev`` has no TLS options (its configuration is built in; docker-compose.yml
configures the real server's TLS through temporalio/auto-setup's ``TEMPORAL_TLS_*``), so here a
TLS front that requires a client certificate signed by the CA stands before the dev server, as the
production server does: a client with the certificate works, one without is refused.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import ssl
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from temporalio.client import Client
from temporalio.service import TLSConfig

from mom.settings import Settings, load_settings
from mom.stack.temporal_server import TemporalDevServer
from mom.temporal_connection import connect

README = Path(__file__).resolve().parents[2] / "README.md"


def make_certificates(folder: Path) -> None:
    """Run the README's openssl commands (the production layout's certificates) in ``folder``."""
    block = README.read_text().split("plain). Make the files once", 1)[1].split("```bash", 1)[1].split("```", 1)[0]
    for command in re.sub(r"\\\n\s*", " ", block).strip().splitlines():
        result = subprocess.run(command, shell=True, cwd=folder, capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, f"{command}: {result.stderr}"


async def pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except (ConnectionError, ssl.SSLError):
        pass
    finally:
        with contextlib.suppress(Exception):
            writer.close()


@contextlib.asynccontextmanager
async def mutual_tls_front(certs: Path, upstream: str) -> AsyncIterator[str]:
    """A TLS listener (server.pem, client certificates signed by ca.pem required, HTTP/2) forwarding
    to the dev server; yields its address."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH, cafile=str(certs / "ca.pem"))
    context.load_cert_chain(certs / "server.pem", certs / "server.key")
    context.verify_mode = ssl.CERT_REQUIRED
    context.set_alpn_protocols(["h2"])
    host, _, port = upstream.rpartition(":")
    tasks: set[asyncio.Task[None]] = set()

    async def forward(client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        server_reader, server_writer = await asyncio.open_connection(host, int(port))
        both = [asyncio.ensure_future(pipe(client_reader, server_writer)),
                asyncio.ensure_future(pipe(server_reader, client_writer))]
        tasks.update(both)
        with contextlib.suppress(asyncio.CancelledError):  # the front closes: so does this connection
            await asyncio.gather(*both)

    server = await asyncio.start_server(forward, "127.0.0.1", 0, ssl=context)
    try:
        yield f"127.0.0.1:{server.sockets[0].getsockname()[1]}"
    finally:
        server.close()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await server.wait_closed()


def tls_settings(tmp_path: Path, certs: Path, address: str) -> Settings:
    return load_settings(data_dir=tmp_path / "data", temporal_address=address,
                         temporal_tls_cert=certs / "client.pem", temporal_tls_key=certs / "client.key",
                         temporal_tls_ca=certs / "ca.pem", temporal_tls_server_name="temporal")


async def test_clients_connect_with_their_certificate_and_not_without(
        temporal_server: TemporalDevServer, tmp_path: Path) -> None:
    certs = tmp_path / "certs"
    certs.mkdir()
    make_certificates(certs)
    async with mutual_tls_front(certs, temporal_server.address) as address:
        client = await asyncio.wait_for(connect(tls_settings(tmp_path, certs, address)), 30)
        assert [w async for w in client.list_workflows("WorkflowId = 'no-such-instance'")] == []

        ca = (certs / "ca.pem").read_bytes()
        with pytest.raises(RuntimeError):  # TLS, trusting the server, but no client certificate
            await asyncio.wait_for(Client.connect(address, tls=TLSConfig(server_root_ca_cert=ca, domain="temporal")),
                                   30)
        with pytest.raises(RuntimeError):  # plain gRPC on the TLS port
            await asyncio.wait_for(Client.connect(address), 30)
