"""Tar-split: the record that rebuilds a layer's exact tar from its unpacked tree.

Owns: the on-disk format and both directions (TarSplitWriter while a layer is
applied; iter_layer_tar / write_layer_tar when `save`/`push` need the tar).

Format (all integers big-endian):

    b"PLTSPLT1" | u64 overflow_len | u32 n | n * (u32 ref, u64 offset, u64 size)
    | overflow bytes (overflow_len) | gzip(records)

    records:  b"R" u32 len <bytes>       raw tar bytes (headers, PAX, padding, end)
              b"F" u32 len <path> u64 size   content of regular file #ref (refs
                                              count F records from 0), read from
                                              the tree at <path>
              b"E"                            end

A file whose content left the tree later in the same layer (replaced by a later
entry of the same name, or removed by an in-layer whiteout) is copied into the
overflow area first, and the index maps its ref there. Invariants: the tree is
read without following symlinks; a missing or short file is DataCorrupted; the
caller compares the returned digest with the layer's diff_id.
"""
from __future__ import annotations

import gzip
import hashlib
import os
import shutil
import struct
import tempfile
from pathlib import Path
TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: importing typing costs ~3 ms per command
    from typing import BinaryIO, Iterator

from ..errors import DataCorrupted, InvalidArgument
from .tree import Tree

MAGIC = b"PLTSPLT1"
CHUNK = 1 << 20
_HEAD = struct.Struct(">8sQI")
_INDEX = struct.Struct(">IQQ")
_FILE = struct.Struct(">IQ")
_RAW = struct.Struct(">I")


class TarSplitWriter:
    """Collects raw bytes and file references while a layer is applied."""

    def __init__(self, path: Path | None):
        self.path = path
        self._records = tempfile.SpooledTemporaryFile(max_size=8 << 20)
        self._gz = gzip.GzipFile(filename="", fileobj=self._records, mode="wb",
                                 compresslevel=6, mtime=0)
        self._buf = bytearray()
        self._refs = 0
        self._overflow: BinaryIO | None = None
        self._index: list[tuple[int, int, int]] = []

    def raw(self, data: bytes) -> None:
        if self.path is None:
            return
        self._buf += data
        if len(self._buf) >= CHUNK:
            self._flush_raw()

    def _flush_raw(self) -> None:
        if self._buf:
            self._gz.write(b"R" + _RAW.pack(len(self._buf)) + self._buf)
            self._buf.clear()

    def file(self, path: str, size: int) -> int:
        """Record that the next `size` bytes are regular file `path`; returns its ref."""
        if self.path is not None:
            self._flush_raw()
            name = os.fsencode(path)
            self._gz.write(b"F" + _RAW.pack(len(name)) + name + struct.pack(">Q", size))
        self._refs += 1
        return self._refs - 1

    def keep(self, ref: int, fd: int, size: int) -> None:
        """Copy file #ref's content (open at `fd`) aside before it leaves the tree."""
        if self.path is None:
            return
        if self._overflow is None:
            self._overflow = tempfile.TemporaryFile()
        offset = self._overflow.seek(0, os.SEEK_END)
        left = size
        while left:
            data = os.pread(fd, min(left, CHUNK), size - left)
            if not data:
                raise DataCorrupted(f"layer file #{ref} shrank while being applied")
            self._overflow.write(data)
            left -= len(data)
        self._index.append((ref, offset, size))

    def close(self) -> None:
        """Write the tar-split file (nothing when no path was given)."""
        if self.path is not None:
            self._flush_raw()
            self._gz.write(b"E")
        self._gz.close()
        if self.path is not None:
            self._assemble()
        self._records.close()
        if self._overflow is not None:
            self._overflow.close()

    def discard(self) -> None:
        """Drop everything collected (the layer failed); writes nothing."""
        self.path = None
        self.close()

    def _assemble(self) -> None:
        overflow_len = self._overflow.seek(0, os.SEEK_END) if self._overflow else 0
        with open(self.path, "wb") as out:
            out.write(_HEAD.pack(MAGIC, overflow_len, len(self._index)))
            for item in self._index:
                out.write(_INDEX.pack(*item))
            if self._overflow is not None:
                self._overflow.seek(0)
                shutil.copyfileobj(self._overflow, out, CHUNK)
            self._records.seek(0)
            shutil.copyfileobj(self._records, out, CHUNK)


def iter_layer_tar(dest: Path, tarsplit_path: Path) -> Iterator[bytes]:
    """Yield the layer's uncompressed tar, rebuilt from the tree at `dest`."""
    with open(tarsplit_path, "rb") as f, Tree(dest) as tree:
        magic, overflow_len, count = _HEAD.unpack(_exact(f, _HEAD.size))
        if magic != MAGIC:
            raise DataCorrupted(f"{tarsplit_path}: not a pallet tar-split record")
        index = {}
        for _ in range(count):
            ref, offset, size = _INDEX.unpack(_exact(f, _INDEX.size))
            index[ref] = (offset, size)
        base = f.tell()
        f.seek(base + overflow_len)
        records = gzip.GzipFile(fileobj=f, mode="rb")
        ref = 0
        while (kind := _exact(records, 1)) != b"E":
            if kind == b"R":
                yield _exact(records, _RAW.unpack(_exact(records, 4))[0])
            elif kind == b"F":
                name = _exact(records, _RAW.unpack(_exact(records, 4))[0])
                size = struct.unpack(">Q", _exact(records, 8))[0]
                if ref in index:
                    yield from _pread_chunks(f.fileno(), base + index[ref][0], size)
                else:
                    yield from _tree_file(tree, os.fsdecode(name), size)
                ref += 1
            else:
                raise DataCorrupted(f"{tarsplit_path}: unknown tar-split record {kind!r}")


def write_layer_tar(dest: Path, tarsplit_path: Path, out: BinaryIO) -> str:
    """Write the layer's exact tar to `out`; returns its sha256 digest (the diff_id)."""
    hasher = hashlib.sha256()
    for chunk in iter_layer_tar(dest, tarsplit_path):
        hasher.update(chunk)
        out.write(chunk)
    return "sha256:" + hasher.hexdigest()


def _exact(f, n: int) -> bytes:
    try:
        data = f.read(n)
        while len(data) < n:
            more = f.read(n - len(data))
            if not more:
                break
            data += more
    except (OSError, EOFError) as exc:
        raise DataCorrupted(f"tar-split record is corrupted: {exc}") from exc
    if len(data) < n:
        raise DataCorrupted("tar-split record is corrupted: unexpected EOF")
    return data


def _pread_chunks(fd: int, offset: int, size: int) -> Iterator[bytes]:
    while size:
        data = os.pread(fd, min(size, CHUNK), offset)
        if not data:
            raise DataCorrupted("tar-split record is corrupted: overflow area truncated")
        offset += len(data)
        size -= len(data)
        yield data


def _tree_file(tree: Tree, path: str, size: int) -> Iterator[bytes]:
    parts = path.split("/")
    try:
        parent = tree.open_dir(parts[:-1])
        try:
            fd = os.open(parts[-1], os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=parent)
        finally:
            os.close(parent)
    except (OSError, InvalidArgument) as exc:
        raise DataCorrupted(f"layer file /{path} is missing or not a regular file") from exc
    try:
        offset = 0
        while offset < size:
            data = os.pread(fd, min(size - offset, CHUNK), offset)
            if not data:
                raise DataCorrupted(f"layer file /{path} is shorter than recorded ({size} bytes)")
            offset += len(data)
            yield data
    finally:
        os.close(fd)
