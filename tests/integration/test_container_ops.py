"""Limits, top, stats, update and prune as Docker users know them, on real cgroups, runc and conmon."""
from __future__ import annotations

import json
import os
import subprocess
import time

import pytest

from pallet.runtime.cgroups import (Cgroup, blkio_v1, flat_keyed, io_stat_v2, own_procs_file,
                                    touch_own_cgroup)
from pallet.services.disk import tree_size

from api_service import ALSO_DOCKER
from polling import wait_for as _wait_for

pytestmark = pytest.mark.usefixtures("no_leaks")

MiB = 1024 * 1024


def _inspect(pallet, ref) -> dict:
    return json.loads(pallet.ok("inspect", ref).out)[0]


def _cgroup_file(cid: str, controller: str, v1_name: str, v2_name: str) -> str:
    group = Cgroup(f"/pallet/{cid}")
    return (group.dir(controller) / (v2_name if group.v2 else v1_name)).read_text().strip()


# ---- limits land in the cgroup ----

@ALSO_DOCKER
def test_run_limits_land_in_the_containers_cgroup(pallet, busybox):
    cid = pallet.ok("run", "-d", "-m", "32m", "--cpus", "0.5", "--cpu-shares", "512", "--cpuset-cpus", "0",
                    "--pids-limit", "50", "busybox", "sleep", "1000").out.strip()
    assert _cgroup_file(cid, "memory", "memory.limit_in_bytes", "memory.max") == str(32 * MiB)
    assert _cgroup_file(cid, "pids", "pids.max", "pids.max") == "50"
    assert _cgroup_file(cid, "cpuset", "cpuset.cpus", "cpuset.cpus") == "0"
    if not Cgroup(f"/pallet/{cid}").v2:
        assert _cgroup_file(cid, "cpu", "cpu.cfs_quota_us", "") == "50000"
        assert _cgroup_file(cid, "cpu", "cpu.shares", "") == "512"
    host = _inspect(pallet, cid)["HostConfig"]
    assert (host["Memory"], host["NanoCpus"], host["PidsLimit"]) == (32 * MiB, 500_000_000, 50)


def test_oom_kill_shows_oomkilled_and_exit_137(pallet, busybox, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # conmon writes an `oom` file where it works: in the bundle
    r = pallet("run", "--name", "hog", "-m", "8m", "busybox", "sh", "-c", "x=a; while :; do x=$x$x; done")
    assert r.code == 137
    state = _inspect(pallet, "hog")["State"]
    assert state["OOMKilled"] is True and state["ExitCode"] == 137
    pallet.ok("run", "--name", "calm", "-m", "8m", "busybox", "true")
    assert _inspect(pallet, "calm")["State"]["OOMKilled"] is False
    assert not (tmp_path / "oom").exists(), "conmon's oom file landed in the user's directory"


def test_bad_limits_are_refused_with_dockers_words_and_others_untouched(pallet, busybox):
    other = pallet.ok("run", "-d", "busybox", "sleep", "1000").out.strip()
    for flags, words in ((["--memory", "1k"], "Minimum memory limit allowed is 6MB"),
                         (["--cpus", "-1"], "Range of CPUs is from 0.01 to"),
                         (["--restart", "bogus"], "invalid restart policy format: bogus"),
                         (["--restart", "always", "--rm"], "cannot specify both --restart and --rm"),
                         (["--ulimit", "nofile=10:5"], "ulimit soft limit must be less than or equal to "
                                                       "hard limit: 10 > 5"),
                         (["--cpuset-cpus", "7-9"], "Requested CPUs are not available")):
        r = pallet("run", "-d", *flags, "busybox", "true")
        assert r.code == 125, flags
        assert words in r.err, (flags, r.err)
    assert pallet.ok("ps", "-aq", "--no-trunc").lines == [other]
    assert _inspect(pallet, other)["State"]["Running"] is True


def test_ulimit_sets_the_process_rlimits(pallet, busybox):
    r = pallet.ok("run", "--rm", "--ulimit", "nofile=512:1024", "--ulimit", "nproc=77",
                  "busybox", "sh", "-c", "ulimit -n; ulimit -Hn; ulimit -u")
    assert r.lines == ["512", "1024", "77"]


# ---- top ----

@ALSO_DOCKER
def test_top_lists_the_containers_processes_only(pallet, busybox):
    pallet.ok("run", "-d", "--name", "web", "busybox", "sh", "-c", "sleep 1001 & sleep 1002")
    assert _wait_for(lambda: len(pallet.ok("top", "web").lines) == 3)  # both sleeps have started
    r = pallet.ok("top", "web")
    assert r.lines[0].split() == ["UID", "PID", "PPID", "C", "STIME", "TTY", "TIME", "CMD"]
    cmds = sorted(line.split(None, 7)[7] for line in r.lines[1:])
    assert cmds == ["sleep 1001", "sleep 1002"]  # busybox sh execs its last command
    r = pallet.ok("container", "top", "web", "-o", "pid,args")
    assert r.lines[0].split() == ["PID", "COMMAND"] and len(r.lines) == 3


def test_top_of_a_stopped_container_fails(pallet, busybox):
    pallet.ok("create", "--name", "idle", "busybox", "true")
    r = pallet("top", "idle")
    assert r.code == 1 and "is not running" in r.err


# ---- stats ----

def test_stats_no_stream_reads_usage_from_the_cgroup(pallet, busybox):
    busy = pallet.ok("run", "-d", "--name", "busy", "--network", "none", "-m", "64m", "busybox", "sh", "-c",
                     "dd if=/dev/zero of=/tmp/f bs=1M count=4 2>/dev/null; while :; do :; done").out.strip()
    pallet.ok("run", "-d", "--name", "quiet", "busybox", "sleep", "1000")
    pallet.ok("create", "--name", "never", "busybox", "true")
    time.sleep(0.5)
    r = pallet.ok("stats", "--no-stream")
    assert r.lines[0].split() == ["CONTAINER", "ID", "NAME", "CPU", "%", "MEM", "USAGE", "/", "LIMIT",
                                  "MEM", "%", "NET", "I/O", "BLOCK", "I/O", "PIDS"]
    assert sorted(line.split()[1] for line in r.lines[1:]) == ["busy", "quiet"]
    rows = {d["Name"]: d for d in map(json.loads, pallet.ok("stats", "--no-stream", "--format", "json",
                                                            "busy", "quiet").lines)}
    assert float(rows["busy"]["CPUPerc"].rstrip("%")) > 30
    assert float(rows["quiet"]["CPUPerc"].rstrip("%")) < 5
    assert rows["busy"]["MemUsage"].endswith(" / 64MiB") and rows["busy"]["PIDs"] == "1"
    assert rows["busy"]["NetIO"] == "0B / 0B" and rows["busy"]["ID"] == busy[:12]
    assert rows["quiet"]["PIDs"] == "1"
    r = pallet.ok("stats", "-a", "--no-stream", "--format", "{{.Name}} {{.CPUPerc}} {{.PIDs}}")
    assert "never 0.00% 0" in r.lines


def test_stats_of_an_unknown_container_fails(pallet, busybox):
    r = pallet("stats", "--no-stream", "nosuch")
    assert r.code == 1 and "No such container: nosuch" in r.err


# ---- update ----

@ALSO_DOCKER
def test_update_changes_the_limits_of_a_running_container(pallet, busybox):
    cid = pallet.ok("run", "-d", "-m", "32m", "busybox", "sleep", "1000").out.strip()
    r = pallet.ok("update", "-m", "48m", "--cpus", "1.5", "--pids-limit", "20", "--restart", "on-failure:3", cid)
    assert r.out == cid + "\n"
    assert _cgroup_file(cid, "memory", "memory.limit_in_bytes", "memory.max") == str(48 * MiB)
    assert _cgroup_file(cid, "pids", "pids.max", "pids.max") == "20"
    host = _inspect(pallet, cid)["HostConfig"]
    assert (host["Memory"], host["NanoCpus"], host["PidsLimit"]) == (48 * MiB, 1_500_000_000, 20)
    assert host["RestartPolicy"] == {"Name": "on-failure", "MaximumRetryCount": 3}
    # above the swap limit set at create (2 x 32m), Docker wants --memory-swap too
    r = pallet("update", "-m", "100m", cid)
    assert r.code == 1 and "update the memoryswap at the same time" in r.err
    pallet.ok("update", "-m", "100m", "--memory-swap", "200m", cid)
    assert _cgroup_file(cid, "memory", "memory.limit_in_bytes", "memory.max") == str(100 * MiB)


@ALSO_DOCKER
def test_update_without_flags_is_one_line_exit_1(pallet):
    # docker/cli update.go: errors.New(...) before any request, so exit 1 and no usage text
    r = pallet("update", "nosuch")
    assert (r.code, r.out, r.err) == (1, "", "you must provide one or more flags when using this command\n")


@ALSO_DOCKER
def test_update_refuses_bad_values_and_changes_nothing(pallet, busybox):
    cid = pallet.ok("run", "-d", "-m", "32m", "busybox", "sleep", "1000").out.strip()
    for flags, words in ((["-m", "1k"], "Minimum memory limit allowed is 6MB"),
                         (["--cpus", "-1"], "Range of CPUs is from 0.01 to"),
                         (["--restart", "bogus"], "invalid restart policy format: bogus")):
        r = pallet("update", *flags, cid)
        assert r.code == 1 and words in r.err, (flags, r.err)
    assert _inspect(pallet, cid)["HostConfig"]["Memory"] == 32 * MiB
    assert _cgroup_file(cid, "memory", "memory.limit_in_bytes", "memory.max") == str(32 * MiB)


def test_update_of_a_stopped_container_applies_at_next_start(pallet, busybox):
    pallet.ok("create", "--name", "later", "busybox", "sleep", "1000")
    pallet.ok("update", "-m", "24m", "later")
    pallet.ok("start", "later")
    cid = _inspect(pallet, "later")["Id"]
    assert _cgroup_file(cid, "memory", "memory.limit_in_bytes", "memory.max") == str(24 * MiB)


# ---- prune ----

@ALSO_DOCKER
def test_container_prune_removes_stopped_containers_and_frees_what_it_reports(pallet, busybox):
    running = pallet.ok("run", "-d", "busybox", "sleep", "1000").out.strip()
    pallet.ok("run", "--name", "writer", "busybox", "dd", "if=/dev/zero", "of=/big", "bs=1M", "count=3")
    writer = _inspect(pallet, "writer")["Id"]
    pallet.ok("create", "--label", "keep=yes", "busybox", "true")
    before = tree_size(pallet.root / "containers")
    r = pallet.ok("container", "prune", "-f", "--filter", "label!=keep")
    assert r.lines[:2] == ["Deleted Containers:", writer]
    freed_text = r.lines[-1]
    assert freed_text.startswith("Total reclaimed space: ") and freed_text.endswith("MB")
    freed = float(freed_text.split()[-1][:-2]) * 1e6
    actually = before - tree_size(pallet.root / "containers")
    assert 3 * MiB <= actually and abs(freed - actually) < 0.01 * actually + 1000
    assert len(pallet.ok("ps", "-aq").lines) == 2 and _inspect(pallet, running)["State"]["Running"]


def test_container_prune_asks_first_and_no_keeps_everything(pallet, busybox):
    pallet.ok("create", "busybox", "true")
    r = pallet("container", "prune", stdin=b"n\n")
    assert r.out.startswith("WARNING! This will remove all stopped containers.\n"
                            "Are you sure you want to continue? [y/N] ")
    assert len(pallet.ok("ps", "-aq").lines) == 1


@ALSO_DOCKER
def test_system_prune_all_removes_stopped_containers_and_unused_images(pallet, busybox, busybox_tar):
    pallet.ok("import", str(busybox_tar), "spare:1")
    keep = pallet.ok("run", "-d", "busybox", "sleep", "1000").out.strip()
    pallet.ok("run", "--name", "done", "busybox", "dd", "if=/dev/zero", "of=/big", "bs=1M", "count=2")
    r = pallet("system", "prune", "-a", stdin=b"y\n")
    assert r.code == 0
    assert r.out.startswith("WARNING! This will remove:\n  - all stopped containers\n")
    assert "  - all images without at least one container associated to them\n" in r.out
    assert "Deleted Containers:\n" in r.out and "untagged: spare:1\n" in r.out
    assert pallet.ok("ps", "-aq", "--no-trunc").lines == [keep]
    assert [line.split()[0] for line in pallet.ok("images").lines[1:]] == ["busybox"]
    assert r.lines[-1].startswith("Total reclaimed space: ") and not r.lines[-1].endswith(" 0B")


# ---- pure parts ----

def test_cgroup_file_parsers():
    assert flat_keyed("cache 10\ntotal_inactive_file 4096\nbad x\n") == {"cache": 10,
                                                                         "total_inactive_file": 4096}
    assert blkio_v1("8:0 Read 4096\n8:0 Write 512\n8:0 Sync 9\n8:16 Read 1\nTotal 4609\n") == (4097, 512)
    assert io_stat_v2("8:0 rbytes=100 wbytes=20 rios=1\n259:0 rbytes=1 wbytes=2\n") == (101, 22)
    assert os.path.isdir("/sys/fs/cgroup")


# ---- the cgroup join runc makes at every start, primed (pallet.runtime.cgroups.prime_attach) ----

def test_touching_our_own_cgroup_takes_the_lock_but_moves_no_process():
    with open("/proc/self/cgroup") as f:
        before = f.read()
    assert touch_own_cgroup(), "root can write its own cgroup.procs on this host"
    with open("/proc/self/cgroup") as f:
        assert f.read() == before


def test_own_cgroup_file_is_found_on_v1_hybrid_and_v2_layouts(tmp_path):
    hybrid = "9:name=systemd:/\n8:pids:/user.slice/a\n4:memory:/x\n0::/user.slice/a\n"
    assert own_procs_file(hybrid, tmp_path) == f"{tmp_path}/pids/user.slice/a/cgroup.procs"
    assert own_procs_file("0::/system.slice/b\n", tmp_path) is None  # no v2 mount here
    (tmp_path / "cgroup.controllers").write_text("pids memory\n")
    assert own_procs_file("0::/system.slice/b\n", tmp_path) == f"{tmp_path}/system.slice/b/cgroup.procs"
    assert own_procs_file("0::/\n", tmp_path) == f"{tmp_path}/cgroup.procs"
