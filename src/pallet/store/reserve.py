"""A few MiB the store keeps for itself, so that pallet can delete on a full disk.

On a full filesystem SQLite cannot commit even a DELETE (its WAL must grow, and a
checkpoint grows the database file): `rm`, `rmi`, the prunes and `volume rm` would
fail, and pallet could not free the space itself. So the store keeps `root/reserve`,
a file of RESERVE bytes, allocated; a deletion that finds the disk nearly full gives
it up first (`before_delete`), and it is taken again once there is room (`restore`,
run by the deleting verbs, never on `run`'s path).
"""
from __future__ import annotations

import os
from pathlib import Path

RESERVE = 4 << 20   # more than a checkpoint of a full WAL (~128 pages, 0.5 MiB) and a deletion need
ROOM = 16 << 20     # free space (beyond the reserve) above which it is taken again


def _free(root: Path) -> int:
    st = os.statvfs(root)
    return st.f_bavail * st.f_frsize


def before_delete(reserve: Path) -> None:
    """Give the reserve up when the disk has less than it free (one statvfs otherwise)."""
    try:
        if _free(reserve.parent) < RESERVE:
            os.unlink(reserve)
    except OSError:
        pass


def restore(reserve: Path) -> None:
    """Take the reserve (again) if it is missing and the disk has room for it."""
    if os.path.exists(reserve):
        return
    tmp = reserve.with_name(f"{reserve.name}.{os.getpid()}")
    try:
        if _free(reserve.parent) < ROOM + RESERVE:
            return
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            os.posix_fallocate(fd, 0, RESERVE)
        finally:
            os.close(fd)
        os.rename(tmp, reserve)
    except OSError:
        try:
            os.unlink(tmp)
        except OSError:
            pass
