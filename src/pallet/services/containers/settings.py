"""The smaller `run`/`create` settings Docker's HostConfig carries, checked, recorded and
turned into the OCI spec: `--domainname`, `--cgroupns`, `--oom-kill-disable`,
`--memory-swappiness`, `--kernel-memory`, `--blkio-weight`, `--device-{read,write}-{bps,iops}`,
`--annotation`, `--userns`.

What the host cannot do is discarded with the warning Docker's daemon gives (moby's
verifyPlatformContainerResources), never silently: `create_warnings` says it, and the
record keeps what is applied. Reads only the request and the host's cgroup files.
"""
from __future__ import annotations

import os

from ...errors import InvalidArgument

CGROUP_V1 = "/sys/fs/cgroup"
THROTTLES = (("BlkioDeviceReadBps", "throttleReadBpsDevice", "read_bps_device", "BPS Block I/O read"),
             ("BlkioDeviceWriteBps", "throttleWriteBpsDevice", "write_bps_device", "BPS Block I/O write"),
             ("BlkioDeviceReadIOps", "throttleReadIOPSDevice", "read_iops_device", "IOPS Block I/O read"),
             ("BlkioDeviceWriteIOps", "throttleWriteIOPSDevice", "write_iops_device",
              "IOPS Block I/O write"))


def _cgroup_v2() -> bool:
    return os.path.exists(f"{CGROUP_V1}/cgroup.controllers")


def _has(controller_file: str) -> bool:
    return os.path.exists(f"{CGROUP_V1}/{controller_file}")


def check(s: dict) -> None:
    """What Docker refuses outright (the request's `settings`)."""
    swappiness = s.get("MemorySwappiness")
    if swappiness is not None and swappiness != -1 and not 0 <= swappiness <= 100:
        raise InvalidArgument(f"Invalid value: {swappiness}, valid memory swappiness range is 0-100")
    weight = s.get("BlkioWeight") or 0
    # moby discards an unsupported weight (with a warning) before it checks the range
    if weight and _blkio_weight_file() and not 10 <= weight <= 1000:
        raise InvalidArgument("Range of blkio weight is from 10 to 1000")
    for key, *_ in THROTTLES:
        for entry in s.get(key) or []:
            try:
                st = os.stat(entry["Path"])
            except OSError as exc:
                raise InvalidArgument(f"stat {entry['Path']}: {exc.strerror.lower()}") from None
            if not (st.st_mode & 0o170000) == 0o060000:
                raise InvalidArgument(f"{entry['Path']} is not a block device")


def create_warnings(s: dict, memory: int) -> list[str]:
    """The warnings Docker prints for these settings on this host (before `WARNING: `)."""
    out = []
    if s.get("KernelMemory"):
        out.append("Specifying a kernel memory limit is deprecated and will be removed in a future "
                   "release.")
    if s.get("OomKillDisable") and not memory:
        out.append("Disabling the OOM killer on containers without setting a '-m/--memory' limit "
                   "may be dangerous.")
    if s.get("BlkioWeight") and not _blkio_weight_file():
        out.append("Your kernel does not support Block I/O weight or the cgroup is not mounted. "
                   "Weight discarded.")
    for key, _, name, words in THROTTLES:
        if s.get(key) and not (_cgroup_v2() or _has(f"blkio/blkio.throttle.{name}")):
            out.append(f"Your kernel does not support {words} limit or the cgroup is not mounted. "
                       f"Block I/O {words.split(' Block')[0]} {name.split('_')[0]} limit discarded.")
    return out


def _blkio_weight_file() -> str | None:
    for name in ("blkio/blkio.weight", "blkio/blkio.bfq.weight", "io.bfq.weight", "io.weight"):
        if _has(name):
            return name
    return None


def host_config(s: dict) -> dict:
    """HostConfig's fields for these settings, as applied (discarded ones zeroed, as Docker)."""
    swappiness = s.get("MemorySwappiness")
    cgroupns = s.get("CgroupnsMode") or ("private" if _cgroup_v2() else "host")
    return {
        "CgroupnsMode": cgroupns, "OomKillDisable": bool(s.get("OomKillDisable")),
        "MemorySwappiness": None if swappiness in (None, -1) else swappiness,
        "KernelMemory": 0,  # deprecated by Docker; never applied
        # the weight's files are looked for only when one is asked for (every create comes here)
        "BlkioWeight": s["BlkioWeight"] if s.get("BlkioWeight") and _blkio_weight_file() else 0,
        **{key: s.get(key) or [] for key, *_ in THROTTLES},
        "Annotations": s.get("Annotations") or None, "UsernsMode": s.get("UsernsMode") or "",
    }


def spec_fields(record: dict) -> tuple[dict, dict]:
    """(SpecRequest fields, Resources fields) for a record's settings."""
    host = record["HostConfig"]
    throttle = []
    for key, oci_name, *_ in THROTTLES:
        entries = []
        for entry in host.get(key) or []:
            rdev = os.stat(entry["Path"]).st_rdev
            entries.append((os.major(rdev), os.minor(rdev), entry["Rate"]))
        throttle.append((oci_name, tuple(entries)))
    spec = {"domainname": record["Config"].get("Domainname") or "",
            "cgroupns_private": host.get("CgroupnsMode") == "private",
            "annotations": dict(host.get("Annotations") or {})}
    resources = {"memory_swappiness": host.get("MemorySwappiness"),
                 "oom_kill_disable": bool(host.get("OomKillDisable")),
                 "blkio_weight": host.get("BlkioWeight") or None, "blkio_throttle": tuple(throttle)}
    return spec, resources
