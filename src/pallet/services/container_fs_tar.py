"""Tar streams in and out of a container tree, for `cp`, `export` and volume copy-up.

Owns: `write_tar` (a subtree of a `Scope`, walked by directory fd, as a tar
whose top entry is renamed to `arcname`, Docker's RebaseArchiveEntries) and
`extract` (a tar stream unpacked beneath a directory fd) and `piped` (a
writer thread feeding a reader through a pipe, so nothing is staged on disk).

Invariants: the writer never follows a symlink (mount points switch to the
mount's source, as the container sees them); the extractor creates every entry
with *at() calls relative to directory fds opened O_NOFOLLOW, so a tar entry
can neither climb out (`..` above the top is refused) nor pass through a
symlink it or the tree planted; a directory is never replaced by a file.
Ownership is the tar's (`-a`) or the one given.
"""
from __future__ import annotations

import os
import stat
import tarfile
import threading
from contextlib import contextmanager
TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: importing typing costs ~3 ms per command
    from typing import BinaryIO, Callable, Iterator

from ..errors import InvalidArgument
from ..archive.tree import descend
from .container_fs_scope import Scope, open_child_dir

CHUNK = 1 << 20
FILE_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
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
            if scope.file_mount(child) is not None:  # a file bind: its source's content
                ffd, fname = scope.locate(child)
                try:
                    self.entry(ffd, fname, os.stat(fname, dir_fd=ffd, follow_symlinks=False), arc)
                finally:
                    os.close(ffd)
                continue
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


# ---------------- extracting ----------------

def extract(stream: BinaryIO, dest_fd: int, owner: tuple[int, int] | None = None,
            busy: dict[tuple[str, ...], str] | None = None) -> None:
    """Unpack the tar `stream` beneath the directory `dest_fd`; `owner` None keeps the tar's.

    `busy`: paths (relative to `dest_fd`) where a file is bind-mounted, with their container
    path. Replacing one would detach the container's mount, so, as Docker's unlinkat there
    fails with EBUSY, the copy stops with Docker's words."""
    from ..archive.tree import clean_parts
    dir_times: list[tuple[tuple[str, ...], int]] = []
    with tarfile.open(fileobj=stream, mode="r|") as tar:
        for member in tar:
            parts = clean_parts(member.name)
            if not parts:
                continue
            if busy and parts in busy:
                raise InvalidArgument(f"Error processing tar file: unlinkat {busy[parts]}: "
                                      "device or resource busy")
            parent = _open_parent(dest_fd, parts[:-1])
            try:
                _create(tar, member, parent, parts, dest_fd, owner)
            finally:
                os.close(parent)
            if member.isdir():
                dir_times.append((parts, int(member.mtime)))
    for parts, mtime in sorted(dir_times, key=lambda t: -len(t[0])):
        fd = _open_parent(dest_fd, parts)
        try:
            os.utime(fd, (mtime, mtime))
        finally:
            os.close(fd)


def _open_parent(dest_fd: int, parts: tuple[str, ...]) -> int:
    def step(fd: int, comp: str) -> int:
        try:
            return open_child_dir(fd, comp, create=True)
        except NotADirectoryError as exc:
            raise InvalidArgument(f"cannot extract {'/'.join(parts)!r}: {comp!r} is not a "
                                  "directory") from exc
    return descend(os.dup(dest_fd), parts, step)


def _create(tar, member: tarfile.TarInfo, parent: int, parts, dest_fd: int, owner) -> None:
    name = parts[-1]
    existing = _lstat(parent, name)
    if member.isdir():
        if existing is not None and not stat.S_ISDIR(existing.st_mode):
            os.unlink(name, dir_fd=parent)
            existing = None
        if existing is None:
            os.mkdir(name, 0o700, dir_fd=parent)
        fd = os.open(name, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=parent)
        try:
            _set_meta(fd, member, owner)
        finally:
            os.close(fd)
        return
    if existing is not None:
        if stat.S_ISDIR(existing.st_mode):
            raise InvalidArgument(f'cannot overwrite directory "/{"/".join(parts)}" with non-directory')
        os.unlink(name, dir_fd=parent)
    if member.isreg():
        fd = os.open(name, FILE_FLAGS, 0o600, dir_fd=parent)
        try:
            _copy_member(tar.extractfile(member), fd)
            _set_meta(fd, member, owner)
            os.utime(fd, (member.mtime, member.mtime))
        finally:
            os.close(fd)
        return
    _create_special(member, parent, name, dest_fd, owner)


def _create_special(member: tarfile.TarInfo, parent: int, name: str, dest_fd: int, owner) -> None:
    if member.islnk():
        from ..archive.tree import clean_parts
        target = clean_parts(member.linkname)
        tparent = _open_parent(dest_fd, target[:-1]) if target else None
        if tparent is None:
            raise InvalidArgument(f"invalid hardlink {member.name!r}")
        try:
            os.link(target[-1], name, src_dir_fd=tparent, dst_dir_fd=parent, follow_symlinks=False)
        finally:
            os.close(tparent)
        return
    if member.issym():
        os.symlink(member.linkname, name, dir_fd=parent)
    elif member.ischr() or member.isblk() or member.isfifo():
        fmt = stat.S_IFCHR if member.ischr() else stat.S_IFBLK if member.isblk() else stat.S_IFIFO
        os.mknod(name, fmt | 0o600, os.makedev(member.devmajor, member.devminor), dir_fd=parent)
    else:
        return  # other types (GNU sparse, volume headers) have nothing to create
    uid, gid = owner or (member.uid, member.gid)
    os.chown(name, uid, gid, dir_fd=parent, follow_symlinks=False)
    if not member.issym():
        os.chmod(name, member.mode & 0o7777, dir_fd=parent)
    os.utime(name, (member.mtime, member.mtime), dir_fd=parent, follow_symlinks=False)


def _set_meta(fd: int, member: tarfile.TarInfo, owner) -> None:
    uid, gid = owner or (member.uid, member.gid)
    os.fchown(fd, uid, gid)
    os.fchmod(fd, member.mode & 0o7777)  # after chown, which clears setuid
    for key, value in member.pax_headers.items():
        if key.startswith("SCHILY.xattr.") and not key.startswith("SCHILY.xattr.trusted.overlay."):
            try:
                os.setxattr(fd, key[len("SCHILY.xattr."):], value.encode("utf-8", "surrogateescape"))
            except OSError:
                pass  # a filesystem without that xattr namespace: the content still counts


def _copy_member(src, fd: int) -> None:
    while data := src.read(CHUNK):
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]


def _lstat(parent: int, name: str) -> os.stat_result | None:
    try:
        return os.stat(name, dir_fd=parent, follow_symlinks=False)
    except FileNotFoundError:
        return None


# ---------------- plumbing ----------------

@contextmanager
def piped(write: Callable[[BinaryIO], object]) -> Iterator[BinaryIO]:
    """Run `write(out)` in a thread; yield a reader of what it writes."""
    rfd, wfd = os.pipe()
    failure: list[BaseException] = []

    def run() -> None:
        try:
            with open(wfd, "wb", buffering=CHUNK) as out:
                write(out)
        except BrokenPipeError:
            pass  # the reader stopped early; its own error tells why
        except BaseException as exc:  # noqa: BLE001 - handed to the caller's thread
            failure.append(exc)

    thread = threading.Thread(target=run, name="tar-writer", daemon=True)
    thread.start()
    reader = open(rfd, "rb", buffering=CHUNK)
    try:
        yield reader
        reader.read()  # let the writer finish
    except BaseException:
        reader.close()
        thread.join()
        if failure:
            raise failure[0]
        raise
    reader.close()
    thread.join()
    if failure:
        raise failure[0]
