"""Docker's default seccomp profile, enforced for real: runc, libseccomp and the kernel.

pallet hands runc Docker's profile inverted (a short denylist, compiled ~12 ms faster)
plus a small guard filter under conmon (`pallet.runtime.syscall_guard`). These tests run
the same probes under Docker's own allowlist form and under pallet's, in real containers,
and require the same answer for every call: allowed, EPERM, or ENOSYS, for both the
64-bit and the i386 ABI.
"""
from __future__ import annotations

import uuid

import pytest

from pallet.runtime import syscall_guard
from pallet.runtime.spec import bind

from probes import parse, write
from test_runtime import output, rt, rootfs  # noqa: F401  (fixtures)

EPERM, ENOSYS = 1, 38
X32 = 0x40000000


def _probes(tables) -> dict[str, tuple]:
    # 335 and 336 are uretprobe and uprobe on kernels >= 6.11: the kernel lets them past
    # every seccomp filter (they only work from a uprobe trampoline), so they prove nothing
    gaps64 = [nr for nr in range(457) if nr not in set(tables["x86_64"].values())
              and nr not in (335, 336)]
    gaps32 = [nr for nr in range(457) if nr not in set(tables["x86"].values())]
    probes = {
        "getppid": ("x86_64", 110), "keyctl": ("x86_64", 250), "mount": ("x86_64", 165, 0, 0, 0),
        "unshare-ns": ("x86_64", 272, 0x20000), "syslog": ("x86_64", 103, 10),
        "open_by_handle_at": ("x86_64", 304, 0, 0, 0), "io_uring_setup": ("x86_64", 425, 0, 0),
        "socket-vsock": ("x86_64", 41, 40, 1, 0), "clone3": ("x86_64", 435, 0, 0),
        "clone-newuts": ("x86_64", 56, 0x04000000 | 17), "clone-fork": ("x86_64", 56, 17),
        "x32-getpid": ("x86_64", X32 | 39),
        "gap-first": ("x86_64", gaps64[0]), "gap-last": ("x86_64", gaps64[-1]),
        "statmount-457": ("x86_64", 457, 0, 0, 0), "mseal-462": ("x86_64", 462, 0, 0, 0),
        "nr-600": ("x86_64", 600), "nr-1023": ("x86_64", 1023),
        "i386-getpid": ("i386", 20), "i386-keyctl": ("i386", 288),
        "i386-socketcall": ("i386", 102, 1, 0), "i386-setns": ("i386", 346, 0, 0),
        "i386-457": ("i386", 457), "i386-personality-aslr": ("i386", 136, 0x40000),
        "i386-personality-query": ("i386", 136, 0xFFFFFFFF),
    }
    if gaps32:
        probes["i386-gap"] = ("i386", gaps32[0])
    for value in (0, 8, 0x20000, 0x20008, 0xFFFFFFFF, 0x40000, 0x400000, 1 << 32, 0xFFFFFFFE):
        probes[f"personality-{value:#x}"] = ("x86_64", 135, value)
    return probes


@pytest.fixture(scope="module")
def tables():
    from pallet.runtime.runc import RUNC, which
    runtime = which(RUNC) or RUNC
    found = syscall_guard.read_tables(runtime)
    assert found, f"{runtime} should link libseccomp.so.2 (Debian's runc does)"
    return found


def _run(rt, tmp_path, probes, host, **fields) -> dict[str, int]:
    loop = write(tmp_path / "probe", probes)
    container_id = uuid.uuid4().hex
    bundle = rt.bundle(container_id, ["sh", "-c", loop], seccomp_host=host,
                       mounts=[bind(str(tmp_path / "probe"), "/probe", readonly=True)], **fields)
    rt.monitor.create(container_id, bundle, bundle / "ctr.log",
                      guard=syscall_guard.from_bundle(bundle))
    try:
        rt.monitor.start(container_id)
        assert rt.monitor.wait_exit(container_id, bundle, timeout=20) == 0
    finally:
        rt.monitor.delete(container_id, force=True)
    from pallet.runtime import logs
    return parse(output(list(logs.read_logs(bundle / "ctr.log"))))


def _host(rt, tmp_path):
    host = syscall_guard.host_tables(rt.runc.binary, tmp_path / "cache")
    assert host is not None, "Debian's runc and libseccomp take the inverted form on x86_64"
    return host


def test_the_inverted_profile_answers_every_probe_as_dockers_allowlist(rt, tmp_path, tables):
    probes = _probes(tables)
    docker = _run(rt, tmp_path / "a", probes, None)
    pallet = _run(rt, tmp_path / "b", probes, _host(rt, tmp_path))
    assert pallet == docker
    # and what Docker's profile means, spelled out
    assert docker["getppid"] == docker["i386-getpid"] == docker["clone-fork"] == 0
    assert docker["keyctl"] == docker["i386-keyctl"] == docker["mount"] == EPERM
    assert docker["unshare-ns"] == docker["clone-newuts"] == docker["syslog"] == EPERM
    assert docker["gap-first"] == docker["gap-last"] == EPERM  # numbers with no name
    assert docker["clone3"] == ENOSYS  # glibc then falls back to clone
    assert docker["personality-0x40000"] == docker["personality-0x400000"] == EPERM
    assert docker["personality-0x100000000"] == docker["i386-personality-aslr"] == EPERM
    assert docker["personality-0xffffffff"] == docker["i386-personality-query"] == 0
    newest = max(tables["x86_64"].values())
    assert docker["nr-600"] == docker["nr-1023"] == ENOSYS  # above the newest listed call
    if newest < 457:
        assert docker["statmount-457"] == docker["mseal-462"] == docker["i386-457"] == ENOSYS


def test_capabilities_unlock_the_same_calls_in_both_forms(rt, tmp_path, tables):
    probes = {k: v for k, v in _probes(tables).items()
              if k in ("unshare-ns", "clone3", "clone-newuts", "syslog", "keyctl", "statmount-457")}
    caps = dict(cap_add=["SYS_ADMIN", "SYSLOG"])
    docker = _run(rt, tmp_path / "a", probes, None, **caps)
    pallet = _run(rt, tmp_path / "b", probes, _host(rt, tmp_path), **caps)
    assert pallet == docker
    assert docker["unshare-ns"] == docker["syslog"] == 0 and docker["keyctl"] == EPERM


def test_the_guard_sits_under_conmon_only_for_bundles_that_need_it(rt, tmp_path):
    host = _host(rt, tmp_path)
    inverted = rt.bundle(uuid.uuid4().hex, ["true"], seccomp_host=host)
    privileged = rt.bundle(uuid.uuid4().hex, ["true"], seccomp_host=host, privileged=True)
    allowlist = rt.bundle(uuid.uuid4().hex, ["true"])
    assert syscall_guard.from_bundle(inverted) == host.guard
    assert syscall_guard.from_bundle(privileged) is None  # no seccomp at all, as Docker
    assert syscall_guard.from_bundle(allowlist) is None


def test_a_thread_already_under_a_filter_keeps_dockers_allowlist(rt, tmp_path):
    # a --restart carried out by conmon's exit command runs under the guard already:
    # it must not stack another one at every restart
    host = _host(rt, tmp_path)
    seen = syscall_guard.call_guarded(host.guard, syscall_guard.usable, rt.runc.binary,
                                      tmp_path / "cache")
    assert seen is None
    assert syscall_guard.usable(rt.runc.binary, tmp_path / "cache") is host


CLI_PROBES = {"keyctl": ("x86_64", 250), "personality-aslr": ("x86_64", 135, 0x40000),
              "statmount-457": ("x86_64", 457, 0, 0, 0), "gap-400": ("x86_64", 400),
              "i386-personality-aslr": ("i386", 136, 0x40000), "getppid": ("x86_64", 110)}


def _expected_default(tables) -> dict[str, int]:
    above = ENOSYS if max(tables["x86_64"].values()) < 457 else EPERM
    return {"keyctl": EPERM, "personality-aslr": EPERM, "statmount-457": above,
            "gap-400": EPERM, "i386-personality-aslr": EPERM, "getppid": 0}


def test_run_and_exec_both_get_dockers_default_profile(pallet, busybox, tmp_path, tables):
    loop = write(tmp_path / "probe", CLI_PROBES)
    volume = f"{tmp_path / 'probe'}:/probe:ro"
    ran = pallet.ok("run", "--rm", "-v", volume, busybox, "sh", "-c", loop)
    assert parse(ran.out) == _expected_default(tables)
    pallet.ok("run", "-d", "--name", "probed", "-v", volume, busybox, "sleep", "60")
    execed = pallet.ok("exec", "probed", "sh", "-c", loop)  # runc exec under the guard too
    assert parse(execed.out) == _expected_default(tables)
    pallet.ok("rm", "-f", "probed")


def test_privileged_runs_without_seccomp_as_docker_does(pallet, busybox, tmp_path):
    loop = write(tmp_path / "probe", CLI_PROBES)
    ran = pallet.ok("run", "--rm", "--privileged", "-v", f"{tmp_path / 'probe'}:/probe:ro",
                    busybox, "sh", "-c", loop + "; grep '^Seccomp:' /proc/self/status")
    assert "Seccomp:\t0" in ran.out  # no guard under a privileged container either
    seen = parse(ran.out.split("Seccomp:")[0])
    assert seen["personality-aslr"] == seen["i386-personality-aslr"] == 0
    assert seen["keyctl"] != EPERM and seen["gap-400"] == ENOSYS  # the kernel's own answers
