"""COPY and ADD: placing sources into a fresh directory tree that becomes one layer.

Owns: Docker's destination rules and the file placement. The tree under
`root` mirrors the image's `/`; pallet.archive.export turns it into the layer.

Docker's rules, as implemented here:
  * a relative destination is relative to WORKDIR;
  * the destination is a directory when it ends with `/`, when there is more
    than one source (then the `/` is required), or when it already is a
    directory in the image; otherwise a single file source is copied TO it;
  * a directory source copies its contents, not itself;
  * `--chown` applies to what is copied and to the directories it creates,
    `--chmod` to what is copied; without `--chown` everything is 0:0;
  * ADD unpacks local tar archives (plain, gzip, bzip2, xz) into the
    destination and fetches http(s) URLs (mode 0600, `--checksum` verified).
Symlinks inside a copied tree are copied as symlinks, never followed.
Nothing here writes a file: the placement is described as tar entries and
written by pallet.archive.apply beneath the tree's directory fd, as is a local
archive ADD unpacks, so no source name, symlink (placed by an earlier source or
by the archive) or hardlink target reaches outside the tree (a hardlink to a
host path is refused, not followed).
Directories that already exist in the image keep their mode and owner.
"""
from __future__ import annotations

import os
import posixpath
import stat
import tarfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

from ..errors import InvalidArgument
from .imageview import ImageView

Walker = Callable[[Path], Iterator[tuple[Path, str, os.stat_result]]]


@dataclass
class Item:
    path: Path                 # on disk
    name: str                  # base name used when copied into a directory
    st: os.stat_result
    walk: Walker | None = None  # for directories: yields (path, relative name, lstat)
    extract: bool = False      # ADD of a local archive


class Placer:
    """Decides what COPY/ADD puts where, as tar entries; pallet.archive.apply writes them."""

    def __init__(self, root: Path, view: ImageView, owner: tuple[int, int] | None, chmod: int | None):
        self.root, self.view, self.owner, self.chmod = root, view, owner, chmod
        self.pending: list[tuple[tarfile.TarInfo, Path | None]] = []
        self.dirs: set[str] = set()  # directories this instruction has placed (image paths)
        self.extracted = False       # an archive placed directories `dirs` does not know

    def place(self, items: list[Item], dest: str, workdir: str, what: str = "COPY") -> None:
        dest_dir = dest.endswith("/") or dest.endswith("/.")
        target = posixpath.normpath(posixpath.join(workdir or "/", dest))
        if len(items) > 1 and not dest_dir:
            raise InvalidArgument(f"When using {what} with more than one source file, "
                                  "the destination must be a directory and end with a /")
        if not dest_dir and len(items) == 1 and self.view.is_dir(target):
            dest_dir = True
        for item in items:
            if stat.S_ISDIR(item.st.st_mode):
                self._dir_contents(item, target)
            elif item.extract:
                self._extract(item, target)
            else:
                self._entry(item.path, item.st, posixpath.join(target, item.name) if dest_dir else target)
        self._apply()

    def make_parents(self, image_path: str) -> None:
        """Create the directories above `image_path` (WORKDIR's missing directories)."""
        self._parents(image_path)
        self._apply()

    def _parents(self, image_path: str) -> None:
        """Create the directories above `image_path`, copying the image's metadata when it has them."""
        parts = [p for p in image_path.split("/") if p][:-1]
        for i in range(len(parts)):
            self._mkdir("/" + "/".join(parts[:i + 1]), created=True)

    def _mkdir(self, image_path: str, created: bool, st: os.stat_result | None = None) -> None:
        if image_path in self.dirs or (self.extracted and self._dir_on_disk(image_path)):
            return  # the first source to need a directory sets its metadata
        self.dirs.add(image_path)
        existing = self.view.lookup(image_path)
        if created and existing is not None and os.path.isdir(existing):
            est = os.lstat(existing)
            return self._add(_header(image_path, tarfile.DIRTYPE, est.st_mode, (est.st_uid, est.st_gid)))
        mode = (st.st_mode & 0o7777) if st is not None else 0o755
        mode = self.chmod if (self.chmod is not None and st is not None) else mode
        info = _header(image_path, tarfile.DIRTYPE, mode, self.owner or (0, 0))
        if st is not None:
            info.mtime = st.st_mtime_ns / 1e9
        self._add(info)

    def _dir_contents(self, item: Item, target: str) -> None:
        self._parents(target + "/x")
        self._mkdir(target, created=True)
        for path, rel, st in item.walk(item.path):
            self._entry(path, st, posixpath.join(target, rel), parents="/" in rel)

    def _entry(self, src: Path, st: os.stat_result, image_path: str, parents: bool = True) -> None:
        if parents:
            self._parents(image_path)
        if stat.S_ISDIR(st.st_mode):
            return self._mkdir(image_path, created=False, st=st)
        owner = self.owner or (0, 0)
        if stat.S_ISLNK(st.st_mode):
            info = _header(image_path, tarfile.SYMTYPE, 0o777, owner)
            info.linkname = os.readlink(src)
        elif stat.S_ISREG(st.st_mode):
            mode = self.chmod if self.chmod is not None else st.st_mode
            info = _header(image_path, tarfile.REGTYPE, mode, owner)
            info.size = st.st_size
        else:
            return  # sockets, devices, fifos: Docker's COPY skips them too
        info.mtime = st.st_mtime_ns / 1e9
        # A file replaces whatever an earlier source placed at its name, a directory included.
        self.dirs = {d for d in self.dirs if d != image_path and not d.startswith(image_path + "/")}
        self._add(info, src if info.type == tarfile.REGTYPE else None)

    def _add(self, info: tarfile.TarInfo, src: Path | None = None) -> None:
        self.pending.append((info, src))

    def _apply(self) -> None:
        """Write the pending entries beneath the root through the one safe applier."""
        from ..archive.apply import Policy, apply_tar
        from ..archive.unpack import piped
        pending, self.pending = self.pending, []
        if not pending:
            return
        fd = os.open(self.root, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        try:
            with piped(lambda out: _write_entries(pending, out)) as reader:
                apply_tar(reader, fd, Policy(whiteouts=False, root="the destination"))
        finally:
            os.close(fd)

    def _extract(self, item: Item, target: str) -> None:
        """ADD of a local archive: its members, owners and modes as the tar has them (a
        member replaces what an earlier source put at its name, as Docker's Untar does)."""
        from ..archive.apply import Policy, apply_tar
        from ..archive.compression import open_layer_stream
        from ..archive.tree import Tree, clean_parts
        self._parents(target + "/x")
        self._mkdir(target, created=True)
        self._apply()
        self.extracted = True
        with Tree(self.root) as tree, open(item.path, "rb") as raw:
            fd = tree.open_dir(clean_parts(target))
            try:
                apply_tar(open_layer_stream(raw), fd, Policy(whiteouts=False, root="the destination"))
            finally:
                os.close(fd)


    def _dir_on_disk(self, image_path: str) -> bool:
        from ..archive.tree import Tree, clean_parts
        with Tree(self.root) as tree:
            try:
                os.close(tree.open_dir(clean_parts(image_path)))
            except (OSError, InvalidArgument):
                return False
        return True


def _header(image_path: str, kind: bytes, mode: int, owner: tuple[int, int]) -> tarfile.TarInfo:
    info = tarfile.TarInfo(image_path.lstrip("/"))
    info.type, info.mode = kind, mode & 0o7777
    info.uid, info.gid = owner
    info.uname = info.gname = ""
    info.mtime = time.time()
    return info


def _write_entries(entries: list[tuple[tarfile.TarInfo, Path | None]], out) -> None:
    """The entries as a tar; a regular file's content is read from its source, not followed."""
    for info, src in entries:
        out.write(info.tobuf(tarfile.PAX_FORMAT, "utf-8", "surrogateescape"))
        if src is None:
            continue
        fd = os.open(src, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
        try:
            left = info.size
            while left:
                data = os.read(fd, min(left, 1 << 20)) or bytes(min(left, 1 << 20))  # shrank: pad
                out.write(data)
                left -= len(data)
        finally:
            os.close(fd)
        if info.size % tarfile.BLOCKSIZE:
            out.write(bytes(tarfile.BLOCKSIZE - info.size % tarfile.BLOCKSIZE))
    out.write(bytes(2 * tarfile.BLOCKSIZE))


def is_archive(path: Path) -> bool:
    """A local file ADD unpacks: a tar, plain or compressed."""
    from ..archive.unpack import is_tar
    return is_tar(path)


def tree_walker(context) -> Walker:
    """Walk a context directory with .dockerignore applied (paths relative to the context root)."""
    def walk(top: Path) -> Iterator[tuple[Path, str, os.stat_result]]:
        rel_top = top.relative_to(context.root).as_posix()
        rel_top = "" if rel_top == "." else rel_top
        cut = len(rel_top) + 1 if rel_top else 0
        for rel, st in context.walk(rel_top):
            yield context.root / rel, rel[cut:], st
    return walk


def plain_walker(top: Path) -> Iterator[tuple[Path, str, os.stat_result]]:
    """Walk any directory (an image view), sorted, symlinks not followed."""
    def rec(d: Path, prefix: str):
        for name in sorted(os.listdir(d)):
            path = d / name
            st = os.lstat(path)
            yield path, prefix + name, st
            if stat.S_ISDIR(st.st_mode):
                yield from rec(path, prefix + name + "/")
    yield from rec(top, "")
