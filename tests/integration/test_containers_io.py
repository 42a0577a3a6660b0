"""Terminals, stdin, attach, exec variants, bind mounts and security flags, as Docker has them."""
from __future__ import annotations

import json
import os
import pty
import select
import subprocess
import sys
import time

import pytest

from api_service import ALSO_DOCKER
from polling import wait_for as _wait_for

pytestmark = pytest.mark.usefixtures("no_leaks")


def _pty_run(pallet, argv, keys: bytes, timeout=20.0) -> tuple[int, bytes]:
    """Run pallet on a real terminal, type `keys`, return (exit code, what the terminal showed)."""
    master, slave = pty.openpty()
    cmd = [sys.executable, "-m", "pallet.cli.main", "--root", str(pallet.root),
           "--runroot", str(pallet.runroot), *argv]
    proc = subprocess.Popen(cmd, stdin=slave, stdout=slave, stderr=slave, start_new_session=True)
    os.close(slave)
    seen = b""
    sent = False
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([master], [], [], 0.2)
        if ready:
            try:
                data = os.read(master, 4096)
            except OSError:
                break
            if not data:
                break
            seen += data
        if not sent and (b"#" in seen or time.monotonic() > deadline - timeout + 1.5):
            os.write(master, keys)
            sent = True
        if proc.poll() is not None and not ready:
            break
    code = proc.wait(timeout=10)
    os.close(master)
    return code, seen


def test_run_it_gives_a_real_terminal_and_passes_the_exit_code(pallet, busybox):
    code, seen = _pty_run(pallet, ["run", "-it", "--rm", "busybox", "sh"], b"tty; exit 5\r")
    assert code == 5, seen
    assert b"/dev/pts/" in seen


@ALSO_DOCKER
def test_run_i_reads_stdin(pallet, busybox):
    r = pallet.sub("run", "-i", "--rm", "busybox", "sh", "-c", "tr a-z A-Z", stdin=b"hello\n")
    assert r.code == 0 and r.out == "HELLO\n"


def test_exec_it_gives_a_terminal(pallet, busybox):
    pallet.ok("run", "-d", "--name", "term", "busybox", "sleep", "1000")
    code, seen = _pty_run(pallet, ["exec", "-it", "term", "sh"], b"tty; exit 4\r")
    assert code == 4 and b"/dev/pts/" in seen


@ALSO_DOCKER
def test_exec_detached_runs_in_background(pallet, busybox):
    pallet.ok("run", "-d", "--name", "bg", "busybox", "sleep", "1000")
    pallet.ok("exec", "-d", "bg", "sh", "-c", "sleep 0.2; echo done > /marker")
    assert _wait_for(lambda: pallet("exec", "bg", "cat", "/marker").out == "done\n")


def test_attach_streams_output_until_exit(pallet, busybox):
    pallet.ok("run", "-d", "--name", "waited", "busybox", "sh", "-c", "sleep 1; echo attached; exit 6")
    r = pallet.sub("attach", "waited", timeout=20)
    assert r.code == 6 and "attached" in r.out


@ALSO_DOCKER
def test_start_a_attaches_and_returns_the_exit_code(pallet, busybox):
    pallet.ok("create", "--name", "starter", "busybox", "sh", "-c", "echo hi; exit 2")
    r = pallet("start", "-a", "starter")
    assert r.code == 2 and r.out == "hi\n"


@ALSO_DOCKER
def test_logs_since_and_until(pallet, busybox):
    pallet.ok("run", "--name", "logged", "busybox", "echo", "old")
    future = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 3600))
    assert pallet.ok("logs", "--since", future, "logged").out == ""
    assert pallet.ok("logs", "--until", future, "logged").out == "old\n"
    assert pallet.ok("logs", "--since", "10m", "logged").out == "old\n"


def test_bind_mount_read_write_and_read_only(pallet, busybox, tmp_path):
    host = tmp_path / "share"
    host.mkdir()
    (host / "in").write_text("from host\n")
    r = pallet.ok("run", "--rm", "-v", f"{host}:/share", "busybox", "sh", "-c", "cat /share/in; echo out > /share/out")
    assert r.out == "from host\n" and (host / "out").read_text() == "out\n"
    r = pallet("run", "--rm", "-v", f"{host}:/share:ro", "busybox", "sh", "-c", "echo > /share/x")
    assert r.code == 1 and "Read-only file system" in r.err
    assert not (host / "x").exists()


def test_bind_mount_creates_missing_host_dir_like_docker(pallet, busybox, tmp_path):
    pallet.ok("run", "--rm", "-v", f"{tmp_path}/made:/m", "busybox", "true")
    assert (tmp_path / "made").is_dir()


@pytest.mark.parametrize("spec, message", [
    (":/x", "invalid spec: :/x: empty section between colons"),
    ("/a:relative", "mount path must be absolute"),
    ("/tmp:/", "invalid"),
])
def test_malformed_volume_specs_are_refused(pallet, busybox, spec, message):
    r = pallet("run", "--rm", "-v", spec, "busybox", "true")
    assert r.code == 125 and message in r.err
    assert pallet.ok("ps", "-aq").out == ""


@pytest.mark.parametrize("flags, message", [
    (["-w", "relative"], "the working directory 'relative' is invalid, it needs to be an absolute path"),
    (["--stop-signal", "FOO"], "Invalid signal: FOO"),
])
# pallet only (not ALSO_DOCKER): `docker create` exits 1 when the daemon refuses (docker CLI 28); run and create differ there
def test_settings_docker_refuses_at_create_make_no_container(pallet, busybox, flags, message):
    for verb in ("create", "run"):
        r = pallet(verb, *flags, "busybox", "true")
        assert r.code == 125 and message in r.err, (verb, r.err)
    assert pallet.ok("ps", "-aq").out == ""


def test_mount_flag_syntax_errors_are_flag_errors(pallet, busybox):
    r = pallet("run", "--rm", "--mount", "source=/tmp", "busybox", "true")
    assert r.code == 125 and r.err.startswith('invalid argument "source=/tmp" for "--mount" flag: target is required')


def test_mount_flag_refuses_missing_bind_source(pallet, busybox):
    r = pallet("run", "--rm", "--mount", "type=bind,source=/nonexistent/x,target=/x", "busybox", "true")
    assert r.code == 125 and "bind source path does not exist: /nonexistent/x" in r.err


def test_cap_drop_really_drops_the_capability(pallet, busybox):
    assert pallet("run", "--rm", "--cap-drop", "CHOWN", "busybox", "chown", "nobody", "/tmp").code == 1
    pallet.ok("run", "--rm", "busybox", "chown", "nobody", "/tmp")


def test_privileged_sees_host_devices_and_all_capabilities(pallet, busybox):
    r = pallet.ok("run", "--rm", "--privileged", "busybox", "sh", "-c", "ls /dev | wc -l")
    plain = pallet.ok("run", "--rm", "busybox", "sh", "-c", "ls /dev | wc -l")
    assert int(r.out) > int(plain.out)


def test_no_new_privileges_security_opt(pallet, busybox):
    r = pallet.ok("run", "--rm", "--security-opt", "no-new-privileges", "busybox",
                  "grep", "NoNewPrivs", "/proc/self/status")
    assert r.out.split() == ["NoNewPrivs:", "1"]


def test_no_new_privileges_takes_a_go_bool(pallet, busybox):
    r = pallet.ok("run", "--rm", "--security-opt", "no-new-privileges=false", "busybox",
                  "grep", "NoNewPrivs", "/proc/self/status")
    assert r.out.split() == ["NoNewPrivs:", "0"]


PROFILE = {  # Docker's profile format: archMap, errnoRet, includes/excludes by capability
    "defaultAction": "SCMP_ACT_ALLOW",
    "archMap": [{"architecture": "SCMP_ARCH_X86_64", "subArchitectures": ["SCMP_ARCH_X86"]},
                {"architecture": "SCMP_ARCH_AARCH64", "subArchitectures": ["SCMP_ARCH_ARM"]}],
    "syscalls": [
        {"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1},
        {"names": ["chmod", "fchmodat", "fchmodat2"], "action": "SCMP_ACT_ERRNO",
         "includes": {"caps": ["CAP_SYS_ADMIN"]}},
        {"names": ["symlink", "symlinkat"], "action": "SCMP_ACT_ERRNO",
         "excludes": {"caps": ["CAP_SYS_ADMIN"]}},
    ],
}
PROBE = "mkdir /made; echo mkdir=$?; chmod 755 /; echo chmod=$?; ln -s x /l; echo ln=$?"


def test_seccomp_profile_file_is_applied_to_run_and_exec(pallet, busybox, tmp_path):
    profile = tmp_path / "profile.json"
    profile.write_text(json.dumps(PROFILE, indent=2))
    opt = ["--security-opt", f"seccomp={profile}"]
    r = pallet("run", "--rm", *opt, "busybox", "sh", "-c", PROBE)
    assert r.out.split() == ["mkdir=1", "chmod=0", "ln=1"]  # chmod's rule needs SYS_ADMIN
    r = pallet("run", "--rm", "--cap-add", "SYS_ADMIN", *opt, "busybox", "sh", "-c", PROBE)
    assert r.out.split() == ["mkdir=1", "chmod=1", "ln=0"]
    # the CLI stores the profile itself: editing or removing the file later changes nothing
    pallet.ok("run", "-d", "--name", "prof", *opt, "busybox", "sleep", "1000")
    profile.unlink()
    assert pallet("exec", "prof", "mkdir", "/y").code == 1
    stored = json.loads(pallet.ok("inspect", "prof").out)[0]["HostConfig"]["SecurityOpt"]
    assert json.loads(stored[0].removeprefix("seccomp=")) == PROFILE
    pallet.ok("restart", "-t", "0", "prof")
    assert pallet("exec", "prof", "mkdir", "/y").code == 1


def test_seccomp_unconfined_runs_without_any_filter(pallet, busybox):
    r = pallet.ok("run", "--rm", "--security-opt", "seccomp=unconfined", "busybox",
                  "grep", "Seccomp:", "/proc/self/status")
    assert r.out.split() == ["Seccomp:", "0"]
    pallet.ok("run", "-d", "--name", "free", "--security-opt", "seccomp:unconfined", "busybox", "sleep", "1000")
    assert pallet.ok("exec", "free", "grep", "Seccomp:", "/proc/self/status").out.split() == ["Seccomp:", "0"]
    assert pallet.ok("run", "--rm", "busybox", "grep", "Seccomp:", "/proc/self/status").out.split() == [
        "Seccomp:", "2"]


@ALSO_DOCKER
def test_systempaths_unconfined_leaves_proc_unmasked(pallet, busybox):
    count = "grep -c ' /proc/' /proc/self/mounts"
    assert int(pallet.ok("run", "--rm", "busybox", "sh", "-c", count).out) > 0
    r = pallet("run", "--rm", "--security-opt", "systempaths=unconfined", "busybox", "sh", "-c", count)
    assert r.out.strip() == "0"


def test_bad_security_opts_are_refused_with_dockers_words(pallet, busybox, tmp_path):
    (tmp_path / "bad.json").write_text("{not json")
    (tmp_path / "both.json").write_text(json.dumps({"defaultAction": "SCMP_ACT_ALLOW",
                                                    "architectures": ["SCMP_ARCH_X86_64"],
                                                    "archMap": PROFILE["archMap"]}))
    for opt, words in (("bogus", 'Invalid --security-opt: "bogus"'),
                       ("foo=bar", 'invalid --security-opt 2: "foo=bar"'),
                       ("no-new-privileges=maybe", 'invalid --security-opt 2: "no-new-privileges=maybe"'),
                       ("seccomp=/nonexistent", "opening seccomp profile (/nonexistent) failed: "
                                                "open /nonexistent: no such file or directory"),
                       (f"seccomp={tmp_path}/bad.json", f"compacting json for seccomp profile "
                                                         f"({tmp_path}/bad.json) failed"),
                       (f"seccomp={tmp_path}/both.json", "both 'architectures' and 'archMap' are specified")):
        r = pallet("run", "--rm", "--security-opt", opt, "busybox", "true")
        assert r.code == 125 and words in r.err, (opt, r.err)
    for opt in ("apparmor=unconfined", "label=disable", "label:disable"):
        pallet.ok("run", "--rm", "--security-opt", opt, "busybox", "true")  # no LSM here: accepted
    assert pallet.ok("ps", "-aq").out == ""


def test_device_flag_adds_the_node_and_its_cgroup_permissions(pallet, busybox):
    # /dev/fuse: a node a default container neither has nor may open (Docker denies fuse)
    assert pallet("run", "--rm", "busybox", "ls", "/dev/fuse").code == 1
    r = pallet("run", "--rm", "--device", "/dev/fuse", "busybox", "sh", "-c", "exec 3<>/dev/fuse && echo opened")
    assert r.out == "opened\n"
    r = pallet("run", "--rm", "--device", "/dev/fuse:/dev/f:r", "busybox", "sh", "-c",
               "exec 3</dev/f && echo read; exec 4>/dev/f && echo wrote")
    assert r.out == "read\n" and "Operation not permitted" in r.err
    r = pallet("run", "--rm", "--device-cgroup-rule", "c 10:229 r", "--device", "/dev/fuse:/dev/g:rwm",
               "busybox", "sh", "-c", "exec 3</dev/g && echo read")
    assert r.out == "read\n"


# pallet only (not ALSO_DOCKER): the docker CLI exits 127 for a start error that says 'no such file or directory'
def test_bad_devices_are_refused_before_anything_is_made(pallet, busybox):
    for spec, code, words in (("/dev/nosuch", 125, 'error gathering device information while adding custom '
                                                    'device "/dev/nosuch": no such file or directory'),
                              ("/etc/passwd", 125, "not a device node"),
                              ("/dev/null:rel", 125, 'invalid argument "/dev/null:rel" for "--device" flag: '
                                                     "rel is not an absolute path"),
                              ("/dev/null:/x:rwq", 125, "bad mode specified: rwq")):
        r = pallet("run", "--rm", "--device", spec, "busybox", "true")
        assert r.code == code and words in r.err, (spec, r.err)
    r = pallet("run", "--rm", "--device-cgroup-rule", "bogus", "busybox", "true")
    assert r.code == 125 and "invalid device cgroup format 'bogus'" in r.err
    assert pallet.ok("ps", "-aq").out == ""


def test_unknown_runtime_is_refused(pallet, busybox):
    r = pallet("run", "--rm", "--runtime", "nosuchruntime", "busybox", "true")
    assert r.code == 125 and "unknown or invalid runtime name: nosuchruntime" in r.err


def test_stop_signal_and_stop_timeout_are_recorded(pallet, busybox):
    pallet.ok("create", "--name", "signalled", "--stop-signal", "SIGUSR1", "--stop-timeout", "3", "busybox", "true")
    cfg = json.loads(pallet.ok("inspect", "signalled").out)[0]["Config"]
    assert cfg["StopSignal"] == "SIGUSR1" and cfg["StopTimeout"] == 3


def test_logs_rotate_with_max_size_and_max_file(pallet, busybox):
    # ~3 kB/s of output against max-size=8k: rotated about every 2 s, at most 2 files kept
    pallet.ok("run", "-d", "--name", "rot", "--network", "none", "--log-opt", "max-size=8k",
              "--log-opt", "max-file=2", "busybox", "sh", "-c",
              'i=0; while [ $i -lt 600 ]; do i=$((i+1)); echo "line $i ........"; sleep 0.01; done')
    assert pallet.ok("wait", "rot").out == "0\n"
    cid = json.loads(pallet.ok("inspect", "rot").out)[0]["Id"]
    userdata = pallet.root / "containers" / cid / "userdata"
    # ctr.log.1 is a hard link of the live log; the one older file kept is ctr.log.2
    assert (userdata / "ctr.log.2").exists() and not (userdata / "ctr.log.3").exists()
    numbers = [int(line.split()[1]) for line in pallet.ok("logs", "rot").lines]
    assert numbers[-1] == 600 and len(numbers) < 600, "old lines were rotated away"
    assert numbers == list(range(numbers[0], 601)), "no line lost or reordered across files"
    assert pallet.ok("logs", "--tail", "2", "rot").lines == ["line 599 ........", "line 600 ........"]


def test_log_opt_max_file_must_be_positive(pallet, busybox):
    r = pallet("run", "--rm", "--log-opt", "max-file=0", "busybox", "true")
    assert r.code == 125 and "max-file cannot be less than 1" in r.err


def test_it_without_a_terminal_is_refused_before_anything_runs(pallet, busybox):
    r = pallet.sub("run", "--rm", "-it", "busybox", "true", stdin=b"")
    assert r.code == 1 and "the input device is not a TTY" in r.err
    assert pallet.ok("ps", "-aq").out == ""
    pallet.ok("run", "-d", "--name", "tt", "busybox", "sleep", "1000")
    r = pallet.sub("exec", "-it", "tt", "true", stdin=b"")
    assert r.code == 1 and "the input device is not a TTY" in r.err
    assert pallet.sub("exec", "-i", "tt", "cat", stdin=b"fine\n").out == "fine\n"


def test_h_is_the_hostname_for_run_as_in_docker(pallet, busybox):
    assert pallet.ok("run", "--rm", "-h", "box", "busybox", "hostname").out == "box\n"


def test_host_namespaces_sysctls_and_oom_score(pallet, busybox):
    ns = "for n in pid ipc uts; do readlink /proc/self/ns/$n; done"
    own = subprocess.run(["sh", "-c", ns], capture_output=True, text=True).stdout.split()
    shared = pallet.ok("run", "--rm", "--pid", "host", "--ipc", "host", "--uts", "host", "busybox",
                       "sh", "-c", ns).out.split()
    assert shared == own
    assert all(a != b for a, b in zip(pallet.ok("run", "--rm", "busybox", "sh", "-c", ns).out.split(), own))
    assert pallet.ok("run", "--rm", "--uts", "host", "busybox", "hostname").out == os.uname().nodename + "\n"
    assert pallet.ok("run", "--rm", "--network", "host", "busybox", "hostname").out == os.uname().nodename + "\n"
    r = pallet.ok("run", "--rm", "--sysctl", "net.ipv4.ip_forward=1", "--sysctl", "kernel.shmmax=1000000",
                  "--oom-score-adj", "500", "busybox", "cat", "/proc/sys/net/ipv4/ip_forward",
                  "/proc/sys/kernel/shmmax", "/proc/self/oom_score_adj")
    assert r.out.split() == ["1", "1000000", "500"]
    pallet.ok("create", "--name", "lim", "--cpu-period", "100000", "--cpu-quota", "50000",
              "--memory-reservation", "32m", "busybox", "true")
    host = json.loads(pallet.ok("inspect", "lim").out)[0]["HostConfig"]
    assert (host["CpuPeriod"], host["CpuQuota"], host["MemoryReservation"], host["IpcMode"]) == (
        100000, 50000, 32 * 1024 * 1024, "private")


def test_namespace_and_sysctl_refusals_in_dockers_words(pallet, busybox):
    for flags, words in ((["--pid", "bogus"], "--pid: invalid PID mode"),
                         (["--uts", "bogus"], "--uts: invalid UTS mode"),
                         (["--ipc", "bogus"], "invalid IPC mode: bogus"),
                         (["--uts", "host", "-h", "x"], "conflicting options: hostname and the UTS mode"),
                         (["--oom-score-adj", "2000"], "Invalid value 2000, range for oom score adj is [-1000, 1000]"),
                         (["--sysctl", "foo=1"], "sysctl 'foo=1' is not allowed"),
                         (["--network", "host", "--sysctl", "net.ipv4.ip_forward=0"],
                          "not allowed in host network namespace"),
                         (["--memory-reservation", "x"], 'invalid argument "x" for "--memory-reservation" flag')):
        r = pallet("run", "--rm", *flags, "busybox", "true")
        assert r.code == 125 and words in r.err, (flags, r.err)
    assert pallet.ok("ps", "-aq").out == ""


def test_dns_search_and_options_rebuild_resolv_conf_as_docker_does(pallet, busybox):
    host_servers = [ln.split()[1] for ln in open("/etc/resolv.conf") if ln.startswith("nameserver")
                    and not ln.split()[1].startswith("127.")]
    r = pallet.ok("run", "--rm", "--network", "none", "--dns-search", "example.com", "--dns-option", "ndots:2",
                  "busybox", "cat", "/etc/resolv.conf")
    lines = r.out.splitlines()  # the host's nameservers stay; search and options are the given ones
    assert [ln.split()[1] for ln in lines if ln.startswith("nameserver")] == (host_servers or ["8.8.8.8", "8.8.4.4"])
    assert "search example.com" in lines and "options ndots:2" in lines
    r = pallet.ok("run", "--rm", "--network", "none", "--dns", "192.0.2.1", "--dns-opt", "rotate", "busybox",
                  "cat", "/etc/resolv.conf")
    assert r.out.splitlines()[0] == "nameserver 192.0.2.1" and "options rotate" in r.out
    r = pallet.ok("run", "--rm", "--network", "none", "--dns-search", ".", "busybox", "cat", "/etc/resolv.conf")
    assert "search" not in r.out
