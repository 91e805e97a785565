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
    env = {**os.environ, **COMPOSE_ENV}
    result = subprocess.run([*cli, "-f", str(COMPOSE), "config"], capture_output=True, text=True, env=env, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    check_mutual_tls(dict(yaml.safe_load(result.stdout)["services"]))  # as Docker resolves it
    without_secret = {k: v for k, v in env.items() if k != "MOM_SECRET_KEY"}
    missing = subprocess.run([*cli, "-f", str(COMPOSE), "config"], capture_output=True, text=True, cwd=ROOT,
                             env=without_secret)
    assert missing.returncode != 0 and "MOM_SECRET_KEY" in missing.stderr + missing.stdout
    without_certs = {k: v for k, v in env.items() if k != "MOM_TEMPORAL_CERTS"}
    missing = subprocess.run([*cli, "-f", str(COMPOSE), "config"], capture_output=True, text=True, cwd=ROOT,
                             env=without_certs)
    assert missing.returncode != 0 and "MOM_TEMPORAL_CERTS" in missing.stderr + missing.stdout


# --------------------------------------------------------------------------- Temporal's port (issue J.10)

COMPOSE_ENV = {"MOM_SECRET_KEY": "a-long-random-secret", "POSTGRES_PASSWORD": "secret",
               "MOM_TEMPORAL_CERTS": "/srv/mom/temporal-certs"}
# the settings each kind of Temporal client reads its address and its mTLS files from
TEMPORAL_CLIENTS = {
    "MOM_TEMPORAL_ADDRESS": ("MOM_TEMPORAL_TLS_CERT", "MOM_TEMPORAL_TLS_KEY", "MOM_TEMPORAL_TLS_CA"),  # API, workers
    "TEMPORAL_ADDRESS": ("TEMPORAL_TLS_CERT", "TEMPORAL_TLS_KEY", "TEMPORAL_TLS_CA"),  # temporal-ui
}


def mounted(service: dict[str, Any], path: str) -> bool:
    """``path`` lies in a volume of ``service`` (short "src:dst[:mode]" or long syntax)."""
    for volume in service.get("volumes") or []:
        if isinstance(volume, dict):
            target = volume.get("target")
        else:  # the source may be "${VAR:?message}": take the target from the right
            rest, _, last = volume.rpartition(":")
            target = rest.rpartition(":")[2] if last in ("ro", "rw") else last
        if target and path.startswith(str(target).rstrip("/") + "/"):
            return True
    return False


def check_mutual_tls(found: dict[str, Any]) -> None:
    """Temporal requires client certificates, and every service that talks to it has one."""
    temporal = found["temporal"]["environment"]
    assert str(temporal.get("TEMPORAL_TLS_REQUIRE_CLIENT_AUTH")).lower() == "true", "temporal: client auth not required"
    for variable in ("TEMPORAL_TLS_SERVER_CERT", "TEMPORAL_TLS_SERVER_KEY", "TEMPORAL_TLS_FRONTEND_CERT",
                     "TEMPORAL_TLS_FRONTEND_KEY", "TEMPORAL_TLS_CLIENT1_CA_CERT"):
        assert temporal.get(variable) and mounted(found["temporal"], temporal[variable]), f"temporal: {variable}"
    clients = []
    for name, service in found.items():
        env = service.get("environment") or {}
        for address, files in TEMPORAL_CLIENTS.items():
            if address not in env or name == "temporal":
                continue
            clients.append(name)
            for variable in files:
                assert env.get(variable), f"{name} talks to Temporal ({address}) without {variable}"
                assert mounted(service, env[variable]), f"{name}: {variable}={env[variable]} is in no volume"
    assert {"api", "worker", "edge-worker", "temporal-ui"} <= set(clients), clients


def test_temporal_requires_client_certificates_from_every_service() -> None:
    check_mutual_tls(services())


def test_the_mutual_tls_check_sees_a_service_without_a_certificate() -> None:
    """Negative controls: a worker without its certificate, or Temporal not asking for one, are seen."""
    import copy

    found = services()
    plain = copy.deepcopy(found)
    plain["worker"]["environment"] = {k: v for k, v in plain["worker"]["environment"].items()
                                      if k != "MOM_TEMPORAL_TLS_CERT"}  # (the services share one mapping)
    with pytest.raises(AssertionError, match="worker talks to Temporal"):
        check_mutual_tls(plain)
    open_port = copy.deepcopy(found)
    open_port["temporal"]["environment"]["TEMPORAL_TLS_REQUIRE_CLIENT_AUTH"] = "false"
    with pytest.raises(AssertionError, match="client auth not required"):
        check_mutual_tls(open_port)


# --------------------------------------------------------------------------- the image (Dockerfile)

DOCKERFILE = ROOT / "Dockerfile"


def dockerfile_stages() -> dict[str, list[list[str]]]:
    """The Dockerfile's instructions per stage (named by ``AS``, else by index), each split like a shell
    line, continuation lines joined."""
    stages: dict[str, list[list[str]]] = {}
    current: list[list[str]] = []
    text = DOCKERFILE.read_text().replace("\\\n", " ")
    for line in text.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        words = shlex.split(line, comments=True)
        if words[0].upper() == "FROM":
            current = []
            name = words[3] if len(words) > 3 and words[2].upper() == "AS" else str(len(stages))
            stages[name] = current
        current.append(words)
    return stages


def copies(instructions: list[list[str]]) -> list[tuple[str | None, list[str], str]]:
    """(``--from`` stage or None, sources, destination) of each COPY."""
    found = []
    for words in instructions:
        if words[0].upper() != "COPY":
            continue
        stage = next((w.split("=", 1)[1] for w in words if w.startswith("--from=")), None)
        args = [w for w in words[1:] if not w.startswith("--")]
        found.append((stage, args[:-1], args[-1]))
    return found


def tracked(folder: str) -> list[str]:
    result = subprocess.run(["git", "ls-files", folder], capture_output=True, text=True, cwd=ROOT, check=True)
    return result.stdout.split()


def test_the_image_builds_the_web_ui_from_every_source_file() -> None:
    """Every file of web/ the build reads is in the web stage (a new source folder, left out, would build
    a UI without it)."""
    stage = dockerfile_stages()["web"]
    copied = [source for _, sources, _ in copies(stage) for source in sources]
    not_read_by_the_build = {"web/README.md", "web/.gitignore"}
    for path in tracked("web"):
        if path in not_read_by_the_build:
            continue
        assert any(path == source or path.startswith(source.rstrip("/") + "/") for source in copied), (
            f"Dockerfile: web stage does not copy {path}")
    assert ["RUN", "npm", "ci", "--no-audit", "--no-fund"] in stage
    assert ["RUN", "npm", "run", "build"] in stage
    assert ["ENV", "IBM_TELEMETRY_DISABLED=true"] in stage, "the Carbon packages' telemetry must be off (air-gapped)"
    assert ["ENV", "SCARF_ANALYTICS=false"] in stage, "swagger-ui-dist's Scarf analytics must be off (air-gapped)"


def test_the_image_serves_the_web_ui_where_the_api_looks() -> None:
    final = list(dockerfile_stages().values())[-1]
    workdir = next(words[1] for words in final if words[0].upper() == "WORKDIR")
    dist_copies = [(stage, sources, target) for stage, sources, target in copies(final) if stage == "web"]
    assert dist_copies == [("web", ["/web/dist"], "./web/dist")], dist_copies
    env = {k: v for words in final if words[0].upper() == "ENV" for k, v in (w.split("=", 1) for w in words[1:])}
    assert env["MOM_WEB_DIST"] == f"{workdir}/web/dist"


def test_the_image_carries_every_package_the_product_imports() -> None:
    final = list(dockerfile_stages().values())[-1]
    copied = {source.rstrip("/") for stage, sources, _ in copies(final) if stage is None for source in sources}
    for top in ("mom", "bpmn", "workflows", "activities", "connectors", "api", "worker.py", "pyproject.toml"):
        assert top in copied, f"Dockerfile: the image lacks {top}"


def test_the_build_context_leaves_out_local_builds() -> None:
    ignored = set((ROOT / ".dockerignore").read_text().split())
    assert {".venv", "web/node_modules", "web/dist", "data"} <= ignored


def dockerfile_final_stage() -> list[str]:
    """The instructions of the production image's last stage (continuation lines joined)."""
    text = (ROOT / "Dockerfile").read_text().replace("\\\n", " ")
    lines = [line.strip() for line in text.splitlines() if line.strip() and not line.strip().startswith("#")]
    last_from = max(i for i, line in enumerate(lines) if line.upper().startswith("FROM "))
    return lines[last_from:]


def test_the_production_image_runs_as_an_unprivileged_user_owning_its_data_dir() -> None:
    """Issue J.1 (defence in depth): a script escaping the sandbox would run as this user, not root."""
    stage = dockerfile_final_stage()
    users = [line.split(None, 1)[1].strip() for line in stage if line.upper().startswith("USER ")]
    assert users, "the production image sets no USER: it would run as root"
    user = users[-1].split(":")[0]
    assert user not in ("root", "0"), f"the production image runs as {users[-1]}"
    assert any("useradd --system" in line and f" {user}" in line for line in stage), f"no system user {user}"
    data_dir = next(line.split("MOM_DATA_DIR=")[1].split()[0] for line in stage if "MOM_DATA_DIR=" in line)
    assert any(f"chown {user} {data_dir}" in line or f"chown -R {user} {data_dir}" in line for line in stage), \
        f"{data_dir} (MOM_DATA_DIR) is not owned by {user}"
    last_user = max(i for i, line in enumerate(stage) if line.upper().startswith("USER "))
    assert not [line for line in stage[last_user:] if line.upper().startswith("RUN ")], "RUN after USER"
    for port in (line.split()[1] for line in stage if line.upper().startswith("EXPOSE ")):
        assert int(port.split("/")[0]) >= 1024, f"EXPOSE {port}: an unprivileged user cannot bind it"
    for name, service in services().items():
        if service.get("build") or "mom" in str(service.get("image", "")):
            assert str(service.get("user", user)).split(":")[0] not in ("root", "0"), f"{name} runs as root"


def writable_volumes(service: dict[str, Any]) -> set[str]:
    """The sources of the volumes ``service`` may write (read-only mounts left out)."""
    sources = set()
    for volume in service.get("volumes") or []:
        if isinstance(volume, dict):
            if not volume.get("read_only"):
                sources.add(str(volume.get("source")))
        elif not volume.endswith(":ro"):
            sources.add(volume.rsplit(":", 1)[0])
    return sources


def test_the_api_and_the_workers_share_no_volume() -> None:
    """Deployed specs are in the database (issue K): a worker on another host needs no disk of the API's."""
    found = services()
    roles = ("api", "worker", "edge-worker")
    for name in roles:
        assert found[name].get("volumes"), f"{name}: no data directory volume"
    for i, first in enumerate(roles):
        for second in roles[i + 1:]:
            shared = writable_volumes(found[first]) & writable_volumes(found[second])
            assert not shared, f"{first} and {second} share {shared}"
