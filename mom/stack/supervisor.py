"""Runs the processes of the embedded stack, restarts what dies, stops everything on Ctrl-C."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from mom.stack.lifeline import die_with_parent


@dataclass
class Component:
    name: str
    command: list[str]
    address: str
    log_file: Path
    ready: Callable[[], bool] = lambda: True
    env: dict[str, str] = field(default_factory=dict)
    process: subprocess.Popen[bytes] | None = None
    restarts: int = 0
    started_at: float = 0.0
    last_exit: int | None = None

    @property
    def status(self) -> str:
        if self.process is None:
            return "stopped"
        if self.process.poll() is not None:
            return f"exited ({self.process.returncode})"
        return "running" if self.ready() else "starting"

    def start(self) -> None:
        self.log_file.parent.mkdir(parents=True, exist_ok=True)
        log = open(self.log_file, "ab")  # noqa: SIM115 - owned by the child for its lifetime
        self.process = subprocess.Popen(
            self.command, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            env={**os.environ, **self.env}, start_new_session=True, preexec_fn=die_with_parent(),
        )
        log.close()
        self.started_at = time.monotonic()

    def stop(self, timeout: float = 10.0) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        try:
            os.killpg(self.process.pid, signal.SIGTERM)
        except ProcessLookupError:
            return
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()


@dataclass
class Supervisor:
    components: list[Component]
    max_restarts: int = 5

    def start_all(self) -> None:
        for component in self.components:
            component.start()

    def watch(self) -> None:
        """Restart components that exited (with a back-off of a few seconds)."""
        for component in self.components:
            process = component.process
            if process is None or process.poll() is None:
                continue
            if component.restarts >= self.max_restarts:
                continue
            if time.monotonic() - component.started_at < 2.0 * (component.restarts + 1):
                continue
            component.last_exit = process.returncode
            component.restarts += 1
            component.start()

    def stop_all(self) -> None:
        for component in reversed(self.components):
            component.stop()
