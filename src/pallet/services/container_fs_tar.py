"""Tar streams out of a container tree, for `cp`, `export`, `commit` and volume copy-up.

Owns: `write_tar`, the walk of a subtree of a `Scope` by directory fd, with the
top entry renamed to `arcname` (Docker's RebaseArchiveEntries) and each volume
or bind seen where the container sees it. The tar itself is encoded by
pallet.archive.export.EntryWriter; nothing here writes archive members to
disk: every tar going *into* a tree is applied by pallet.archive.apply
(checked first by pallet.archive.unpack).

Invariants: the walk never follows a symlink (mount points switch to the
mount's source, as the container sees them).
"""
from __future__ import annotations

import os
import stat
TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: importing typing costs ~3 ms per command
    from typing import BinaryIO

from ..archive.export import EntryWriter
from .container_fs_scope import Scope, open_child_dir


def write_tar(scope: Scope, parts: tuple[str, ...], arcname: str, out: BinaryIO) -> None:
    """Write the entry at container path `parts` (and what is below it) named `arcname`.

    An empty `arcname` writes only what is below a directory (Docker's `SRC/.`)."""
    writer = EntryWriter(out)
    fd, name = scope.locate(parts)
    try:
        st = os.stat(name, dir_fd=fd, follow_symlinks=False)
        if stat.S_ISDIR(st.st_mode):
            dfd = scope.open_dir(parts)
            try:
                if arcname:
                    writer.directory(arcname, dfd)
                _walk(writer, scope, parts, dfd, arcname)
            finally:
                os.close(dfd)
        else:
            writer.entry(fd, name, st, arcname or name)
    finally:
        os.close(fd)
    writer.end()


def _walk(writer: EntryWriter, scope: Scope, parts: tuple[str, ...], dfd: int, prefix: str) -> None:
    for name in sorted(os.listdir(dfd)):
        child = parts + (name,)
        arc = f"{prefix}/{name}" if prefix else name
        if scope.file_mount(child) is not None:  # a file bind (/etc/hosts): its source's content
            ffd, fname = scope.locate(child)
            try:
                writer.entry(ffd, fname, os.stat(fname, dir_fd=ffd, follow_symlinks=False), arc)
            finally:
                os.close(ffd)
            continue
        if child in scope.mounts:  # the container sees the mount's source here
            cfd = scope.open_dir(child)
        else:
            st = os.stat(name, dir_fd=dfd, follow_symlinks=False)
            if not stat.S_ISDIR(st.st_mode):
                writer.entry(dfd, name, st, arc)
                continue
            cfd = open_child_dir(dfd, name)
        try:
            writer.directory(arc, cfd)
            _walk(writer, scope, child, cfd, arc)
        finally:
            os.close(cfd)
