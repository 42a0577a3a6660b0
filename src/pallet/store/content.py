"""The content store: immutable blobs addressed by digest (configs, manifests).

A blob becomes visible only whole and verified: bytes go to a private ingest
file, are fsynced, checked against the expected digest and size, then renamed
into blobs/sha256/<hex> (rename is atomic), made read-only, and the directory
is fsynced. A process killed mid-write leaves only an ingest file, which
`sweep_ingest` removes once no live writer holds its lock.

Layers are not blobs here: pallet keeps a layer only as its unpacked tree plus
a tar-split record (see pallet.archive), so the content store stays small.
The store knows nothing of names; references live in pallet.store.db.
"""
from __future__ import annotations

import fcntl
import os
from pathlib import Path
TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: importing typing costs ~3 ms per command
    from typing import BinaryIO

from .. import digest as dg
from ..errors import DataCorrupted, NotFound


class ContentStore:
    def __init__(self, blobs: Path, ingest: Path):
        self.blobs = blobs
        self.ingest = ingest

    def path(self, digest: str) -> Path:
        algo, hexpart = dg.validate(digest).split(":", 1)
        return self.blobs / algo / hexpart

    def exists(self, digest: str) -> bool:
        return self.path(digest).exists()

    def read(self, digest: str, verify: bool = True) -> bytes:
        try:
            data = self.path(digest).read_bytes()
        except FileNotFoundError as exc:
            raise NotFound(f"blob {digest} not found in the content store") from exc
        if verify and dg.sha256_bytes(data) != digest:
            raise DataCorrupted(f"blob {digest} is corrupted on disk (digest mismatch)")
        return data

    def put_bytes(self, data: bytes, expected: str | None = None) -> str:
        actual = dg.sha256_bytes(data)
        if expected is not None and actual != expected:
            raise DataCorrupted(f"blob {expected}: digest mismatch (got {actual})")
        if self.exists(actual):
            return actual
        return self._commit(lambda f: f.write(data), actual, len(data))

    def put_stream(self, stream: BinaryIO, expected: str, size: int | None = None) -> str:
        """Copy a stream into the store, verifying digest and size before it becomes visible."""
        def fill(f):
            reader = dg.HashingReader(stream)
            while chunk := reader.read(dg.CHUNK):
                f.write(chunk)
            reader.verify(expected, size)
        return self._commit(fill, expected, size)

    def _commit(self, fill, digest: str, size: int | None) -> str:
        final = self.path(digest)
        final.parent.mkdir(parents=True, exist_ok=True)
        self.ingest.mkdir(parents=True, exist_ok=True)
        import tempfile  # lazily: reading blobs (every `run`) never needs it
        fd, tmp = tempfile.mkstemp(dir=self.ingest, prefix="blob-")
        try:
            with os.fdopen(fd, "wb") as f:
                fcntl.flock(f, fcntl.LOCK_EX)  # tells sweep_ingest this writer is alive
                fill(f)
                f.flush()
                os.fsync(f.fileno())
            os.chmod(tmp, 0o444)
            os.rename(tmp, final)
        except BaseException:
            _unlink_quietly(tmp)
            raise
        _fsync_dir(final.parent)
        return digest

    def delete(self, digest: str) -> None:
        _unlink_quietly(self.path(digest))

    def all_digests(self) -> list[str]:
        out = []
        for algo_dir in self.blobs.iterdir() if self.blobs.exists() else []:
            out += [f"{algo_dir.name}:{p.name}" for p in algo_dir.iterdir()]
        return out

    def size(self, digest: str) -> int:
        return self.path(digest).stat().st_size

    def sweep_ingest(self) -> None:
        """Remove ingest files left by killed writers (their flock is gone)."""
        for p in self.ingest.glob("blob-*"):
            try:
                with open(p, "rb") as f:
                    fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    p.unlink()
            except (BlockingIOError, FileNotFoundError):
                continue


def _unlink_quietly(p) -> None:
    try:
        os.unlink(p)
    except FileNotFoundError:
        pass


def _fsync_dir(d: Path) -> None:
    fd = os.open(d, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
