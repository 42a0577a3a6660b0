"""Digests: the `algorithm:hex` value, streaming hashing, and chain IDs.

Only sha256 is produced; sha512 is accepted when parsing (the OCI spec allows it).
"""
from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: importing typing costs ~3 ms per command
    from typing import BinaryIO, Iterable

from .errors import DataCorrupted, InvalidArgument


def _sha256(data: bytes | None = None):
    """A sha256 hasher; a streaming one (no `data`) is always hashlib's."""
    # hashlib loads libcrypto (~3 ms); for a small document (the image config `run` reads
    # and verifies) CPython's own sha256 is as fast and costs nothing to load
    if data is not None and len(data) < (1 << 16):
        try:
            from _sha256 import sha256 as small  # CPython <= 3.11
        except ImportError:
            try:
                from _sha2 import sha256 as small  # CPython >= 3.12
            except ImportError:
                small = None
        if small is not None:
            return small(data)
    from hashlib import sha256
    return sha256(data or b"")


_HEX_LENGTH = {"sha256": 64, "sha512": 128}
_LOWER_HEX = frozenset("0123456789abcdef")
CHUNK = 1 << 20


def validate(digest: str) -> str:
    """`digest` if it is sha256:<64 hex> or sha512:<128 hex> (lowercase), else InvalidArgument."""
    algorithm, _, encoded = digest.partition(":")
    if len(encoded) != _HEX_LENGTH.get(algorithm) or not _LOWER_HEX.issuperset(encoded):
        raise InvalidArgument(f"invalid digest {digest!r}: expected sha256:<64 hex digits>")
    return digest


def hex_of(digest: str) -> str:
    return validate(digest).split(":", 1)[1]


def sha256_bytes(data: bytes) -> str:
    return "sha256:" + _sha256(data).hexdigest()


def sha256_file(path) -> str:
    h = _sha256()
    with open(path, "rb") as f:
        while chunk := f.read(CHUNK):
            h.update(chunk)
    return "sha256:" + h.hexdigest()


def chain_ids(diff_ids: Iterable[str]) -> list[str]:
    """OCI image spec ChainID: chain(L0)=diff(L0); chain(Ln)=sha256(chain(Ln-1) + " " + diff(Ln))."""
    out: list[str] = []
    for diff_id in diff_ids:
        if not out:
            out.append(diff_id)
        else:
            out.append(sha256_bytes(f"{out[-1]} {diff_id}".encode()))
    return out


class HashingReader:
    """Wraps a binary stream; hashes and counts every byte read through it."""

    def __init__(self, raw: BinaryIO):
        self.raw = raw
        self.hasher = _sha256()
        self.size = 0

    def read(self, n: int = -1) -> bytes:
        data = self.raw.read(n)
        self.hasher.update(data)
        self.size += len(data)
        return data

    def readinto(self, buf) -> int:
        n = self.raw.readinto(buf)
        if n:
            self.hasher.update(memoryview(buf)[:n])
            self.size += n
        return n

    def readable(self) -> bool:
        return True

    def drain(self) -> None:
        while self.read(CHUNK):
            pass

    @property
    def digest(self) -> str:
        return "sha256:" + self.hasher.hexdigest()

    def verify(self, expected: str, size: int | None = None, what: str = "blob") -> None:
        if size is not None and self.size != size:
            raise DataCorrupted(f"{what} {expected}: size {self.size} does not match expected {size}")
        if self.digest != expected:
            raise DataCorrupted(f"{what} {expected}: digest mismatch (got {self.digest})")


class HashingWriter:
    """Wraps a binary sink; hashes and counts every byte written through it."""

    def __init__(self, raw: BinaryIO):
        self.raw = raw
        self.hasher = _sha256()
        self.size = 0

    def write(self, data) -> int:
        self.hasher.update(data)
        self.size += len(data)
        return self.raw.write(data)

    def flush(self) -> None:
        self.raw.flush()

    @property
    def digest(self) -> str:
        return "sha256:" + self.hasher.hexdigest()
