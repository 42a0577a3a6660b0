"""Device nodes and the device cgroup, as Docker sets them.

Owns: Docker's default device cgroup rules (deny all, then allow null, zero, random,
urandom, tty and console, and deny fuse; runc itself adds the nodes it creates), the
``--device-cgroup-rule`` parser, and `host_devices()` (the host's /dev, which
``--privileged`` exposes). Only `host_devices` does I/O. Imports only the stdlib and errors.
"""
from __future__ import annotations

import os

from pallet.errors import InvalidArgument

DEFAULT_ALLOWED = ((1, 5), (1, 3), (1, 9), (1, 8), (5, 0), (5, 1))  # major, minor
FUSE = (10, 229)


def parse_rule(rule: str) -> dict:
    """Parse ``--device-cgroup-rule 'c 1:3 rwm'`` (``*`` for any major or minor)."""
    try:
        kind, numbers, access = rule.split()
        major, minor = numbers.split(":")
        if kind not in ("a", "b", "c") or not set(access) <= set("rwm"):
            raise ValueError(rule)
        entry = {"allow": True, "type": kind, "access": access}
        if major != "*":
            entry["major"] = int(major)
        if minor != "*":
            entry["minor"] = int(minor)
        return entry
    except ValueError as exc:
        raise InvalidArgument(f"invalid device cgroup format '{rule}'") from exc


def device_rules(privileged: bool, devices: list[dict], cgroup_rules: list[str]) -> list[dict]:
    """linux.resources.devices: deny all, allow Docker's defaults, the devices, the rules."""
    if privileged:
        return [{"allow": True, "access": "rwm"}]
    rules = [{"allow": False, "access": "rwm"}]
    for major, minor in DEFAULT_ALLOWED:
        rules.append({"allow": True, "type": "c", "major": major, "minor": minor,
                      "access": "rwm"})
    rules.append({"allow": False, "type": "c", "major": FUSE[0], "minor": FUSE[1],
                  "access": "rwm"})
    for dev in devices:
        rules.append({"allow": True, "type": dev["type"], "major": dev["major"],
                      "minor": dev["minor"], "access": dev.get("access", "rwm")})
    return rules + [parse_rule(r) for r in cgroup_rules]


def oci_entry(dev: dict) -> dict:
    """A device as linux.devices lists it (its cgroup access lives in the rules)."""
    return {k: v for k, v in dev.items() if k != "access"}


def mapped_devices(mapping: dict) -> list[dict]:
    """The OCI device entries (with their cgroup access) a HostConfig.Devices entry gives:
    the node itself, or every node under a directory, each at its place under
    PathInContainer, as Docker's daemon does."""
    import stat
    src, dst = mapping["PathOnHost"], mapping["PathInContainer"]
    try:
        st = os.stat(src)
    except OSError as exc:
        raise InvalidArgument(f"error gathering device information while adding custom device "
                              f'"{src}": {(exc.strerror or str(exc)).lower()}') from None
    if stat.S_ISDIR(st.st_mode):
        found = []
        for root, _dirs, files in os.walk(src):
            for name in sorted(files):
                path = os.path.join(root, name)
                try:
                    found.append(_entry(path, dst + path[len(src):], os.stat(path), mapping))
                except (OSError, ValueError):
                    continue  # not a device node: Docker skips it too
        return found
    try:
        return [_entry(src, dst, st, mapping)]
    except ValueError:
        raise InvalidArgument(f"error gathering device information while adding custom device "
                              f'"{src}": not a device node') from None


def _entry(path: str, target: str, st, mapping: dict) -> dict:
    import stat
    if not (stat.S_ISCHR(st.st_mode) or stat.S_ISBLK(st.st_mode)):
        raise ValueError(path)
    return {"path": target, "type": "c" if stat.S_ISCHR(st.st_mode) else "b",
            "major": os.major(st.st_rdev), "minor": os.minor(st.st_rdev),
            "fileMode": stat.S_IMODE(st.st_mode), "uid": st.st_uid, "gid": st.st_gid,
            "access": mapping["CgroupPermissions"]}


def host_devices() -> list[dict]:
    """Every device node under the host's /dev as OCI entries, for ``--privileged``."""
    import stat
    found = []
    for dirpath, _dirs, files in os.walk("/dev"):
        if dirpath.startswith(("/dev/pts", "/dev/mqueue", "/dev/shm")):
            continue
        for name in files:
            path = os.path.join(dirpath, name)
            try:
                st = os.lstat(path)
            except OSError:
                continue
            if stat.S_ISCHR(st.st_mode) or stat.S_ISBLK(st.st_mode):
                found.append({"path": path, "type": "c" if stat.S_ISCHR(st.st_mode) else "b",
                              "major": os.major(st.st_rdev), "minor": os.minor(st.st_rdev),
                              "fileMode": stat.S_IMODE(st.st_mode), "uid": st.st_uid,
                              "gid": st.st_gid})
    return [d for d in found if d["path"] not in ("/dev/console", "/dev/ptmx")]
