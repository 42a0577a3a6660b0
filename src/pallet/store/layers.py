"""Unpacked layers: one directory per chain_id, shared by every image and container.

layers/<chain hex>/diff        the layer's tree (overlayfs lowerdir; never written again)
layers/<chain hex>/tar-split.gz raw tar headers, to regenerate the exact layer tar

A layer is unpacked into a private `.tmp-*` directory while its creator holds
a flock on `.tmp-*.lock`; it becomes visible only by `commit_staged`, under the
store's commit lock and inside the caller's database transaction. A killed
unpack leaves a tmp directory whose lock is free: `sweep` deletes it.

Disk cost of one stored layer: its unpacked size plus a tar-split of roughly
100 bytes per entry (gzip-compressed). No compressed blob and no tar are kept.
"""
from __future__ import annotations

import fcntl
import os
import time
from ..record import dataclass, field
from pathlib import Path
TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: importing typing costs ~3 ms per command
    from typing import BinaryIO

from .. import crash_point, digest as dg
from ..errors import DataCorrupted, NotFound
from ..paths import Paths
from .db import Database, LayerRow


@dataclass
class StagedLayer:
    """A layer unpacked into a private directory, not yet visible."""
    tmp: Path
    diff_id: str
    size: int
    tar_size: int
    lock_fd: int = field(repr=False, default=-1)

    def release(self) -> None:
        if self.tmp.exists():
            import shutil
            shutil.rmtree(self.tmp, ignore_errors=True)
        _drop_lock(self.tmp, self.lock_fd)
        self.lock_fd = -1


class _CountingReader:
    def __init__(self, raw: BinaryIO):
        self.raw, self.size = raw, 0

    def read(self, n: int = -1) -> bytes:
        data = self.raw.read(n)
        self.size += len(data)
        return data

    def readinto(self, buf) -> int:
        n = self.raw.readinto(buf) or 0
        self.size += n
        return n

    def readable(self) -> bool:
        return True


class LayerStore:
    def __init__(self, paths: Paths, db: Database):
        self.paths = paths
        self.db = db

    def diff_dir(self, chain_id: str) -> Path:
        return self.paths.layer(dg.hex_of(chain_id)) / "diff"

    def tarsplit_path(self, chain_id: str) -> Path:
        return self.paths.layer(dg.hex_of(chain_id)) / "tar-split.gz"

    def has(self, chain_id: str) -> bool:
        return self.db.layer(chain_id) is not None and self.diff_dir(chain_id).is_dir()

    def stage(self, compressed: BinaryIO) -> StagedLayer:
        """Decompress and unpack a layer stream into a private directory."""
        from ..archive.apply import apply_layer
        from ..archive.compression import open_layer_stream

        tmp = self.paths.layers / f".tmp-{os.urandom(16).hex()}"
        lock_fd = _take_lock(tmp)
        try:
            (tmp / "diff").mkdir(parents=True)
            counted = _CountingReader(open_layer_stream(compressed))
            result = apply_layer(counted, tmp / "diff", tmp / "tar-split.gz")
            crash_point("layer:unpacked")
            return StagedLayer(tmp, result.diff_id, result.size, counted.size, lock_fd)
        except BaseException:
            import shutil
            shutil.rmtree(tmp, ignore_errors=True)
            _drop_lock(tmp, lock_fd)
            raise

    def commit_staged(self, staged: StagedLayer, chain_id: str, parent: str | None) -> None:
        """Make a staged layer visible. Caller holds the commit lock and a transaction."""
        final = self.paths.layer(dg.hex_of(chain_id))
        if self.db.layer(chain_id) is not None and final.is_dir():
            staged.release()  # someone else committed the same layer first
            return
        if final.exists():  # left by a process killed between rename and commit
            self._to_trash(final)
        os.rename(staged.tmp, final)
        _drop_lock(staged.tmp, staged.lock_fd)
        staged.lock_fd = -1
        self.db.insert_layer(LayerRow(chain_id, staged.diff_id, parent, staged.size,
                                      staged.tar_size, time.time()))

    def write_tar(self, chain_id: str, out: BinaryIO) -> str:
        """Regenerate the layer's exact uncompressed tar into `out`; verifies its diff_id."""
        from ..archive.tarsplit import write_layer_tar

        row = self.db.layer(chain_id)
        if row is None:
            raise NotFound(f"layer {chain_id} not found")
        got = write_layer_tar(self.diff_dir(chain_id), self.tarsplit_path(chain_id), out)
        if got != row.diff_id:
            raise DataCorrupted(f"layer {row.diff_id} is corrupted on disk (regenerated {got})")
        return got

    def remove(self, chain_ids: list[str]) -> None:
        """Caller holds the commit lock; rows already deleted in its transaction."""
        for chain_id in chain_ids:
            d = self.paths.layer(dg.hex_of(chain_id))
            if d.exists():
                self._to_trash(d)

    def _to_trash(self, d: Path) -> None:
        self.paths.trash.mkdir(parents=True, exist_ok=True)
        os.rename(d, self.paths.trash / f"{d.name}-{os.urandom(4).hex()}")

    def empty_trash(self) -> None:
        for d in self.paths.trash.iterdir() if self.paths.trash.exists() else []:
            force_rmtree(d)

    def sweep_staging(self) -> None:
        """Delete `.tmp-*` directories whose creator died."""
        for lock in self.paths.layers.glob(".tmp-*.lock"):
            tmp = lock.with_suffix("")
            try:
                fd = os.open(lock, os.O_RDWR)
            except FileNotFoundError:
                continue
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                continue
            force_rmtree(tmp)
            _drop_lock(tmp, fd)

    def orphan_dirs(self) -> list[Path]:
        known = {dg.hex_of(r.chain_id) for r in self.db.all_layers()}
        return [d for d in self.paths.layers.iterdir()
                if not d.name.startswith(".") and d.name not in known]


def _take_lock(tmp: Path) -> int:
    fd = os.open(str(tmp) + ".lock", os.O_RDWR | os.O_CREAT, 0o600)
    fcntl.flock(fd, fcntl.LOCK_EX)
    return fd


def _drop_lock(tmp: Path, fd: int) -> None:
    try:
        os.unlink(str(tmp) + ".lock")
    except FileNotFoundError:
        pass
    if fd >= 0:
        os.close(fd)


def force_rmtree(d: Path) -> None:
    """rmtree that also copes with read-only directories inside a layer."""
    def fix(func, path, _exc):
        try:
            os.chmod(os.path.dirname(path), 0o700)
            os.chmod(path, 0o700)
            func(path)
        except OSError:
            pass
    try:
        _rmtree_fd(d)
    except OSError:
        import shutil  # lazily: it pulls in bz2 and lzma
        shutil.rmtree(d, onerror=fix)


def _rmtree_fd(d: Path) -> None:
    """Bottom-up removal through directory fds (no symlink is followed): the common case
    of `force_rmtree` without importing shutil, which `run --rm` would pay for."""
    if not os.path.lexists(d):
        return
    if not os.path.isdir(d) or os.path.islink(d):
        os.unlink(d)
        return
    for _top, dirs, files, dir_fd in os.fwalk(d, topdown=False):
        for name in files:
            os.unlink(name, dir_fd=dir_fd)
        for name in dirs:
            try:
                os.rmdir(name, dir_fd=dir_fd)
            except NotADirectoryError:  # a symlink to a directory is listed with the dirs
                os.unlink(name, dir_fd=dir_fd)
    os.rmdir(d)
