"""Client security: Basic256Sha256 Sign / SignAndEncrypt with an application certificate, a trust
list of server certificates, and user name/password identity.

Certificates are DER files, private keys PEM; :func:`ensure_certificate` makes a self-signed pair
for commissioning and tests (production plants install certificates from their own CA). The trust
list (``trusted_servers``) is a directory of DER/PEM certificates: the server's own certificate or
the CA that issued it. Without one, any server certificate is accepted (commissioning only).
"""

from __future__ import annotations

import socket
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from asyncua import Client, ua
from asyncua.crypto import security_policies
from asyncua.crypto.cert_gen import setup_self_signed_certificate
from asyncua.crypto.truststore import TrustStore
from asyncua.crypto.validator import CertificateValidator, CertificateValidatorOptions
from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID

DEFAULT_CLIENT_URI = "urn:smart-mom:opcua-client"

SecurityMode = Literal["Sign", "SignAndEncrypt"]


@dataclass(frozen=True)
class SecurityConfig:
    """How a session authenticates. ``policy='None'`` with no user is anonymous and unencrypted."""

    policy: Literal["None", "Basic256Sha256"] = "None"
    mode: SecurityMode = "SignAndEncrypt"
    certificate: Path | None = None
    private_key: Path | None = None
    server_certificate: Path | None = None
    application_uri: str = DEFAULT_CLIENT_URI
    username: str | None = None
    password: str | None = None
    trusted_servers: Path | None = None

    def __post_init__(self) -> None:
        if self.policy != "None" and (self.certificate is None or self.private_key is None):
            raise ValueError(
                f"security policy {self.policy} needs a client certificate and private key "
                "(certificate=..., private_key=...)"
            )
        if self.trusted_servers is not None and self.policy == "None":
            raise ValueError(
                "a trust list of server certificates (trusted_servers=...) needs policy Basic256Sha256: "
                "without security the server sends no certificate"
            )
        if self.mode not in ("Sign", "SignAndEncrypt"):
            raise ValueError(f"security mode {self.mode!r}: use Sign or SignAndEncrypt")

    def describe(self) -> str:
        user = f", user {self.username}" if self.username else ""
        if self.policy == "None":
            return f"no security{user}"
        return f"{self.policy} {self.mode}{user}"


async def apply_security(client: Client, config: SecurityConfig) -> None:
    """Configure ``client`` before it connects."""
    if config.username is not None:
        client.set_user(config.username)
        client.set_password(config.password or "")
    if config.policy == "None":
        return
    assert config.certificate is not None and config.private_key is not None
    client.application_uri = config.application_uri
    await client.set_security(
        security_policies.SecurityPolicyBasic256Sha256,
        certificate=str(config.certificate),
        private_key=str(config.private_key),
        server_certificate=str(config.server_certificate) if config.server_certificate else None,
        mode=getattr(ua.MessageSecurityMode, config.mode),
    )
    if config.trusted_servers is not None:
        client.certificate_validator = await TrustList.load(config.trusted_servers)


class TrustList:
    """A certificate validator that accepts only certificates of (or issued by) those in
    ``location``, within their validity; remembers what it rejected, for the error message."""

    OPTIONS = CertificateValidatorOptions.TRUSTED | CertificateValidatorOptions.TIME_RANGE

    def __init__(self, location: Path, store: TrustStore) -> None:
        self.location = location
        self._validator = CertificateValidator(self.OPTIONS, store)
        self.rejected: str | None = None

    @classmethod
    async def load(cls, location: Path) -> TrustList:
        if not location.exists():
            raise FileNotFoundError(f"trust list {location} does not exist (a directory of DER/PEM certificates)")
        store = TrustStore([location], [])
        await store.load()
        return cls(location, store)

    async def __call__(self, cert: x509.Certificate, app_description: ua.ApplicationDescription) -> None:
        try:
            await self._validator.validate(cert, app_description)
        except Exception:
            self.rejected = f"certificate {cert.subject.rfc4514_string()} of {app_description.ApplicationUri}"
            raise


async def ensure_certificate(
    directory: Path, name: str, application_uri: str, *, server: bool = False
) -> tuple[Path, Path]:
    """A self-signed application certificate (DER) and key (PEM) in ``directory``, made if missing."""
    directory.mkdir(parents=True, exist_ok=True)
    cert, key = directory / f"{name}-cert.der", directory / f"{name}-key.pem"
    use = [ExtendedKeyUsageOID.SERVER_AUTH if server else ExtendedKeyUsageOID.CLIENT_AUTH]
    await setup_self_signed_certificate(
        key, cert, application_uri, socket.gethostname(), use, {"commonName": name}
    )
    return cert, key
