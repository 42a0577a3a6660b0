"""The runtime layer against the real runc and conmon on a busybox rootfs.

Every test gets its own runc --root, exit dir and socket dir under a short /tmp path
(conmon's attach socket must fit in sun_path), and its teardown fails the test if runc
still lists a container or a conmon is still alive.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
import uuid
from dataclasses import dataclass

from pallet.record import replace  # SpecRequest is a pallet.record record
from pathlib import Path

import pytest

from pallet.errors import ContainerCommandError, NotFound
from pallet.runtime import logs
from pallet.runtime.monitor import Monitor
from pallet.runtime.runc import Runc
from pallet.runtime.hostfiles import write_etc_files
from pallet.runtime.spec import SpecRequest, cgroups_path, exec_process, make_spec

BUSYBOX = "/bin/busybox"


def build_busybox_rootfs(root: Path) -> Path:
    """A rootfs of Debian's busybox-static: /bin/busybox, one symlink per applet, users."""
    for d in ("bin", "etc", "proc", "sys", "dev", "tmp", "root", "mnt"):
        (root / d).mkdir(parents=True, exist_ok=True)
    shutil.copy2(BUSYBOX, root / "bin" / "busybox")
    applets = subprocess.run([BUSYBOX, "--list"], capture_output=True, text=True,
                             check=True).stdout.split()
    for applet in applets:
        if applet != "busybox":
            (root / "bin" / applet).symlink_to("busybox")
    (root / "etc" / "passwd").write_text("root:x:0:0:root:/root:/bin/sh\n"
                                         "nobody:x:65534:65534:nobody:/nonexistent:/bin/false\n")
    (root / "etc" / "group").write_text("root:x:0:\nnogroup:x:65534:\n")
    (root / "tmp").chmod(0o1777)
    return root


@pytest.fixture(scope="session")
def rootfs(tmp_path_factory) -> Path:
    return build_busybox_rootfs(tmp_path_factory.mktemp("busybox") / "rootfs")


@dataclass
class Harness:
    base: Path
    rootfs: Path
    runc: Runc
    monitor: Monitor

    def bundle(self, container_id: str, args: list[str], **fields) -> Path:
        bundle = self.base / "b" / container_id
        etc = write_etc_files(bundle, hostname=container_id[:12])
        req = SpecRequest(args=args, rootfs=str(self.rootfs), hostname=container_id[:12],
                          cgroups_path=cgroups_path(container_id, "/pallet-test"),
                          etc_files=etc)
        req = replace(req, **fields)
        (bundle / "config.json").write_text(json.dumps(make_spec(req)))
        return bundle

    def create(self, args: list[str], terminal=False, stdin=False, exit_command=None,
               **fields) -> tuple[str, Path]:
        container_id = uuid.uuid4().hex
        bundle = self.bundle(container_id, args, terminal=terminal, **fields)
        self.monitor.create(container_id, bundle, bundle / "ctr.log", terminal=terminal,
                            stdin=stdin, exit_command=exit_command)
        return container_id, bundle

    def run(self, args: list[str], **fields) -> tuple[int, list[logs.LogRecord]]:
        """create + start + wait + delete, like ``docker run --rm`` without -it."""
        container_id, bundle = self.create(args, **fields)
        try:
            self.monitor.start(container_id)
            code = self.monitor.wait_exit(container_id, bundle, timeout=20)
        finally:
            self.monitor.delete(container_id, force=True)
        return code, list(logs.read_logs(bundle / "ctr.log"))


def output(records, stream="stdout") -> str:
    return b"".join(r.data for r in records if r.stream == stream).decode()


@pytest.fixture
def rt(rootfs):
    assert os.geteuid() == 0, "runtime tests need root (runc, conmon, cgroups)"
    base = Path(tempfile.mkdtemp(prefix="plrt", dir="/tmp"))
    runc = Runc(base / "runc")
    harness = Harness(base, rootfs, runc, Monitor(runc, base / "exits"))
    yield harness
    leaked = runc.list() if (base / "runc").exists() else []
    for state in leaked:
        runc.delete(state.id, force=True)
    alive = []
    for pidfile in base.glob("b/*/conmon.pid"):
        pid = int(pidfile.read_text())
        if os.path.exists(f"/proc/{pid}") and b"conmon" in Path(f"/proc/{pid}/cmdline").read_bytes():
            alive.append(pid)
            os.kill(pid, 9)
    shutil.rmtree(base, ignore_errors=True)
    assert not leaked, f"containers left behind: {[s.id for s in leaked]}"
    assert not alive, f"conmon processes left behind: {alive}"


def test_run_echo_logs_hi_and_exits_0(rt):
    code, records = rt.run(["echo", "hi"])
    assert code == 0
    assert output(records) == "hi\n"


def test_run_exit_code_of_the_command_is_the_container_exit_code(rt):
    code, _ = rt.run(["sh", "-c", "exit 3"])
    assert code == 3


def test_stdout_and_stderr_are_kept_apart(rt):
    code, records = rt.run(["sh", "-c", "echo out; echo err >&2; echo out2"])
    assert code == 0
    assert output(records, "stdout") == "out\nout2\n"
    assert output(records, "stderr") == "err\n"


def test_run_missing_command_exits_127_with_dockers_message(rt):
    with pytest.raises(ContainerCommandError) as caught:
        rt.create(["nosuch"])
    assert caught.value.exit_code == 127
    assert str(caught.value) == (
        "failed to create task for container: failed to create shim task: OCI runtime "
        'create failed: runc create failed: unable to start container process: exec: '
        '"nosuch": executable file not found in $PATH: unknown')
    assert rt.runc.list() == []


def test_run_non_executable_command_exits_126(rt):
    with pytest.raises(ContainerCommandError) as caught:
        rt.create(["/etc/passwd"])
    assert caught.value.exit_code == 126
    assert "permission denied" in str(caught.value)


def test_detached_container_outlives_the_process_that_started_it(rt):
    container_id = uuid.uuid4().hex
    bundle = rt.bundle(container_id, ["sleep", "100"])
    starter = textwrap.dedent(f"""
        from pathlib import Path
        from pallet.runtime.monitor import Monitor
        from pallet.runtime.runc import Runc
        mon = Monitor(Runc(Path({str(rt.runc.root)!r})), Path({str(rt.monitor.exit_dir)!r}))
        b = Path({str(bundle)!r})
        print(mon.create({container_id!r}, b, b / "ctr.log"))
        mon.start({container_id!r})
    """)
    done = subprocess.run([sys.executable, "-c", starter], capture_output=True, text=True,
                          timeout=30)
    assert done.returncode == 0, done.stderr
    try:
        state = rt.runc.state(container_id)
        assert state.status == "running"
        assert state.pid == int(done.stdout)
        assert rt.monitor.exit_code(container_id) is None
        rt.runc.kill(container_id, "KILL")
        assert rt.monitor.wait_exit(container_id, bundle, timeout=10) == 137
    finally:
        rt.monitor.delete(container_id, force=True)


def test_sigterm_to_a_shell_that_traps_nothing_gives_143(rt):
    # sh as pid 1 ignores SIGTERM unless it installs a handler, exactly as in Docker
    container_id, bundle = rt.create(["sh", "-c", "trap 'exit 143' TERM; sleep 100 & wait"])
    try:
        rt.monitor.start(container_id)
        rt.runc.kill(container_id, "TERM")
        assert rt.monitor.wait_exit(container_id, bundle, timeout=10) == 143
    finally:
        rt.monitor.delete(container_id, force=True)


def test_exec_into_running_container_returns_the_command_exit_code(rt):
    container_id, bundle = rt.create(["sleep", "100"])
    try:
        rt.monitor.start(container_id)
        with tempfile.TemporaryFile() as out:
            assert rt.runc.exec(container_id, _process(bundle, ["sh", "-c", "echo in-$FOO; exit 7"],
                                                       env=["FOO=bar"]), stdout=out) == 7
            out.seek(0)
            assert out.read() == b"in-bar\n"
        with tempfile.TemporaryFile() as out:  # another user: its own groups, not the container's
            assert rt.runc.exec(container_id, _process(bundle, ["id"], uid=65534, gid=65534,
                                                       additional_gids=[65534]), stdout=out) == 0
            out.seek(0)
            assert out.read().split()[2] in (b"groups=65534", b"groups=65534(nogroup)")  # and no other
        with tempfile.TemporaryFile() as out:  # exec --privileged: every cap we hold
            rt.runc.exec(container_id, _process(bundle, ["grep", "CapEff", "/proc/self/status"],
                                                privileged=True), stdout=out)
            out.seek(0)
            assert out.read().split()[1] == _own_caps()
        with pytest.raises(ContainerCommandError) as caught:
            rt.runc.exec(container_id, _process(bundle, ["nosuch"]), stderr=subprocess.DEVNULL)
        assert caught.value.exit_code == 127
    finally:
        rt.monitor.delete(container_id, force=True)


def _process(bundle, args, **kw) -> dict:
    """What `docker exec` hands runc: the container's own process with the exec's changes."""
    return exec_process(json.loads((Path(bundle) / "config.json").read_text())["process"], args, **kw)


def _own_caps() -> bytes:
    status = Path("/proc/self/status").read_text()
    return next(ln.split()[1] for ln in status.splitlines() if ln.startswith("CapBnd")).encode()


def test_state_of_unknown_container_is_not_found(rt):
    with pytest.raises(NotFound, match="No such container: nosuch"):
        rt.runc.state("nosuch")
    with pytest.raises(NotFound):
        rt.runc.kill("nosuch", "KILL")
    with pytest.raises(NotFound):
        rt.runc.exec("nosuch", {"args": ["true"], "cwd": "/", "user": {"uid": 0, "gid": 0}})


def test_read_only_rootfs_refuses_writes(rt):
    code, records = rt.run(["sh", "-c", "touch /newfile"], readonly_rootfs=True)
    assert code == 1
    assert "Read-only file system" in output(records, "stderr")


def test_dropped_capability_is_really_gone(rt):
    assert rt.run(["chown", "65534", "/tmp"])[0] == 0  # CAP_CHOWN is a default
    code, records = rt.run(["sh", "-c", "touch /tmp/f$$; chown 65534 /tmp/f$$"],
                           cap_drop=["CHOWN"])
    assert code == 1
    assert "Operation not permitted" in output(records, "stderr")


def test_rlimits_above_the_host_hard_limit_are_clamped(rt):
    import resource
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    code, records = rt.run(["sh", "-c", "ulimit -n; ulimit -Hn"],
                           rlimits={"nofile": (10**7, 10**7)})
    assert code == 0
    assert output(records).split() == [str(hard), str(hard)]


def test_default_masks_and_namespaces_apply(rt):
    code, records = rt.run(["sh", "-c", "wc -c </proc/keys; echo 1 >/proc/sys/vm/overcommit_memory;"
                                        " cat /proc/net/dev | grep -c :; hostname; echo $$"])
    lines = output(records).split()
    assert lines[0] == "0"                  # masked: /dev/null bound over it
    assert "Read-only file system" in output(records, "stderr")
    assert lines[1] == "1"                  # a new net namespace holds only lo
    assert lines[3] == "1"                  # pid namespace: the shell is pid 1
    assert code == 0


def test_privileged_container_can_mount(rt):
    assert rt.run(["mount", "-t", "tmpfs", "t", "/mnt"])[0] != 0
    assert rt.run(["mount", "-t", "tmpfs", "t", "/mnt"], privileged=True)[0] == 0


def test_exit_command_runs_when_the_container_exits(rt):
    marker = rt.base / "cleaned"
    container_id, bundle = rt.create(["true"], exit_command=["/usr/bin/touch", str(marker)])
    try:
        rt.monitor.start(container_id)
        assert rt.monitor.wait_exit(container_id, bundle, timeout=10) == 0
        for _ in range(200):
            if marker.exists():
                break
            __import__("time").sleep(0.01)
        assert marker.exists()
    finally:
        rt.monitor.delete(container_id, force=True)


def test_etc_files_are_bind_mounted(rt):
    code, records = rt.run(["cat", "/etc/hostname", "/etc/hosts"])
    assert code == 0
    text = output(records)
    assert "127.0.0.1\tlocalhost" in text


def test_pause_resume_and_state_conflicts(rt):
    from pallet.errors import Conflict
    container_id, bundle = rt.create(["sleep", "100"])
    try:
        assert rt.runc.state(container_id).status == "created"
        rt.monitor.start(container_id)
        assert Path(f"/proc/{rt.runc.state(container_id).pid}").exists()
        with pytest.raises(Conflict, match="not stopped"):
            rt.runc.delete(container_id)
        with pytest.raises(Conflict, match=f"Container {container_id} is not paused"):
            rt.runc.resume(container_id)
        rt.runc.pause(container_id)
        assert rt.runc.state(container_id).status == "paused"
        rt.runc.resume(container_id)
        rt.runc.kill(container_id, "KILL")
        assert rt.monitor.wait_exit(container_id, bundle, timeout=10) == 137
        assert rt.runc.state(container_id).status == "stopped"
        with pytest.raises(Conflict, match=f"Container {container_id} is not running"):
            rt.runc.exec(container_id, _process(bundle, ["true"]))
        with pytest.raises(Conflict, match=f"Container {container_id} is not running"):
            rt.runc.kill(container_id, "KILL")
    finally:
        rt.monitor.delete(container_id, force=True)
    with pytest.raises(NotFound):
        rt.monitor.delete(container_id)


TINI = "/usr/bin/tini-static"  # Debian's tini package; the machine setup must install it


def test_init_reaps_and_forwards_sigterm_so_sleep_exits_143(rt):
    assert os.path.exists(TINI), "apt-get install tini (pallet's --init uses tini-static)"
    container_id, bundle = rt.create(["sleep", "100"], init_path=TINI)
    try:
        rt.monitor.start(container_id)
        with tempfile.TemporaryFile() as out:
            rt.runc.exec(container_id, _process(bundle, ["cat", "/proc/1/cmdline"]), stdout=out)
            out.seek(0)
            assert out.read().split(b"\0")[:3] == [b"/sbin/docker-init", b"--", b"sleep"]
        rt.runc.kill(container_id, "TERM")
        assert rt.monitor.wait_exit(container_id, bundle, timeout=10) == 143
    finally:
        rt.monitor.delete(container_id, force=True)


# ---- runc's start and delete, spoken directly (pallet.runtime.runc) ----

def _create_with_pid(rt, args):
    container_id = uuid.uuid4().hex
    bundle = rt.bundle(container_id, args)
    pid = rt.monitor.create(container_id, bundle, bundle / "ctr.log")
    return container_id, bundle, pid


def _cgroup_dirs(container_id: str) -> list[str]:
    return [str(p) for p in Path("/sys/fs/cgroup").glob(f"*/pallet-test/{container_id}")]


def test_start_through_the_exec_fifo_runs_the_process_as_runc_start_does(rt):
    container_id, bundle, pid = _create_with_pid(rt, ["sh", "-c", "echo started"])
    try:
        assert rt.runc.state(container_id).status == "created"
        rt.monitor.start(container_id, pid)
        assert not (rt.runc.root / container_id / "exec.fifo").exists()
        assert rt.monitor.wait_exit(container_id, bundle, timeout=20) == 0
        assert rt.runc.state(container_id).status == "stopped"
    finally:
        rt.monitor.delete(container_id, force=True)
    assert output(logs.read_logs(bundle / "ctr.log")) == "started\n"


def test_start_of_a_container_whose_init_died_fails_instead_of_hanging(rt):
    from pallet.errors import PalletError
    container_id, bundle, pid = _create_with_pid(rt, ["true"])
    try:
        os.kill(pid, 9)
        rt.monitor.wait_exit(container_id, bundle, timeout=20)
        with pytest.raises(PalletError):
            rt.monitor.start(container_id, pid)
    finally:
        rt.monitor.delete(container_id, force=True)


def test_delete_of_an_exited_container_removes_its_cgroups_and_state(rt):
    container_id, bundle, pid = _create_with_pid(rt, ["true"])
    assert _cgroup_dirs(container_id), "runc made the container's cgroups"
    rt.monitor.start(container_id, pid)
    rt.monitor.wait_exit(container_id, bundle, timeout=20)
    rt.monitor.delete(container_id)
    assert not (rt.runc.root / container_id).exists()
    assert _cgroup_dirs(container_id) == []
    with pytest.raises(NotFound):
        rt.runc.state(container_id)


def test_delete_force_of_a_running_container_is_left_to_runc(rt):
    container_id, bundle, pid = _create_with_pid(rt, ["sleep", "60"])
    rt.monitor.start(container_id, pid)
    assert rt.runc.state(container_id).status == "running"
    rt.monitor.delete(container_id, force=True, keep_exit=True)
    assert rt.monitor.wait_exit(container_id, bundle, timeout=20) == 137
    assert not (rt.runc.root / container_id).exists()
    assert _cgroup_dirs(container_id) == []


def test_seccomp_lists_x32_only_when_the_kernel_runs_it():
    from pallet.runtime import seccomp
    from pallet.runtime.spec import kernel_runs_x32
    with_x32 = seccomp.default_profile([], "x86_64")["architectures"]
    without = seccomp.default_profile([], "x86_64", x32=False)["architectures"]
    assert with_x32 == ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"]
    assert without == ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86"]  # 32-bit programs still run
    x32_config = Path("/proc/config.gz")
    if os.uname().machine == "x86_64" and x32_config.exists():
        import gzip
        assert kernel_runs_x32() == (b"CONFIG_X86_X32_ABI=y" in gzip.decompress(x32_config.read_bytes()))


def test_a_bundle_that_fails_to_prepare_leaves_no_conmon_and_no_container(rt):
    container_id = uuid.uuid4().hex
    bundle = rt.bundle(container_id, ["true"])

    def prepare():
        raise RuntimeError("the spec could not be written")
    with pytest.raises(RuntimeError):
        rt.monitor.create(container_id, bundle, bundle / "ctr.log", before_create=prepare)
    assert rt.runc.list() == []
    assert not (bundle / "conmon.pid").exists()  # killed before it forked
