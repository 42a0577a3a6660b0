"""config.json generation follows Docker's defaults (pure: no runc needed)."""
from __future__ import annotations

import pytest

from pallet.errors import InvalidArgument
from pallet.runtime import seccomp
from pallet.runtime.spec import (ALL_CAPS, DEFAULT_CAPS, INIT_DESTINATION, MASKED_PATHS,
                                 READONLY_PATHS, Resources, SpecRequest, bind, capabilities,
                                 cgroups_path, make_spec, tmpfs)
from pallet.runtime.hostfiles import write_etc_files


def spec(**fields) -> dict:
    fields.setdefault("rlimit_ceilings", {"nofile": 20000})
    return make_spec(SpecRequest(args=["sh"], rootfs="/r", **fields))


def mounts_by_destination(s: dict) -> dict:
    return {m["destination"]: m for m in s["mounts"]}


def test_default_capabilities_are_dockers_14():
    caps = spec()["process"]["capabilities"]
    assert len(DEFAULT_CAPS) == 14
    assert caps == {"bounding": DEFAULT_CAPS, "effective": DEFAULT_CAPS,
                    "permitted": DEFAULT_CAPS}


def test_cap_drop_all_then_add_keeps_only_the_added():
    assert capabilities(["NET_ADMIN"], ["ALL"], False) == ["CAP_NET_ADMIN"]


def test_cap_add_all_minus_dropped():
    caps = capabilities(["ALL"], ["chown"], False)
    assert "CAP_CHOWN" not in caps and len(caps) == len(ALL_CAPS) - 1


def test_cap_drop_removes_a_default():
    caps = capabilities([], ["CAP_CHOWN", "net_raw"], False)
    assert "CAP_CHOWN" not in caps and "CAP_NET_RAW" not in caps and len(caps) == 12


def test_unknown_capability_is_invalid():
    with pytest.raises(InvalidArgument, match="invalid capability"):
        capabilities(["NOPE"], [], False)


def test_privileged_means_every_available_cap_no_masks_no_seccomp_all_devices():
    s = spec(privileged=True, bounding_caps=["CAP_CHOWN", "CAP_SYS_ADMIN"])
    assert s["process"]["capabilities"]["bounding"] == ["CAP_CHOWN", "CAP_SYS_ADMIN"]
    assert "maskedPaths" not in s["linux"] and "readonlyPaths" not in s["linux"]
    assert "seccomp" not in s["linux"]
    assert s["linux"]["resources"]["devices"] == [{"allow": True, "access": "rwm"}]
    assert "rw" in mounts_by_destination(s)["/sys"]["options"]


def test_masked_and_readonly_paths_are_dockers():
    s = spec()
    assert s["linux"]["maskedPaths"] == MASKED_PATHS
    assert "/proc/kcore" in MASKED_PATHS and "/sys/firmware" in MASKED_PATHS
    assert s["linux"]["readonlyPaths"] == READONLY_PATHS == [
        "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"]


def test_default_mounts_are_dockers():
    m = mounts_by_destination(spec())
    assert list(m)[:7] == ["/proc", "/dev", "/dev/pts", "/sys", "/sys/fs/cgroup",
                           "/dev/mqueue", "/dev/shm"]
    assert "size=67108864" in m["/dev/shm"]["options"]
    assert "ro" in m["/sys"]["options"] and "ro" in m["/sys/fs/cgroup"]["options"]
    assert "gid=5" in m["/dev/pts"]["options"]


def test_user_mount_replaces_default_and_parents_come_first():
    s = spec(mounts=[bind("/h/a/b", "/data/sub"), tmpfs("/dev/shm", size=1024),
                     bind("/h/a", "/data", readonly=True, propagation="rslave")])
    m = mounts_by_destination(s)
    assert m["/dev/shm"]["type"] == "tmpfs" and "size=1024" in m["/dev/shm"]["options"]
    assert [x["destination"] for x in s["mounts"]].count("/dev/shm") == 1
    order = [x["destination"] for x in s["mounts"]]
    assert order.index("/data") < order.index("/data/sub")
    assert m["/data"]["options"] == ["rbind", "rslave", "ro"]


def test_bad_propagation_is_invalid():
    with pytest.raises(InvalidArgument):
        bind("/a", "/b", propagation="sideways")


def test_namespaces_follow_network_mode():
    def kinds(s):
        return {n["type"]: n.get("path") for n in s["linux"]["namespaces"]}
    assert set(kinds(spec())) == {"mount", "pid", "ipc", "uts", "network"}
    assert "network" not in kinds(spec(host_network=True))
    assert kinds(spec(net_ns_path="/run/netns/x"))["network"] == "/run/netns/x"
    assert "pid" not in kinds(spec(host_pid=True))


def test_rlimits_are_clamped_to_the_host_ceiling():
    s = spec(rlimits={"nofile": (1024, 1 << 30)}, rlimit_ceilings={"nofile": 20000})
    assert s["process"]["rlimits"] == [{"type": "RLIMIT_NOFILE", "hard": 20000, "soft": 1024}]
    s = spec(rlimit_ceilings={"nofile": 20000})
    assert s["process"]["rlimits"] == [{"type": "RLIMIT_NOFILE", "hard": 20000, "soft": 20000}]


def test_rlimit_soft_above_hard_is_invalid():
    with pytest.raises(InvalidArgument, match="soft limit"):
        spec(rlimits={"nproc": (10, 5)})


def test_init_wraps_the_command_and_is_mounted_read_only():
    s = spec(init_path="/usr/bin/tini-static")
    assert s["process"]["args"] == [INIT_DESTINATION, "--", "sh"]
    init = mounts_by_destination(s)[INIT_DESTINATION]
    assert init["source"] == "/usr/bin/tini-static" and "ro" in init["options"]


def test_resources_as_docker_translates_them():
    r = spec(resources=Resources(memory=1 << 20, nano_cpus=1_500_000_000, cpu_shares=512,
                                 cpuset_cpus="0", pids_limit=10))["linux"]["resources"]
    assert r["memory"] == {"limit": 1 << 20, "swap": 2 << 20}
    assert r["cpu"] == {"shares": 512, "period": 100000, "quota": 150000, "cpus": "0"}
    assert r["pids"] == {"limit": 10}


def test_device_cgroup_rules_deny_all_then_allow_defaults_and_requested():
    devices = spec(device_cgroup_rules=["c 42:* rmw"])["linux"]["resources"]["devices"]
    assert devices[0] == {"allow": False, "access": "rwm"}
    assert {"allow": True, "type": "c", "major": 1, "minor": 3, "access": "rwm"} in devices
    assert devices[-1] == {"allow": True, "type": "c", "major": 42, "access": "rmw"}
    with pytest.raises(InvalidArgument, match="invalid device cgroup format"):
        spec(device_cgroup_rules=["x 1"])


def test_seccomp_default_denies_with_eperm_and_unlocks_by_capability():
    profile = spec()["linux"]["seccomp"]
    assert profile["defaultAction"] == "SCMP_ACT_ERRNO" and profile["defaultErrnoRet"] == 1
    allowed = {n for rule in profile["syscalls"] if rule["action"] == "SCMP_ACT_ALLOW"
               and "args" not in rule for n in rule["names"]}
    assert {"read", "write", "execve", "chown"} <= allowed
    assert "mount" not in allowed and "reboot" not in allowed
    admin = spec(cap_add=["SYS_ADMIN"])["linux"]["seccomp"]
    assert any("mount" in rule["names"] for rule in admin["syscalls"])
    clone3 = [r for r in profile["syscalls"] if r["names"] == ["clone3"]]
    assert clone3 == [{"names": ["clone3"], "action": "SCMP_ACT_ERRNO",
                       "errnoRet": seccomp.ENOSYS}]


def test_seccomp_unconfined_is_an_empty_profile():
    assert "seccomp" not in spec(seccomp_profile={})["linux"]


def test_process_user_env_cwd_and_terminal():
    s = spec(uid=65534, gid=65534, additional_gids=[10], env=["A=1"], cwd="/tmp",
             terminal=True, hostname="h", readonly_rootfs=True, annotations={"k": "v"})
    assert s["process"]["user"] == {"uid": 65534, "gid": 65534, "additionalGids": [10]}
    assert s["process"]["env"] == ["A=1"] and s["process"]["cwd"] == "/tmp"
    assert s["process"]["terminal"] is True and s["hostname"] == "h"
    assert s["root"] == {"path": "/r", "readonly": True}
    assert s["annotations"] == {"k": "v"}


def test_empty_command_is_invalid():
    with pytest.raises(InvalidArgument, match="no command specified"):
        make_spec(SpecRequest(args=[], rootfs="/r"))


def test_cgroups_path_is_plain():
    assert cgroups_path("abc") == "/pallet/abc"


def test_etc_files_are_written_for_bind_mounting(tmp_path):
    etc = write_etc_files(tmp_path / "ud", "myhost", extra_hosts=[("db", "10.0.0.2")],
                          dns=["1.1.1.1"])
    assert (tmp_path / "ud" / "hostname").read_text() == "myhost\n"
    assert "10.0.0.2\tdb" in (tmp_path / "ud" / "hosts").read_text()
    assert (tmp_path / "ud" / "resolv.conf").read_text() == "nameserver 1.1.1.1\n"
    m = mounts_by_destination(spec(etc_files=etc))
    assert m["/etc/resolv.conf"]["source"] == str(tmp_path / "ud" / "resolv.conf")


# ---- --security-opt seccomp=<profile in Docker's format> ----

def test_docker_profile_keeps_the_rules_that_apply_to_this_container():
    from pallet.runtime.seccomp import from_docker_profile
    profile = {
        "defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 1,
        "archMap": [{"architecture": "SCMP_ARCH_AARCH64", "subArchitectures": ["SCMP_ARCH_ARM"]},
                    {"architecture": "SCMP_ARCH_X86_64", "subArchitectures": ["SCMP_ARCH_X86"]}],
        "syscalls": [
            {"names": ["read"], "action": "SCMP_ACT_ALLOW", "comment": "kept, comment dropped"},
            {"name": "write", "action": "SCMP_ACT_ALLOW"},
            {"names": ["arch_prctl"], "action": "SCMP_ACT_ALLOW", "includes": {"arches": ["amd64"]}},
            {"names": ["sync_file_range2"], "action": "SCMP_ACT_ALLOW", "includes": {"arches": ["ppc64le"]}},
            {"names": ["mount"], "action": "SCMP_ACT_ALLOW", "includes": {"caps": ["CAP_SYS_ADMIN"]}},
            {"names": ["new_call"], "action": "SCMP_ACT_ALLOW", "includes": {"minKernel": "6.20"}},
            {"names": ["old_call"], "action": "SCMP_ACT_ALLOW", "excludes": {"minKernel": "5.4"}},
            {"names": ["personality"], "action": "SCMP_ACT_ALLOW",
             "args": [{"index": 0, "value": 8, "valueTwo": 0, "op": "SCMP_CMP_EQ"}]},
            {"names": ["clone3"], "action": "SCMP_ACT_ERRNO", "errnoRet": 38},
        ]}
    out = from_docker_profile(profile, ["CAP_CHOWN"], machine="x86_64", kernel=(6, 1))
    assert out["architectures"] == ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86"]
    assert out["defaultAction"] == "SCMP_ACT_ERRNO" and out["defaultErrnoRet"] == 1
    assert [r["names"] for r in out["syscalls"]] == [["read"], ["write"], ["arch_prctl"],
                                                     ["personality"], ["clone3"]]
    assert out["syscalls"][3]["args"] == [{"index": 0, "value": 8, "valueTwo": 0, "op": "SCMP_CMP_EQ"}]
    assert out["syscalls"][4]["errnoRet"] == 38
    with_admin = from_docker_profile(profile, ["CAP_SYS_ADMIN"], machine="x86_64", kernel=(6, 20))
    names = [n for r in with_admin["syscalls"] for n in r["names"]]
    assert "mount" in names and "new_call" in names
    assert "arch_prctl" not in [n for r in from_docker_profile(profile, [], machine="aarch64")["syscalls"]
                                for n in r["names"]]


def test_docker_profile_errors_and_the_empty_profile():
    from pallet.runtime.seccomp import ProfileError, from_docker_profile
    assert from_docker_profile({}, []) is None  # no default action, no rules: no seccomp, as Docker
    with pytest.raises(ProfileError, match="use either 'architectures' or 'archMap'"):
        from_docker_profile({"defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_X86"],
                             "archMap": [{"architecture": "SCMP_ARCH_X86_64"}]}, [])
    with pytest.raises(ProfileError, match="use either 'name' or 'names'"):
        from_docker_profile({"defaultAction": "SCMP_ACT_ALLOW",
                             "syscalls": [{"name": "a", "names": ["b"], "action": "SCMP_ACT_ERRNO"}]}, [])
