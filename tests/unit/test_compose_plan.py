"""What a Compose service becomes: the same CreateRequest `docker run` would build for it, with
docker compose's names and labels. Pure: nothing is created."""
from __future__ import annotations

import textwrap

import pytest

from pallet.compose.loader import ProjectOptions, load
from pallet.compose.plan import create_request, injected_files, networks
from pallet.compose.project import config_hash
from pallet.errors import InvalidArgument

FILE = """
services:
  api:
    image: example/api:1
    command: serve --port 80
    entrypoint: ["/init", "--"]
    environment: {MODE: prod, EMPTY: ""}
    env_file: [api.env]
    labels: {team: core}
    user: "1000:1000"
    working_dir: /srv
    hostname: api-host
    init: true
    privileged: true
    read_only: true
    cap_add: [NET_ADMIN]
    cap_drop: [MKNOD]
    security_opt: ["no-new-privileges"]
    stop_signal: SIGINT
    stop_grace_period: 1m30s
    restart: on-failure:3
    shm_size: 128m
    sysctls: [net.core.somaxconn=1024]
    ulimits: {nofile: {soft: 1024, hard: 2048}, nproc: 512}
    extra_hosts: ["db.local:10.0.0.5"]
    dns: 9.9.9.9
    expose: ["9000-9001"]
    tmpfs: /run
    ports:
      - "127.0.0.1:8080:80"
      - {target: 443, published: "8443", protocol: tcp}
    volumes:
      - data:/data:nocopy
      - ./conf:/etc/api:ro
      - {type: tmpfs, target: /cache, tmpfs: {size: 1048576}}
    networks:
      front: {aliases: [web], ipv4_address: 172.28.0.10}
      back: {priority: 10}
    healthcheck:
      test: curl -f http://localhost
      interval: 5s
      timeout: 2s
      retries: 4
      start_period: 1s
    deploy:
      replicas: 2
      resources:
        limits: {cpus: "0.5", memory: 256M, pids: 100}
        reservations: {memory: 64M}
    logging:
      driver: json-file
      options: {max-size: 10m}
    secrets: [token]
    configs: [{source: settings, target: /etc/settings.ini}]
networks:
  front: {ipam: {config: [{subnet: 172.28.0.0/16}]}}
  back: {name: shared-back, external: true}
volumes:
  data: {name: api-data}
secrets:
  token: {file: ./token.txt}
configs:
  settings: {file: ./settings.ini}
"""


@pytest.fixture
def project(tmp_path):
    (tmp_path / "compose.yaml").write_text(textwrap.dedent(FILE))
    (tmp_path / "api.env").write_text("FROM_FILE=1\nMODE=overridden-by-environment\n")
    (tmp_path / "token.txt").write_text("t")
    (tmp_path / "settings.ini").write_text("s")
    return load(ProjectOptions(project_name="shop", cwd=str(tmp_path), environ={}))


def test_service_becomes_the_request_docker_run_would_build(project, tmp_path):
    req = create_request(project, "api", 2)
    assert (req.name, req.image) == ("shop-api-2", "example/api:1")
    assert (req.entrypoint, req.cmd) == (["/init", "--"], ["serve", "--port", "80"])
    assert sorted(req.env) == ["EMPTY=", "FROM_FILE=1", "MODE=prod"]
    assert (req.user, req.workdir, req.hostname) == ("1000:1000", "/srv", "api-host")
    assert (req.init, req.privileged, req.read_only) == (True, True, True)
    assert (req.cap_add, req.cap_drop, req.security_opt) == (["NET_ADMIN"], ["MKNOD"], ["no-new-privileges"])
    assert (req.stop_signal, req.stop_timeout, req.restart) == ("SIGINT", 90, "on-failure:3")
    assert (req.shm_size, req.sysctls) == (128 << 20, {"net.core.somaxconn": "1024"})
    assert sorted(req.ulimits) == ["nofile=1024:2048", "nproc=512"]
    assert (req.memory, req.memory_reservation, req.cpus, req.pids_limit) == (256 << 20, 64 << 20, 0.5, 100)
    assert req.log_opts == {"max-size": "10m"}
    assert [(p.host_ip, p.host_port, p.container_port) for p in req.ports] == [
        ("127.0.0.1", "8080", 80), ("", "8443", 443)]
    net = req.extra["network"]
    assert (net["dns"], net["extra_hosts"], net["expose"]) == (
        ["9.9.9.9"], ["db.local:10.0.0.5"], ["9000/tcp", "9001/tcp"])
    health = req.extra["health"]
    assert health["Test"] == ["CMD-SHELL", "curl -f http://localhost"]
    assert (health["Interval"], health["Timeout"], health["StartPeriod"], health["Retries"]) == (
        5 * 10**9, 2 * 10**9, 10**9, 4)
    mounts = {m.target: (m.type, m.source, m.read_only) for m in req.mounts}
    assert mounts == {"/data": ("volume", "api-data", False),
                      "/etc/api": ("bind", str(tmp_path / "conf"), True),
                      "/run/secrets/token": ("bind", str(tmp_path / "token.txt"), True),
                      "/etc/settings.ini": ("bind", str(tmp_path / "settings.ini"), True)}
    assert req.tmpfs == {"/cache": "size=1048576", "/run": ""}


def test_networks_by_priority_with_the_service_name_as_alias(project):
    assert networks(project, "api") == [("shared-back", {"aliases": ["api"], "ip": None}),
                                        ("shop_front", {"aliases": ["api", "web"], "ip": "172.28.0.10"})]
    req = create_request(project, "api", 1)
    assert req.network == "shared-back"  # the primary network: the highest priority


def test_compose_labels(project):
    labels = create_request(project, "api", 1).labels
    assert labels["team"] == "core"
    assert labels["com.docker.compose.project"] == "shop"
    assert labels["com.docker.compose.service"] == "api"
    assert labels["com.docker.compose.container-number"] == "1"
    assert labels["com.docker.compose.oneoff"] == "False"
    assert labels["com.docker.compose.config-hash"] == config_hash(project.services["api"])
    one_off = create_request(project, "api", 1, oneoff=True, name="shop-api-run-1")
    assert one_off.labels["com.docker.compose.oneoff"] == "True" and one_off.restart == "no"


def test_config_hash_ignores_scale_and_follows_everything_else(project):
    svc = project.services["api"]
    base = config_hash(svc)
    assert config_hash({**svc, "deploy": {**svc["deploy"], "replicas": 9}}) == base
    assert config_hash({**svc, "scale": 3, "depends_on": {"x": {}}, "profiles": ["p"]}) == base
    assert config_hash({**svc, "environment": {**svc["environment"], "MODE": "dev"}}) != base
    assert project.replicas("api") == 2


def test_restart_takes_the_dependents_that_asked_for_it(tmp_path):
    (tmp_path / "compose.yaml").write_text(textwrap.dedent("""
        services:
          db: {image: busybox}
          api: {image: busybox, depends_on: {db: {condition: service_started, restart: true}}}
          worker: {image: busybox, depends_on: {api: {condition: service_started, restart: true}}}
          report: {image: busybox, depends_on: [db]}
        """))
    project = load(ProjectOptions(project_name="p", cwd=str(tmp_path), environ={}))
    assert project.restarted_with(["db"]) == ["db", "api", "worker"]
    assert project.restarted_with(["report"]) == ["report"]


def test_secrets_from_the_environment_and_inline_configs_are_written_in_not_mounted(tmp_path):
    (tmp_path / "cert.pem").write_text("cert")
    (tmp_path / "compose.yaml").write_text(textwrap.dedent("""
        services:
          app:
            image: busybox
            secrets: [token, cert, {source: token, target: /etc/tok, mode: 0400, uid: "5", gid: "6"}]
            configs: [{source: conf, target: app.conf}]
        secrets:
          token: {environment: TOKEN}
          cert: {file: ./cert.pem}
        configs:
          conf: {content: "a=1"}
        """))
    project = load(ProjectOptions(project_name="p", cwd=str(tmp_path), environ={"TOKEN": "t0k"}))
    assert injected_files(project, project.services["app"]) == [
        ("/run/secrets/token", b"t0k", 0o444, 0, 0), ("/etc/tok", b"t0k", 0o400, 5, 6),
        ("/app.conf", b"a=1", 0o444, 0, 0)]
    mounts = create_request(project, "app", 1).mounts
    assert [(m.source, m.target) for m in mounts] == [(str(tmp_path / "cert.pem"), "/run/secrets/cert")]
    unset = load(ProjectOptions(project_name="p", cwd=str(tmp_path), environ={}))
    with pytest.raises(InvalidArgument, match='environment variable "TOKEN" required by file "token" is not set'):
        injected_files(unset, unset.services["app"])


def test_dockerfile_inline_takes_the_place_of_dockerfile(tmp_path):
    (tmp_path / "compose.yaml").write_text(textwrap.dedent("""
        services:
          app: {build: {context: ., dockerfile_inline: "FROM busybox"}}
        """))
    build = load(ProjectOptions(project_name="p", cwd=str(tmp_path), environ={})).services["app"]["build"]
    assert build == {"context": str(tmp_path), "dockerfile_inline": "FROM busybox"}
    (tmp_path / "compose.yaml").write_text(textwrap.dedent("""
        services:
          app: {build: {context: ., dockerfile: D, dockerfile_inline: "FROM busybox"}}
        """))
    with pytest.raises(InvalidArgument, match="services.app.build: dockerfile and dockerfile_inline are "
                                              "mutually exclusive"):
        load(ProjectOptions(project_name="p", cwd=str(tmp_path), environ={}))
