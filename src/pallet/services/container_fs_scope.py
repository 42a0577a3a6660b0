"""Paths inside a container, resolved as the container would see them, by directory fd.

Owns: `Scope`, a container's root tree plus the volumes and binds mounted into
it, and its path resolution (the guard against the CVE-2018-15664 class of
`docker cp` escapes). A path is walked component by component: symlinks are
read with readlink(dir_fd) and resolved against the *container* root (an
absolute target restarts there, `..` never climbs above it), and every open is
openat(O_NOFOLLOW | O_DIRECTORY) relative to an already-open directory. A
symlink swapped in by a running container between resolution and use makes
that open fail (ELOOP) instead of leading out; nothing on the host outside the
root and its mount sources can be reached.

Invariants: fds returned by `open_dir`/`locate` belong to the caller; a mount
point is never treated as a symlink (it is the mount's source directory).
Imports only os, stat and pallet.errors.
"""
from __future__ import annotations

import errno
import os
import stat
from ..record import dataclass, field  # not dataclasses: `run` resolves mounts with Scope
from pathlib import Path

from ..archive.tree import descend
from ..errors import InvalidArgument

DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
MAX_LINKS = 40


def split_path(path: str) -> list[str]:
    return [c for c in path.split("/") if c not in ("", ".")]


@dataclass
class Scope:
    """A container tree: `root` on the host, `mounts` container path parts -> (host dir, read_only)."""
    root: Path
    mounts: dict[tuple[str, ...], tuple[Path, bool]] = field(default_factory=dict)

    def resolve(self, path: str, follow_last: bool = True,
                missing_dirs: bool = False) -> tuple[str, ...]:
        """The symlink-free container path `path` names; the last part may not exist.

        A missing or non-directory parent raises FileNotFoundError / NotADirectoryError;
        with `missing_dirs` a missing parent is taken as a directory to be made (what a
        runtime does for a mount destination), and a non-directory still raises."""
        todo = list(reversed(split_path(path)))
        parts: list[str] = []
        links = 0
        while todo:
            comp = todo.pop()
            if comp == "..":
                if parts:
                    parts.pop()
                continue
            here = tuple(parts + [comp])
            if here in self.mounts:
                parts.append(comp)
                continue
            target = self._link_target(tuple(parts), comp, missing_ok=missing_dirs or not todo)
            if target is None or (not todo and not follow_last):
                parts.append(comp)
                continue
            links += 1
            if links > MAX_LINKS:
                raise InvalidArgument(f"{path}: too many levels of symbolic links")
            if target.startswith("/"):
                parts = []
            todo.extend(reversed(split_path(target)))
        return tuple(parts)

    def _link_target(self, parent: tuple[str, ...], comp: str, missing_ok: bool) -> str | None:
        try:
            fd = self.open_dir(parent)
        except FileNotFoundError:
            if missing_ok:  # below a missing directory nothing exists, so nothing is a link
                return None
            raise
        try:
            st = os.stat(comp, dir_fd=fd, follow_symlinks=False)
        except FileNotFoundError:
            if missing_ok:
                return None
            raise
        else:
            if not stat.S_ISLNK(st.st_mode):
                return None
            return os.readlink(comp, dir_fd=fd)
        finally:
            os.close(fd)

    def mount_of(self, parts: tuple[str, ...]) -> tuple[tuple[str, ...], Path, bool] | None:
        """The innermost mount holding `parts`: (its container parts, host dir, read_only)."""
        best = None
        for dest, (source, ro) in self.mounts.items():
            if parts[:len(dest)] == dest and (best is None or len(dest) > len(best[0])):
                best = (dest, source, ro)
        return best

    def open_dir(self, parts: tuple[str, ...], create: bool = False) -> int:
        """Open the directory at container path `parts` without following any symlink."""
        mount = self.mount_of(parts)
        base, rest = (self.root, parts) if mount is None else (mount[1], parts[len(mount[0]):])
        cur = os.open(base, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        return descend(cur, rest, lambda fd, comp: open_child_dir(fd, comp, create))

    def locate(self, parts: tuple[str, ...]) -> tuple[int, str]:
        """(parent dir fd, name) for `parts`; the root and mount points come back as (fd, ".")."""
        if not parts or parts in self.mounts:
            return self.open_dir(parts), "."
        return self.open_dir(parts[:-1]), parts[-1]

    def lstat(self, parts: tuple[str, ...]) -> os.stat_result | None:
        fd, name = self.locate(parts)
        try:
            return os.stat(name, dir_fd=fd, follow_symlinks=False)
        except FileNotFoundError:
            return None
        finally:
            os.close(fd)


def open_child_dir(parent: int, name: str, create: bool = False, mode: int = 0o755) -> int:
    """openat(parent, name, O_NOFOLLOW|O_DIRECTORY), creating it first if asked and missing."""
    try:
        return os.open(name, DIR_FLAGS, dir_fd=parent)
    except FileNotFoundError:
        if not create:
            raise
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise NotADirectoryError(errno.ENOTDIR, f"{name} is a symbolic link") from exc
        raise
    os.mkdir(name, 0o700, dir_fd=parent)
    fd = os.open(name, DIR_FLAGS, dir_fd=parent)
    os.fchmod(fd, mode)  # explicit: mkdir's mode is cut by the umask
    return fd
