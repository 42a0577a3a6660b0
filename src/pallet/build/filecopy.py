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
Symlinks inside a copied tree are copied as symlinks, never followed. An
archive is applied by pallet.archive.apply beneath the destination's directory
fd, as every tar pallet unpacks is: no member name, symlink or hardlink target
reaches outside the tree (a hardlink to a host path is refused, not followed).
Directories that already exist in the image keep their mode and owner.
"""
from __future__ import annotations

import os
import posixpath
import shutil
import stat
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
    def __init__(self, root: Path, view: ImageView, owner: tuple[int, int] | None, chmod: int | None):
        self.root, self.view, self.owner, self.chmod = root, view, owner, chmod

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

    def _host(self, image_path: str) -> Path:
        return self.root / image_path.lstrip("/")

    def _parents(self, image_path: str) -> None:
        """Create the directories above `image_path`, copying the image's metadata when it has them."""
        parts = [p for p in image_path.split("/") if p][:-1]
        for i in range(len(parts)):
            self._mkdir("/" + "/".join(parts[:i + 1]), created=True)

    def _mkdir(self, image_path: str, created: bool, st: os.stat_result | None = None) -> None:
        host = self._host(image_path)
        try:
            st_here = os.lstat(host)
        except FileNotFoundError:
            st_here = None
        if st_here is not None:
            if stat.S_ISDIR(st_here.st_mode):
                return
            # A file or symlink an earlier source of this instruction put here: the directory
            # replaces it, so no later path below it is ever resolved through a symlink.
            host.unlink()
        host.mkdir()
        existing = self.view.lookup(image_path)
        if created and existing is not None and os.path.isdir(existing):
            est = os.lstat(existing)
            os.chmod(host, est.st_mode & 0o7777)
            os.lchown(host, est.st_uid, est.st_gid)
            return
        mode = (st.st_mode & 0o7777) if st is not None else 0o755
        os.chmod(host, self.chmod if (self.chmod is not None and st is not None) else mode)
        uid, gid = self.owner or (0, 0)
        os.lchown(host, uid, gid)
        if st is not None:
            os.utime(host, ns=(st.st_mtime_ns, st.st_mtime_ns))

    def _dir_contents(self, item: Item, target: str) -> None:
        self._parents(target + "/x")
        self._mkdir(target, created=True)
        for path, rel, st in item.walk(item.path):
            self._entry(path, st, posixpath.join(target, rel), parents="/" in rel)

    def _entry(self, src: Path, st: os.stat_result, image_path: str, parents: bool = True) -> None:
        if parents:
            self._parents(image_path)
        host = self._host(image_path)
        if stat.S_ISDIR(st.st_mode):
            self._mkdir(image_path, created=False, st=st)
            return
        if host.is_dir() and not host.is_symlink():
            shutil.rmtree(host)
        elif host.exists() or host.is_symlink():
            host.unlink()
        if stat.S_ISLNK(st.st_mode):
            os.symlink(os.readlink(src), host)
        elif stat.S_ISREG(st.st_mode):
            shutil.copyfile(src, host, follow_symlinks=False)
            os.chmod(host, self.chmod if self.chmod is not None else st.st_mode & 0o7777)
        else:
            return  # sockets, devices, fifos: Docker's COPY skips them too
        uid, gid = self.owner or (0, 0)
        os.lchown(host, uid, gid)
        os.utime(host, ns=(st.st_mtime_ns, st.st_mtime_ns), follow_symlinks=False)

    def _extract(self, item: Item, target: str) -> None:
        """ADD of a local archive: its members, owners and modes as the tar has them (a
        member replaces what an earlier source put at its name, as Docker's Untar does)."""
        from ..archive.apply import Policy, apply_tar
        from ..archive.compression import open_layer_stream
        from ..archive.tree import Tree, clean_parts
        self._parents(target + "/x")
        self._mkdir(target, created=True)
        with Tree(self.root) as tree, open(item.path, "rb") as raw:
            fd = tree.open_dir(clean_parts(target))
            try:
                apply_tar(open_layer_stream(raw), fd, Policy(whiteouts=False, root="the destination"))
            finally:
                os.close(fd)


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
