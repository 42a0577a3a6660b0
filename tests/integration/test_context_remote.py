"""pallet's CLI under a context (or -H/--host, DOCKER_HOST) that names another engine's socket
drives that engine through the Engine API, as the docker CLI does: here the other engine is
`pallet system service` on a second store, and every effect is checked on that store (its own
`ps`, `images`, ...) and checked absent from the local one. A verb the client does not drive
is refused in one line, exit 1, and never runs against the local store."""
from __future__ import annotations

import os
import time
from types import SimpleNamespace

import pytest

from palletcli import Pallet
from registry_fixtures import docker_config, registry  # noqa: F401 - fixtures
from test_terminal_resize import terminals  # noqa: F401 - fixture

pytestmark = pytest.mark.usefixtures("no_leaks")


@pytest.fixture
def remote(pallet, busybox_tar, tmp_path, docker_config, monkeypatch):  # noqa: F811
    """A second store with busybox, served on its own socket; context "remote" names it."""
    from api_service import ApiService
    monkeypatch.delenv("DOCKER_HOST", raising=False)
    monkeypatch.delenv("DOCKER_CONTEXT", raising=False)
    other = Pallet(tmp_path / "other-root", tmp_path / "other-run")
    other.ok("import", "-c", 'CMD ["sh"]', str(busybox_tar), "busybox:latest")
    service = ApiService(other, tmp_path / "other.sock")
    pallet.ok("context", "create", "remote", "--docker", f"host={service.url}")
    try:
        yield SimpleNamespace(store=other, url=service.url)
    finally:
        ids = other("ps", "-aq", "--no-trunc").lines
        if ids:
            other("rm", "-f", *ids)
        service.stop()


def test_version_and_info_come_from_the_engine_the_context_names(pallet, remote):
    r = pallet.ok("--context", "remote", "version")
    assert f"at {remote.url}" in r.out
    assert pallet.ok("--context", "remote", "version", "--format", "{{.Server.ApiVersion}}").out == "1.50\n"
    assert " Images: 1\n" in pallet.ok("--context", "remote", "info").out
    assert " Images: 0\n" in pallet.ok("info").out


def test_run_detached_then_ps_and_inspect_see_the_other_store_and_not_the_local_one(pallet, remote):
    cid = pallet.ok("--context", "remote", "run", "-d", "--name", "far", "-l", "tier=web",
                    "busybox", "sleep", "60").out.strip()
    assert remote.store.ok("ps", "-q", "--no-trunc").lines == [cid]
    assert pallet.ok("ps", "-aq").lines == []
    r = pallet.ok("--context", "remote", "ps")
    assert r.lines[0].split() == ["CONTAINER", "ID", "IMAGE", "COMMAND", "CREATED", "STATUS", "PORTS", "NAMES"]
    assert r.lines[1].startswith(cid[:12]) and r.lines[1].endswith(" far") and '"sleep 60"' in r.lines[1]
    pallet.ok("--context", "remote", "create", "--name", "idle", "busybox", "true")
    assert pallet.ok("--context", "remote", "ps", "-q").lines == [cid[:12]]
    assert pallet.ok("--context", "remote", "ps", "-a", "--format", "{{.Names}} {{.State}}").lines == \
        ["idle created", "far running"]
    assert pallet.ok("--context", "remote", "ps", "-a", "--filter", "label=tier=web",
                     "--format", "{{.Names}}").out == "far\n"
    r = pallet.ok("--context", "remote", "inspect", "-f", "{{.Name}} {{.State.Running}} {{.Config.Labels.tier}}",
                  "far")
    assert r.out == "/far true web\n"
    r = pallet("--context", "remote", "inspect", "nosuch")
    assert (r.code, r.out, r.err) == (1, "[]\n", "Error: No such object: nosuch\n")


def test_run_rm_streams_stdout_and_stderr_apart_and_exits_with_the_containers_code(pallet, remote):
    r = pallet("--context", "remote", "run", "--rm", "busybox", "sh", "-c", "echo out; echo err >&2; exit 3")
    assert (r.code, r.out, r.err) == (3, "out\n", "err\n")
    assert remote.store.ok("ps", "-aq").lines == []  # --rm: removed over there
    r = pallet("--context", "remote", "run", "busybox", "nosuch-command")
    assert r.code == 127 and "nosuch-command" in r.err


def test_start_stop_kill_rm_act_on_the_remote_containers(pallet, remote):
    ctx = ("--context", "remote")
    pallet.ok(*ctx, "create", "--name", "one", "busybox", "sleep", "60")
    pallet.ok(*ctx, "run", "-d", "--name", "two", "busybox", "sleep", "60")
    assert pallet.ok(*ctx, "start", "one").out == "one\n"
    assert remote.store.ok("inspect", "-f", "{{.State.Running}}", "one").out == "true\n"
    assert pallet.ok(*ctx, "stop", "-t", "1", "one").out == "one\n"
    assert pallet.ok(*ctx, "stop", "one").out == "one\n"  # already stopped: Docker says nothing more
    assert pallet.ok(*ctx, "kill", "two").out == "two\n"
    assert remote.store.ok("inspect", "-f", "{{.State.Status}} {{.State.ExitCode}}", "two").out == "exited 137\n"
    r = pallet(*ctx, "kill", "one")
    assert r.code == 1 and r.err.startswith("Error: ") and "is not running" in r.err
    r = pallet(*ctx, "rm", "one", "nosuch", "two")
    assert (r.code, r.out, r.err) == (1, "one\ntwo\n", "Error: No such container: nosuch\n")
    assert remote.store.ok("ps", "-aq").lines == []


def test_logs_and_logs_follow_read_the_remote_containers_output(pallet, remote):
    ctx = ("--context", "remote")
    pallet.ok(*ctx, "run", "-d", "--name", "talk", "busybox", "sh", "-c",
              "echo one; echo two >&2; sleep 1; echo three")
    r = pallet.ok(*ctx, "logs", "-f", "talk")  # follows until the container exits
    assert (r.out, r.err) == ("one\nthree\n", "two\n")
    assert pallet.ok(*ctx, "logs", "--tail", "1", "talk").out == "three\n"
    stamped = pallet.ok(*ctx, "logs", "-t", "talk").out.splitlines()
    assert stamped[0].endswith("Z one") and stamped[0][:4].isdigit() and len(stamped) == 2
    r = pallet(*ctx, "logs", "nosuch")
    assert (r.code, r.err) == (1, "Error: No such container: nosuch\n")


def test_exec_relays_output_stdin_and_the_exit_code(pallet, remote):
    ctx = ("--context", "remote")
    pallet.ok(*ctx, "run", "-d", "--name", "box", "busybox", "sleep", "60")
    r = pallet(*ctx, "exec", "box", "sh", "-c", "echo out; echo err >&2; exit 4")
    assert (r.code, r.out, r.err) == (4, "out\n", "err\n")
    r = pallet.sub(*ctx, "exec", "-i", "box", "sh", "-c", "cat; echo done", stdin=b"piped\n")
    assert (r.code, r.out) == (0, "piped\ndone\n"), r.err
    pallet.ok(*ctx, "exec", "-d", "box", "touch", "/made-by-exec")
    for _ in range(50):
        if remote.store("exec", "box", "test", "-e", "/made-by-exec").code == 0:
            break
        time.sleep(0.1)
    else:
        raise AssertionError("exec -d did not run in the remote container")


def test_images_tag_and_rmi_act_on_the_remote_store(pallet, remote):
    ctx = ("--context", "remote")
    pallet.ok(*ctx, "tag", "busybox", "mine/bb:v1")
    assert "mine/bb:v1" in remote.store.ok("images", "--format", "{{.Repository}}:{{.Tag}}").lines
    r = pallet.ok(*ctx, "images")
    assert r.lines[0].split() == ["REPOSITORY", "TAG", "IMAGE", "ID", "CREATED", "SIZE"]
    assert [line.split()[:2] for line in r.lines[1:]] == [["busybox", "latest"], ["mine/bb", "v1"]]
    assert pallet.ok(*ctx, "images", "-q").out == remote.store.ok("images", "-q").out
    assert pallet.ok(*ctx, "images", "mine/bb", "--format", "{{.Tag}}").out == "v1\n"
    assert pallet.ok("images", "-q").out == ""
    assert pallet.ok(*ctx, "rmi", "mine/bb:v1").out == "Untagged: mine/bb:v1\n"
    r = pallet(*ctx, "rmi", "nosuch")
    assert (r.code, r.err) == (1, "Error: No such image: nosuch:latest\n")


def test_push_and_pull_through_the_remote_engine_move_its_images(pallet, remote, registry):  # noqa: F811
    name = f"{registry.host}/remote/bb"
    pallet.ok("--context", "remote", "tag", "busybox", name)
    r = pallet.ok("--context", "remote", "push", name)
    assert "Using default tag: latest" in r.out and "latest: digest: sha256:" in r.out
    remote.store.ok("rmi", name)
    r = pallet.ok("--context", "remote", "pull", name)
    assert "Using default tag: latest" in r.out and r.lines[-1] == f"{name}:latest"
    assert f"Status: Downloaded newer image for {name}:latest" in r.out
    assert name in remote.store.ok("images", "--format", "{{.Repository}}").lines
    assert pallet.ok("images", "-q").out == ""
    remote.store.ok("rmi", name)
    r = pallet("--context", "remote", "run", "--rm", name, "echo", "pulled")  # missing: run pulls it
    assert (r.code, r.out) == (0, "pulled\n"), r.err
    assert f"Unable to find image '{name}:latest' locally" in r.err
    r = pallet("--context", "remote", "pull", f"{registry.host}/remote/nosuch")
    assert r.code == 1 and r.err.startswith("Error: ") and len(r.err.splitlines()) == 1


def test_network_and_volume_verbs_act_on_the_remote_store(pallet, remote):
    ctx = ("--context", "remote")
    nid = pallet.ok(*ctx, "network", "create", "--label", "k=v", "far-net").out.strip()
    assert remote.store.ok("network", "inspect", "-f", "{{.Id}} {{.Labels.k}}", "far-net").out == f"{nid} v\n"
    assert "far-net" in pallet.ok(*ctx, "network", "ls", "--format", "{{.Name}}").lines
    assert "far-net" not in pallet.ok("network", "ls", "--format", "{{.Name}}").lines
    assert pallet.ok(*ctx, "network", "rm", "far-net").out == "far-net\n"
    assert "far-net" not in remote.store.ok("network", "ls", "--format", "{{.Name}}").lines
    assert pallet.ok(*ctx, "volume", "create", "--label", "k=v", "far-vol").out == "far-vol\n"
    assert remote.store.ok("volume", "ls", "-q").lines == ["far-vol"]
    assert pallet.ok("volume", "ls", "-q").lines == []
    assert pallet.ok(*ctx, "volume", "ls", "--format", "{{.Name}} {{.Label \"k\"}}").out == "far-vol v\n"
    assert pallet.ok(*ctx, "volume", "inspect", "-f", "{{.Name}}", "far-vol").out == "far-vol\n"
    assert pallet.ok(*ctx, "volume", "rm", "far-vol").out == "far-vol\n"
    assert remote.store.ok("volume", "ls", "-q").lines == []


def test_host_flag_context_and_docker_host_are_chosen_in_docker_clis_order(pallet, remote, monkeypatch):
    remote.store.ok("run", "-d", "--name", "over-there", "busybox", "sleep", "60")
    names = ("ps", "--format", "{{.Names}}")
    assert pallet.ok("-H", remote.url, *names).out == "over-there\n"
    assert pallet.ok("--host", remote.url, *names).out == "over-there\n"
    r = pallet("-H", remote.url, "--context", "remote", "ps")
    assert (r.code, r.err) == (1, "Error: conflicting options: either specify --host or --context, not both\n")
    monkeypatch.setenv("DOCKER_CONTEXT", "remote")
    assert pallet.ok(*names).out == "over-there\n"
    assert pallet.ok("--context", "default", *names).out == ""  # --context beats the environment
    monkeypatch.setenv("DOCKER_HOST", f"unix://{pallet.runroot}/pallet.sock")  # this store's own socket
    assert pallet.ok(*names).out == ""  # DOCKER_HOST beats DOCKER_CONTEXT, and names the local store
    assert pallet.ok("context", "show").out == "default\n"
    monkeypatch.setenv("DOCKER_HOST", remote.url)
    assert pallet.ok(*names).out == "over-there\n"
    monkeypatch.delenv("DOCKER_HOST")
    monkeypatch.delenv("DOCKER_CONTEXT")
    pallet.ok("context", "use", "remote")
    assert pallet.ok(*names).out == "over-there\n"
    pallet.ok("context", "use", "default")
    assert pallet.ok(*names).out == ""


def test_verbs_not_driven_remotely_are_refused_in_one_line_and_never_touch_the_local_store(pallet, busybox,
                                                                                           remote):
    pallet.ok("create", "--name", "local-stopped", "busybox", "true")
    for argv, typed in ((("system", "prune", "-f"), "system prune"), (("container", "update", "--cpus", "1", "local-stopped"), "container update"),
                        (("commit", "local-stopped"), "commit"), (("save", "busybox"), "save"),
                        (("stats", "--no-stream"), "stats")):
        r = pallet("--context", "remote", *argv)
        assert (r.code, r.out) == (1, ""), argv
        assert r.err == (f'Error: "pallet {typed}" is not supported through context "remote" ({remote.url}) '
                         f'by pallet\'s CLI: use "docker --context remote {typed}"\n')
    assert pallet.ok("ps", "-a", "--format", "{{.Names}}").out == "local-stopped\n"
    assert pallet.ok("images", "-q").out.strip() != ""
    pallet.ok("rm", "local-stopped")


def test_an_engine_that_does_not_answer_is_dockers_one_line_exit_1(pallet, docker_config, tmp_path,  # noqa: F811
                                                                   monkeypatch):
    monkeypatch.delenv("DOCKER_HOST", raising=False)
    gone = f"unix://{tmp_path}/nobody.sock"
    pallet.ok("context", "create", "gone", "--docker", f"host={gone}")
    for argv in (("--context", "gone", "ps"), ("-H", gone, "images"), ("-H", "tcp://127.0.0.1:1", "version")):
        r = pallet(*argv)
        host = argv[1]
        assert (r.code, r.out) == (1, ""), argv
        assert r.err == f"Error: Cannot connect to the Docker daemon at {host if host != 'gone' else gone}. " \
                        "Is the docker daemon running?\n"


def test_run_it_and_exec_it_under_a_terminal_follow_its_size_exit_and_detach(pallet, remote, terminals):
    from test_terminal_detach import CTRL_P, CTRL_Q, _detach
    t = terminals(pallet, "--context", "remote", "run", "--rm", "-it", "--name", "tty", "busybox", "sh")
    t.expect("# ")
    assert t.size_in_container() == "24 80"
    t.resize(40, 132)
    time.sleep(0.3)
    assert t.size_in_container() == "40 132"
    t.send("exit 3\r")
    assert t.wait() == 3
    assert remote.store.ok("ps", "-aq").lines == []
    remote.store.ok("run", "-d", "--name", "box", "busybox", "sleep", "60")
    t = terminals(pallet, "--context", "remote", "exec", "-it", "box", "sh")
    t.expect("# ")
    t.send("echo R$((40+2))\r")
    t.expect("R42")
    code, shown = _detach(t, CTRL_P + CTRL_Q)
    assert code == 1 and "read escape sequence" in shown
    t = terminals(pallet, "--context", "remote", "exec", "-it", "box", "sh", "-c", "exit 5")
    assert t.wait() == 5


def test_start_attach_relays_the_output_and_the_exit_code_and_attach_needs_a_running_container(pallet, remote):
    ctx = ("--context", "remote")
    pallet.ok(*ctx, "create", "--name", "once", "busybox", "sh", "-c", "echo hello; exit 2")
    r = pallet(*ctx, "start", "-a", "once")
    assert (r.code, r.out) == (2, "hello\n"), r.err
    r = pallet(*ctx, "attach", "once")
    assert (r.code, r.err) == (1, "Error: You cannot attach to a stopped container, start it first\n")
    pallet.ok(*ctx, "run", "-d", "--name", "ticker", "busybox", "sh", "-c", "sleep 1; echo tick; exit 6")
    r = pallet(*ctx, "attach", "ticker")
    assert (r.code, r.out) == (6, "tick\n"), r.err


def test_build_sends_the_context_less_what_dockerignore_excludes_and_tags_on_the_remote_store(pallet, remote,
                                                                                              tmp_path):
    ctx = tmp_path / "context"
    ctx.mkdir()
    (ctx / "Dockerfile").write_text("FROM busybox\nARG WHO=nobody\nCOPY a.txt /a.txt\nRUN cat /a.txt && echo by-$WHO\n")
    (ctx / "a.txt").write_text("from the context\n")
    (ctx / "secret.txt").write_text("never sent\n")
    (ctx / ".dockerignore").write_text("secret.txt\n")
    outside = tmp_path / "Outside.dockerfile"
    outside.write_text("FROM busybox\nCOPY secret.txt /\n")
    r = pallet("--context", "remote", "build", "--progress", "plain", "-t", "made:1", "--build-arg", "WHO=me",
               str(ctx))
    assert r.code == 0, r.err
    assert "#4 [4/4] RUN cat /a.txt && echo by-$WHO" in r.err and "from the context" in r.err and "by-me" in r.err
    assert remote.store.ok("run", "--rm", "made:1", "cat", "/a.txt").out == "from the context\n"
    assert pallet.ok("images", "-q").out == ""
    r = pallet("--context", "remote", "build", "--progress", "classic", "-t", "made:2", "--build-arg", "WHO=me",
               str(ctx))
    assert r.code == 0 and r.out.endswith("Successfully tagged made:2\n") and " ---> Using cache" in r.out, r.err
    image_id = pallet.ok("--context", "remote", "build", "-q", "--build-arg", "WHO=me", str(ctx)).out.strip()
    assert remote.store.ok("inspect", "-f", "{{.Id}}", "made:1").out.strip() == image_id
    r = pallet("--context", "remote", "build", "--progress", "plain", "-f", str(outside), str(ctx))
    assert r.code == 1 and r.err.endswith("ERROR: failed to solve: COPY failed: file not found in build context "
                                          "or excluded by .dockerignore: stat secret.txt: file does not exist\n")


@pytest.fixture
def tls_service(pallet, busybox_tar, tmp_path):
    """`pallet system service --tlsverify` on tcp://127.0.0.1 for a second store, with a CA that
    signed both its certificate and a client's: (url, directory of ca.crt/client.crt/client.key)."""
    import socket
    import subprocess
    import sys
    from registry_fixtures import make_ca, openssl
    certs = tmp_path / "certs"
    certs.mkdir()
    ca, server_crt, server_key = make_ca(certs)
    openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", str(certs / "client.key"),
            "-out", str(certs / "client.csr"), "-subj", "/CN=client")
    (certs / "client.cnf").write_text("extendedKeyUsage=clientAuth\n")
    openssl("x509", "-req", "-in", str(certs / "client.csr"), "-CA", str(ca), "-CAkey", str(certs / "ca.key"),
            "-CAcreateserial", "-out", str(certs / "client.crt"), "-days", "2", "-extfile", str(certs / "client.cnf"))
    other = Pallet(tmp_path / "tls-root", tmp_path / "tls-run")
    other.ok("import", "-c", 'CMD ["sh"]', str(busybox_tar), "busybox:latest")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"tcp://127.0.0.1:{port}"
    proc = subprocess.Popen([sys.executable, "-m", "pallet.cli.main", "--root", str(other.root), "--runroot",
                             str(other.runroot), "system", "service", "--timeout", "0", "--tlsverify",
                             "--tlscacert", str(ca), "--tlscert", str(server_crt), "--tlskey", str(server_key), url],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert proc.poll() is None and time.monotonic() < deadline, "the TLS service did not listen"
                time.sleep(0.05)
        yield SimpleNamespace(url=url, certs=certs, store=other)
    finally:
        proc.terminate()
        proc.wait(10)


def test_a_tcp_context_with_tls_material_reaches_a_tlsverify_engine(pallet, docker_config, tls_service,  # noqa: F811
                                                                    monkeypatch):
    monkeypatch.delenv("DOCKER_HOST", raising=False)
    monkeypatch.delenv("DOCKER_CONTEXT", raising=False)
    certs = tls_service.certs
    tls_service.store.ok("create", "--name", "behind-tls", "busybox")
    pallet.ok("context", "create", "secure", "--docker",
              f"host={tls_service.url},ca={certs / 'ca.crt'},cert={certs / 'client.crt'},key={certs / 'client.key'}")
    assert pallet.ok("context", "inspect", "-f", "{{json .TLSMaterial}}", "secure").out == \
        '{"docker":["ca.pem","cert.pem","key.pem"]}\n'
    assert pallet.ok("--context", "secure", "ps", "-a", "--format", "{{.Names}}").out == "behind-tls\n"
    pallet.ok("context", "create", "no-client-cert", "--docker", f"host={tls_service.url},ca={certs / 'ca.crt'}")
    r = pallet("--context", "no-client-cert", "ps")
    assert (r.code, r.out) == (1, "") and r.err.startswith("Error: ") and len(r.err.splitlines()) == 1
    for name, source in (("ca.pem", "ca.crt"), ("cert.pem", "client.crt"), ("key.pem", "client.key")):
        (certs / name).write_bytes((certs / source).read_bytes())
    monkeypatch.setenv("DOCKER_TLS_VERIFY", "1")
    monkeypatch.setenv("DOCKER_CERT_PATH", str(certs))
    assert pallet.ok("-H", tls_service.url, "ps", "-a", "--format", "{{.Names}}").out == "behind-tls\n"
    tls_service.store.ok("rm", "behind-tls")
    r = pallet("context", "create", "half", "--docker", f"host={tls_service.url},cert={certs / 'client.crt'}")
    assert (r.code, r.err) == (1, "Error: unable to create docker endpoint config: cert and key must be given "
                                  "together\n")


def test_top_port_history_cp_connect_and_prunes_act_on_the_remote_store(pallet, remote, tmp_path):
    ctx = ("--context", "remote")
    pallet.ok(*ctx, "network", "create", "side")
    pallet.ok(*ctx, "run", "-d", "--name", "srv", "-p", "127.0.0.1::80", "busybox", "sleep", "60")
    assert "sleep 60" in pallet.ok(*ctx, "top", "srv").out
    host_port = remote.store.ok("port", "srv", "80").out
    assert pallet.ok(*ctx, "port", "srv", "80").out == host_port and host_port.startswith("127.0.0.1:")
    assert pallet.ok(*ctx, "history", "-q", "busybox").out == remote.store.ok("history", "-q", "busybox").out
    pallet.ok(*ctx, "exec", "srv", "touch", "/made-here")
    assert "A /made-here" in pallet.ok(*ctx, "diff", "srv").lines
    pallet.ok(*ctx, "exec", "srv", "sh", "-c", "mkdir -p /d/sub && echo one > /d/sub/f && ln -s sub/f /d/link")
    pallet.ok(*ctx, "cp", "srv:/d", str(tmp_path / "copied"))
    assert (tmp_path / "copied" / "sub" / "f").read_text() == "one\n"
    assert os.readlink(tmp_path / "copied" / "link") == "sub/f"
    pallet.ok(*ctx, "cp", "srv:/d/sub/.", str(tmp_path))
    assert (tmp_path / "f").read_text() == "one\n"
    (tmp_path / "up").mkdir()
    (tmp_path / "up" / "g").write_text("two\n")
    pallet.ok(*ctx, "cp", str(tmp_path / "up"), "srv:/d")
    pallet.ok(*ctx, "cp", str(tmp_path / "up" / "g"), "srv:/d/renamed")
    assert remote.store.ok("exec", "srv", "cat", "/d/up/g", "/d/renamed").out == "two\ntwo\n"
    r = pallet(*ctx, "cp", "srv:/nosuch", str(tmp_path))
    assert (r.code, r.err) == (1, "Error: No such container:path: srv:/nosuch\n")
    tar = pallet.ok(*ctx, "cp", "srv:/etc/hostname", "-").out_bytes
    pallet.ok(*ctx, "cp", "-", "srv:/tmp", stdin=tar)
    assert remote.store.ok("exec", "srv", "cat", "/tmp/hostname").out == \
        remote.store.ok("exec", "srv", "cat", "/etc/hostname").out
    exported = pallet.ok(*ctx, "export", "srv").out_bytes
    assert b"made-here" in exported and exported == remote.store.ok("export", "srv").out_bytes
    pallet.ok(*ctx, "network", "connect", "--alias", "api", "side", "srv")
    assert "side" in remote.store.ok("inspect", "-f", "{{json .NetworkSettings.Networks}}", "srv").out
    pallet.ok(*ctx, "network", "disconnect", "side", "srv")
    assert pallet.ok(*ctx, "network", "prune", "-f").out == "Deleted Networks:\nside\n\n"
    idle = pallet.ok(*ctx, "create", "--name", "idle", "busybox", "true").out.strip()
    r = pallet.ok(*ctx, "container", "prune", "-f")
    assert r.lines[:2] == ["Deleted Containers:", idle]
    assert remote.store.ok("ps", "-a", "--format", "{{.Names}}").out == "srv\n"
    pallet.ok(*ctx, "volume", "create", "spare")
    assert pallet.ok(*ctx, "volume", "prune", "-a", "-f").lines[:2] == ["Deleted Volumes:", "spare"]
    pallet.ok(*ctx, "tag", "busybox", "extra:1")
    pallet.ok(*ctx, "rm", "-f", "srv")
    r = pallet.ok(*ctx, "image", "prune", "-a", "-f")
    assert "untagged: busybox:latest" in r.out and "untagged: extra:1" in r.out
    assert remote.store.ok("images", "-q").out == ""
