"""Tar streams out of a container tree, for `cp`, `export`, `commit` and volume copy-up.

Owns: `write_tar` (a subtree of a `Scope`, walked by directory fd, as a tar
whose top entry is renamed to `arcname`, Docker's RebaseArchiveEntries).
Nothing here writes archive members to disk: every tar going *into* a tree is
applied by pallet.archive.apply (checked first by pallet.archive.unpack).

Invariants: the writer never follows a symlink (mount points switch to the
mount's source, as the container sees them).
"""
from __future__ import annotations

import os
import stat
import tarfile
TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: importing typing costs ~3 ms per command
    from typing import BinaryIO

from .container_fs_scope import Scope, open_child_dir

CHUNK = 1 << 20
_KINDS = {stat.S_IFCHR: tarfile.CHRTYPE, stat.S_IFBLK: tarfile.BLKTYPE, stat.S_IFIFO: tarfile.FIFOTYPE}


# ---------------- writing ----------------

def write_tar(scope: Scope, parts: tuple[str, ...], arcname: str, out: BinaryIO) -> None:
    """Write the entry at container path `parts` (and what is below it) named `arcname`.

    An empty `arcname` writes only what is below a directory (Docker's `SRC/.`)."""
    writer = _Writer(out)
    fd, name = scope.locate(parts)
    try:
        st = os.stat(name, dir_fd=fd, follow_symlinks=False)
        if stat.S_ISDIR(st.st_mode):
            dfd = scope.open_dir(parts)
            try:
                if arcname:
                    writer.header(_info(arcname, st, tarfile.DIRTYPE), dfd)
                writer.walk(scope, parts, dfd, arcname)
            finally:
                os.close(dfd)
        else:
            writer.entry(fd, name, st, arcname or name)
    finally:
        os.close(fd)
    out.write(bytes(2 * tarfile.BLOCKSIZE))


class _Writer:
    def __init__(self, out: BinaryIO):
        self.out = out
        self.inodes: dict[tuple[int, int], str] = {}

    def walk(self, scope: Scope, parts: tuple[str, ...], dfd: int, prefix: str) -> None:
        for name in sorted(os.listdir(dfd)):
            child = parts + (name,)
            arc = f"{prefix}/{name}" if prefix else name
            if child in scope.mounts:  # the container sees the mount's source here
                cfd = scope.open_dir(child)
                try:
                    self.header(_info(arc, os.fstat(cfd), tarfile.DIRTYPE), cfd)
                    self.walk(scope, child, cfd, arc)
                finally:
                    os.close(cfd)
                continue
            st = os.stat(name, dir_fd=dfd, follow_symlinks=False)
            if not stat.S_ISDIR(st.st_mode):
                self.entry(dfd, name, st, arc)
                continue
            cfd = open_child_dir(dfd, name)
            try:
                self.header(_info(arc, st, tarfile.DIRTYPE), cfd)
                self.walk(scope, child, cfd, arc)
            finally:
                os.close(cfd)

    def entry(self, dfd: int, name: str, st: os.stat_result, arc: str) -> None:
        mode = st.st_mode
        if stat.S_ISSOCK(mode):
            return  # as Docker: sockets are not archived
        if stat.S_ISLNK(mode):
            info = _info(arc, st, tarfile.SYMTYPE)
            info.linkname = os.readlink(name, dir_fd=dfd)
            return self.header(info)
        if not stat.S_ISREG(mode):
            info = _info(arc, st, _KINDS[stat.S_IFMT(mode)])
            info.devmajor, info.devminor = os.major(st.st_rdev), os.minor(st.st_rdev)
            return self.header(info)
        key = (st.st_dev, st.st_ino)
        if st.st_nlink > 1 and key in self.inodes:
            info = _info(arc, st, tarfile.LNKTYPE)
            info.linkname = self.inodes[key]
            return self.header(info)
        self.inodes.setdefault(key, arc)
        fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=dfd)
        try:
            info = _info(arc, os.fstat(fd), tarfile.REGTYPE)
            info.size = os.fstat(fd).st_size
            self.header(info, fd)
            self._content(fd, info.size)
        finally:
            os.close(fd)

    def header(self, info: tarfile.TarInfo, fd: int | None = None) -> None:
        if fd is not None:
            _add_xattrs(info, fd)
        self.out.write(info.tobuf(tarfile.PAX_FORMAT, "utf-8", "surrogateescape"))

    def _content(self, fd: int, size: int) -> None:
        left = size
        while left:
            data = os.read(fd, min(left, CHUNK))
            if not data:  # shrank while read: keep the archive well-formed
                data = bytes(min(left, CHUNK))
            self.out.write(data)
            left -= len(data)
        if size % tarfile.BLOCKSIZE:
            self.out.write(bytes(tarfile.BLOCKSIZE - size % tarfile.BLOCKSIZE))


def _info(name: str, st: os.stat_result, kind: bytes) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.mode = st.st_mode & 0o7777
    info.uid, info.gid = st.st_uid, st.st_gid
    info.uname = info.gname = ""
    info.mtime = int(st.st_mtime)
    return info


def _add_xattrs(info: tarfile.TarInfo, fd: int) -> None:
    try:
        keys = sorted(os.listxattr(fd))
    except OSError:
        return
    for key in keys:
        if key.startswith("trusted.overlay.") or key == "security.selinux":
            continue
        value = os.getxattr(fd, key)
        info.pax_headers["SCHILY.xattr." + key] = value.decode("utf-8", "surrogateescape")
