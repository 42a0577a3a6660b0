"""`pallet compose events`, `stats`, `attach` and `up --attach/--no-attach`, and the
sources compose takes beyond files: secrets from the environment, configs with inline
content, a Dockerfile written inline. As docker compose v2 documents them."""
from __future__ import annotations

import json
import textwrap
import time

from test_compose import project  # noqa: F401 - the fixture

FAST = """
x-fast: &fast
  image: busybox
  stop_signal: SIGKILL
"""


def _write(project, text: str) -> None:
    (project.dir / "compose.yaml").write_text(textwrap.dedent(FAST) + textwrap.dedent(text))


def test_events_lists_the_projects_container_events_only(project):
    _write(project, """
        services:
          web: {<<: *fast, command: ["sleep", "600"]}
          worker: {<<: *fast, command: ["sleep", "600"]}
        """)
    since = f"{time.time():.3f}"
    project.pallet.ok("run", "-d", "--name", "stranger", "busybox", "sleep", "600")  # not the project's
    assert project("up", "-d").code == 0
    assert project("run", "--rm", "-T", "web", "true").code == 0  # one-off: left out, as compose
    until = f"{time.time():.3f}"
    r = project("events", "--json", "--since", since, "--until", until)
    assert r.code == 0, r.err
    events = [json.loads(line) for line in r.out.splitlines()]
    assert {(e["service"], e["action"]) for e in events} >= {("web", "create"), ("web", "start"),
                                                               ("worker", "create"), ("worker", "start")}
    assert all(e["type"] == "container" and e["service"] in ("web", "worker") for e in events)
    start = next(e for e in events if e["service"] == "web" and e["action"] == "start")
    assert start["attributes"] == {"image": "busybox", "name": "shop-web-1"}  # compose's labels dropped
    assert list(start) == sorted(start) and start["time"].endswith("Z") and len(start["id"]) == 64
    text = project("events", "--since", since, "--until", until, "worker").out.splitlines()
    assert text and all(" container " in line and "name=shop-worker-1" in line for line in text)
    assert any(f" container start {start['id']} " in line for line in
               project("events", "--since", since, "--until", until).out.splitlines())
    project.pallet.ok("rm", "-f", "stranger")


def test_events_include_a_services_health_status_and_probe_execs(project):
    _write(project, """
        services:
          web:
            <<: *fast
            command: ["sleep", "600"]
            healthcheck: {test: ["CMD", "true"], interval: 200ms}
        """)
    since = f"{time.time():.3f}"
    assert project("up", "-d", "--wait").code == 0  # returns once web is healthy
    until = f"{time.time():.3f}"
    r = project("events", "--json", "--since", since, "--until", until)
    events = [json.loads(line) for line in r.out.splitlines()]
    actions = [e["action"] for e in events if e["service"] == "web"]
    assert "health_status: healthy" in actions and "exec_create: true " in actions
    healthy = next(e for e in events if e["action"] == "health_status: healthy")
    assert healthy["attributes"] == {"image": "busybox", "name": "shop-web-1"}


def test_stats_no_stream_shows_the_projects_running_containers(project):
    _write(project, """
        services:
          web: {<<: *fast, command: ["sleep", "600"]}
          once: {image: busybox, command: ["true"]}
        """)
    header = "CONTAINER ID   NAME      CPU %     MEM USAGE / LIMIT   MEM %     NET I/O   BLOCK I/O   PIDS"
    assert project("stats", "--no-stream").out.splitlines() == [header]  # nothing running yet
    assert project("up", "-d").code == 0
    assert project("wait", "once").code == 0
    rows = project("stats", "--no-stream").out.splitlines()
    assert rows[0].split() == ["CONTAINER", "ID", "NAME", "CPU", "%", "MEM", "USAGE", "/", "LIMIT", "MEM", "%",
                               "NET", "I/O", "BLOCK", "I/O", "PIDS"]
    assert [r.split()[1] for r in rows[1:]] == ["shop-web-1"]  # the exited one only with -a
    assert project("stats", "--no-stream", "-a", "--format", "{{.Name}}").out == "shop-once-1\nshop-web-1\n"
    assert project("stats", "--no-stream", "web", "--format", "{{.Name}} {{.PIDs}}").out == "shop-web-1 1\n"
    assert project("stats", "--no-stream", "nosuch").code == 1


def test_attach_relays_a_services_output_and_returns_its_exit_code(project):
    _write(project, """
        services:
          ticker:
            image: busybox
            command: ["sh", "-c", "sleep 1; echo tick; sleep 1; echo tock; exit 3"]
        """)
    assert project("up", "-d").code == 0
    r = project.pallet.sub("compose", "attach", "--no-stdin", "ticker", timeout=30)
    assert (r.code, r.out) == (3, "tock\n") or (r.code, r.out) == (3, "tick\ntock\n"), (r.code, r.out, r.err)
    assert project("attach", "--index", "1", "ticker").code == 1  # not running any more
    assert "is not running" in project("attach", "ticker").err
    assert "no such service" in project("attach", "nosuch").err


def test_up_attach_and_no_attach_choose_whose_logs_are_printed(project):
    _write(project, """
        services:
          a: {image: busybox, command: ["echo", "from-a"]}
          b: {image: busybox, command: ["echo", "from-b"]}
          quiet: {image: busybox, command: ["echo", "from-quiet"], attach: false}
        """)
    r = project("up", "--no-attach", "b")
    assert r.code == 0, r.err
    assert r.out.splitlines()[0] == "Attaching to a-1"  # b refused, quiet's `attach: false`
    assert "from-a" in r.out and "from-b" not in r.out and "from-quiet" not in r.out
    r = project("up", "--attach", "quiet")
    assert r.out.splitlines()[0] == "Attaching to quiet-1" and "from-quiet" in r.out and "from-a" not in r.out
    assert project("up", "--attach", "nosuch").code == 1


def test_secret_from_environment_and_config_content_are_written_into_the_container(project, monkeypatch):
    _write(project, """
        services:
          app:
            image: busybox
            command: ["sh", "-c", "cat /run/secrets/token /run/secrets/mine /etc/app.conf; stat -c '%a %u' /run/secrets/mine"]
            secrets: [token, {source: token, target: mine, mode: 0400, uid: "1000"}]
            configs: [{source: conf, target: /etc/app.conf}]
        secrets:
          token: {environment: MY_TOKEN}
        configs:
          conf: {content: "inline config"}
        """)
    monkeypatch.delenv("MY_TOKEN", raising=False)
    r = project("up", "-d")
    assert (r.code, r.err.strip().splitlines()[-1]) == (1, 'environment variable "MY_TOKEN" required by file '
                                                           '"token" is not set')
    assert project("ps", "-aq").out == ""  # nothing created
    monkeypatch.setenv("MY_TOKEN", "s3cret")
    r = project("run", "--rm", "-T", "app")
    assert (r.code, r.out) == (0, "s3crets3cretinline config400 1000\n"), r.err
    assert "s3cret" not in project("config").out  # the value is never printed


def test_a_secret_target_leading_out_of_the_container_is_refused_and_nothing_is_left(project, monkeypatch,
                                                                                      tmp_path):
    # the secret goes in through cp's applier: a target with ../ never reaches the host
    outside = tmp_path / "escaped"
    _write(project, f"""
        services:
          app:
            image: busybox
            command: ["sleep", "60"]
            secrets: [{{source: token, target: "../../../../../../..{outside}"}}]
        secrets:
          token: {{environment: MY_TOKEN}}
        """)
    monkeypatch.setenv("MY_TOKEN", "s3cret")
    r = project("up", "-d")
    assert r.code == 1 and r.err.strip().splitlines()[-1].endswith(
        "its path escapes the container; nothing was copied"), r.err
    assert not outside.exists()
    assert project("ps", "-aq").out == ""  # the container it was meant for is not left half made


def test_dockerfile_inline_builds_the_service_and_excludes_dockerfile(project):
    _write(project, """
        services:
          app:
            build:
              context: .
              dockerfile_inline: |
                FROM busybox
                RUN echo inline > /made
            command: ["cat", "/made"]
        """)
    r = project("run", "--rm", "-T", "app")
    assert (r.code, r.out) == (0, "inline\n"), r.err
    _write(project, """
        services:
          app:
            build: {context: ., dockerfile: Dockerfile, dockerfile_inline: "FROM busybox"}
        """)
    r = project("build")
    assert r.code == 1 and "services.app.build: dockerfile and dockerfile_inline are mutually exclusive" in r.err
