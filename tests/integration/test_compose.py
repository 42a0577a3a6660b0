"""`pallet compose` running real projects in real containers, as docker compose v2 runs them:
names and labels, dependency conditions, networks with aliases, volumes that outlive `down`,
bind mounts, published ports fetched from the host, idempotent `up`, builds, one-off `run`,
two copies of one project side by side, and failures that leave the others as compose does.
"""
from __future__ import annotations

import json
import socket
import textwrap
import urllib.request

import pytest

from polling import wait_for
from registry_fixtures import docker_config, registry  # noqa: F401 - fixtures

P = "com.docker.compose."

# busybox's sh and httpd ignore SIGTERM as PID 1: KILL keeps `down` from waiting 10 s
STACK = """
x-fast: &fast
  image: busybox
  stop_signal: SIGKILL
services:
  db:
    <<: *fast
    command: ["sh", "-c", "echo db ready; exec sleep 600"]
    healthcheck: {test: ["CMD", "true"], interval: 1s}
    networks:
      back: {aliases: [database]}
  init:
    image: busybox
    command: ["sh", "-c", "echo seeded > /data/seed"]
    volumes: ["data:/data"]
  web:
    <<: *fast
    command: ["sh", "-c", "echo web ready; exec httpd -f -p 80 -h /srv"]
    environment: {COLOUR: "${COLOUR:-blue}"}
    ports: ["127.0.0.1:${WEB_PORT}:80"]
    volumes: ["data:/srv/data", "./site:/srv/site:ro"]
    networks: [back, default]
    secrets: [token]
    depends_on:
      db: {condition: service_healthy}
      init: {condition: service_completed_successfully}
networks:
  back: {}
volumes:
  data: {}
secrets:
  token: {file: ./token.txt}
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def project(pallet, busybox, no_leaks, tmp_path, monkeypatch):
    """A project directory `shop` with STACK; `run(...)` is `pallet compose ...` in it."""
    d = tmp_path / "shop"
    (d / "site").mkdir(parents=True)
    (d / "site" / "index.html").write_text("hello from the bind mount\n")
    (d / "compose.yaml").write_text(STACK)
    (d / "token.txt").write_text("s3cret\n")
    monkeypatch.chdir(d)
    port = _free_port()
    monkeypatch.setenv("WEB_PORT", str(port))
    monkeypatch.delenv("COLOUR", raising=False)

    def run(*argv):
        return pallet("compose", *argv)
    run.dir, run.port, run.pallet = d, port, pallet
    yield run
    pallet("compose", "down", "-v", "-t", "0")


def _inspect(pallet, name: str) -> dict:
    return json.loads(pallet.ok("inspect", name).out)[0]


def _get(port: int, path: str) -> str:
    """The page, once httpd (started a moment ago) listens."""
    def fetch():
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as r:
                return r.read().decode()
        except OSError:
            return None
    assert wait_for(lambda: fetch() is not None, 10), f"nothing listens on 127.0.0.1:{port}"
    return fetch()


def test_up_runs_the_project_in_dependency_order_with_compose_names_and_labels(project):
    r = project("up", "-d")
    assert r.code == 0, r.err
    events = r.err.splitlines()
    # compose's plain progress: created in dependency order, web started after db healthy, init exited 0
    assert events.index(" Container shop-db-1  Healthy") < events.index(" Container shop-web-1  Starting")
    assert events.index(" Container shop-init-1  Exited") < events.index(" Container shop-web-1  Starting")
    assert " Network shop_back  Created" in events and ' Volume "shop_data"  Created' in events
    web = _inspect(project.pallet, "shop-web-1")
    labels = web["Config"]["Labels"]
    assert {k: labels[k] for k in (P + "project", P + "service", P + "container-number", P + "oneoff")} == {
        P + "project": "shop", P + "service": "web", P + "container-number": "1", P + "oneoff": "False"}
    assert labels[P + "project.working_dir"] == str(project.dir)
    assert labels[P + "project.config_files"] == str(project.dir / "compose.yaml")
    assert labels[P + "depends_on"] == "db:service_healthy:false,init:service_completed_successfully:false"
    assert len(labels[P + "config-hash"]) == 64 and labels[P + "version"]
    assert sorted(web["NetworkSettings"]["Networks"]) == ["shop_back", "shop_default"]
    # published port from the host; the named volume seeded by init; the bind mount, read-only
    assert _get(project.port, "/data/seed") == "seeded\n"
    assert _get(project.port, "/site/index.html") == "hello from the bind mount\n"
    assert project.pallet("exec", "shop-web-1", "touch", "/srv/site/x").code != 0
    # the network alias and the service name resolve on the user network
    assert project.pallet("exec", "shop-web-1", "ping", "-c1", "-W2", "database").code == 0
    assert project.pallet("exec", "shop-web-1", "ping", "-c1", "-W2", "db").code == 0

    ps = project("ps")
    assert ps.lines[0].split() == ["NAME", "IMAGE", "COMMAND", "SERVICE", "CREATED", "STATUS", "PORTS"]
    assert [line.split()[0] for line in ps.lines[1:]] == ["shop-db-1", "shop-web-1"]  # init has exited
    rows = [json.loads(line) for line in project("ps", "-a", "--format", "json").lines]
    assert [(row["Service"], row["State"]) for row in rows] == [("db", "running"), ("init", "exited"),
                                                                 ("web", "running")]
    assert rows[2]["Publishers"] == [{"URL": "127.0.0.1", "TargetPort": 80, "PublishedPort": project.port,
                                      "Protocol": "tcp"}]
    assert project("ps", "--services").out == "db\nweb\n"
    logs = project("logs", "--no-color", "db", "web").out
    assert "db-1   | db ready\n" in logs and "web-1  | web ready\n" in logs
    coloured = project("--ansi", "always", "logs", "db", "web").out  # cyan, then yellow
    assert "\x1b[36mdb-1   | \x1b[0mdb ready\n" in coloured and "\x1b[33mweb-1  | \x1b[0mweb ready\n" in coloured
    assert project("port", "web", "80").out == f"127.0.0.1:{project.port}\n"
    assert project("exec", "-T", "web", "sh", "-c", "echo $COLOUR; exit 3").lines == ["blue"]
    assert project("exec", "-T", "web", "sh", "-c", "exit 3").code == 3
    assert project("exec", "-T", "web", "cat", "/run/secrets/token").out == "s3cret\n"


def test_up_again_recreates_nothing_and_a_changed_service_alone(project, monkeypatch):
    assert project("up", "-d").code == 0
    ids = {n: _inspect(project.pallet, f"shop-{n}-1")["Id"] for n in ("db", "web")}
    again = project("up", "-d")
    assert again.code == 0 and "Recreate" not in again.err and "Creating" not in again.err
    assert " Container shop-web-1  Running" in again.err
    assert {n: _inspect(project.pallet, f"shop-{n}-1")["Id"] for n in ("db", "web")} == ids
    monkeypatch.setenv("COLOUR", "green")  # changes web's config hash only
    changed = project("up", "-d")
    assert " Container shop-web-1  Recreate" in changed.err and "shop-db-1  Recreate" not in changed.err
    assert _inspect(project.pallet, "shop-db-1")["Id"] == ids["db"]
    assert _inspect(project.pallet, "shop-web-1")["Id"] != ids["web"]
    assert project("exec", "-T", "web", "sh", "-c", "echo $COLOUR").out == "green\n"
    forced = project("up", "-d", "--force-recreate", "--no-deps", "db")
    assert " Container shop-db-1  Recreate" in forced.err and "shop-web-1" not in forced.err


def test_named_volume_survives_down_and_goes_with_down_v(project):
    assert project("up", "-d").code == 0
    down = project("down")
    assert down.code == 0
    assert " Network shop_back  Removed" in down.err and " Network shop_default  Removed" in down.err
    assert project.pallet("ps", "-aq").out == ""
    assert "shop_data" in project.pallet("volume", "ls", "-q").out
    assert project.pallet("network", "inspect", "shop_default").code == 1
    assert project("down", "-v").code == 0
    assert "shop_data" not in project.pallet("volume", "ls", "-q").out
    nothing = project("down")
    assert nothing.err.strip() == 'WARN[0000] Warning: No resource found to remove for project "shop".'


def test_two_copies_side_by_side_with_p(project, monkeypatch):
    monkeypatch.setenv("WEB_PORT", str(_free_port()))
    assert project("-p", "blue", "up", "-d", "db").code == 0
    assert project("-p", "green", "up", "-d", "db").code == 0
    assert project("-p", "blue", "ps", "-q").out != project("-p", "green", "ps", "-q").out
    ls = project("ls").lines
    assert ls[0].split() == ["NAME", "STATUS", "CONFIG", "FILES"]
    assert [line.split()[:2] for line in ls[1:]] == [["blue", "running(1)"], ["green", "running(1)"]]
    assert project("-p", "blue", "down").code == 0
    assert project.pallet("ps", "--format", "{{.Names}}").out == "green-db-1\n"
    assert project("-p", "green", "down").code == 0


def test_scale_and_down_of_replicas(project):
    assert project("up", "-d", "--scale", "db=2", "db").code == 0
    assert project("ps", "--format", "{{.Name}}").lines == ["shop-db-1", "shop-db-2"]
    assert project("up", "-d", "db").code == 0  # back to the file's one replica
    assert project("ps", "--format", "{{.Name}}").lines == ["shop-db-1"]


def test_stop_start_restart_kill_rm(project):
    assert project("up", "-d", "db").code == 0
    assert project("stop", "db").code == 0
    assert project("ps", "-a", "--format", "{{.Name}} {{.State}}").out == "shop-db-1 exited\n"
    assert project("start", "db").code == 0
    assert project("ps", "--format", "{{.State}}").out == "running\n"
    assert project("pause", "db").code == 0
    assert project("ps", "--format", "{{.State}}").out == "paused\n"
    assert project("unpause", "db").code == 0
    assert project("restart", "db").code == 0
    assert project("kill", "db").code == 0
    assert project("rm", "-f").code == 0
    assert project("ps", "-aq").out == ""
    gone = project("exec", "-T", "db", "true")
    assert (gone.code, gone.err) == (1, 'service "db" is not running\n')


def test_build_and_one_off_run(project):
    (project.dir / "app").mkdir()
    (project.dir / "app" / "Dockerfile").write_text("FROM busybox\nARG WORD=built\nRUN echo $WORD > /word\n")
    (project.dir / "compose.yaml").write_text(textwrap.dedent("""
        services:
          app:
            build: {context: ./app, args: {WORD: from-compose}}
            command: ["cat", "/word"]
        """))
    r = project("run", "--rm", "-T", "app")
    assert r.code == 0, r.err
    assert r.out == "from-compose\n"
    assert project.pallet("image", "inspect", "shop-app").code == 0  # compose's image name
    assert project("run", "--rm", "-T", "-e", "X=1", "app", "sh", "-c", "echo $X; exit 4").code == 4
    assert project("ps", "-aq").out == ""  # --rm took the one-off containers
    (project.dir / "compose.yaml").write_text(textwrap.dedent("""
        services:
          app:
            build: {context: ./app}
            stop_signal: SIGKILL
            command: ["sleep", "600"]
        """))
    assert project("up", "--wait").code == 0  # --wait: detached, back once running
    assert project("ps", "--format", "{{.Name}} {{.State}}").out == "shop-app-1 running\n"
    assert project("up", "-d", "--build").code == 0  # built without the args now: a new image
    assert "Recreate" not in project("up", "-d", "--build").err  # rebuilt from cache: same image
    (project.dir / "app" / "Dockerfile").write_text("FROM busybox\nRUN echo changed > /word\n")
    rebuilt = project("up", "-d", "--build")
    assert " Container shop-app-1  Recreate" in rebuilt.err, rebuilt.err  # a new image: recreated
    assert project("exec", "-T", "app", "cat", "/word").out == "changed\n"
    assert project("down", "--rmi", "local").code == 0
    assert project.pallet("image", "inspect", "shop-app").code == 1


def test_unhealthy_dependency_fails_up_naming_it_and_leaves_the_others(project):
    (project.dir / "compose.yaml").write_text(textwrap.dedent("""
        services:
          db:
            image: busybox
            stop_signal: SIGKILL
            command: ["sleep", "600"]
            healthcheck: {test: ["CMD", "false"], interval: 1s, retries: 1}
          web:
            image: busybox
            command: ["sleep", "600"]
            depends_on: {db: {condition: service_healthy}}
        """))
    r = project("up", "-d")
    assert r.code == 1
    assert r.err.splitlines()[-1] == "dependency failed to start: container shop-db-1 is unhealthy"
    states = project("ps", "-a", "--format", "{{.Name}} {{.State}}").lines
    assert states == ["shop-db-1 running", "shop-web-1 created"]


def test_up_attached_prints_prefixed_logs_and_exit_code_from(project):
    (project.dir / "compose.yaml").write_text(textwrap.dedent("""
        services:
          job:
            image: busybox
            command: ["sh", "-c", "echo working; exit 7"]
          side:
            image: busybox
            stop_signal: SIGKILL
            command: ["sleep", "600"]
        """))
    r = project("up", "--exit-code-from", "job")
    assert r.code == 7, r.err
    assert r.out.splitlines()[0] == "Attaching to job-1, side-1"
    assert "job-1   | working" in r.out and "job-1 exited with code 7" in r.out
    assert project("ps", "--format", "{{.Name}}").out == ""  # everything stopped after the abort


def test_push_then_pull_service_images_through_a_registry(project, registry, docker_config):
    image = f"{registry.host}/shop/app:1"
    (project.dir / "app").mkdir()
    (project.dir / "app" / "Dockerfile").write_text("FROM busybox\nRUN echo pushed > /word\n")
    (project.dir / "compose.yaml").write_text(textwrap.dedent(f"""
        services:
          app:
            image: {image}
            build: ./app
            command: ["cat", "/word"]
        """))
    assert project("build").code == 0
    push = project("push")
    assert push.code == 0, push.err
    assert f" Image {image}  Pushed" in push.err
    project.pallet.ok("rmi", image)
    pull = project("pull")
    assert pull.code == 0 and f" Image {image}  Pulled" in pull.err, pull.err
    assert project("run", "--rm", "-T", "app").out == "pushed\n"


def test_create_then_start_images_top_cp_wait_version(project, tmp_path):
    (project.dir / "compose.yaml").write_text(textwrap.dedent("""
        services:
          svc:
            image: busybox
            stop_signal: SIGKILL
            command: ["sh", "-c", "echo inside > /inside; sleep 600"]
          once:
            image: busybox
            command: ["sh", "-c", "exit 3"]
        """))
    assert project("create").code == 0
    assert project("ps", "-a", "--format", "{{.Name}} {{.State}}").lines == ["shop-once-1 created",
                                                                             "shop-svc-1 created"]
    assert project("start").code == 0
    images = project("images").lines
    assert images[0].split() == ["CONTAINER", "REPOSITORY", "TAG", "IMAGE", "ID", "SIZE"]
    assert images[1].split()[:3] == ["shop-once-1", "busybox", "latest"]
    assert wait_for(lambda: "sleep 600" in project("top", "svc").out, 5)
    (tmp_path / "in.txt").write_text("copied in\n")
    assert project("cp", str(tmp_path / "in.txt"), "svc:/in.txt").code == 0
    assert project("exec", "-T", "svc", "cat", "/in.txt").out == "copied in\n"
    assert wait_for(lambda: project("exec", "-T", "svc", "cat", "/inside").out == "inside\n", 5)
    assert project("cp", "svc:/inside", str(tmp_path / "out.txt")).code == 0
    assert (tmp_path / "out.txt").read_text() == "inside\n"
    assert project("wait", "once").code == 3
    assert project("version").out.startswith("pallet compose version v2.")


def test_a_service_that_fails_to_start_is_named_and_the_others_are_left(project):
    (project.dir / "compose.yaml").write_text(textwrap.dedent("""
        services:
          ok:
            image: busybox
            stop_signal: SIGKILL
            command: ["sleep", "600"]
          broken:
            image: busybox
            command: ["/no/such/program"]
            depends_on: [ok]
        """))
    r = project("up", "-d")
    assert r.code == 1
    assert " Container shop-broken-1  Error" in r.err
    assert "no/such/program" in r.err.splitlines()[-1]
    assert project("ps", "-a", "--format", "{{.Name}} {{.State}}").lines == ["shop-broken-1 created",
                                                                             "shop-ok-1 running"]


def test_orphans_are_reported_then_removed(project):
    assert project("up", "-d", "db").code == 0
    (project.dir / "compose.yaml").write_text(STACK.replace("  db:\n", "  database:\n").replace(
        "db: {condition: service_healthy}", "database: {condition: service_healthy}"))
    r = project("up", "-d", "--no-recreate", "database")
    assert "Found orphan containers ([shop-db-1]) for this project." in r.err
    r = project("up", "-d", "--remove-orphans", "database")
    assert project("ps", "--format", "{{.Name}}").lines == ["shop-database-1"]


def test_a_project_is_found_by_its_labels_with_p_and_no_file(project, tmp_path, monkeypatch):
    assert project("-p", "ghost", "up", "-d", "db").code == 0
    monkeypatch.chdir(tmp_path)  # no compose file here
    assert project("-p", "ghost", "ps", "--format", "{{.Name}}").out == "ghost-db-1\n"
    down = project("-p", "ghost", "down", "-v")
    assert down.code == 0 and " Network ghost_back  Removed" in down.err
    assert " Volume ghost_data  Removed" not in down.err  # db mounts no volume: none was made
    assert project.pallet("ps", "-aq").out == ""


def test_recreate_keeps_anonymous_volumes(project, monkeypatch):
    (project.dir / "compose.yaml").write_text(textwrap.dedent("""
        services:
          keep:
            image: busybox
            stop_signal: SIGKILL
            command: ["sleep", "600"]
            environment: {V: "${V:-1}"}
            volumes: ["/cache"]
        """))
    assert project("up", "-d").code == 0
    assert project("exec", "-T", "keep", "sh", "-c", "echo kept > /cache/f").code == 0
    monkeypatch.setenv("V", "2")
    assert " Container shop-keep-1  Recreate" in project("up", "-d").err
    assert project("exec", "-T", "keep", "cat", "/cache/f").out == "kept\n"
    assert project("down", "-v").code == 0
    assert project.pallet("volume", "ls", "-q").out == ""  # -v took the anonymous volume


def test_run_overrides_entrypoint_name_volume_and_port(project):
    port = _free_port()
    r = project("run", "--rm", "-T", "--no-deps", "--name", "shop-custom", "--entrypoint", "cat",
                "-v", f"{project.dir / 'site'}:/x", "db", "/x/index.html")
    assert (r.code, r.out) == (0, "hello from the bind mount\n"), r.err
    assert project("run", "-d", "--no-deps", "-p", f"127.0.0.1:{port}:80", "--entrypoint", "httpd",
                   "db", "-f", "-p", "80", "-h", "/etc").code == 0
    assert "root:" in _get(port, "/passwd")
    assert project("ps", "--format", "{{.Name}}").out == ""  # one-off containers: only with -a
    assert project("ps", "-a", "--format", "{{.Service}}").out == "db\n"
    assert project("down", "--remove-orphans", "-t", "0").code == 0


def test_logs_follow_until_the_container_exits_and_exec_options(project):
    (project.dir / "compose.yaml").write_text(textwrap.dedent("""
        services:
          talk:
            image: busybox
            command: ["sh", "-c", "echo first; sleep 2; echo second"]
          idle:
            image: busybox
            stop_signal: SIGKILL
            command: ["sleep", "600"]
        """))
    assert project("up", "-d").code == 0
    followed = project("logs", "-f", "--no-log-prefix", "talk")  # returns once talk has exited
    assert followed.out == "first\nsecond\n"
    assert project("logs", "--tail", "1", "-t", "talk").out.split(" | ")[1].endswith("Z second\n")
    r = project("exec", "-T", "-e", "X=set", "-u", "1000", "-w", "/tmp", "idle", "sh", "-c", "echo $X $(id -u) $PWD")
    assert r.out == "set 1000 /tmp\n"


def test_a_service_in_anothers_network_namespace_follows_its_recreation(project, monkeypatch):
    (project.dir / "compose.yaml").write_text(textwrap.dedent("""
        services:
          host:
            image: busybox
            stop_signal: SIGKILL
            command: ["sleep", "600"]
            environment: {V: "${V:-1}"}
          side:
            image: busybox
            stop_signal: SIGKILL
            command: ["sleep", "600"]
            network_mode: service:host
            depends_on: [host]
        """))
    assert project("up", "-d").code == 0
    monkeypatch.setenv("V", "2")  # changes host only
    r = project("up", "-d")
    assert " Container shop-host-1  Recreate" in r.err and " Container shop-side-1  Recreate" in r.err
    assert project("ps", "--format", "{{.Name}} {{.State}}").lines == ["shop-host-1 running",
                                                                       "shop-side-1 running"]


def test_up_pull_always_pulls_an_image_that_is_already_present(project, registry, docker_config):
    image = f"{registry.host}/shop/word:1"
    (project.dir / "word").mkdir()
    (project.dir / "word" / "Dockerfile").write_text("FROM busybox\nRUN echo from the registry > /word\n")
    project.pallet.ok("build", "-t", image, str(project.dir / "word"))
    project.pallet.ok("push", image)
    project.pallet.ok("tag", "busybox", image)  # the local copy now has no /word
    (project.dir / "compose.yaml").write_text(textwrap.dedent(f"""
        services:
          word:
            image: {image}
            command: ["cat", "/word"]
        """))
    r = project("up", "--pull", "always")
    assert r.code == 0, r.err
    assert "word-1  | from the registry" in r.out


def test_abort_on_container_exit_stops_the_others_and_exits_with_the_first_code(project):
    (project.dir / "compose.yaml").write_text(textwrap.dedent("""
        services:
          should_fail:
            image: busybox
            command: ["ls", "/does_not_exist"]
          sleep:
            image: busybox
            stop_signal: SIGKILL
            command: ["sleep", "600"]
        """))
    r = project("up", "--abort-on-container-exit")
    assert r.code == 1, r.err  # ls's own exit code, as compose returns the first container's
    assert "should_fail-1 exited with code 1" in r.out and "Aborting on container exit..." in r.out
    states = project("ps", "-a", "--format", "{{.Name}} {{.State}}").lines
    assert states == ["shop-should_fail-1 exited", "shop-sleep-1 exited"]


def test_logs_since_and_until_take_timestamps_and_durations(project):
    from datetime import datetime, timedelta
    (project.dir / "compose.yaml").write_text(textwrap.dedent("""
        services:
          talk:
            image: busybox
            stop_signal: SIGKILL
            command: ["sh", "-c", "echo early; sleep 2; echo late; exec sleep 600"]
        """))
    assert project("up", "-d").code == 0
    assert wait_for(lambda: "late" in project("logs", "talk").out, 15)
    stamped = project("logs", "-t", "--no-log-prefix", "talk").lines
    early = datetime.fromisoformat(stamped[0].split()[0][:26].rstrip("Z"))  # to microseconds
    middle = (early + timedelta(seconds=1)).isoformat() + "Z"
    assert project("logs", "--no-log-prefix", "--since", middle, "talk").out == "late\n"
    assert project("logs", "--no-log-prefix", "--until", middle, "talk").out == "early\n"
    assert project("logs", "--no-log-prefix", "--since", "1h", "talk").out == "early\nlate\n"
    assert project("logs", "--no-log-prefix", "--until", "1h", "talk").out == ""


def test_a_profiled_service_starts_only_with_its_profile(project):
    (project.dir / "compose.yaml").write_text(textwrap.dedent("""
        x-fast: &fast
          image: busybox
          stop_signal: SIGKILL
          command: ["sleep", "600"]
        services:
          app: *fast
          debug:
            <<: *fast
            profiles: [debug]
        """))
    assert project("up", "-d").code == 0
    assert project("ps", "--format", "{{.Name}}").lines == ["shop-app-1"]
    assert project("--profile", "debug", "up", "-d").code == 0
    assert project("ps", "--format", "{{.Name}}").lines == ["shop-app-1", "shop-debug-1"]
