"""docker-compose.yml stays true to what the code expects (no Docker engine runs here)."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from mom.cli import build_parser
from mom.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
COMPOSE = ROOT / "docker-compose.yml"


def services() -> dict[str, Any]:
    return dict(yaml.safe_load(COMPOSE.read_text())["services"])


def compose_cli() -> list[str] | None:
    if shutil.which("docker") and subprocess.run(["docker", "compose", "version"], capture_output=True).returncode == 0:
        return ["docker", "compose"]
    if shutil.which("docker-compose"):
        return ["docker-compose"]
    return None


def test_the_production_services_are_there() -> None:
    assert {"postgresql", "temporal", "temporal-ui", "api", "worker", "edge-worker"} <= set(services())


def test_every_mom_setting_in_the_file_exists_in_the_code() -> None:
    fields = {f"MOM_{name.upper()}" for name in Settings.model_fields}
    for name, service in services().items():
        for variable in (service.get("environment") or {}):
            if variable.startswith("MOM_"):
                assert variable in fields, f"{name}: {variable} is not a setting of mom.settings.Settings"


def test_commands_exist() -> None:
    for name, service in services().items():
        command = service.get("command")
        if not command:
            continue
        args = command if isinstance(command, list) else shlex.split(command)
        if args[0] == "mom":
            build_parser().parse_args([a for a in args[1:] if "${" not in a])
        elif args[:3] == ["python", "-m", "worker"]:
            assert args[3] in ("--queue", "--edge"), name
        elif args[0] == "uvicorn":
            assert args[1] == "api.app:create_app", name


def test_production_refuses_the_development_secret() -> None:
    with pytest.raises(ValueError, match="MOM_SECRET_KEY"):
        Settings(environment="production")


def test_docker_compose_config_passes() -> None:
    cli = compose_cli()
    if cli is None:
        pytest.skip("neither 'docker compose' nor 'docker-compose' is installed (.ci/run installs it)")
    env = {**os.environ, "MOM_SECRET_KEY": "a-long-random-secret", "POSTGRES_PASSWORD": "secret"}
    result = subprocess.run([*cli, "-f", str(COMPOSE), "config"], capture_output=True, text=True, env=env, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    without_secret = {k: v for k, v in env.items() if k != "MOM_SECRET_KEY"}
    missing = subprocess.run([*cli, "-f", str(COMPOSE), "config"], capture_output=True, text=True, cwd=ROOT,
                             env=without_secret)
    assert missing.returncode != 0 and "MOM_SECRET_KEY" in missing.stderr + missing.stdout
