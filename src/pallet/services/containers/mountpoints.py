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

Runs on the `run` hot path: imports only os, posixpath and stat. A destination none of
whose components is a symlink in the image (the common case: /etc/hosts in a plain tree)
resolves to itself, which one lstat per component (shared between destinations) shows;
any other, or one beneath a directory bind, goes through the resolver, imported then.
"""
from __future__ import annotations

import os
import posixpath
import stat
from pathlib import Path

from ...errors import InvalidArgument

RUNTIME_DIRS = ("/dev", "/proc", "/sys")


def confine(spec: dict, rootfs: Path) -> None:
    """Rewrite ``spec["mounts"]`` destinations to their resolved form inside `rootfs` (the
    container's mounted tree), parents before children; InvalidArgument for an image
    whose /dev, /proc or /sys would lead runc outside it."""
    mounts = spec.get("mounts") or []
    check_runtime_dirs(rootfs, {m["destination"] for m in mounts})  # then not resolved again
    tree = _Tree(str(rootfs))
    fresh: list[str] = []  # destinations of mounts that are not the image's tree
    for m in mounts:
        dest = _clean(m["destination"])
        if dest not in RUNTIME_DIRS and not _beneath(dest, fresh):
            dest = "/" + "/".join(tree.resolve(dest))
            if dest == "/":  # a symlink to / (Docker refuses / as a destination outright)
                raise InvalidArgument(f"invalid mount destination {m['destination']}: the image's "
                                      "symlinks lead it to the container's root")
        m["destination"] = dest
        if m["type"] != "bind":
            fresh.append(dest)
        elif os.path.isdir(m["source"]):  # a later destination beneath it resolves in it
            tree.bind(dest, m["source"])
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


def _beneath(dest: str, tops: list[str]) -> bool:
    return any(dest == t or dest.startswith(t + "/") for t in tops)


class _Tree:
    """The container's tree as mount destinations see it: the rootfs, plus the directory
    binds mounted so far (a later destination beneath one resolves in its source)."""

    def __init__(self, rootfs: str):
        self.rootfs = rootfs
        self.binds: list[tuple[str, str]] = []  # (destination, host directory)
        self.kinds: dict[str, str] = {}         # rootfs-relative path -> dir|link|missing|other
        self.scope = None

    def bind(self, dest: str, source: str) -> None:
        self.binds.append((dest, source))
        if self.scope is not None:
            self._add_bind(dest, source)

    def resolve(self, dest: str) -> tuple[str, ...]:
        """The resolved parts of clean `dest`; a missing directory on the way is one runc
        will make."""
        if not _beneath(dest, [d for d, _ in self.binds]):
            parts = self._plain(dest)
            if parts is not None:
                return parts
        try:
            return self._scope().resolve(dest, missing_dirs=True)
        except NotADirectoryError:
            # a file where a directory should be: runc reports it; nothing is followed
            return tuple(p for p in dest.split("/") if p)

    def _plain(self, dest: str) -> tuple[str, ...] | None:
        """`dest`'s parts if no component of it is a symlink (then it resolves to itself:
        each parent was seen to be a real directory before the path through it was read),
        else None. Below a missing directory nothing exists, so nothing is a link."""
        parts = tuple(p for p in dest.split("/") if p)
        for i in range(1, len(parts) + 1):
            kind = self._kind("/".join(parts[:i]))
            if kind == "missing":
                break
            if kind == "link" or (kind == "other" and i < len(parts)):
                return None
        return parts

    def _kind(self, rel: str) -> str:
        kind = self.kinds.get(rel)
        if kind is None:
            try:
                mode = os.lstat(f"{self.rootfs}/{rel}").st_mode
                kind = ("dir" if stat.S_ISDIR(mode) else "link" if stat.S_ISLNK(mode)
                        else "other")
            except FileNotFoundError:
                kind = "missing"
            except OSError:
                kind = "link"  # anything odd: the resolver decides
            self.kinds[rel] = kind
        return kind

    def _scope(self):
        if self.scope is None:
            from ..container_fs_scope import Scope
            self.scope = Scope(Path(self.rootfs))
            for dest, source in self.binds:
                self._add_bind(dest, source)
        return self.scope

    def _add_bind(self, dest: str, source: str) -> None:
        self.scope.mounts[tuple(dest.strip("/").split("/"))] = (Path(source), False)
