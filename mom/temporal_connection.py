"""The one way Smart MOM's processes (API, workers, CLI) open a Temporal client.

With ``MOM_TEMPORAL_TLS_CERT`` and ``MOM_TEMPORAL_TLS_KEY`` (PEM files) the client authenticates
itself to Temporal with that certificate (mutual TLS), and checks the server's certificate against
``MOM_TEMPORAL_TLS_CA`` (else the system's roots); ``MOM_TEMPORAL_TLS_SERVER_NAME`` names the server
when its certificate does not carry the address's host name. The production layout
(docker-compose.yml) runs Temporal requiring client certificates, so a process on the network that
has none cannot open the port at all (issue J.10); the proofs on person-acting Updates
(:mod:`workflows.update_proof`) hold even for a process that has one.

Without those settings (the embedded ``mom up`` stack: Temporal listens on 127.0.0.1 only) the
connection is plain.
"""

from __future__ import annotations

from pathlib import Path

from temporalio.client import Client
from temporalio.service import TLSConfig

from mom.settings import Settings


def _read(path: Path, setting: str) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise ValueError(f"{setting}={path}: cannot read it ({exc.strerror})") from None


def tls_config(settings: Settings) -> TLSConfig | bool:
    """The TLS settings of the Temporal client, or False for a plain connection."""
    cert, key, ca = settings.temporal_tls_cert, settings.temporal_tls_key, settings.temporal_tls_ca
    if cert is None and ca is None:
        return False
    return TLSConfig(
        server_root_ca_cert=_read(ca, "MOM_TEMPORAL_TLS_CA") if ca is not None else None,
        client_cert=_read(cert, "MOM_TEMPORAL_TLS_CERT") if cert is not None else None,
        client_private_key=_read(key, "MOM_TEMPORAL_TLS_KEY") if key is not None else None,
        domain=settings.temporal_tls_server_name or None,
    )


async def connect(settings: Settings, *, address: str | None = None) -> Client:
    """A client to ``address`` (default: ``MOM_TEMPORAL_ADDRESS``) in the configured namespace."""
    return await Client.connect(address or settings.temporal_address, namespace=settings.temporal_namespace,
                                tls=tls_config(settings))
