"""Writing directory trees as tars: plain trees, overlay upper dirs, live container trees.

Owns: `write_tree_tar` (a directory as a tar: build COPY layers, `import` of a
directory, `export` of a mounted rootfs), `write_diff_tar` (a container's
overlay upper dir as an OCI layer: overlay whiteouts become `.wh.` files,
opaque dirs get `.wh..wh..opq`) and `EntryWriter` (entries one at a time, for
a walker that knows more than the tree, such as `cp`'s walk of a container
with its volumes, pallet.services.container_fs_tar).

Invariants: output is deterministic for a given tree: entries sorted by name
(a directory before its contents), PAX format, empty uname/gname, integer
mtimes (clamped to `source_date_epoch` when given), `trusted.overlay.*` xattrs
never exported, sockets skipped (as Docker does), a second path to an inode
already written becomes a hardlink. Symlinks are never followed. Ends with two
zero blocks and no record padding, like Go's archive/tar.
"""
from __future__ import annotations

import os
import stat
import tarfile
from pathlib import Path
TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: importing typing costs ~3 ms per command
    from typing import BinaryIO, Iterator

from ..digest import HashingWriter
from ..errors import DataCorrupted
from .tree import DIR_FLAGS, proc_path

BLOCK = 512
CHUNK = 1 << 20
OPAQUE_XATTR = "trusted.overlay.opaque"


def write_tree_tar(root: Path, out: BinaryIO, *, source_date_epoch: int | None = None) -> str:
    """Write the tree under `root` as an uncompressed tar; returns its diff_id."""
    return _write(Path(root), out, whiteouts=False, epoch=source_date_epoch)


def write_diff_tar(upper: Path, lowers: list[Path], out: BinaryIO, *,
                   source_date_epoch: int | None = None, skip_empty: frozenset = frozenset()) -> str:
    """Write a container's overlay upper dir as an OCI layer tar; returns its diff_id.

    Everything in `upper` is a change, so `lowers` is not read; it is accepted so
    callers need not care (the snapshotter mounts without metacopy/redirect_dir,
    so upper files always hold their full content).
    `skip_empty` names paths (relative, e.g. "etc/hosts") left out when they are empty
    regular files: the mount points the runtime creates, as Docker's init layer hides them.
    """
    del lowers
    return _write(Path(upper), out, whiteouts=True, epoch=source_date_epoch, skip_empty=skip_empty)


def _write(root: Path, out: BinaryIO, *, whiteouts: bool, epoch: int | None,
           skip_empty: frozenset = frozenset()) -> str:
    w = HashingWriter(out)
    inodes: dict[tuple[int, int], str] = {}
    for rel, st, dfd, name in _walk(root):
        path = proc_path(dfd, name)  # the entry itself, however deep, never followed
        if rel in skip_empty and stat.S_ISREG(st.st_mode) and st.st_size == 0:
            continue
        if whiteouts and is_whiteout(st):
            head, _, base = rel.rpartition("/")
            wh = (head + "/" if head else "") + ".wh." + base
            _write_header(w, _info(wh, st, epoch, tarfile.REGTYPE, mode=0o600))
            continue
        info = _entry_info(path, rel, st, epoch, inodes)
        if info is None:
            continue
        _write_header(w, info)
        if info.type == tarfile.REGTYPE and info.size:
            _copy_content(dfd, name, info.size, w, root / rel)
        if whiteouts and info.type == tarfile.DIRTYPE and is_opaque(path):
            _write_header(w, _info(rel + "/.wh..wh..opq", st, epoch, tarfile.REGTYPE,
                                   mode=st.st_mode & 0o777))
    w.write(bytes(2 * BLOCK))
    return w.digest


def _walk(root: Path) -> Iterator[tuple[str, os.stat_result, int, str]]:
    """(relative path, lstat, parent directory fd, name) of everything under `root`, sorted,
    a directory before its contents. Walked by directory fd, without recursion, so a tree
    deeper than PATH_MAX or than Python's stack (a layer may hold one) is still written.
    The fd is valid until the next item is asked for."""
    stack = [(os.open(root, DIR_FLAGS), "", iter(sorted(os.listdir(root))))]
    try:
        while stack:
            dfd, rel, names = stack[-1]
            name = next(names, None)
            if name is None:
                os.close(stack.pop()[0])
                continue
            child = f"{rel}/{name}" if rel else name
            st = os.stat(name, dir_fd=dfd, follow_symlinks=False)
            yield child, st, dfd, name
            if stat.S_ISDIR(st.st_mode):
                cfd = os.open(name, DIR_FLAGS, dir_fd=dfd)
                stack.append((cfd, child, iter(sorted(os.listdir(cfd)))))
    finally:
        for dfd, _rel, _names in stack:
            os.close(dfd)


def _info(name: str, st: os.stat_result, epoch: int | None, kind: bytes,
          mode: int | None = None) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.mode = st.st_mode & 0o7777 if mode is None else mode
    info.uid, info.gid = st.st_uid, st.st_gid
    info.uname = info.gname = ""
    mtime = int(st.st_mtime)
    info.mtime = min(mtime, epoch) if epoch is not None else mtime
    return info


def _entry_info(path: str, rel: str, st: os.stat_result, epoch: int | None,
                inodes: dict[tuple[int, int], str]) -> tarfile.TarInfo | None:
    mode = st.st_mode
    if stat.S_ISSOCK(mode):
        return None
    if stat.S_ISREG(mode):
        key = (st.st_dev, st.st_ino)
        if st.st_nlink > 1 and key in inodes:
            info = _info(rel, st, epoch, tarfile.LNKTYPE)
            info.linkname = inodes[key]
            return _with_xattrs(info, path)
        inodes.setdefault(key, rel)
        info = _info(rel, st, epoch, tarfile.REGTYPE)
        info.size = st.st_size
    elif stat.S_ISDIR(mode):
        info = _info(rel, st, epoch, tarfile.DIRTYPE)
    elif stat.S_ISLNK(mode):
        info = _info(rel, st, epoch, tarfile.SYMTYPE)
        info.linkname = os.readlink(path)
    else:
        kind = {stat.S_IFCHR: tarfile.CHRTYPE, stat.S_IFBLK: tarfile.BLKTYPE,
                stat.S_IFIFO: tarfile.FIFOTYPE}[stat.S_IFMT(mode)]
        info = _info(rel, st, epoch, kind)
        info.devmajor, info.devminor = os.major(st.st_rdev), os.minor(st.st_rdev)
    return _with_xattrs(info, path)


def _with_xattrs(info: tarfile.TarInfo, target: str | int) -> tarfile.TarInfo:
    """Add the xattrs of `target` (a path, never followed, or an open fd) as PAX records."""
    nofollow = {} if isinstance(target, int) else {"follow_symlinks": False}
    try:
        keys = sorted(os.listxattr(target, **nofollow))
    except OSError:
        return info  # filesystems without xattrs: nothing to carry
    for key in keys:
        if key.startswith("trusted.overlay.") or key == "security.selinux":
            continue
        value = os.getxattr(target, key, **nofollow)
        info.pax_headers["SCHILY.xattr." + key] = value.decode("utf-8", "surrogateescape")
    return info


def _write_header(w: HashingWriter, info: tarfile.TarInfo) -> None:
    w.write(info.tobuf(tarfile.PAX_FORMAT, "utf-8", "surrogateescape"))


def _copy_content(dfd: int, name: str, size: int, w: HashingWriter, where: Path) -> None:
    fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=dfd)
    try:
        left = size
        while left:
            data = os.read(fd, min(left, CHUNK))
            if not data:
                raise DataCorrupted(f"{where} shrank while being archived")
            w.write(data)
            left -= len(data)
    finally:
        os.close(fd)
    if size % BLOCK:
        w.write(bytes(BLOCK - size % BLOCK))


class EntryWriter:
    """A tar written entry by entry from a tree walked by directory fd (never following a
    symlink): PAX format, xattrs but overlay's and SELinux's, a second path to an inode as a
    hardlink, sockets skipped (as Docker). A file that shrinks while read is padded with
    zeros, so a live container's tree still gives a well-formed tar."""

    def __init__(self, out: BinaryIO):
        self.out = out
        self.inodes: dict[tuple[int, int], str] = {}

    def directory(self, arc: str, fd: int) -> None:
        """The header of the directory open at `fd`, named `arc`."""
        info = _info(arc, os.fstat(fd), None, tarfile.DIRTYPE)
        self._header(_with_xattrs(info, fd))

    def entry(self, dfd: int, name: str, st: os.stat_result, arc: str) -> None:
        """The non-directory `name` in `dfd` (lstat `st`), named `arc`."""
        if stat.S_ISSOCK(st.st_mode):
            return
        if not stat.S_ISREG(st.st_mode):
            info = _entry_info(proc_path(dfd, name), arc, st, None, self.inodes)
            return self._header(info)
        key = (st.st_dev, st.st_ino)
        if st.st_nlink > 1 and key in self.inodes:
            info = _info(arc, st, None, tarfile.LNKTYPE)
            info.linkname = self.inodes[key]
            return self._header(info)
        self.inodes.setdefault(key, arc)
        fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=dfd)
        try:
            st = os.fstat(fd)
            info = _info(arc, st, None, tarfile.REGTYPE)
            info.size = st.st_size
            self._header(_with_xattrs(info, fd))
            self._content(fd, info.size)
        finally:
            os.close(fd)

    def end(self) -> None:
        self.out.write(bytes(2 * BLOCK))

    def _header(self, info: tarfile.TarInfo) -> None:
        self.out.write(info.tobuf(tarfile.PAX_FORMAT, "utf-8", "surrogateescape"))

    def _content(self, fd: int, size: int) -> None:
        left = size
        while left:
            data = os.read(fd, min(left, CHUNK))
            if not data:  # shrank while read: keep the archive well-formed
                data = bytes(min(left, CHUNK))
            self.out.write(data)
            left -= len(data)
        if size % BLOCK:
            self.out.write(bytes(BLOCK - size % BLOCK))


def is_whiteout(st: os.stat_result) -> bool:
    """An overlayfs whiteout: a character device 0:0."""
    return stat.S_ISCHR(st.st_mode) and st.st_rdev == 0


def is_opaque(path: Path) -> bool:
    try:
        return os.getxattr(path, OPAQUE_XATTR, follow_symlinks=False) == b"y"
    except OSError:
        return False
