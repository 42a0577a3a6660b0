"""docker-compose 1.29 (the Python one, PyPI `docker-compose`) driving `pallet system
service`: it talks only the Engine API (through docker-py), so a project with a build, a
network and a volume comes up, lists, logs and goes down as it does on dockerd.

Its venv is .venv-compose, made by scripts/install.sh (it pins clients older than
pallet's own test dependencies); `COMPOSE_DOCKER_CLI_BUILD=0` makes it build through
`POST /build` rather than by running the docker CLI.
"""
from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from polling import wait_for

pytestmark = pytest.mark.usefixtures("no_leaks")

COMPOSE = Path(__file__).resolve().parents[2] / ".venv-compose" / "bin" / "docker-compose"

PROJECT = """\
version: "3.8"
services:
  app:
    build: ./app
    command: ["sh", "-c", "cat /built; echo hello > /data/greeting; exec sleep 60"]
    volumes: ["data:/data"]
    networks: [back]
  peer:
    image: busybox
    command: ["sleep", "60"]
    networks: [back]
networks:
  back: {}
volumes:
  data: {}
"""


def _compose(api, project: Path, *argv: str) -> subprocess.CompletedProcess:
    assert COMPOSE.exists(), f"{COMPOSE} is missing: run scripts/install.sh"
    env = {**api.env, "COMPOSE_DOCKER_CLI_BUILD": "0"}
    p = subprocess.run([str(COMPOSE), "--ansi", "never", "-p", "proj", *argv], cwd=project, env=env,
                       capture_output=True, text=True, timeout=180)
    assert p.returncode == 0, f"docker-compose {' '.join(argv)} exited {p.returncode}: {p.stderr}"
    return p


def test_compose_up_ps_logs_down_a_project_with_a_build_a_network_and_a_volume(api, pallet, busybox,
                                                                               tmp_path):
    project = tmp_path / "proj"
    (project / "app").mkdir(parents=True)
    (project / "app" / "Dockerfile").write_text("FROM busybox\nRUN echo built > /built\n")
    (project / "docker-compose.yml").write_text(PROJECT)

    _compose(api, project, "up", "-d")
    assert sorted(pallet.ok("ps", "--format", "{{.Names}}").lines) == ["proj_app_1", "proj_peer_1"]
    assert "proj_back" in pallet.ok("network", "ls", "--format", "{{.Name}}").lines
    assert pallet.ok("volume", "ls", "-q").lines == ["proj_data"]

    rows = _compose(api, project, "ps").stdout.splitlines()
    assert [r.split()[0] for r in rows[2:]] == ["proj_app_1", "proj_peer_1"]
    assert all(" Up " in f"{r} " for r in rows[2:])

    def logged() -> str:
        return _compose(api, project, "logs", "--no-color", "app").stdout
    assert wait_for(lambda: "built" in logged(), 10), logged()
    assert pallet.ok("exec", "proj_app_1", "cat", "/data/greeting").out == "hello\n"

    _compose(api, project, "down", "-v")
    assert pallet.ok("ps", "-aq").out == ""
    assert "proj_back" not in pallet.ok("network", "ls", "--format", "{{.Name}}").lines
    assert pallet.ok("volume", "ls", "-q").out == ""
