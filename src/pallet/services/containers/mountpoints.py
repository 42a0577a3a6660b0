"""Where a container's mounts land: every destination in its runtime spec, resolved inside
the container's own tree before runc sees it.

Owns: `confine(spec, rootfs)`. An image decides what its tree holds, so any component of
a mount destination (/etc/hosts, /etc/resolv.conf, a volume's or bind's target,
/sbin/docker-init) may be a symlink pointing anywhere. Each destination is resolved as
the container will see it, symlinks followed inside the rootfs, with the resolver `cp`
uses (`container_fs_scope.Scope`); the spec gets the symlink-free path, as Docker
resolves destinations (securejoin) before it mounts.

runc 1.1 resolves destinations the same way itself (and refuses /proc and /sys on a
non-directory), so this is a second line, not the only one. But /dev, /proc and /sys are
different: runc mounts a fresh file system there and then fills /dev by joined strings
(``<rootfs>/dev/fd``, ``ptmx``, ``stdin``, ...), which follow a symlinked /dev onto the
host (Podman 4.3 with runc has that hole; Docker's init layer hides the image's /dev
under a directory). An image whose /dev, /proc or /sys is not a directory is refused
with an error naming it. Destinations beneath a fresh mount
(/dev/shm, /dev/pts, a --tmpfs's children) are not looked up in the image, which
that mount hides.

Runs on the `run` hot path: imports only os, posixpath, stat and the resolver.
"""
from __future__ import annotations

import os
import posixpath
import stat
from pathlib import Path

from ...errors import InvalidArgument
from ..container_fs_scope import Scope

RUNTIME_DIRS = ("/dev", "/proc", "/sys")


def confine(spec: dict, rootfs: Path) -> None:
    """Rewrite ``spec["mounts"]`` destinations to their resolved form inside `rootfs` (the
    container's mounted tree), parents before children; InvalidArgument for an image
    whose /dev, /proc or /sys would lead runc outside it."""
    mounts = spec.get("mounts") or []
    check_runtime_dirs(rootfs, {m["destination"] for m in mounts})  # then not resolved again
    scope = Scope(Path(rootfs))
    fresh: list[str] = []  # destinations of mounts that are not the image's tree
    for m in mounts:
        dest = _clean(m["destination"])
        if dest not in RUNTIME_DIRS and not any(dest == f or dest.startswith(f + "/") for f in fresh):
            dest = "/" + "/".join(_resolve(scope, dest))
            if dest == "/":  # a symlink to / (Docker refuses / as a destination outright)
                raise InvalidArgument(f"invalid mount destination {m['destination']}: the image's "
                                      "symlinks lead it to the container's root")
        m["destination"] = dest
        if m["type"] != "bind":
            fresh.append(dest)
        elif os.path.isdir(m["source"]):  # a later destination beneath it resolves in it
            scope.mounts[tuple(dest.strip("/").split("/"))] = (Path(m["source"]), False)
    mounts.sort(key=lambda m: m["destination"].count("/"))  # stable: equal depths keep order


def check_runtime_dirs(rootfs: Path, destinations: set[str]) -> None:
    """Refuse a tree whose /dev, /proc or /sys (where the spec mounts them) is a symlink
    or any other non-directory; a missing one runc creates inside the rootfs."""
    for path in RUNTIME_DIRS:
        if path not in destinations:
            continue
        host = Path(rootfs) / path[1:]
        try:
            st = os.lstat(host)
        except FileNotFoundError:
            continue
        if stat.S_ISDIR(st.st_mode):
            continue
        what = (f"a symbolic link to {os.readlink(host)}" if stat.S_ISLNK(st.st_mode)
                else "not a directory")
        raise InvalidArgument(f"invalid image: {path} is {what}; the runtime mounts {path} "
                              "itself and needs a directory there")


def _clean(path: str) -> str:
    return "/" + posixpath.normpath("/" + path).lstrip("/")


def _resolve(scope: Scope, path: str) -> tuple[str, ...]:
    """The resolved parts of `path`; a missing directory on the way is one runc will make."""
    try:
        return scope.resolve(path, missing_dirs=True)
    except NotADirectoryError:
        # a file where a directory should be: runc reports it; nothing is followed
        return tuple(p for p in path.split("/") if p)
