"""``mom up``: starts Temporal, a worker and the API; serves a test-run; Ctrl-C stops everything."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from mom.stack.ports import free_port, port_open

ROOT = Path(__file__).resolve().parents[2]


def processes_with(marker: str) -> list[int]:
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            if marker.encode() in (proc / "environ").read_bytes() + (proc / "cmdline").read_bytes():
                found.append(int(proc.name))
        except OSError:
            continue
    return [pid for pid in found if pid != os.getpid()]


def test_up_runs_the_stack_and_ctrl_c_stops_every_process(tmp_path: Path) -> None:
    data_dir = tmp_path / "plant-data"
    temporal_port, api_port, plant_port = free_port(), free_port(), free_port()
    env = {**os.environ, "MOM_DATA_DIR": str(data_dir), "MOM_TEMPORAL_ADDRESS": f"127.0.0.1:{temporal_port}",
           "MOM_API_PORT": str(api_port), "MOM_TEMPORAL_UI_PORT": str(free_port()), "MOM_PLANT_PORT": str(plant_port),
           "COLUMNS": "160"}
    up = subprocess.Popen([sys.executable, "-m", "mom.cli", "up", "--machines", "1"], cwd=ROOT, env=env,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 90
        while not all(port_open("127.0.0.1", port) for port in (api_port, temporal_port, plant_port)):
            assert up.poll() is None, up.stdout.read().decode() if up.stdout else ""
            assert time.monotonic() < deadline, "stack did not come up"
            time.sleep(0.3)
        assert httpx.get(f"http://127.0.0.1:{api_port}/health", timeout=5).json()["status"] == "ok"
        assert (data_dir / "temporal" / "temporal.db").exists()

        run = subprocess.run(
            [sys.executable, "-m", "mom.cli", "run", str(ROOT / "tests" / "diagrams" / "parallel_logs.bpmn"),
             "--var", "order_id=PO-UP", "--json", "--timeout", "60"],
            cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
        assert run.returncode == 0, run.stdout + run.stderr
        outcome = json.loads(run.stdout)
        assert outcome["status"] == "completed" and outcome["variables"]["ready"] is True
        assert processes_with(str(data_dir)), "the stack's processes carry its data dir"
    finally:
        up.send_signal(signal.SIGINT)
        output = up.communicate(timeout=60)[0].decode()
    assert up.returncode == 0, output
    assert "all stopped" in output
    assert "one-time password" in output  # the first start created the administrator
    assert "plant, api, worker, temporal" in output
    time.sleep(0.5)
    assert processes_with(str(data_dir)) == []
    assert not any(port_open("127.0.0.1", port) for port in (api_port, temporal_port, plant_port))
