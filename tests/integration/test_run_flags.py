"""`run`/`create` flags of Docker's that pallet takes as Docker does (round two): each is applied
to the container, or, where this host or pallet cannot, refused or warned in Docker's words."""
from __future__ import annotations

import json
import os
import time

import pytest

from polling import wait_for

pytestmark = pytest.mark.usefixtures("no_leaks")


HAS_BLKIO_WEIGHT = any(os.path.exists(f"/sys/fs/cgroup/blkio/{f}") for f in ("blkio.weight", "blkio.bfq.weight"))


def _inspect(pallet, ref) -> dict:
    return json.loads(pallet.ok("inspect", ref).out)[0]


def _block_device() -> str:
    return next(f"/dev/{n}" for n in sorted(os.listdir("/dev"))
                if os.path.exists(f"/sys/block/{n}") and not n.startswith(("loop", "ram")))


def test_label_file_then_label_flags_as_docker_reads_them(pallet, busybox, tmp_path):
    (tmp_path / "labels").write_text("# team labels\ntier=web\n\nowner=a\nbare\n")
    pallet.ok("create", "--name", "labelled", "--label-file", str(tmp_path / "labels"), "-l", "owner=b",
              "busybox", "true")
    labels = _inspect(pallet, "labelled")["Config"]["Labels"]
    assert labels == {"tier": "web", "owner": "b", "bare": ""}  # the flag wins over the file
    r = pallet("create", "--label-file", str(tmp_path / "nosuch"), "busybox", "true")
    assert r.code == 125 and "nosuch" in r.err


def test_domainname_cgroupns_and_memory_settings_reach_the_container(pallet, busybox):
    dev = _block_device()
    script = ("cat /proc/sys/kernel/domainname; readlink /proc/self/ns/cgroup; "
              "cat /sys/fs/cgroup/memory/memory.swappiness; grep oom_kill_disable "
              "/sys/fs/cgroup/memory/memory.oom_control; cat /sys/fs/cgroup/blkio/blkio.throttle.read_bps_device "
              "/sys/fs/cgroup/blkio/blkio.throttle.write_iops_device")
    r = pallet.ok("run", "--name", "settings", "--domainname", "example.org", "--cgroupns", "private",
                  "-m", "64m", "--oom-kill-disable", "--memory-swappiness", "10",
                  "--device-read-bps", f"{dev}:1mb", "--device-write-iops", f"{dev}:100",
                  "--annotation", "org.example.team=web", "--userns", "host", "busybox", "sh", "-c", script)
    rdev = os.stat(dev).st_rdev
    major_minor = f"{os.major(rdev)}:{os.minor(rdev)}"
    lines = r.out.splitlines()
    assert lines[0] == "example.org"
    assert lines[1] != os.readlink("/proc/self/ns/cgroup")  # a namespace of its own
    assert lines[2:] == ["10", "oom_kill_disable 1", f"{major_minor} 1048576", f"{major_minor} 100"]
    assert r.err == ""  # -m is set: no OOM warning
    doc = _inspect(pallet, "settings")
    host = doc["HostConfig"]
    assert doc["Config"]["Domainname"] == "example.org"
    assert (host["CgroupnsMode"], host["OomKillDisable"], host["MemorySwappiness"]) == ("private", True, 10)
    assert host["BlkioDeviceReadBps"] == [{"Path": dev, "Rate": 1048576}]
    assert host["BlkioDeviceWriteIOps"] == [{"Path": dev, "Rate": 100}]
    assert host["Annotations"] == {"org.example.team": "web"} and host["UsernsMode"] == "host"
    bundle = json.loads((pallet.root / "containers" / doc["Id"] / "userdata" / "config.json").read_text())
    assert bundle["annotations"]["org.example.team"] == "web"  # passed through to the OCI runtime
    # the default on a cgroup v1 host, as Docker's: the host's cgroup namespace
    out = pallet.ok("run", "--rm", "busybox", "readlink", "/proc/self/ns/cgroup").out.strip()
    assert out == os.readlink("/proc/self/ns/cgroup")


def test_settings_the_host_cannot_apply_are_warned_and_discarded_as_docker(pallet, busybox):
    r = pallet.ok("run", "--name", "warned", "--oom-kill-disable", "--kernel-memory", "10m",
                  "--blkio-weight", "300", "busybox", "true")
    warnings = r.err.splitlines()
    assert warnings[:2] == [
        "WARNING: Specifying a kernel memory limit is deprecated and will be removed in a future release.",
        "WARNING: Disabling the OOM killer on containers without setting a '-m/--memory' limit may be dangerous."]
    host = _inspect(pallet, "warned")["HostConfig"]
    assert host["KernelMemory"] == 0
    if not HAS_BLKIO_WEIGHT:  # this host's blkio controller has no weight (no BFQ)
        assert warnings[2] == ("WARNING: Your kernel does not support Block I/O weight or the cgroup "
                               "is not mounted. Weight discarded.")
        assert host["BlkioWeight"] == 0


@pytest.mark.parametrize("flags, code, message", [
    (["--cgroupns", "bogus"], 125, "--cgroupns: invalid CGROUP mode"),
    (["--userns", "remap"], 125, "--userns: invalid USER mode"),
    (["--storage-opt", "size=1G"], 125,
     "--storage-opt is supported only for overlay over xfs with 'pquota' mount option"),
    (["--gpus", "all"], 125, 'could not select device driver "" with capabilities: [[gpu]]'),
    (["--memory-swappiness", "101"], 125, "Invalid value: 101, valid memory swappiness range is 0-100"),
    (["--device-read-bps", "/dev/vda"], 125,
     'invalid argument "/dev/vda" for "--device-read-bps" flag: bad format: /dev/vda'),
    (["--device-write-iops", "/dev/vda:fast"], 125, "invalid rate for device: /dev/vda:fast"),
    (["--device-read-bps", "/dev/nosuch:1mb"], 125, "stat /dev/nosuch: no such file or directory"),
    (["--annotation", "novalue"], 125, "invalid annotation 'novalue'"),
])
def test_bad_values_are_refused_before_anything_is_made(pallet, busybox, flags, code, message):
    r = pallet("run", "--rm", *flags, "busybox", "true")
    assert r.code == code and message in r.err, r.err
    assert pallet.ok("ps", "-aq").out == ""


def test_health_start_interval_probes_often_during_the_start_period(pallet, busybox):
    pallet.ok("run", "-d", "--name", "healthy", "--health-cmd", "true", "--health-interval", "60s",
              "--health-start-period", "60s", "--health-start-interval", "200ms", "busybox", "sleep", "100")
    assert _inspect(pallet, "healthy")["Config"]["Healthcheck"]["StartInterval"] == 200_000_000
    started = time.monotonic()
    assert wait_for(lambda: _inspect(pallet, "healthy")["State"]["Health"]["Status"] == "healthy", 10)
    assert time.monotonic() - started < 10  # not the 60s interval


def test_update_memory_reservation_blkio_weight_and_realtime_cpu(pallet, busybox):
    pallet.ok("run", "-d", "--name", "updated", "busybox", "sleep", "100")
    pallet.ok("update", "--memory-reservation", "32m", "updated")
    assert pallet.ok("exec", "updated", "cat", "/sys/fs/cgroup/memory/memory.soft_limit_in_bytes").out == "33554432\n"
    # the kernel gives a cgroup no real-time budget: its parent gets what the child asks, as dockerd
    pallet.ok("update", "--cpu-rt-period", "1000000", "--cpu-rt-runtime", "10000", "updated")
    assert pallet.ok("exec", "updated", "cat", "/sys/fs/cgroup/cpu/cpu.rt_runtime_us").out == "10000\n"
    host = _inspect(pallet, "updated")["HostConfig"]
    assert (host["MemoryReservation"], host["CpuRealtimePeriod"], host["CpuRealtimeRuntime"]) == (
        33554432, 1000000, 10000)
    r = pallet("update", "--cpu-rt-period", "100", "--cpu-rt-runtime", "1000", "updated")
    assert r.code == 1 and r.err == "Error: cpu-rt-runtime cannot be higher than cpu-rt-period\n"
    for weight in ("300", "5"):
        r = pallet("update", "--blkio-weight", weight, "updated")
        if HAS_BLKIO_WEIGHT:
            assert r.code == (0 if weight == "300" else 1)
        else:  # moby discards it, with its warning, before it would check the range
            assert r.code == 0 and r.err == ("WARNING: Your kernel does not support Block I/O weight "
                                             "or the cgroup is not mounted. Weight discarded.\n")
            assert _inspect(pallet, "updated")["HostConfig"]["BlkioWeight"] == 0


def test_mac_address_is_the_containers_on_its_network(pallet, busybox):
    r = pallet.ok("run", "--rm", "--mac-address", "92:D0:C6:0A:29:33", "busybox", "cat",
                  "/sys/class/net/eth0/address")
    assert r.out == "92:d0:c6:0a:29:33\n"
    pallet.ok("network", "create", "macs")
    pallet.ok("run", "-d", "--name", "withmac", "--network", "macs", "--mac-address", "92:d0:c6:0a:29:34",
              "busybox", "sleep", "100")
    ns = _inspect(pallet, "withmac")["NetworkSettings"]
    assert ns["MacAddress"] == ns["Networks"]["macs"]["MacAddress"] == "92:d0:c6:0a:29:34"
    pallet.ok("rm", "-f", "withmac")
    pallet.ok("network", "rm", "macs")
    r = pallet("run", "--rm", "--mac-address", "92:d0:c6:0a:29", "busybox", "true")
    assert r.code == 125 and "92:d0:c6:0a:29 is not a valid mac address" in r.err


def test_link_puts_the_alias_hostname_and_name_in_etc_hosts(pallet, busybox):
    pallet.ok("run", "-d", "--name", "db", "--hostname", "dbhost", "busybox", "sleep", "100")
    ip = _inspect(pallet, "db")["NetworkSettings"]["IPAddress"]
    r = pallet.ok("run", "--name", "app", "--link", "db:database", "busybox", "sh", "-c",
                  "grep database /etc/hosts; ping -c1 -W2 database >/dev/null && echo reached")
    assert r.out == f"{ip}\tdatabase dbhost db\nreached\n"
    assert _inspect(pallet, "app")["HostConfig"]["Links"] == ["/db:/app/database"]
    pallet.ok("stop", "-t", "0", "db")
    r = pallet("start", "app")
    assert r.code == 1 and "Cannot link to a non running container: /db AS /app/database" in r.err
    r = pallet("run", "--rm", "--link", "nosuch", "busybox", "true")
    assert r.code == 125 and "could not get container for nosuch: No such container: nosuch" in r.err
    r = pallet("run", "--rm", "--network", "host", "--link", "db", "busybox", "true")
    assert r.code == 125 and "host type networking can't be used with links" in r.err


def test_link_on_the_default_bridge_sets_dockers_legacy_link_variables(pallet, busybox):
    pallet.ok("run", "-d", "--name", "web-db", "--expose", "5432", "--expose", "80/udp",
              "-e", "POSTGRES_USER=app", "busybox", "sleep", "100")
    ip = _inspect(pallet, "web-db")["NetworkSettings"]["IPAddress"]
    r = pallet.ok("run", "--rm", "--name", "app", "--link", "web-db:my-db", "busybox", "env")
    env = [line for line in r.lines if line.startswith("MY_DB_")]
    assert env == [f"MY_DB_PORT=udp://{ip}:80",
                   f"MY_DB_PORT_80_UDP=udp://{ip}:80", f"MY_DB_PORT_80_UDP_ADDR={ip}",
                   "MY_DB_PORT_80_UDP_PORT=80", "MY_DB_PORT_80_UDP_PROTO=udp",
                   f"MY_DB_PORT_5432_TCP=tcp://{ip}:5432", f"MY_DB_PORT_5432_TCP_ADDR={ip}",
                   "MY_DB_PORT_5432_TCP_PORT=5432", "MY_DB_PORT_5432_TCP_PROTO=tcp",
                   "MY_DB_NAME=/app/my-db", "MY_DB_ENV_POSTGRES_USER=app"]
    # the container's own -e wins over a link variable, as CreateDaemonEnvironment merges them
    r = pallet.ok("run", "--rm", "--link", "web-db:my-db", "-e", "MY_DB_NAME=mine", "busybox",
                  "sh", "-c", "echo $MY_DB_NAME")
    assert r.out == "mine\n"
    # on a user-defined network a link is a name only: no variables, as Docker
    pallet.ok("network", "create", "linknet")
    pallet.ok("network", "connect", "linknet", "web-db")
    r = pallet.ok("run", "--rm", "--network", "linknet", "--link", "web-db:my-db", "busybox", "env")
    assert not [line for line in r.lines if line.startswith("MY_DB_")]
