"""Applying one tar to a directory, safely: the only code that writes archive members.

Owns: `apply_layer`, which unpacks an (already decompressed) layer tar into
`dest`, hashes the stream into its diff_id and records the tar-split, and
`apply_tar`, the same applier under a `Policy` for archives that are not layers
(`cp` into a container or onto the host, volume copy-up, ADD of a local tar):
no whiteout conversion, ownership optionally forced, directories never replaced
by non-directories. Every entry point that writes tar members goes through
here (pallet.archive.unpack adds the all-or-nothing check for `cp`).

Invariants:
  * Nothing outside `dest` is ever created, changed or removed. Names are
    cleaned lexically (a `..` above the root is refused, `/abs` lands at
    dest/abs); every parent is opened component by component with O_NOFOLLOW
    (pallet.archive.tree), so symlinks, including ones from this same layer,
    are never followed; a symlink or file where a directory is needed is
    refused. Hardlink targets resolve the same way, and link() does not follow
    a symlink target (it links the symlink itself).
  * OCI whiteouts become overlayfs ones: `dir/.wh.name` -> char device 0:0
    `dir/name`; `dir/.wh..wh..opq` -> xattr trusted.overlay.opaque=y on dir.
    `trusted.overlay.*` xattrs coming from the tar itself are dropped.
  * A later entry replaces an earlier one of the same name; an in-layer
    whiteout removes the earlier entry too.
  * On any error the tree is half-written: the caller deletes `dest` (layers)
    or checked the archive first (pallet.archive.unpack.check_tar).
"""
from __future__ import annotations

import errno
import os
import shutil
import stat
import tarfile
from dataclasses import dataclass
from pathlib import Path
TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: importing typing costs ~3 ms per command
    from typing import BinaryIO

from ..digest import HashingReader
from ..errors import InvalidArgument, PalletError
from .tarreader import Entry, TarReader
from .tarsplit import TarSplitWriter
from .tree import DIR_FLAGS, Tree, clean_parts, proc_path

WHITEOUT_PREFIX = ".wh."
OPAQUE_MARKER = ".wh..wh..opq"
OPAQUE_XATTR = "trusted.overlay.opaque"
FILE_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC


@dataclass(frozen=True)
class Policy:
    """How an archive that is not a layer is applied (the defaults are a layer's rules)."""
    whiteouts: bool = True                 # `.wh.` entries become overlay whiteouts
    owner: tuple[int, int] | None = None   # force every entry's uid/gid (cp without -a)
    keep_dirs: bool = False                # a non-directory may not replace a directory
    root_meta: bool = True                 # a `./` entry sets the destination's own metadata
    root: str = "the layer root"           # how errors name the destination
    # paths (relative to the destination) where a file is bind-mounted, with the path the
    # container knows: replacing one would detach the mount, so, as Docker's unlinkat there
    # fails with EBUSY, the archive is refused (cp onto /etc/hosts)
    busy: tuple[tuple[tuple[str, ...], str], ...] = ()


LAYER = Policy()


@dataclass(frozen=True)
class ApplyResult:
    diff_id: str  # sha256 of the uncompressed tar stream as read
    size: int     # bytes of regular-file content unpacked


def apply_layer(stream: BinaryIO, dest: Path, tarsplit_path: Path | None = None) -> ApplyResult:
    """Unpack the layer tar `stream` into the existing directory `dest`.

    Writes the tar-split record to `tarsplit_path` when given. On error the
    caller must delete `dest` (and the tar-split file).
    """
    hashed = HashingReader(stream)
    split = TarSplitWriter(tarsplit_path)
    tree = Tree(dest)
    try:
        applier = _Applier(tree, TarReader(hashed, split.raw), split, LAYER)
        applier.run()
    except BaseException:
        split.discard()
        raise
    finally:
        tree.close()
    split.close()
    return ApplyResult(hashed.digest, applier.size)


def apply_tar(stream: BinaryIO, dest_fd: int, policy: Policy) -> int:
    """Unpack the (decompressed) tar `stream` beneath the open directory `dest_fd`.

    Returns the bytes of regular-file content written. On error the tree may be
    half-written; callers that must not leave that check the archive first."""
    split = TarSplitWriter(None)
    with Tree.from_fd(dest_fd) as tree:
        try:
            applier = _Applier(tree, TarReader(stream, split.raw), split, policy)
            applier.run()
        finally:
            split.discard()
    return applier.size


class _Applier:
    def __init__(self, tree: Tree, reader: TarReader, split: TarSplitWriter, policy: Policy):
        self.tree, self.reader, self.split, self.policy = tree, reader, split, policy
        self.size = 0
        self.refs: dict[tuple[str, ...], tuple[int, int]] = {}  # path -> (ref, size)
        self.dir_mtimes: dict[tuple[str, ...], float] = {}
        # The parent directory of the last regular file, kept open for the next one in the
        # same directory (halves the opens of a small-file layer). Dropped by any entry that
        # could change what that path names: anything but a regular file, or a regular file
        # at the cached path or above it.
        self.cached: tuple[tuple[str, ...], int] | None = None

    def run(self) -> None:
        try:
            while (entry := self.reader.next()) is not None:
                try:
                    self._apply(entry)
                except OSError as exc:
                    raise PalletError(f"failed to extract {entry.name!r}: "
                                      f"{exc.strerror or exc}") from exc
                except ValueError as exc:  # os.* refuse a NUL in a link target or xattr name
                    raise InvalidArgument(f"invalid tar entry {entry.name!r}: {exc}") from exc
        finally:
            self._drop_cached()
        self._set_dir_mtimes()

    def _drop_cached(self) -> None:
        if self.cached is not None:
            os.close(self.cached[1])
            self.cached = None

    def _regular_parent(self, parts: tuple[str, ...]) -> int:
        if self.cached is not None and self.cached[0] == parts[:-1]:
            return self.cached[1]
        self._drop_cached()
        fd = self.tree.open_dir(parts[:-1], create=True)
        self.cached = (parts[:-1], fd)
        return fd

    def _apply(self, entry: Entry) -> None:
        parts = clean_parts(entry.name, self.policy.root)
        if not parts:  # the root itself ("./")
            if entry.type == tarfile.DIRTYPE and self.policy.root_meta:
                self._set_meta(self.tree.root_fd, entry)
                self.dir_mtimes[()] = entry.mtime
            return
        name = parts[-1]
        whiteout = self.policy.whiteouts and name.startswith(WHITEOUT_PREFIX)
        simple = entry.is_regular and not whiteout
        if not simple or (self.cached is not None and self.cached[0][:len(parts)] == parts):
            self._drop_cached()
        if simple:
            self._create(self._regular_parent(parts), parts, entry)
            return
        parent = self.tree.open_dir(parts[:-1], create=True)
        try:
            if whiteout:
                self._whiteout(parent, parts, entry)
            else:
                self._create(parent, parts, entry)
        finally:
            os.close(parent)

    def _create(self, parent: int, parts: tuple[str, ...], entry: Entry) -> None:
        name, kind = parts[-1], entry.type
        if kind == tarfile.DIRTYPE:
            return self._directory(parent, parts, entry)
        if kind == tarfile.LNKTYPE:
            return self._hardlink(parent, parts, entry)
        if not (entry.is_regular or kind in (tarfile.SYMTYPE, tarfile.FIFOTYPE,
                                             tarfile.CHRTYPE, tarfile.BLKTYPE)):
            raise InvalidArgument(f"invalid tar entry {entry.name!r}: "
                                  f"unsupported type {kind.decode(errors='replace')!r}")
        self._replace(parent, parts)
        if entry.is_regular:
            return self._regular(parent, parts, entry)
        if kind == tarfile.SYMTYPE:
            os.symlink(entry.linkname, name, dir_fd=parent)
            self.size += len(os.fsencode(entry.linkname))  # as Docker's directory.Size counts it
        else:
            fmt = {tarfile.FIFOTYPE: stat.S_IFIFO, tarfile.CHRTYPE: stat.S_IFCHR,
                   tarfile.BLKTYPE: stat.S_IFBLK}[kind]
            os.mknod(name, fmt | 0o600, os.makedev(entry.devmajor, entry.devminor),
                     dir_fd=parent)
        os.chown(name, *self._owner(entry), dir_fd=parent, follow_symlinks=False)
        if kind != tarfile.SYMTYPE:  # just made by us, not a symlink: fchmodat is safe
            os.chmod(name, entry.mode & 0o7777, dir_fd=parent)
        self._set_xattrs(proc_path(parent, name), entry)
        ns = int(entry.mtime * 1e9)
        os.utime(name, ns=(ns, ns), dir_fd=parent, follow_symlinks=False)

    def _regular(self, parent: int, parts: tuple[str, ...], entry: Entry) -> None:
        fd = os.open(parts[-1], FILE_FLAGS, 0o600, dir_fd=parent)
        try:
            ref = self.split.file("/".join(parts), entry.size)
            self.refs[parts] = (ref, entry.size)
            self.reader.copy_to_fd(fd)
            self._set_meta(fd, entry)
            ns = int(entry.mtime * 1e9)
            os.utime(fd, ns=(ns, ns))
        finally:
            os.close(fd)
        self.size += entry.size

    def _directory(self, parent: int, parts: tuple[str, ...], entry: Entry) -> None:
        name = parts[-1]
        st = _lstat(parent, name)
        if st is not None and not stat.S_ISDIR(st.st_mode):
            self._remove(parent, parts)
            st = None
        if st is None:
            os.mkdir(name, 0o700, dir_fd=parent)
        fd = os.open(name, DIR_FLAGS, dir_fd=parent)
        try:
            self._set_meta(fd, entry)
        finally:
            os.close(fd)
        self.dir_mtimes[parts] = entry.mtime  # set last: children change it

    def _hardlink(self, parent: int, parts: tuple[str, ...], entry: Entry) -> None:
        try:
            target = clean_parts(entry.linkname, self.policy.root)
        except InvalidArgument:
            raise InvalidArgument(f"invalid hardlink {entry.name!r}: target {entry.linkname!r} "
                                  f"escapes {self.policy.root}") from None
        if not target:
            raise InvalidArgument(f"invalid hardlink {entry.name!r}: target is the layer root")
        if target == parts:
            return
        missing = InvalidArgument(f"invalid hardlink {entry.name!r}: "
                                  f"target {entry.linkname!r} not found in {self.policy.root}")
        try:
            tparent = self.tree.open_dir(target[:-1])
        except FileNotFoundError as exc:
            raise missing from exc
        try:
            tst = _lstat(tparent, target[-1])
            if tst is None or stat.S_ISDIR(tst.st_mode):
                raise missing
            self._replace(parent, parts)
            os.link(target[-1], parts[-1], src_dir_fd=tparent, dst_dir_fd=parent,
                    follow_symlinks=False)
        finally:
            os.close(tparent)

    def _whiteout(self, parent: int, parts: tuple[str, ...], entry: Entry) -> None:
        name = parts[-1]
        if name == OPAQUE_MARKER:
            os.setxattr(parent, OPAQUE_XATTR, b"y")
            return
        if name.startswith(WHITEOUT_PREFIX + WHITEOUT_PREFIX):
            return  # other AUFS metadata (.wh..wh.plnk ...) has no overlay meaning
        hidden = parts[:-1] + (name[len(WHITEOUT_PREFIX):],)
        if hidden[-1] in ("", ".", ".."):
            raise InvalidArgument(f"invalid whiteout {entry.name!r}")
        self._remove(parent, hidden)
        os.mknod(hidden[-1], stat.S_IFCHR, os.makedev(0, 0), dir_fd=parent)
        os.chown(hidden[-1], entry.uid, entry.gid, dir_fd=parent, follow_symlinks=False)

    def _replace(self, parent: int, parts: tuple[str, ...]) -> None:
        """Make room for a non-directory at `parts`, as the policy allows."""
        if self.policy.keep_dirs:
            st = _lstat(parent, parts[-1])
            if st is not None and stat.S_ISDIR(st.st_mode):
                raise InvalidArgument(f'cannot overwrite directory "/{"/".join(parts)}" '
                                      "with non-directory")
        self._remove(parent, parts)

    def _owner(self, entry: Entry) -> tuple[int, int]:
        return self.policy.owner or (entry.uid, entry.gid)

    def _remove(self, parent: int, parts: tuple[str, ...]) -> None:
        """Remove `parts` (last component in `parent`) if present, keeping referenced content."""
        name = parts[-1]
        st = _lstat(parent, name)
        if st is None:
            return
        if stat.S_ISDIR(st.st_mode):
            for key in [k for k in self.refs if k[:len(parts)] == parts]:
                self._keep(key)
            shutil.rmtree(name, dir_fd=parent)
            self.dir_mtimes = {k: v for k, v in self.dir_mtimes.items()
                               if k[:len(parts)] != parts}
            return
        if parts in self.refs:
            self._keep(parts, parent)
        os.unlink(name, dir_fd=parent)

    def _keep(self, parts: tuple[str, ...], parent: int | None = None) -> None:
        ref, size = self.refs.pop(parts)
        own = parent is None
        if own:
            parent = self.tree.open_dir(parts[:-1])
        try:
            fd = os.open(parts[-1], os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=parent)
            try:
                self.split.keep(ref, fd, size)
            finally:
                os.close(fd)
        finally:
            if own:
                os.close(parent)

    def _set_meta(self, fd: int, entry: Entry) -> None:
        os.fchown(fd, *self._owner(entry))
        os.fchmod(fd, entry.mode & 0o7777)  # after chown, which clears setuid
        self._set_xattrs(fd, entry)

    def _set_xattrs(self, target: int | str, entry: Entry) -> None:
        for key, value in entry.xattrs.items():
            if key.startswith("trusted.overlay."):
                continue  # only pallet's whiteout conversion may speak to overlayfs
            try:
                if isinstance(target, int):
                    os.setxattr(target, key, value)
                else:
                    os.setxattr(target, key, value, follow_symlinks=False)
            except OSError as exc:
                if exc.errno not in (errno.ENOTSUP, errno.EPERM):
                    raise

    def _set_dir_mtimes(self) -> None:
        for parts in sorted(self.dir_mtimes, key=len, reverse=True):
            try:
                fd = self.tree.open_dir(parts)
            except (OSError, InvalidArgument):
                continue  # replaced later in the layer
            try:
                ns = int(self.dir_mtimes[parts] * 1e9)
                os.utime(fd, ns=(ns, ns))
            finally:
                os.close(fd)


def _lstat(parent: int, name: str) -> os.stat_result | None:
    try:
        return os.stat(name, dir_fd=parent, follow_symlinks=False)
    except FileNotFoundError:
        return None
