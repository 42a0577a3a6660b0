"""Symlink-proof access to paths inside one directory tree.

Owns: resolving a relative path inside a root directory component by
component with dir fds (openat with O_NOFOLLOW), so no symlink, whether planted
earlier in the same layer or pointing anywhere, is ever followed, and nothing
outside the root can be reached. Callers then act on (parent fd, name) pairs.

Invariants: every fd handed out by `open_dir` is owned by the caller and must
be closed; a path component that is a symlink or a non-directory is refused
(InvalidArgument), never followed or replaced. Imports only os and errors.
"""
from __future__ import annotations

import errno
import os
from pathlib import Path

from ..errors import InvalidArgument

DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
IMPLICIT_DIR_MODE = 0o755


def clean_parts(name: str, root: str = "the layer root") -> tuple[str, ...]:
    """Lexically clean a tar member name into path components under the root.

    Like Go's filepath.Clean("/" + name) minus the leading slash, except that a
    `..` that would climb above the root is refused, as Docker refuses it;
    `root` names the root in that error.
    """
    if "\0" in name:
        raise InvalidArgument(f"invalid tar entry {name!r}: name contains a NUL byte")
    parts: list[str] = []
    for comp in name.split("/"):
        if comp in ("", "."):
            continue
        if comp == "..":
            if not parts:
                raise InvalidArgument(f"invalid tar entry {name!r}: path escapes {root}")
            parts.pop()
        else:
            parts.append(comp)
    return tuple(parts)


class Tree:
    """A root directory held open by fd; paths resolve strictly beneath it."""

    def __init__(self, root: Path, *, fd: int = -1):
        self.root = Path(root)
        self.root_fd = fd if fd >= 0 else os.open(self.root, DIR_FLAGS)

    @classmethod
    def from_fd(cls, dir_fd: int) -> "Tree":
        """A tree rooted at an already-open directory (its fd is duplicated, not taken)."""
        return cls(Path(f"/proc/self/fd/{dir_fd}"), fd=os.dup(dir_fd))

    def close(self) -> None:
        if self.root_fd >= 0:
            os.close(self.root_fd)
            self.root_fd = -1

    def __enter__(self) -> "Tree":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def open_dir(self, parts: tuple[str, ...] | list[str], create: bool = False) -> int:
        """Open the directory at `parts` (a new fd), creating missing ones (0755) if asked."""
        steps = iter(range(1, len(parts) + 1))
        return descend(os.dup(self.root_fd), parts,
                       lambda cur, comp: self._step(cur, comp, create, parts[:next(steps)]))

    def _step(self, cur: int, comp: str, create: bool, here) -> int:
        try:
            return os.open(comp, DIR_FLAGS, dir_fd=cur)
        except FileNotFoundError:
            if not create:
                raise
        except OSError as exc:
            if exc.errno in (errno.ELOOP, errno.ENOTDIR):
                link = os.path.islink(proc_path(cur, comp))
                what = "a symbolic link" if link else "not a directory"
                raise InvalidArgument(f"invalid tar entry: {'/'.join(here)!r} is {what}, "
                                      "and nothing is written through it") from exc
            raise
        os.mkdir(comp, 0o700, dir_fd=cur)
        fd = os.open(comp, DIR_FLAGS, dir_fd=cur)
        os.fchmod(fd, IMPLICIT_DIR_MODE)  # explicit: mkdir's mode is cut by the umask
        return fd


def proc_path(dir_fd: int, name: str) -> str:
    """A path naming `name` in the directory `dir_fd`, for calls without dir_fd support.

    The directory part resolves through /proc to the already-open directory;
    callers still pass follow_symlinks=False for the last component.
    """
    return f"/proc/self/fd/{dir_fd}/{name}"


def descend(start_fd: int, parts, step) -> int:
    """Walk `parts` down from `start_fd` (which it takes over) with `step(fd, name) -> fd`,
    closing each directory as it leaves it; returns the last one's fd."""
    cur = start_fd
    try:
        for comp in parts:
            nxt = step(cur, comp)
            os.close(cur)
            cur = nxt
    except BaseException:
        os.close(cur)
        raise
    return cur
