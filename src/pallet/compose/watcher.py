"""File watching for `compose watch`: inotify over directory trees, changes in batches.

Owns `Watcher`: one inotify fd with a watch on every directory under each root (as
docker compose's watcher adds each subdirectory, and each new one as it appears), and
`batches()`, which yields the set of changed paths once nothing has changed for
QUIET_PERIOD (compose's debounce: 500 ms after the last event). A root that is a file,
or does not exist yet, is watched through its nearest existing parent directory
until it appears. Paths are host paths, absolute; what a path means is the caller's
business (pallet.compose.watch). Symlinks are never followed: a linked directory is
reported as the link, not watched through. A lost event queue (IN_Q_OVERFLOW) reports
every root as changed. Imports only the stdlib, pallet.libc and pallet.errors.
"""
from __future__ import annotations

import errno
import os
import select
import struct

from .. import libc
from ..errors import PalletError

QUIET_PERIOD = 0.5  # seconds without an event that close a batch (compose's QuietPeriod)

IN_MODIFY, IN_ATTRIB, IN_CLOSE_WRITE = 0x2, 0x4, 0x8
IN_MOVED_FROM, IN_MOVED_TO, IN_CREATE, IN_DELETE = 0x40, 0x80, 0x100, 0x200
IN_DELETE_SELF, IN_MOVE_SELF = 0x400, 0x800
IN_Q_OVERFLOW, IN_IGNORED, IN_ISDIR = 0x4000, 0x8000, 0x40000000
IN_DONT_FOLLOW, IN_EXCL_UNLINK = 0x02000000, 0x04000000
MASK = (IN_MODIFY | IN_ATTRIB | IN_CLOSE_WRITE | IN_MOVED_FROM | IN_MOVED_TO | IN_CREATE | IN_DELETE
        | IN_DELETE_SELF | IN_MOVE_SELF | IN_DONT_FOLLOW | IN_EXCL_UNLINK)
_EVENT = struct.Struct("iIII")  # struct inotify_event: wd, mask, cookie, len (then the name)


def is_child(parent: str, path: str) -> bool:
    """`path` is `parent` or lies beneath it (both absolute and normalised)."""
    return path == parent or path.startswith(parent.rstrip("/") + "/")


class Watcher:
    def __init__(self, roots: list[str]):
        self.roots = sorted({os.path.normpath(r) for r in roots})
        self.fd = libc.inotify_init()
        self.dirs: dict[int, str] = {}   # watch descriptor -> the directory it watches
        try:
            for root in self.roots:
                self._watch_root(root)
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1

    def __enter__(self) -> "Watcher":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # ---- watches ----
    def _add(self, directory: str) -> None:
        try:
            wd = libc.inotify_add_watch(self.fd, directory, MASK)
        except OSError as exc:
            if exc.errno == errno.ENOSPC:  # the kernel's per-user watch limit
                raise PalletError(f"cannot watch {directory}: too many directories watched "
                                  "(see /proc/sys/fs/inotify/max_user_watches)") from exc
            if exc.errno in (errno.ENOENT, errno.ENOTDIR, errno.ELOOP):
                return  # gone (or replaced) since it was seen: its parent reports that
            raise
        self.dirs[wd] = directory

    def _add_tree(self, top: str) -> None:
        for dirpath, _dirnames, _files in os.walk(top, followlinks=False):
            self._add(dirpath)

    def _forget_tree(self, top: str) -> None:
        for wd, directory in list(self.dirs.items()):
            if is_child(top, directory):
                del self.dirs[wd]
                try:
                    libc.inotify_rm_watch(self.fd, wd)
                except OSError:
                    pass  # already gone with its directory

    def _watch_root(self, root: str) -> None:
        if os.path.isdir(root) and not os.path.islink(root):
            self._add_tree(root)
            return
        parent = os.path.dirname(root)
        while parent != "/" and not os.path.isdir(parent):  # wait for it to appear
            parent = os.path.dirname(parent)
        self._add(parent)

    def _recursive(self, path: str) -> bool:
        return any(is_child(root, path) for root in self.roots)

    # ---- events ----
    def _read(self) -> set[str]:
        """The paths the queued events name (reading the queue empty)."""
        changed: set[str] = set()
        while True:
            try:
                data = os.read(self.fd, 65536)
            except BlockingIOError:
                return changed
            offset = 0
            while offset < len(data):
                wd, mask, _cookie, size = _EVENT.unpack_from(data, offset)
                name = data[offset + _EVENT.size: offset + _EVENT.size + size].rstrip(b"\0")
                offset += _EVENT.size + size
                self._event(wd, mask, os.fsdecode(name), changed)

    def _event(self, wd: int, mask: int, name: str, changed: set[str]) -> None:
        if mask & IN_Q_OVERFLOW:
            changed.update(self.roots)
            return
        directory = self.dirs.get(wd)
        if directory is None:
            return
        if mask & IN_IGNORED:  # the directory is gone, and its watch with it
            del self.dirs[wd]
            return
        path = os.path.join(directory, name) if name else directory
        if mask & IN_ISDIR and mask & IN_MOVED_FROM:
            self._forget_tree(path)  # its watches would report it under its old name
        if mask & IN_ISDIR and mask & (IN_CREATE | IN_MOVED_TO):
            if self._recursive(path):
                self._add_tree(path)
            else:  # a step towards a root that did not exist yet
                for root in self.roots:
                    if is_child(path, root):
                        self._watch_root(root)
        if self._recursive(path):
            changed.add(path)

    def _wait(self, timeout: float | None) -> bool:
        readable, _, _ = select.select([self.fd], [], [], timeout)
        return bool(readable)

    def batches(self):
        """Sets of changed paths, each once QUIET_PERIOD passed without another change;
        forever (a signal ends it)."""
        while True:
            self._wait(None)
            pending = self._read()
            while self._wait(QUIET_PERIOD):
                pending |= self._read()
            if pending:
                yield pending
