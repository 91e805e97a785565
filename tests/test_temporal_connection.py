"""mom.temporal_connection: the API, workers and CLI connect to Temporal with the mTLS files the
settings name (docker-compose.yml sets them); without them, plainly (the embedded stack)."""

from __future__ import annotations

from pathlib import Path

import pytest
from temporalio.service import TLSConfig

from mom.settings import load_settings
from mom.temporal_connection import tls_config


def test_plain_without_tls_settings(tmp_path: Path) -> None:
    assert tls_config(load_settings(data_dir=tmp_path)) is False


def test_client_certificate_key_and_ca_are_read(tmp_path: Path) -> None:
    files = {name: tmp_path / f"{name}.pem" for name in ("cert", "key", "ca")}
    for name, path in files.items():
        path.write_bytes(f"-----BEGIN {name}-----\n".encode())
    settings = load_settings(data_dir=tmp_path, temporal_tls_cert=files["cert"], temporal_tls_key=files["key"],
                             temporal_tls_ca=files["ca"], temporal_tls_server_name="temporal")
    tls = tls_config(settings)
    assert isinstance(tls, TLSConfig)
    assert tls.client_cert == b"-----BEGIN cert-----\n" and tls.client_private_key == b"-----BEGIN key-----\n"
    assert tls.server_root_ca_cert == b"-----BEGIN ca-----\n" and tls.domain == "temporal"


def test_a_certificate_without_its_key_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="MOM_TEMPORAL_TLS_CERT and MOM_TEMPORAL_TLS_KEY go together"):
        load_settings(data_dir=tmp_path, temporal_tls_cert=tmp_path / "client.pem")


def test_a_missing_file_is_named(tmp_path: Path) -> None:
    settings = load_settings(data_dir=tmp_path, temporal_tls_cert=tmp_path / "client.pem",
                             temporal_tls_key=tmp_path / "client.key")
    with pytest.raises(ValueError, match=r"MOM_TEMPORAL_TLS_CERT=.*client\.pem: cannot read it"):
        tls_config(settings)
