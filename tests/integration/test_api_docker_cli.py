"""The installed docker CLI (28.x) driving `pallet system service`: Docker's own client
sees pallet as an engine, and what it sees is what `pallet` sees."""
from __future__ import annotations

import json
import os

import pytest

pytestmark = pytest.mark.usefixtures("no_leaks")


def test_docker_version_negotiates_api_1_50_and_shows_the_minimum(api):
    r = api.docker_ok("version", "--format", "{{.Server.APIVersion}} {{.Server.MinAPIVersion}}")
    assert r.out.strip() == "1.50 1.24"


def test_ping_answers_get_and_head_with_the_negotiation_headers(api):
    for method in ("GET", "HEAD"):
        status, headers, body = api.request(method, "/_ping")
        assert status == 200
        assert headers["Api-Version"] == "1.50" and headers["Ostype"] == "linux"
        assert headers["Builder-Version"] == "1" and headers["Docker-Experimental"] == "false"
        assert body == (b"OK" if method == "GET" else b"")


def test_versioned_and_unversioned_paths_answer_alike_and_old_versions_are_refused(api):
    assert api.request("GET", "/v1.24/version")[0] == 200
    assert api.request("GET", "/version")[0] == 200
    status, _, body = api.request("GET", "/v1.12/version")
    assert status == 400
    assert json.loads(body) == {"message": "client version 1.12 is too old. Minimum supported API version "
                                           "is 1.24, please upgrade your client to a newer version"}
    status, _, body = api.request("GET", "/v1.99/containers/json")
    assert (status, json.loads(body)["message"]) == (
        400, "client version 1.99 is too new. Maximum supported API version is 1.50")


def test_docker_run_rm_passes_output_streams_and_exit_code_and_removes_it(api, pallet, busybox):
    r = api.docker("run", "--rm", "busybox", "sh", "-c", "echo out; echo err >&2; exit 3")
    assert (r.code, r.out, r.err) == (3, "out\n", "err\n")
    assert pallet.ok("ps", "-aq").out == ""


def test_docker_run_i_feeds_stdin_and_ends_it_at_eof(api, busybox):
    r = api.docker("run", "-i", "--rm", "busybox", "sh", "-c", "cat; echo done", stdin=b"line1\nline2\n")
    assert (r.code, r.out) == (0, "line1\nline2\ndone\n")


def test_container_run_by_docker_is_in_pallet_ps_and_the_reverse(api, pallet, busybox):
    cid = api.docker_ok("run", "-d", "--name", "web", "busybox", "sleep", "60").out.strip()
    assert pallet.ok("ps", "-q", "--no-trunc").out.split() == [cid]
    pallet.ok("run", "-d", "--name", "db", "busybox", "sleep", "60")
    names = api.docker_ok("ps", "--format", "{{.Names}} {{.Status}}").lines
    assert sorted(n.split()[0] for n in names) == ["db", "web"]
    assert all(" Up " in f" {n} " for n in names)
    doc = json.loads(api.docker_ok("inspect", "web").out)[0]
    assert doc == json.loads(pallet.ok("inspect", "web").out)[0]
    api.docker_ok("stop", "-t", "1", "web", "db")
    assert api.docker_ok("ps", "-a", "--format", "{{.Names}} {{.State}}").lines == ["db exited", "web exited"]
    assert api.docker_ok("rm", "web", "db").lines == ["web", "db"]
    assert pallet.ok("ps", "-aq").out == ""


def test_docker_errors_come_back_in_dockers_words_and_exit_codes(api, busybox):
    r = api.docker("rm", "nosuch")
    assert r.code == 1
    assert r.err.strip() == "Error response from daemon: No such container: nosuch"
    api.docker_ok("create", "--name", "taken", "busybox", "true")
    r = api.docker("run", "--name", "taken", "busybox", "true")
    assert r.code == 125 and "Conflict" in r.err and "is already in use" in r.err
    r = api.docker("run", "--rm", "busybox", "nosuchcommand")
    assert r.code == 127 and 'exec: "nosuchcommand": executable file not found in $PATH' in r.err
    api.docker_ok("rm", "taken")


def test_start_of_a_running_container_is_not_modified_and_stop_of_a_stopped_one_too(api, busybox):
    api.docker_ok("run", "-d", "--name", "sleeper", "busybox", "sleep", "60")
    assert api.request("POST", "/containers/sleeper/start")[0] == 304
    assert api.docker_ok("start", "sleeper").out.strip() == "sleeper"  # docker/cli: 304 is success
    api.docker_ok("kill", "sleeper")  # returns once the process is gone, as dockerd's kill
    assert api.request("POST", "/containers/sleeper/stop")[0] == 304
    api.docker_ok("rm", "sleeper")


def test_malformed_or_wrongly_typed_create_bodies_are_400_never_500(api, busybox):
    status, _, body = api.request("POST", "/containers/create", b"{not json",
                                  {"Content-Type": "application/json"})
    assert status == 400 and json.loads(body)["message"].startswith("invalid JSON")
    status, _, body = api.request("POST", "/containers/create", {"Image": "busybox", "Tty": "yes"})
    assert (status, json.loads(body)["message"]) == (
        400, "json: cannot unmarshal string into Go struct field Config.Tty of type bool")
    status, _, body = api.request("POST", "/containers/create", {"Image": "busybox", "HostConfig": {"Memory": "1g"}})
    assert status == 400
    status, _, _ = api.request("POST", "/containers/create", b"[1, 2]")
    assert status == 400
    assert api.request("GET", "/no/such/endpoint")[0] == 404


def test_docker_wait_returns_the_exit_code_of_the_next_exit(api, busybox):
    api.docker_ok("create", "--name", "waiter", "busybox", "sh", "-c", "sleep 0.3; exit 7")
    api.docker_ok("start", "waiter")
    r = api.docker("wait", "waiter")
    assert (r.code, r.out) == (0, "7\n")
    api.docker_ok("rm", "waiter")


def test_docker_rename_pause_unpause_restart(api, busybox):
    api.docker_ok("run", "-d", "--name", "before", "busybox", "sleep", "60")
    api.docker_ok("rename", "before", "after")
    api.docker_ok("pause", "after")
    assert api.docker_ok("inspect", "-f", "{{.State.Status}}", "after").out.strip() == "paused"
    api.docker_ok("unpause", "after")
    api.docker_ok("restart", "-t", "1", "after")
    assert api.docker_ok("inspect", "-f", "{{.State.Status}}", "after").out.strip() == "running"
    api.docker_ok("rm", "-f", "after")


def test_docker_images_inspect_tag_and_rmi(api, pallet, busybox):
    assert api.docker_ok("images", "--format", "{{.Repository}}:{{.Tag}} {{.ID}}").lines == [
        f"busybox:latest {busybox.split(':')[1][:12]}"]
    assert json.loads(api.docker_ok("image", "inspect", "busybox").out)[0]["Id"] == busybox
    api.docker_ok("tag", "busybox", "localhost/mine:1")
    assert "localhost/mine:1" in pallet.ok("images", "--format", "{{.Repository}}:{{.Tag}}").out
    assert api.docker_ok("rmi", "localhost/mine:1").out.strip() == "Untagged: localhost/mine:1"
    assert api.docker_ok("history", "-q", "busybox").out.strip()


def test_docker_volume_verbs_and_a_volume_mounted_by_docker_run(api, pallet, busybox):
    assert api.docker_ok("volume", "create", "--label", "k=v", "data").out.strip() == "data"
    assert api.docker_ok("volume", "ls", "--format", "{{.Driver}} {{.Name}}").lines == ["local data"]
    r = api.docker("run", "--rm", "-v", "data:/data", "busybox", "sh", "-c", "echo kept > /data/f")
    assert r.code == 0, r.err
    assert pallet.ok("run", "--rm", "-v", "data:/data", "busybox", "cat", "/data/f").out == "kept\n"
    doc = json.loads(api.docker_ok("volume", "inspect", "data").out)[0]
    assert doc == json.loads(pallet.ok("volume", "inspect", "data").out)[0]
    r = api.docker("volume", "rm", "nosuch")
    assert (r.code, r.err) == (1, "Error response from daemon: get nosuch: no such volume\n")
    assert api.docker_ok("volume", "rm", "data").out.strip() == "data"


def test_docker_network_verbs_and_a_container_on_a_user_network(api, pallet, busybox):
    api.docker_ok("network", "create", "appnet")
    assert "appnet" in api.docker_ok("network", "ls", "--format", "{{.Name}}").lines
    api.docker_ok("run", "-d", "--name", "srv", "--network", "appnet", "busybox", "sleep", "60")
    r = api.docker("run", "--rm", "--network", "appnet", "busybox", "ping", "-c", "1", "-W", "2", "srv")
    assert r.code == 0, r.out + r.err
    doc = json.loads(api.docker_ok("network", "inspect", "appnet").out)[0]
    assert [c["Name"] for c in doc["Containers"].values()] == ["srv"]
    r = api.docker("network", "rm", "appnet")
    assert r.code == 1 and "has active endpoints" in r.err
    api.docker_ok("rm", "-f", "srv")
    api.docker_ok("network", "rm", "appnet")


def test_docker_build_with_the_classic_builder_tags_the_image(api, pallet, busybox, tmp_path):
    ctx = tmp_path / "ctx"
    ctx.mkdir()
    (ctx / "greeting").write_text("hi from the context\n")
    (ctx / "Dockerfile").write_text("FROM busybox\nCOPY greeting /greeting\nRUN echo built > /built\n"
                                    'ARG V=none\nLABEL v=$V\nCMD ["cat", "/greeting", "/built"]\n')
    r = api.docker("build", "-t", "localhost/app:1", "--build-arg", "V=one", str(ctx))
    assert r.code == 0, r.err
    assert "Step 2/6 : COPY greeting /greeting" in r.out
    assert "Successfully tagged localhost/app:1" in r.out
    assert pallet.ok("run", "--rm", "localhost/app:1").out == "hi from the context\nbuilt\n"
    assert pallet.ok("image", "inspect", "-f", "{{.Config.Labels.v}}", "localhost/app:1").out == "one\n"
    again = api.docker_ok("build", "-q", "-t", "localhost/app:1", "--build-arg", "V=one", str(ctx))
    assert again.out.strip() == pallet.ok("images", "-q", "--no-trunc", "localhost/app:1").out.strip()
    (ctx / "Dockerfile").write_text("FROM busybox\nRUN exit 3\n")
    r = api.docker("build", str(ctx))
    # dockerd's errorDetail carries the step's exit code; the legacy builder's CLI exits with it
    assert r.code == 3 and "returned a non-zero code: 3" in r.err


def test_docker_cp_both_ways_diff_and_export(api, pallet, busybox, tmp_path):
    api.docker_ok("run", "-d", "--name", "files", "busybox", "sh", "-c", "echo inside > /made; sleep 60")
    (tmp_path / "host.txt").write_text("from host\n")
    api.docker_ok("cp", str(tmp_path / "host.txt"), "files:/tmp/")
    assert pallet.ok("exec", "files", "cat", "/tmp/host.txt").out == "from host\n"
    api.docker_ok("cp", "files:/made", str(tmp_path / "out.txt"))
    assert (tmp_path / "out.txt").read_text() == "inside\n"
    (tmp_path / "dir").mkdir()
    api.docker_ok("cp", "files:/etc", str(tmp_path / "dir"))
    assert (tmp_path / "dir" / "etc" / "hostname").exists()
    r = api.docker("cp", "files:/nosuch", str(tmp_path))
    assert r.code == 1 and "Could not find the file /nosuch in container files" in r.err
    assert "A /made" in api.docker_ok("diff", "files").lines
    export = api.docker("export", "files")
    import io
    import tarfile
    names = tarfile.open(fileobj=io.BytesIO(export.out_bytes)).getnames()
    assert "made" in names and "bin/busybox" in names
    api.docker_ok("rm", "-f", "files")


def test_docker_exec_passes_streams_stdin_and_exit_code(api, pallet, busybox):
    api.docker_ok("run", "-d", "--name", "execd", "busybox", "sleep", "60")
    r = api.docker("exec", "execd", "sh", "-c", "echo out; echo err >&2; exit 4")
    assert (r.code, r.out, r.err) == (4, "out\n", "err\n")
    r = api.docker("exec", "-i", "-e", "V=x", "-w", "/tmp", "execd", "sh", "-c", "cat; echo $V; pwd", stdin=b"in\n")
    assert (r.code, r.out) == (0, "in\nx\n/tmp\n")
    r = api.docker("exec", "execd", "nosuchcommand")
    assert r.code == 127
    assert 'exec: "nosuchcommand": executable file not found in $PATH' in r.out + r.err
    api.docker_ok("exec", "-d", "execd", "sh", "-c", "echo bg > /bg")
    assert pallet.ok("exec", "execd", "sh", "-c", "sleep 0.2; cat /bg").out == "bg\n"
    api.docker_ok("stop", "-t", "0", "execd")
    r = api.docker("exec", "execd", "true")
    assert r.code == 1 and "is not running" in r.err
    api.docker_ok("rm", "execd")


def test_docker_logs_keeps_streams_apart_with_tail_timestamps_and_follow(api, pallet, busybox):
    api.docker_ok("run", "--name", "logged", "busybox", "sh", "-c", "echo one; echo two >&2; echo three")
    r = api.docker_ok("logs", "logged")
    assert (r.out, r.err) == ("one\nthree\n", "two\n")
    last = api.docker_ok("logs", "--tail", "1", "logged")
    assert (last.out + last.err) in ("three\n", "two\n")  # the two pipes are read apart
    stamped = api.docker_ok("logs", "-t", "logged").out.splitlines()
    assert [line.split(" ", 1)[1] for line in stamped] == ["one", "three"]
    assert stamped[0].split(" ")[0].endswith("Z")
    assert pallet.ok("logs", "logged").out == r.out
    api.docker_ok("run", "-d", "--name", "followed", "busybox", "sh", "-c",
                  "for i in 1 2 3; do echo $i; sleep 0.2; done")
    assert api.docker_ok("logs", "-f", "followed").out == "1\n2\n3\n"
    api.docker_ok("rm", "logged", "followed")


def test_docker_save_and_load_round_trip_through_the_service(api, pallet, busybox, tmp_path):
    archive = tmp_path / "bb.tar"
    api.docker_ok("save", "-o", str(archive), "busybox")
    pallet.ok("rmi", "busybox")
    r = api.docker_ok("load", "-i", str(archive))
    assert "Loaded image: busybox:latest" in r.out
    assert pallet.ok("images", "-q", "--no-trunc").out.strip() == busybox
    r = api.docker("save", "nosuch:1")
    assert r.code == 1 and "No such image: nosuch:1" in r.err


def test_docker_top_update_prune_and_info(api, pallet, busybox):
    api.docker_ok("run", "-d", "--name", "topped", "busybox", "sleep", "60")
    top = api.docker_ok("top", "topped").lines
    assert top[0].split()[:2] == ["UID", "PID"] and "sleep 60" in top[1]
    api.docker_ok("update", "--memory", "64m", "--memory-swap", "128m", "topped")
    assert pallet.ok("inspect", "-f", "{{.HostConfig.Memory}}", "topped").out == str(64 << 20) + "\n"
    api.docker_ok("create", "--name", "stopped", "busybox", "true")
    pruned = api.docker_ok("container", "prune", "-f").out
    assert "Total reclaimed space" in pruned and pallet.ok("ps", "-aq").out.count("\n") == 1
    info = json.loads(api.docker_ok("info", "--format", "{{json .}}").out)
    assert (info["Containers"], info["ContainersRunning"], info["Images"]) == (1, 1, 1)
    api.docker_ok("rm", "-f", "topped")


def _docker_in_pty(api, *argv: str):
    """The docker CLI on the slave side of a new pty (as in a terminal emulator)."""
    import pty
    import struct
    import fcntl
    import termios
    pid, fd = pty.fork()
    if pid == 0:
        try:
            os.execvpe("docker", ["docker", *argv], api.env)
        finally:
            os._exit(127)
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 100, 0, 0))
    return pid, fd


def _expect(fd, wanted: bytes, seen: bytearray, timeout: float = 20) -> None:
    import select
    import time
    deadline = time.monotonic() + timeout
    while wanted not in seen:
        left = deadline - time.monotonic()
        assert left > 0, f"never saw {wanted!r}: {bytes(seen[-300:])!r}"
        if select.select([fd], [], [], left)[0]:
            try:
                chunk = os.read(fd, 4096)
            except OSError:
                chunk = b""
            assert chunk, f"docker ended before {wanted!r}: {bytes(seen[-300:])!r}"
            seen += chunk


def test_docker_run_it_and_exec_it_under_a_terminal(api, busybox):
    pid, fd = _docker_in_pty(api, "run", "-it", "--name", "tty", "busybox", "sh")
    seen = bytearray()
    try:
        _expect(fd, b"# ", seen)
        os.write(fd, b"stty size; echo $((6*7))\r")
        _expect(fd, b"42", seen)
        assert b"30 100" in seen
        epid, efd = _docker_in_pty(api, "exec", "-it", "tty", "sh", "-c", "tty; echo exec-$((2+3))")
        eseen = bytearray()
        _expect(efd, b"exec-5", eseen)
        assert b"/dev/pts/" in eseen
        assert os.waitpid(epid, 0)[1] == 0
        os.close(efd)
        os.write(fd, b"exit 3\r")
        _, status = os.waitpid(pid, 0)
        assert os.waitstatus_to_exitcode(status) == 3
    finally:
        os.close(fd)
    api.docker_ok("rm", "tty")


def test_docker_system_df_counts_what_the_store_holds_and_search_without_a_registry_fails(api, busybox):
    api.docker_ok("create", "--name", "dfuser", "-v", "dfvol:/data", "busybox", "true")
    rows = {line.split()[0]: line.split() for line in api.docker_ok("system", "df").lines[1:]}
    assert rows["Images"][1:3] == ["1", "1"]
    assert rows["Containers"][1:3] == ["1", "0"]
    assert rows["Local"][2:4] == ["1", "1"]  # "Local Volumes": total 1, active 1
    r = api.docker("search", "busybox")  # no Docker Hub and no search registry configured
    assert r.code == 1
    assert r.err.startswith('Error response from daemon: Get "https://index.docker.io/v1/search?q=busybox&n=25": ')
    api.docker_ok("rm", "-v", "dfuser")
    api.docker_ok("volume", "rm", "dfvol")


def test_docker_stats_no_stream_shows_the_container_as_pallet_measures_it(api, busybox):
    api.docker_ok("run", "-d", "--name", "st", "-m", "64m", "busybox", "sleep", "60")
    r = api.docker_ok("stats", "--no-stream", "--format", "{{.Name}} {{.MemUsage}} {{.PIDs}}", "st")
    name, usage, pids = r.out.split(" ", 1)[0], r.out.split(" ", 1)[1].rsplit(" ", 1)[0], r.out.split()[-1]
    assert name == "st" and usage.endswith("/ 64MiB") and pids == "1"
    api.docker_ok("rm", "-f", "st")
