"""``mom up``: the whole product on one machine, with a live status panel; Ctrl-C stops it all."""

from __future__ import annotations

import argparse
import contextlib
import io
import signal
import sys
import time
from typing import Any

from rich.live import Live
from rich.panel import Panel
from rich.table import Table

from mom.cli.common import console, settings
from mom.settings import SecretFileError, Settings
from mom.stack.ports import port_open, wait_for_port
from mom.stack.supervisor import Component, Supervisor
from mom.stack.temporal_server import DEFAULT_PRAGMAS, dev_server_tuning, temporal_cli


def register(subparsers: argparse._SubParsersAction[Any]) -> None:
    p = subparsers.add_parser("up", help="start Temporal, a worker, the API and the plant simulator")
    p.add_argument("--machines", type=int, default=3, help="simulated machines (0: none)")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--for-seconds", type=float, default=None,
                   help="stop by itself after this many seconds (for scripted checks)")
    p.set_defaults(func=cmd_up)


def components(cfg: Settings, machines: int, seed: int) -> list[Component]:
    logs = cfg.data_dir / "logs"
    host, _, port = cfg.temporal_address.rpartition(":")
    temporal_db = cfg.data_dir / "temporal" / "temporal.db"
    temporal_db.parent.mkdir(parents=True, exist_ok=True)
    temporal_cmd = [str(temporal_cli()), "server", "start-dev", "--ip", host or "127.0.0.1", "--port", port,
                    "--ui-ip", "127.0.0.1", "--ui-port", str(cfg.temporal_ui_port), "--log-level", "warn",
                    "--db-filename", str(temporal_db)]
    for pragma in DEFAULT_PRAGMAS:
        temporal_cmd += ["--sqlite-pragma", pragma]
    temporal_cmd += dev_server_tuning(cfg.temporal_history_cache_entries)
    env = {"MOM_DATA_DIR": str(cfg.data_dir), "MOM_TEMPORAL_ADDRESS": cfg.temporal_address}
    parts = [
        Component("temporal", temporal_cmd, f"{cfg.temporal_address} (UI http://127.0.0.1:{cfg.temporal_ui_port})",
                  logs / "temporal.log", ready=lambda: port_open(host or "127.0.0.1", int(port))),
        Component("worker", [sys.executable, "-m", "worker", "--queue", cfg.task_queue],
                  f"task queue {cfg.task_queue}", logs / "worker.log", env=env),
        Component("api", [sys.executable, "-m", "uvicorn", "api.app:create_app", "--factory",
                          "--host", cfg.api_host, "--port", str(cfg.api_port), "--workers", str(cfg.api_workers)],
                  f"http://{cfg.api_host}:{cfg.api_port}/ui/ (API: /docs)", logs / "api.log", env=env,
                  ready=lambda: port_open(cfg.api_host, cfg.api_port)),
    ]
    if machines > 0 and _plant_simulator_available():
        parts.append(Component("plant", [sys.executable, "-m", "mom.cli", "plant", "sim", "--machines",
                                         str(machines), "--seed", str(seed), "--port", str(cfg.plant_port)],
                               f"{machines} machines from opc.tcp://127.0.0.1:{cfg.plant_port}/",
                               logs / "plant.log", env=env, ready=lambda: port_open("127.0.0.1", cfg.plant_port)))
    return parts


def _plant_simulator_available() -> bool:
    from mom.cli import build_parser

    with contextlib.redirect_stderr(io.StringIO()):
        try:
            build_parser().parse_known_args(["plant", "sim"])
        except SystemExit:
            return False
    return True


def status_panel(supervisor: Supervisor, cfg: Settings) -> Panel:
    table = Table(expand=True)
    for column in ("component", "status", "pid", "address", "restarts", "log"):
        table.add_column(column)
    for c in supervisor.components:
        colour = {"running": "green", "starting": "yellow"}.get(c.status, "red")
        table.add_row(c.name, f"[{colour}]{c.status}[/{colour}]", str(c.process.pid if c.process else "-"),
                      c.address, str(c.restarts), str(c.log_file))
    return Panel(table, title=f"Smart MOM — data in {cfg.data_dir}", subtitle="Ctrl-C stops everything")


def cmd_up(args: argparse.Namespace) -> int:
    cfg = settings()
    cfg.data_dir.mkdir(parents=True, exist_ok=True)
    host, _, port = cfg.temporal_address.rpartition(":")
    if port_open(host or "127.0.0.1", int(port)):
        console.print(f"[red]something already listens on {cfg.temporal_address}[/red]: stop it, or set "
                      "MOM_TEMPORAL_ADDRESS to a free port")
        return 1
    try:  # the data dir's secret.key exists before any process that reads it starts
        cfg.signing_secret  # noqa: B018
    except SecretFileError as exc:
        console.print(f"[red]{exc}[/red]")
        return 1
    from mom.users import ensure_first_admin

    one_time_password = ensure_first_admin(cfg)
    if one_time_password:
        console.print(Panel(f"user [bold]admin[/bold], one-time password [bold]{one_time_password}[/bold]\n"
                            "it is shown once; change it at the first login",
                            title="first start: administrator created", border_style="yellow"))
    supervisor = Supervisor(components(cfg, args.machines, args.seed))
    stopping = False

    def request_stop(signum: int, frame: Any) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    temporal, *rest = supervisor.components
    try:
        temporal.start()
        wait_for_port(host or "127.0.0.1", int(port), 60, "Temporal dev server")
        for component in rest:
            component.start()
        ends = time.monotonic() + args.for_seconds if args.for_seconds else None
        if not console.is_terminal:  # a log, not a screen: print the panel once everything runs
            ready_by = time.monotonic() + 60
            while time.monotonic() < ready_by and not stopping and any(c.status != "running" for c in rest):
                time.sleep(0.5)
            console.print(status_panel(supervisor, cfg))
        with Live(status_panel(supervisor, cfg), console=console, refresh_per_second=2,
                  transient=False) as live:
            while not stopping and (ends is None or time.monotonic() < ends):
                supervisor.watch()
                live.update(status_panel(supervisor, cfg))
                time.sleep(0.5)
    finally:
        console.print("stopping: " + ", ".join(c.name for c in reversed(supervisor.components)))
        supervisor.stop_all()
        console.print("all stopped")
    return 0
