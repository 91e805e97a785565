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


def _start_up(env: dict[str, str], api_port: int) -> subprocess.Popen[bytes]:
    up = subprocess.Popen([sys.executable, "-m", "mom.cli", "up", "--machines", "0"], cwd=ROOT, env=env,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.monotonic() + 90
    while not port_open("127.0.0.1", api_port):
        assert up.poll() is None, up.stdout.read().decode() if up.stdout else ""
        assert time.monotonic() < deadline, "stack did not come up"
        time.sleep(0.3)
    return up


def _stop_up(up: subprocess.Popen[bytes]) -> str:
    up.send_signal(signal.SIGINT)
    output = up.communicate(timeout=60)[0].decode()
    assert up.returncode == 0, output
    return output


def test_first_up_makes_the_secret_every_api_process_signs_with(tmp_path: Path) -> None:
    """Issue J.5: a token signed with the public default secret of earlier versions was admin until
    2100. Now the first start makes a random secret in the data dir (mode 0600); every API process
    checks tokens with it; the next start reuses it (tokens stay valid across a restart)."""
    import stat

    import jwt

    data_dir = tmp_path / "plant-data"
    api_port = free_port()
    env = {**os.environ, "MOM_DATA_DIR": str(data_dir), "MOM_TEMPORAL_ADDRESS": f"127.0.0.1:{free_port()}",
           "MOM_API_PORT": str(api_port), "MOM_TEMPORAL_UI_PORT": str(free_port()), "COLUMNS": "160"}
    env.pop("MOM_SECRET_KEY", None)
    password = "ada-chooses-a-long-one"
    added = subprocess.run([sys.executable, "-m", "mom.cli", "users", "add", "ada", "--role", "supervisor"], cwd=ROOT,
                           env={**env, "MOM_NEW_PASSWORD": password}, capture_output=True, text=True, timeout=60)
    assert added.returncode == 0, added.stdout + added.stderr
    api = f"http://127.0.0.1:{api_port}"
    forged = jwt.encode({"sub": "ada", "exp": 4102444800}, "development-only-secret-change-me", algorithm="HS256")
    up = _start_up(env, api_port)
    try:
        secret_file = data_dir / "secret.key"
        assert stat.S_IMODE(secret_file.stat().st_mode) == 0o600
        secret = secret_file.read_text()
        for _ in range(4):  # two API processes answer in turn
            refused = httpx.get(f"{api}/auth/me", headers={"Authorization": f"Bearer {forged}"}, timeout=10)
            assert refused.status_code == 401 and "invalid" in refused.json()["detail"], refused.text
        signed = httpx.post(f"{api}/auth/token", data={"username": "ada", "password": password}, timeout=10)
        assert signed.status_code == 200, signed.text
        token = {"Authorization": f"Bearer {signed.json()['access_token']}"}
        for _ in range(4):
            assert httpx.get(f"{api}/auth/me", headers=token, timeout=10).json()["username"] == "ada"
    finally:
        _stop_up(up)
    up = _start_up(env, api_port)
    try:
        assert secret_file.read_text() == secret
        for _ in range(4):
            assert httpx.get(f"{api}/auth/me", headers=token, timeout=10).status_code == 200
    finally:
        _stop_up(up)
