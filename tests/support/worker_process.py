"""A worker in its own OS process, so tests can kill it with SIGKILL like a crash would."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from mom.stack.ports import port_open

ROOT = Path(__file__).resolve().parents[2]


class ChildProcess:
    """A process a test started, that it can crash (SIGKILL) or stop (SIGTERM, then SIGKILL after 10 s).
    Every process it ever started is stopped at ``stop()``, not only the last one: an earlier one
    still running (a restart that did not replace it) would otherwise outlive the test."""

    process: subprocess.Popen[bytes] | None = None

    def spawn(self, args: list[str], **options: Any) -> subprocess.Popen[bytes]:
        self.process = subprocess.Popen(args, **options)
        self.__dict__.setdefault("spawned", []).append(self.process)
        return self.process

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)

    def stop(self) -> None:
        for process in [*self.__dict__.get("spawned", []), self.process]:
            if process is not None and process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()


class WorkerProcess(ChildProcess):
    """``queue``: a cloud worker on that task queue; ``edge=SITE``: an edge worker (``--edge SITE``,
    machine activities only, queue ``edge-SITE``) and ``queue`` is ignored."""

    def __init__(self, temporal_address: str, data_dir: Path, queue: str, log_file: Path, *,
                 edge: str | None = None):
        self.env = {**os.environ, "MOM_TEMPORAL_ADDRESS": temporal_address, "MOM_DATA_DIR": str(data_dir),
                    "PYTHONHASHSEED": "random"}
        self.edge = edge
        self.queue = f"edge-{edge}" if edge else queue
        self.log_file = log_file
        self.process: subprocess.Popen[bytes] | None = None
        self._log_offset = 0

    def start(self) -> WorkerProcess:
        host, _, port = self.env["MOM_TEMPORAL_ADDRESS"].rpartition(":")
        assert port_open(host, int(port)), "Temporal is not running"
        self._log_offset = self.log_file.stat().st_size if self.log_file.exists() else 0  # a restart appends
        with open(self.log_file, "ab") as log:
            role = ["--edge", self.edge] if self.edge else ["--queue", self.queue]
            self.spawn([sys.executable, "-m", "worker", *role], cwd=ROOT, env=self.env, stdout=log,
                       stderr=subprocess.STDOUT)
        self._wait_started()
        return self

    def _wait_started(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            log = self.log_file.read_bytes()[self._log_offset:].decode(errors="replace") if self.log_file.exists() \
                else ""
            if f"queue {self.queue}" in log:
                return
            assert self.process is not None and self.process.poll() is None, self.log_file.read_text()
            time.sleep(0.1)
        raise TimeoutError(f"worker did not start: {self.log_file.read_text(errors='replace')}")
