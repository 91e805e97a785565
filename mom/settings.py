"""Runtime settings of Smart MOM, read from the environment (prefix ``MOM_``).

Build them with :func:`load_settings` where they are needed (composition roots: the CLI,
``worker.py``, the API factory); nothing here runs at import time.

The secret (:attr:`Settings.signing_secret`) signs the access tokens, and keys for other purposes
are derived from it (:meth:`Settings.derived_key`). It is ``MOM_SECRET_KEY`` when set (required in
production: every host of a plant must share it), else the random secret in the data directory's
``secret.key``, created with mode 0600 at the first use (``mom up`` creates it before it starts
anything, so every process it starts -- API processes, worker -- reads the same file). There is no
built-in default any more: a secret in the source code is a secret everyone has (issue J.5).
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import os
import secrets
import stat
from pathlib import Path
from typing import Literal

from pydantic import Field, PrivateAttr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PUBLIC_SECRET = "development-only-secret-change-me"
"""The default secret of earlier versions (public: it is in the source). Refused everywhere."""
SECRET_FILE = "secret.key"
SECRET_MIN_LENGTH = 32


class SecretFileError(ValueError):
    """The data directory's secret file is unusable (readable by others, or too short)."""


def _read_secret(path: Path) -> str:
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        raise SecretFileError(f"{path} is readable by others (mode {mode:04o}): it signs the access tokens; "
                              f"run 'chmod 600 {path}'")
    secret = path.read_text(encoding="utf-8").strip()
    if len(secret) < SECRET_MIN_LENGTH:
        raise SecretFileError(f"{path} holds {len(secret)} characters, at least {SECRET_MIN_LENGTH} needed: "
                              f"delete it to have a new one made (every signed-in user must sign in again)")
    return secret


def load_or_create_secret(data_dir: Path) -> str:
    """The secret in ``data_dir/secret.key``, created (random, mode 0600) when absent. Processes
    starting at once agree on one file: each writes its candidate to a private file, then hard-links
    it to the final name (atomic, fails when another process was first) and reads what is there."""
    path = data_dir / SECRET_FILE
    if path.exists():
        return _read_secret(path)
    data_dir.mkdir(parents=True, exist_ok=True)
    candidate = data_dir / f".{SECRET_FILE}.{os.getpid()}.{secrets.token_hex(4)}"
    descriptor = os.open(candidate, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as file:
            file.write(secrets.token_urlsafe(48) + "\n")
            file.flush()
            os.fsync(file.fileno())
        with contextlib.suppress(FileExistsError):  # another process made it first: use theirs
            os.link(candidate, path)
    finally:
        candidate.unlink(missing_ok=True)
    return _read_secret(path)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="MOM_", extra="ignore")

    environment: Literal["development", "test", "production"] = "development"
    data_dir: Path = Field(default=Path("data"))
    temporal_address: str = "127.0.0.1:7233"
    temporal_namespace: str = "default"
    # mutual TLS to Temporal (mom.temporal_connection): client certificate and key, the CA that signed
    # the server's certificate, the name on it (when not the address's host); unset: a plain connection
    temporal_tls_cert: Path | None = None
    temporal_tls_key: Path | None = None
    temporal_tls_ca: Path | None = None
    temporal_tls_server_name: str = ""
    temporal_ui_port: int = 8233
    task_queue: str = "mom"
    database_url: str = ""
    api_host: str = "127.0.0.1"
    api_port: int = 8000
    # API server processes `mom up` starts (uvicorn --workers): one Python process serves ~1 CPU at most
    api_workers: int = Field(default=2, ge=1, le=64)
    plant_port: int = 4840  # first simulated machine's OPC UA port; the next machines follow
    secret_key: str = ""  # empty: the data directory's secret.key (see the module docstring)
    # Budget of every diagram script, condition and expression (bpmn/script_budget.py); counted, not
    # timed, so it must be the same on every worker of a task queue (replays take the same path).
    script_max_operations: int = Field(default=250_000, ge=1000)  # loop iterations, calls, items of built-ins / 16
    script_max_size: int = Field(default=1_000_000, ge=1000)  # items of one list/dict, characters of one string
    script_max_data: int = Field(default=10_000_000, ge=1000)  # characters (as JSON) of the data a script leaves
    script_max_int_digits: int = Field(default=4_300, ge=100)  # decimal digits of one integer
    script_max_depth: int = Field(default=100, ge=10)  # nested calls (recursion), nested data
    # instances one parallel multi-instance starts; sizes of a diagram; engine work per workflow task
    # (measured on 2 cores, see bpmn/diagram_limits.py; work counted, not timed: same on every worker)
    max_parallel_instances: int = Field(default=1_000, ge=10)
    max_diagram_elements: int = Field(default=2_000, ge=10)  # flow nodes and sequence flows of a diagram
    max_parallel_branches: int = Field(default=200, ge=2)  # outgoing flows of a split, incoming of a join
    engine_step_work: int = Field(default=50_000, ge=1_000)  # units: task-tree size per task completed
    # process data one API request may carry (start, completion, message, retry), as compact JSON
    # (bpmn/payload_size.py: kept well under Temporal's 2 MB per payload)
    max_variables_bytes: int = Field(default=256 * 1024, ge=1024, le=1_572_864)
    # what a workflow sends in one payload (activity input, state, result, continue-as-new): over it an incident
    max_payload_bytes: int = Field(default=1_536 * 1024, ge=16 * 1024, le=2 * 1024 * 1024)
    # the API refreshes the query planner's row statistics this often (SQLite keeps none by itself)
    planner_statistics_interval_s: float = Field(default=600.0, ge=1.0)
    # an inbox total may lag the inbox by this much (the page never does): 0 counts at every change
    inbox_total_max_age_s: float = Field(default=1.0, ge=0.0, le=60.0)
    # sign-in protection (mom.sign_in): after this many failed sign-ins in a row a user's next try
    # waits base, 2 x base, 4 x base... (at most max); this many locks the account until an admin unlocks it
    sign_in_backoff_after: int = Field(default=5, ge=1)
    sign_in_lockout_after: int = Field(default=10, ge=2)
    sign_in_backoff_base_s: float = Field(default=1.0, gt=0.0)
    sign_in_backoff_max_s: float = Field(default=300.0, gt=0.0)
    # failed sign-ins from one client address (whatever the user names) before it backs off the same way;
    # an address's failures are forgotten after a quiet window
    sign_in_address_backoff_after: int = Field(default=20, ge=1)
    sign_in_address_window_s: float = Field(default=900.0, gt=0.0)
    # Argon2 hashes one API process computes at once (each ~50 ms on 4 threads: Argon2's lanes run in
    # parallel): more sign-ins wait. On 2 cores, 16 parallel sign-ins left GET /tasks at p50 19 ms with 1,
    # 131 ms with 2, 278-345 ms unbounded (5-10 ms without sign-ins)
    password_hashing_threads: int = Field(default=1, ge=1, le=64)
    # workflows the embedded Temporal dev server keeps in memory (why 1,024: mom.stack.temporal_server)
    temporal_history_cache_entries: int = Field(default=1024, ge=16)

    @field_validator("data_dir")
    @classmethod
    def _absolute(cls, value: Path) -> Path:
        return value.expanduser().resolve()

    _secret: str | None = PrivateAttr(default=None)

    @model_validator(mode="after")
    def _tls_pair(self) -> Settings:
        if (self.temporal_tls_cert is None) != (self.temporal_tls_key is None):
            raise ValueError("MOM_TEMPORAL_TLS_CERT and MOM_TEMPORAL_TLS_KEY go together (the client certificate "
                             "and its private key): set both or neither")
        return self

    @model_validator(mode="after")
    def _refuse_insecure_secrets(self) -> Settings:
        if self.secret_key == PUBLIC_SECRET:
            raise ValueError("MOM_SECRET_KEY is the public default of earlier versions (anyone can sign tokens "
                             "with it): unset it (a random secret is kept in the data directory) or set your own")
        if self.environment == "production" and not self.secret_key:
            raise ValueError("MOM_SECRET_KEY is not set: set a long random secret of your own, the same on every "
                             "host of the plant, before running with MOM_ENVIRONMENT=production")
        return self

    @property
    def signing_secret(self) -> str:
        """``MOM_SECRET_KEY``, else the data directory's secret (read, or created, once)."""
        if self.secret_key:
            return self.secret_key
        if self._secret is None:
            self._secret = load_or_create_secret(self.data_dir)
        return self._secret

    def derived_key(self, label: str) -> bytes:
        """A key for one purpose (``label``), derived from the secret with HMAC-SHA256: processes
        sharing the secret share it, and it reveals nothing about the secret or other labels' keys."""
        return hmac.new(self.signing_secret.encode(), label.encode(), hashlib.sha256).digest()

    @property
    def update_proof_key(self) -> bytes:
        """The key the API, the CLI and the workers prove person-acting Temporal Updates with
        (:mod:`workflows.update_proof`): derived from the secret, so every host sharing
        ``MOM_SECRET_KEY`` (or the data directory's secret.key) shares it, and nothing else does."""
        return self.derived_key("temporal-update-proof")

    @property
    def effective_database_url(self) -> str:
        """The configured database, or a SQLite file under the data directory."""
        return self.database_url or f"sqlite:///{self.data_dir / 'mom.db'}"


def load_settings(**overrides: object) -> Settings:
    return Settings(**overrides)  # type: ignore[arg-type]
