"""Containers as Docker users know them: many instances of one image on runc + overlayfs + conmon."""
from __future__ import annotations

import json
import os
import re
import subprocess
import threading
import time

import pytest

from api_service import ALSO_DOCKER
from polling import wait_for as _wait_for

pytestmark = pytest.mark.usefixtures("no_leaks")


def _inspect(pallet, ref) -> dict:
    return json.loads(pallet.ok("inspect", ref).out)[0]


# ---- run: output, exit codes, errors ----

@ALSO_DOCKER
def test_run_prints_output_and_passes_exit_code_through(pallet, busybox):
    r = pallet("run", "--rm", "busybox", "sh", "-c", "echo out; echo err >&2; exit 3")
    assert r.code == 3
    assert r.out == "out\n"
    assert r.err == "err\n"


def test_run_uses_the_image_cmd_when_none_given(pallet, busybox_tar):
    pallet.ok("import", "-c", 'CMD ["echo", "from cmd"]', str(busybox_tar), "echoer")
    assert pallet.ok("run", "--rm", "echoer").out == "from cmd\n"


@ALSO_DOCKER
def test_run_missing_command_exits_127(pallet, busybox):
    r = pallet("run", "--rm", "busybox", "nosuchcommand")
    assert r.code == 127
    assert 'exec: "nosuchcommand": executable file not found in $PATH' in r.err


@ALSO_DOCKER
def test_run_non_executable_command_exits_126(pallet, busybox):
    r = pallet("run", "--rm", "busybox", "/etc/passwd")
    assert r.code == 126
    assert "permission denied" in r.err


def test_run_missing_image_says_unable_to_find_locally_then_pulls(pallet):
    # tests only ever reach loopback: a registry port where nothing listens
    r = pallet("run", "localhost:1/nosuchimage")
    assert r.code == 125
    assert r.err.startswith("Unable to find image 'localhost:1/nosuchimage:latest' locally")
    assert "connection refused" in r.err


def test_run_unknown_flag_exits_125(pallet, busybox):
    r = pallet("run", "--bogus", "busybox")
    assert r.code == 125 and "unknown flag: --bogus" in r.err


def test_run_rejects_env_without_name(pallet, busybox):
    r = pallet("run", "-e", "=x", "busybox", "true")
    assert r.code == 125 and "invalid environment variable: =x" in r.err
    assert pallet.ok("ps", "-aq").out == ""


@ALSO_DOCKER
def test_run_env_workdir_user_hostname_entrypoint(pallet, busybox):
    r = pallet.ok("run", "--rm", "-e", "APP_ENV=production", "-w", "/tmp", "-u", "nobody",
                  "--hostname", "box1", "busybox", "sh", "-c", 'echo $APP_ENV $(pwd) $(id -u) $(hostname)')
    assert r.out == "production /tmp 65534 box1\n"
    r = pallet.ok("run", "--rm", "--entrypoint", "echo", "busybox", "via", "entrypoint")
    assert r.out == "via entrypoint\n"


@ALSO_DOCKER
def test_run_read_only_rootfs_refuses_writes(pallet, busybox):
    r = pallet("run", "--rm", "--read-only", "busybox", "touch", "/x")
    assert r.code == 1 and "Read-only file system" in r.err


@ALSO_DOCKER
def test_run_tmpfs_is_writable_on_read_only_root(pallet, busybox):
    pallet.ok("run", "--rm", "--read-only", "--tmpfs", "/scratch", "busybox", "touch", "/scratch/x")


def _mount_line(pallet, flags, target) -> list[str]:
    line = pallet.ok("run", "--rm", *flags, "busybox", "grep", f" {target} ", "/proc/mounts").out.split()
    return line[3].split(",")


def test_tmpfs_options_are_dockers_defaults_then_the_users(pallet, busybox):
    assert {"nosuid", "nodev", "noexec"} <= set(_mount_line(pallet, ["--tmpfs", "/t"], "/t"))
    opts = _mount_line(pallet, ["--tmpfs", "/t:size=1m,mode=700,exec"], "/t")
    assert "size=1024k" in opts and "mode=700" in opts and "noexec" not in opts
    for bad, words in (("/t:bogus", 'Invalid tmpfs option ["bogus"]'),
                       ("/t:foo=1", 'Invalid tmpfs option ["foo" "1"]')):
        r = pallet("run", "--rm", "--tmpfs", bad, "busybox", "true")
        assert r.code == 125 and words in r.err, r.err


@ALSO_DOCKER
def test_shm_size_sizes_dev_shm_and_defaults_to_64mb(pallet, busybox):
    assert "size=1024k" in _mount_line(pallet, ["--shm-size", "1m"], "/dev/shm")
    assert "size=65536k" in _mount_line(pallet, [], "/dev/shm")
    pallet.ok("create", "--name", "shm", "busybox", "true")
    assert pallet.ok("inspect", "-f", "{{.HostConfig.ShmSize}}", "shm").out == "67108864\n"
    r = pallet("run", "--rm", "--shm-size", "x", "busybox", "true")
    assert r.code == 125 and 'invalid argument "x" for "--shm-size" flag: invalid size: \'x\'' in r.err


@ALSO_DOCKER
def test_network_none_has_only_loopback_and_host_shares_the_host(pallet, busybox):
    r = pallet.ok("run", "--rm", "--network", "none", "busybox", "ls", "/sys/class/net")
    assert r.out.split() == ["lo"]
    before = set(os.listdir("/sys/class/net"))
    r = pallet.ok("run", "--rm", "--network", "host", "busybox", "ls", "/sys/class/net")
    after = set(os.listdir("/sys/class/net"))
    # the host's interfaces, as they were while it ran (other containers' veths come and go)
    assert before & after <= set(r.out.split()) <= before | after


# ---- detached containers, ps, many instances of one image ----

@ALSO_DOCKER
def test_run_detached_prints_id_and_ps_shows_it_up(pallet, busybox):
    cid = pallet.ok("run", "-d", "--name", "web", "busybox", "sleep", "1000").out.strip()
    assert re.fullmatch(r"[0-9a-f]{64}", cid)
    r = pallet.ok("ps")
    assert r.lines[0].split() == ["CONTAINER", "ID", "IMAGE", "COMMAND", "CREATED", "STATUS", "PORTS", "NAMES"]
    row = r.lines[1]
    assert row.startswith(cid[:12]) and "busybox" in row and '"sleep 1000"' in row
    assert "Up " in row and row.endswith("web")


def test_detached_container_outlives_the_cli_process(pallet, busybox):
    r = pallet.sub("run", "-d", "--name", "bg", "busybox", "sleep", "1000", check=True)
    assert r.code == 0
    assert pallet.ok("inspect", "--format", "{{.State.Status}}", "bg").out == "running\n"


@ALSO_DOCKER
def test_many_containers_from_one_image_see_only_their_own_writes(pallet, busybox):
    for name in ("one", "two"):
        pallet.ok("run", "-d", "--name", name, "busybox", "sh", "-c", f"echo {name} > /data; sleep 1000")
    assert _wait_for(lambda: pallet("exec", "one", "cat", "/data").out == "one\n")
    assert _wait_for(lambda: pallet("exec", "two", "cat", "/data").out == "two\n")
    r = pallet("run", "--rm", "busybox", "cat", "/data")
    assert r.code == 1, "the image itself must be unchanged"
    layer = next(p for p in (pallet.root / "layers").iterdir() if not p.name.startswith("."))
    assert not (layer / "diff" / "data").exists()


def test_containers_cost_no_disk_beyond_their_writes(pallet, busybox):
    ids = [pallet.ok("create", "busybox", "true").out.strip() for _ in range(5)]
    for cid in ids:
        upper = pallet.root / "containers" / cid / "upper"
        assert upper.is_dir() and list(upper.iterdir()) == []


@ALSO_DOCKER
def test_ps_all_shows_exited_and_created(pallet, busybox):
    pallet.ok("run", "--name", "done", "busybox", "true")
    pallet.ok("create", "--name", "fresh", "busybox", "true")
    assert pallet.ok("ps", "-q").out == ""
    rows = {line.split()[-1]: line for line in pallet.ok("ps", "-a").lines[1:]}
    assert re.search(r"Exited \(0\) (Less than a second|\d+ seconds?) ago", rows["done"])
    assert "Created" in rows["fresh"]


@ALSO_DOCKER
def test_ps_filters_and_format(pallet, busybox):
    pallet.ok("run", "-d", "--name", "up1", "-l", "tier=web", "busybox", "sleep", "1000")
    assert pallet("run", "--name", "bad", "busybox", "sh", "-c", "exit 2").code == 2
    fmt = ["--format", "{{.Names}}"]
    assert pallet.ok("ps", "-a", "--filter", "status=exited", *fmt).lines == ["bad"]
    assert pallet.ok("ps", "-a", "--filter", "exited=2", *fmt).lines == ["bad"]
    assert pallet.ok("ps", "--filter", "label=tier=web", *fmt).lines == ["up1"]
    assert pallet.ok("ps", "-a", "--filter", "name=up", *fmt).lines == ["up1"]
    assert pallet.ok("ps", "-a", "--filter", "ancestor=busybox", *fmt).lines == ["bad", "up1"]
    assert pallet.ok("ps", "-l", *fmt).lines == ["bad"]
    assert pallet.ok("ps", "-a", "-n", "1", *fmt).lines == ["bad"]
    assert pallet.ok("ps", "--format", '{{.Label "tier"}}').lines == ["web"]


def test_ps_format_with_an_unknown_field_fails_even_with_nothing_to_list(pallet, busybox):
    # docker/cli executes the template on an empty ContainerContext before it lists anything
    for fmt, words in (("{{.Nope}}", 'failed to execute template: template: :1:2: executing "" at '
                                     "<.Nope>: can't evaluate field Nope in type *formatter.ContainerContext"),
                       ("table {{.Nope}}", "template: :1:8: executing"),
                       ("{{.Names", "failed to parse template: template: :1: unclosed action")):
        r = pallet("ps", "-a", "--format", fmt)
        assert r.code == 1 and words in r.err and r.out == "", (fmt, r.err)
    pallet.ok("run", "--name", "there", "busybox", "true")
    assert pallet("ps", "-a", "--format", "{{.Nope}}").code == 1
    assert pallet.ok("ps", "-a", "--format", "{{.Names}} {{.State}}").lines == ["there exited"]


# ---- stop, kill, restart, wait, rm, rename ----

@ALSO_DOCKER
def test_stop_sends_sigterm_then_sigkill_after_timeout(pallet, busybox):
    pallet.ok("run", "-d", "--name", "stubborn", "busybox", "sh", "-c", "trap '' TERM; sleep 1000 & wait")
    t0 = time.monotonic()
    assert pallet.ok("stop", "-t", "1", "stubborn").out == "stubborn\n"
    assert time.monotonic() - t0 < 8
    assert _inspect(pallet, "stubborn")["State"]["ExitCode"] == 137


# pallet only (not ALSO_DOCKER): the docker CLI (28.2, through the API) printed no deprecation warning for --time
def test_stop_and_restart_take_timeout_as_docker_cli_28_spells_it(pallet, busybox):
    pallet.ok("run", "-d", "--name", "sleeper", "busybox", "sleep", "1000")  # pid 1 ignores SIGTERM
    assert pallet.ok("stop", "--timeout=0", "sleeper").out == "sleeper\n"
    assert _inspect(pallet, "sleeper")["State"]["ExitCode"] == 137
    assert pallet.ok("restart", "--timeout", "0", "sleeper").out == "sleeper\n"
    assert _inspect(pallet, "sleeper")["State"]["Running"]
    r = pallet.ok("stop", "--time", "0", "sleeper")  # the old spelling still works, with cobra's notice
    assert r.err == "Flag --time has been deprecated, use --timeout instead\n"
    help_text = pallet.ok("stop", "--help").out
    assert "-t, --timeout int" in help_text and "--time " not in help_text


def test_stop_of_a_process_that_handles_sigterm_exits_143_with_init(pallet, busybox):
    pallet.ok("run", "-d", "--init", "--name", "polite", "busybox", "sleep", "1000")
    pallet.ok("stop", "polite")
    state = _inspect(pallet, "polite")["State"]
    assert state["Status"] == "exited" and state["ExitCode"] == 143


@ALSO_DOCKER
def test_kill_and_wait_report_exit_code(pallet, busybox):
    pallet.ok("run", "-d", "--name", "killed", "busybox", "sleep", "1000")
    assert pallet.ok("kill", "killed").out == "killed\n"
    assert pallet.ok("wait", "killed").out == "137\n"


@ALSO_DOCKER
def test_restart_runs_the_container_again(pallet, busybox):
    pallet.ok("run", "-d", "--name", "again", "busybox", "sleep", "1000")
    first = _inspect(pallet, "again")["State"]["Pid"]
    pallet.ok("restart", "-t", "0", "again")
    state = _inspect(pallet, "again")["State"]
    assert state["Running"] and state["Pid"] != first


@ALSO_DOCKER
def test_start_of_an_exited_container_keeps_its_writable_layer(pallet, busybox):
    pallet.ok("run", "--name", "keep", "busybox", "sh", "-c", "echo kept >> /f")
    pallet.ok("start", "-a", "keep")
    r = pallet.ok("start", "-a", "keep")
    assert r.code == 0
    assert (pallet.root / "containers" / _inspect(pallet, "keep")["Id"] / "upper" / "f").read_text() == "kept\n" * 3


@ALSO_DOCKER
def test_rm_of_running_container_needs_force(pallet, busybox):
    pallet.ok("run", "-d", "--name", "busy", "busybox", "sleep", "1000")
    r = pallet("rm", "busy")
    assert r.code == 1
    assert 'cannot remove container "/busy": container is running' in r.err
    assert pallet.ok("rm", "-f", "busy").out == "busy\n"
    assert pallet.ok("ps", "-aq").out == ""


@ALSO_DOCKER
def test_rm_deletes_the_writable_layer(pallet, busybox):
    cid = pallet.ok("run", "-d", "busybox", "sh", "-c", "echo x > /f; sleep 1000").out.strip()
    pallet.ok("rm", "-f", cid)
    assert not (pallet.root / "containers" / cid).exists()


def test_rm_unknown_container_exits_1(pallet):
    r = pallet("rm", "nosuch")
    assert r.code == 1 and r.err.strip() == f"{pallet.error_prefix}No such container: nosuch"


@ALSO_DOCKER
def test_leading_slashes_before_a_name_are_all_dropped(pallet, busybox):
    """What Docker's users see: moby's GetContainer drops one '/', but its router (gorilla/mux,
    no SkipClean) first cleans /containers//foo/stop to /containers/foo/stop and redirects, so
    `//foo` is foo and `//nosuch` is reported as nosuch (checked against dockerd with docker
    CLI 28.2.2)."""
    pallet.ok("create", "--name", "slashed", "busybox", "sleep", "1000")
    assert pallet.ok("start", "//slashed").out == "//slashed\n"
    assert pallet.ok("inspect", "-f", "{{.Name}}", "///slashed").out == "/slashed\n"
    r = pallet("stop", "//nosuch")
    assert r.code == 1 and r.err == f"{pallet.error_prefix}No such container: nosuch\n"
    r = pallet("kill", "//nosuch")
    assert r.code == 1 and r.err == f"{pallet.error_prefix}Cannot kill container: nosuch: No such container: nosuch\n"
    assert pallet.ok("rm", "-f", "/slashed").out == "/slashed\n"


@ALSO_DOCKER
def test_name_in_use_is_a_conflict(pallet, busybox):
    pallet.ok("create", "--name", "dup", "busybox", "true")
    r = pallet("run", "--name", "dup", "busybox", "true")
    assert r.code == 125
    assert 'Conflict. The container name "/dup" is already in use by container' in r.err


def test_two_concurrent_runs_with_one_name_exactly_one_wins(pallet, busybox):
    results = []

    def go():
        results.append(pallet.sub("run", "-d", "--name", "race", "busybox", "sleep", "1000").code)
    threads = [threading.Thread(target=go) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [0, 125, 125]
    assert pallet.ok("ps", "-a", "--format", "{{.Names}}").lines == ["race"]


@ALSO_DOCKER
def test_rename(pallet, busybox):
    pallet.ok("create", "--name", "old", "busybox", "true")
    pallet.ok("rename", "old", "new")
    assert pallet.ok("ps", "-a", "--format", "{{.Names}}").lines == ["new"]


@ALSO_DOCKER
def test_a_one_character_name_is_refused_by_create_run_and_rename(pallet, busybox):
    # moby's pattern is [a-zA-Z0-9][a-zA-Z0-9_.-]+: a name needs at least two characters
    words = "Invalid container name (a), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed"
    r = pallet("run", "--name", "a", "busybox", "true")
    assert r.code == 125 and words in r.err
    # the docker CLI passes the daemon's refusal of a create on with exit 1; pallet's create exits 125
    r = pallet("create", "--name", "a", "busybox", "true")
    assert r.code == (1 if hasattr(pallet, "native") else 125) and words in r.err
    assert pallet.ok("ps", "-aq").out == ""  # nothing was created
    pallet.ok("create", "--name", "ab", "busybox", "true")  # two characters are enough
    r = pallet("rename", "ab", "a")  # moby's rename checks it as "/a"
    assert r.code == 1 and r.err.splitlines() == [
        f"{pallet.error_prefix}Error when allocating new name: {words.replace('(a)', '(/a)')}",
        "Error: failed to rename container named ab"]
    assert pallet.ok("ps", "-a", "--format", "{{.Names}}").lines == ["ab"]


@ALSO_DOCKER
def test_a_name_given_with_one_leading_slash_is_the_name_without_it(pallet, busybox):
    # moby's reserveName checks a name without one leading '/' and stores it as "/foo"
    pallet.ok("create", "--name", "/foo", "busybox", "true")
    assert pallet.ok("ps", "-a", "--format", "{{.Names}}").lines == ["foo"]
    assert pallet.ok("inspect", "-f", "{{.Name}}", "foo").out == "/foo\n"
    r = pallet("create", "--name", "foo", "busybox", "true")
    assert r.code != 0 and 'The container name "/foo" is already in use' in r.err
    # moby's ContainerRename makes the new name "/bar" before reserveName checks it
    pallet.ok("rename", "foo", "/bar")
    assert pallet.ok("inspect", "-f", "{{.Name}}", "bar").out == "/bar\n"


@ALSO_DOCKER
def test_a_slash_anywhere_else_in_a_name_is_refused_in_one_line(pallet, busybox):
    for name in ("//foo", "/", "/foo/bar", "../x"):
        r = pallet("run", "--name", name, "busybox", "true")
        assert r.code == 125 and "Traceback" not in r.err, (name, r.err)
        assert f"Invalid container name ({name}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed\n" in r.err
    pallet.ok("create", "--name", "kept", "busybox", "true")
    # rename quotes the name as moby's reserveName saw it, '/' added; "/" alone is no name
    for name, words in (("x/y", "Error when allocating new name: Invalid container name (/x/y), only "
                                 "[a-zA-Z0-9][a-zA-Z0-9_.-] are allowed"),
                        ("//x", "Error when allocating new name: Invalid container name (//x), only "
                                "[a-zA-Z0-9][a-zA-Z0-9_.-] are allowed"),
                        ("/", "Neither old nor new names may be empty")):
        r = pallet("rename", "kept", name)
        assert r.code == 1 and r.err.splitlines() == [f"{pallet.error_prefix}{words}",
                                                      "Error: failed to rename container named kept"]
    r = pallet("rename", "kept", " ")  # docker/cli refuses it before asking the daemon
    assert (r.code, r.err) == (1, "Error: Neither old nor new names may be empty\n")
    assert pallet.ok("ps", "-a", "--format", "{{.Names}}").lines == ["kept"]


@ALSO_DOCKER
def test_run_rm_detached_is_removed_after_exit_without_the_cli(pallet, busybox):
    pallet.sub("run", "-d", "--rm", "--name", "gone", "busybox", "true", check=True)
    assert _wait_for(lambda: pallet.ok("ps", "-aq").out == "")


@ALSO_DOCKER
def test_pause_and_unpause(pallet, busybox):
    pallet.ok("run", "-d", "--name", "paused", "busybox", "sleep", "1000")
    pallet.ok("pause", "paused")
    assert "(Paused)" in pallet.ok("ps").lines[1]
    assert _inspect(pallet, "paused")["State"]["Status"] == "paused"
    pallet.ok("unpause", "paused")
    assert _inspect(pallet, "paused")["State"]["Status"] == "running"


@ALSO_DOCKER
def test_rename_to_a_name_that_begins_another_containers_id_is_no_conflict(pallet, busybox):
    # names are names: an ID that happens to start with the new name does not hold it
    cid = pallet.ok("run", "-d", "--name", "first", "busybox", "sleep", "1000").out.strip()
    pallet.ok("rename", "first", cid[:2])
    assert pallet.ok("inspect", "-f", "{{.Name}}", cid).out == f"/{cid[:2]}\n"
    r = pallet("rename", cid[:2], cid[:2])
    assert r.code == 1 and "Renaming a container with the same name as its current name\n" in r.err


@ALSO_DOCKER
def test_kill_and_rm_f_of_a_paused_container_end_it(pallet, busybox):
    # a frozen process dies only once thawed: Docker (and runc) thaw it after the SIGKILL
    for name in ("pk", "pr"):
        pallet.ok("run", "-d", "--name", name, "busybox", "sleep", "1000")
        pallet.ok("pause", name)
    pallet.ok("kill", "pk")
    assert pallet.sub("wait", "pk", timeout=10).out == "137\n"
    pallet.ok("rm", "-f", "pr")
    assert pallet.ok("ps", "-a", "--format", "{{.Names}}").out == "pk\n"


# ---- exec, logs, inspect ----

@ALSO_DOCKER
def test_exec_passes_exit_code_env_workdir_and_user(pallet, busybox):
    pallet.ok("run", "-d", "--name", "ex", "busybox", "sleep", "1000")
    assert pallet("exec", "ex", "sh", "-c", "exit 7").code == 7
    r = pallet.ok("exec", "-e", "X=1", "-w", "/etc", "-u", "nobody", "ex", "sh", "-c", "echo $X $(pwd) $(id -u)")
    assert r.out == "1 /etc 65534\n"


# pallet only (not ALSO_DOCKER): dockerd writes an exec start error into the stream's stdout (with \r\n), so the docker CLI prints it on stdout
def test_exec_that_cannot_start_exits_126_with_dockers_words(pallet, busybox):
    pallet.ok("run", "-d", "--name", "ex3", "busybox", "sleep", "1000")
    r = pallet("exec", "-u", "nosuch", "ex3", "true")
    assert r.code == 126 and "unable to find user nosuch: no matching entries in passwd file" in r.err
    r = pallet("exec", "-w", "relative", "ex3", "pwd")
    assert r.code == 126 and "OCI runtime exec failed: exec failed: Cwd must be an absolute path" in r.err


@ALSO_DOCKER
def test_process_groups_are_dockers_primary_group_memberships_and_group_add(pallet, busybox):
    assert pallet.ok("run", "--rm", "busybox", "id").out == "uid=0(root) gid=0(root) groups=0(root)\n"
    assert pallet.ok("run", "--rm", "-u", "1234:5678", "busybox", "id").out == (
        "uid=1234 gid=5678 groups=5678\n")
    assert pallet.ok("run", "--rm", "--group-add", "10", "busybox", "id", "-G").out == "0 10\n"
    r = pallet("run", "--rm", "--group-add", "nosuch", "busybox", "true")
    assert r.code == 125 and "Unable to find group nosuch: no matching entries in group file" in r.err
    pallet.ok("run", "-d", "--name", "grp", "--group-add", "10", "busybox", "sleep", "1000")
    assert pallet.ok("exec", "grp", "id", "-G").out == "0 10\n"
    # another user gets its own groups (and --group-add), never the container user's
    assert pallet.ok("exec", "-u", "1234:5678", "grp", "id", "-G").out.split() == ["5678", "10"]


def test_process_env_has_dockers_hostname_and_a_tty_gets_term(pallet, busybox):
    env = pallet.ok("run", "--rm", "--hostname", "box", "busybox", "env").lines
    assert "HOSTNAME=box" in env and not any(e.startswith("TERM=") for e in env)
    r = pallet.ok("run", "--rm", "-t", "busybox", "sh", "-c", "echo $TERM")
    assert r.out.strip() == "xterm"
    r = pallet.ok("run", "--rm", "-t", "-e", "TERM=vt100", "busybox", "sh", "-c", "echo $TERM")
    assert r.out.strip() == "vt100"


def test_exec_in_stopped_container_fails(pallet, busybox):
    pallet.ok("create", "--name", "idle", "busybox", "true")
    r = pallet("exec", "idle", "true")
    assert r.code == 1 and "is not running" in r.err


@ALSO_DOCKER
def test_exec_missing_command_exits_127(pallet, busybox):
    pallet.ok("run", "-d", "--name", "ex2", "busybox", "sleep", "1000")
    assert pallet("exec", "ex2", "nosuch").code == 127


@ALSO_DOCKER
def test_logs_keep_stdout_and_stderr_apart_and_tail(pallet, busybox):
    pallet.ok("run", "--name", "talk", "busybox", "sh", "-c", "echo one; echo two >&2; echo three")
    r = pallet.ok("logs", "talk")
    assert r.out == "one\nthree\n" and r.err == "two\n"
    pallet.ok("run", "--name", "count", "busybox", "sh", "-c", "echo 1; echo 2; echo 3")
    assert pallet.ok("logs", "--tail", "2", "count").out == "2\n3\n"
    stamped = pallet.ok("logs", "-t", "talk").lines[0]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z one", stamped)


@ALSO_DOCKER
def test_logs_survive_the_cli_and_follow_ends_with_the_container(pallet, busybox):
    pallet.sub("run", "-d", "--name", "follower", "busybox", "sh", "-c", "echo a; sleep 1; echo b", check=True)
    r = pallet.sub("logs", "-f", "follower", timeout=20)
    assert r.out == "a\nb\n"


@ALSO_DOCKER
def test_inspect_container_has_docker_fields(pallet, busybox):
    cid = pallet.ok("run", "-d", "--name", "ins", "-e", "K=V", "-l", "a=b", "busybox", "sleep", "1000").out.strip()
    doc = _inspect(pallet, "ins")
    assert doc["Id"] == cid and doc["Name"] == "/ins"
    assert doc["State"]["Status"] == "running" and doc["State"]["Running"] is True
    assert doc["State"]["Pid"] > 0 and doc["State"]["OOMKilled"] is False
    assert "K=V" in doc["Config"]["Env"] and doc["Config"]["Labels"]["a"] == "b"
    assert doc["Path"] == "sleep" and doc["Args"] == ["1000"]
    assert doc["HostConfig"]["NetworkMode"] == "bridge"  # the default network, as in Docker
    assert pallet.ok("inspect", "-f", "{{.State.Running}} {{.Config.Image}}", "ins").out == "true busybox\n"


@ALSO_DOCKER
def test_rmi_refuses_image_used_by_stopped_container(pallet, busybox):
    cid = pallet.ok("create", "busybox", "true").out.strip()
    r = pallet("rmi", "busybox")
    assert r.code == 1
    assert f"container {cid[:12]} is using its referenced image {busybox[7:19]}" in r.err
    r = pallet.ok("rmi", "-f", "busybox")
    assert r.lines == ["Untagged: busybox:latest"]
    pallet.ok("start", "-a", cid)  # the container still has its image


def test_containers_show_exited_after_a_reboot_and_start_again(pallet, busybox):
    pallet.ok("run", "-d", "--name", "survivor", "busybox", "sleep", "1000")
    pid = _inspect(pallet, "survivor")["State"]["Pid"]
    # a reboot: every process dies, the volatile runroot is wiped
    subprocess.run(["pkill", "-9", "-f", f"conmon.*{pallet.runroot}"])
    os.kill(pid, 9)
    time.sleep(0.3)
    subprocess.run(["umount", "-R", "-l", str(pallet.runroot)], capture_output=True)
    for line in open("/proc/self/mountinfo").read().splitlines():
        if str(pallet.runroot) in line:
            subprocess.run(["umount", "-l", line.split()[4]])
    subprocess.run(["rm", "-rf", str(pallet.runroot)])
    assert "Exited" in pallet.ok("ps", "-a", "--format", "{{.Status}}").out
    pallet.ok("start", "survivor")
    assert _inspect(pallet, "survivor")["State"]["Running"] is True


# ---- Docker's words when a verb cannot do what it was asked (checked against docker 28 + dockerd 20.10) ----

@ALSO_DOCKER
def test_many_container_verbs_report_each_failure_then_docker_summary(pallet, busybox):
    r = pallet("start", "nosuch", "nosuch2")
    assert r.code == 1 and r.err.splitlines() == [
        f"{pallet.error_prefix}No such container: nosuch", f"{pallet.error_prefix}No such container: nosuch2",
        "Error: failed to start containers: nosuch, nosuch2"]
    r = pallet("kill", "nosuch")
    assert r.code == 1 and r.err == f"{pallet.error_prefix}Cannot kill container: nosuch: No such container: nosuch\n"


@ALSO_DOCKER
def test_rename_pause_and_port_refusals_in_dockers_words(pallet, busybox):
    cid = pallet.ok("run", "-d", "--name", "worker", "busybox", "sleep", "1000").out.strip()
    r = pallet("rename", "worker", "worker")
    assert r.code == 1 and r.err.splitlines() == [
        f"{pallet.error_prefix}Renaming a container with the same name as its current name",
        "Error: failed to rename container named worker"]
    pallet.ok("pause", "worker")
    assert pallet("pause", "worker").err == f"{pallet.error_prefix}Container {cid} is already paused\n"
    assert pallet("exec", "worker", "true").err == (
        f"{pallet.error_prefix}Container worker is paused, unpause the container before exec\n")
    pallet.ok("unpause", "worker")
    assert pallet("unpause", "worker").err == f"{pallet.error_prefix}Container {cid} is not paused\n"
    assert pallet("port", "worker", "80").err == "Error: No public port '80' published for worker\n"


@ALSO_DOCKER
def test_logs_flag_values_as_docker_reads_them(pallet, busybox):
    pallet.ok("run", "--name", "logged", "busybox", "sh", "-c", "echo 1; echo 2")
    assert pallet.ok("logs", "--tail", "x", "logged").out == "1\n2\n"  # an unreadable --tail shows all
    r = pallet("logs", "--since", "bogus", "logged")
    assert r.code == 1 and 'invalid value for "since": failed to parse value as time or duration: "bogus"' in r.err


def test_create_refusals_in_dockers_words(pallet, busybox):
    for flags, words in ((["--cap-add", "NOSUCH"], 'invalid CapAdd: unknown capability: "CAP_NOSUCH"'),
                         (["--cap-drop", "bogus"], 'invalid CapDrop: unknown capability: "CAP_BOGUS"'),
                         (["--log-opt", "max-size=abc"], "failed to initialize logging driver: invalid size: 'abc'"),
                         (["-e", "=x"], 'invalid argument "=x" for "-e, --env" flag: invalid environment variable: =x'),
                         (["--entrypoint", ""], "No command specified")):
        r = pallet("run", "--rm", *flags, "busybox")
        assert r.code == 125 and words in r.err, (flags, r.err)
    assert pallet.ok("ps", "-aq").out == ""


@ALSO_DOCKER
def test_inspect_prints_dockers_empty_list_and_refuses_missing_keys(pallet, busybox):
    r = pallet("inspect", "nosuch")
    assert r.code == 1 and r.out == "[]\n" and r.err == "Error: No such object: nosuch\n"
    r = pallet("inspect", "-f", "{{.Id}}", "nosuch")
    assert r.code == 1 and r.out == "\n"
    r = pallet("inspect", "-f", "{{.Nope}}", "busybox")
    assert r.code == 1 and r.err == ('template parsing error: template: :1:2: executing "" at <.Nope>: '
                                     'map has no entry for key "Nope"\n')
    r = pallet.ok("inspect", "--format", "json", "busybox")
    assert json.loads(r.out)[0]["Id"].startswith("sha256:") and r.out.count("\n") == 1


def test_inspect_records_what_dockers_daemon_stores(pallet, busybox):
    pallet.ok("create", "--name", "rec", "--cap-add", "net_admin", "--cap-drop", "CAP_CHOWN",
              "-m", "64m", "-e", "A=1", "busybox", "true")
    host = json.loads(pallet.ok("inspect", "rec").out)[0]["HostConfig"]
    assert host["CapAdd"] == ["CAP_NET_ADMIN"] and host["CapDrop"] == ["CAP_CHOWN"]
    assert host["MemorySwap"] == 2 * host["Memory"] == 2 * 64 * 1024 * 1024
    # the image has no Env: Config.Env holds the user's alone (PATH is the process's default)
    env = pallet.ok("inspect", "-f", "{{json .Config.Env}}", "rec").out
    assert json.loads(env) == ["A=1"]
    assert "PATH=/usr/local/sbin" in pallet.ok("run", "--rm", "busybox", "env").out


@ALSO_DOCKER
def test_ps_size_shows_what_the_container_wrote_and_the_virtual_total(pallet, busybox):
    pallet.ok("run", "--name", "sz", "busybox", "dd", "if=/dev/zero", "of=/f", "bs=1k", "count=10")
    table = pallet.ok("ps", "-a", "-s").lines
    assert table[0].split()[-1] == "SIZE" and "10.2kB (virtual " in table[1]
    # a --format reading .Size gets sizes without -s, as docker/cli's template pre-pass asks for them
    assert pallet.ok("ps", "-a", "--format", "{{.Size}}").out.startswith("10.2kB (virtual ")


@ALSO_DOCKER
def test_rm_force_of_a_missing_container_says_so_but_succeeds(pallet, busybox):
    r = pallet("rm", "-f", "nosuch")
    assert r.code == 0 and r.err == f"{pallet.error_prefix}No such container: nosuch\n"
    assert pallet("rm", "nosuch").code == 1


# pallet only (not ALSO_DOCKER): the docker CLI itself refuses --log-opt with --log-driver none before any request
def test_log_driver_none_keeps_nothing_and_logs_says_it_cannot_read(pallet, busybox):
    pallet.ok("run", "-d", "--name", "quiet", "--log-driver", "none", "--log-opt", "max-size=1k",
              "busybox", "sh", "-c", "echo hi; sleep 100")
    doc = _inspect(pallet, "quiet")
    assert doc["HostConfig"]["LogConfig"] == {"Type": "none", "Config": {}}
    r = pallet("logs", "quiet")
    assert (r.code, r.out, r.err) == (1, "", "Error: configured logging driver does not support reading\n")
    assert not os.path.exists(doc["LogPath"])  # conmon kept nothing
    # an attached run still shows the output: it comes through attach, not the log
    assert pallet.ok("run", "--rm", "--log-driver", "none", "busybox", "echo", "seen").out == "seen\n"


@pytest.mark.parametrize("driver", ["json-file", "local"])
def test_json_file_and_local_log_drivers_are_pallets_readable_log(pallet, busybox, driver):
    pallet.ok("run", "--name", "logged", "--log-driver", driver, "busybox", "echo", "kept")
    assert _inspect(pallet, "logged")["HostConfig"]["LogConfig"]["Type"] == driver  # the name given, as Docker
    assert pallet.ok("logs", "logged").out == "kept\n"


@pytest.mark.parametrize("driver", ["syslog", "journald", "gelf", "fluentd", "awslogs", "splunk"])
# pallet only (not ALSO_DOCKER): the docker CLI prints a run error as 'docker: Error response from daemon: …' and a usage hint
def test_log_drivers_pallet_lacks_are_refused_as_dockerd_refuses_a_missing_one(pallet, busybox, driver):
    r = pallet("run", "--rm", "--log-driver", driver, "busybox", "true")
    assert r.code == 125
    assert r.err == f'Error: error looking up logging plugin {driver}: plugin "{driver}" not found\n'
    assert pallet.ok("ps", "-aq").out == ""  # nothing was created


# pallet only (not ALSO_DOCKER): asserts pallet's whole run error line; the docker CLI words run errors as 'docker: Error response from daemon: …'
def test_pull_policy_label_log_driver_and_health_filter_as_docker_takes_them(pallet, busybox):
    r = pallet("run", "--rm", "--pull", "never", "nosuch:9", "true")
    assert r.code == 125 and r.err == "Error: No such image: nosuch:9\n"  # and no pull attempted
    r = pallet("run", "--rm", "--pull", "bogus", "busybox", "true")
    assert r.code == 125 and 'invalid pull option: \'bogus\': must be one of "always", "missing" or "never"' in r.err
    r = pallet("run", "--rm", "--label", "", "busybox", "true")
    assert r.code == 125 and 'invalid argument "" for "-l, --label" flag: invalid label \'\': empty name' in r.err
    r = pallet("run", "--rm", "--log-driver", "bogus", "busybox", "true")
    assert r.code == 125 and 'error looking up logging plugin bogus: plugin "bogus" not found' in r.err
    r = pallet("ps", "--filter", "health=bogus")
    assert r.code == 1 and "Unrecognised filter value for health: bogus" in r.err
    pallet.ok("run", "-d", "--name", "nohc", "busybox", "sleep", "1000")
    pallet.ok("run", "-d", "--name", "hc", "--health-cmd", "true", "--health-interval", "30s", "busybox", "sleep", "1000")
    assert pallet.ok("ps", "--filter", "health=starting", "--format", "{{.Names}}").lines == ["hc"]
    assert pallet.ok("ps", "--filter", "health=none", "--format", "{{.Names}}").lines == ["nohc"]


@ALSO_DOCKER
def test_platform_of_another_architecture_is_not_the_stored_image(pallet, busybox):
    native = json.loads(pallet.ok("image", "inspect", "busybox").out)[0]["Architecture"]
    other = "arm64" if native != "arm64" else "amd64"
    assert pallet.ok("run", "--rm", "--platform", f"linux/{native}", "busybox", "echo", "ok").out == "ok\n"
    r = pallet("run", "--rm", "--pull", "never", "--platform", f"linux/{other}", "busybox", "true")
    assert r.code == 125 and "No such image: busybox:latest" in r.err  # docker would pull that one
