"""``--device src[:dst][:perms]``: Docker's device flag, read as docker/cli reads it.

Pure: imports only ``pallet.errors``. What a device entry becomes in the runtime spec
(its nodes and cgroup rules) is ``pallet.runtime.devices``'s.
"""
from __future__ import annotations

from ..errors import InvalidArgument


def parse_device(spec: str) -> dict:
    """``--device src[:dst][:perms]`` as docker/cli reads it -> a HostConfig.Devices entry."""
    parts = spec.split(":")
    if len(parts) > 3:
        raise InvalidArgument(f"invalid device specification: {spec}")
    src, dst, perms = parts[0], "", "rwm"
    if len(parts) == 3:
        dst, perms = parts[1], parts[2]
    elif len(parts) == 2:
        if _valid_mode(parts[1]):
            perms = parts[1]
        else:
            dst = parts[1]
    dst = dst or src
    if not _valid_mode(perms):
        raise InvalidArgument(f"bad mode specified: {perms}")
    if not dst.startswith("/"):
        raise InvalidArgument(f"{dst} is not an absolute path")
    return {"PathOnHost": src, "PathInContainer": dst, "CgroupPermissions": perms}


def _valid_mode(mode: str) -> bool:
    return bool(mode) and len(mode) <= 3 and set(mode) <= set("rwm") and len(set(mode)) == len(mode)
