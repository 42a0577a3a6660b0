"""Layer stream (de)compression: sniffing, streaming readers, pallet's own gzip.

Owns: turning a possibly compressed layer blob into a stream of the
uncompressed tar, and the one deterministic gzip writer pallet uses for the
layers it creates (same input bytes -> same blob digest, every time).

Invariants: nothing here reads a whole layer into memory; every reader is
streaming with constant memory. Decoder errors leave this module as
DataCorrupted with a one-line message. Must not import tarfile or anything
from pallet beyond errors (it sits below apply/tarsplit).
"""
from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: importing typing costs ~3 ms per command
    from typing import BinaryIO

from ..errors import DataCorrupted, InvalidArgument

GZIP_MAGIC = b"\x1f\x8b"
ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
BZIP2_MAGIC = b"BZh"
XZ_MAGIC = b"\xfd7zXZ\x00"
GZIP_LEVEL = 6  # fixed: the blob digest of a pallet-made layer must not drift


class _Prefixed:
    """A reader that first replays the sniffed bytes, then the rest of `raw`."""

    def __init__(self, head: bytes, raw: BinaryIO):
        self._head = head
        self._raw = raw

    def readable(self) -> bool:
        return True

    def read(self, n: int = -1) -> bytes:
        if self._head:
            if n is None or n < 0:
                data, self._head = self._head + self._raw.read(), b""
                return data
            data, self._head = self._head[:n], self._head[n:]
            return data
        return self._raw.read(n)

    def readinto(self, buf) -> int:
        view = memoryview(buf).cast("B")
        if self._head:
            n = min(len(view), len(self._head))
            view[:n] = self._head[:n]
            self._head = self._head[n:]
            return n
        if hasattr(self._raw, "readinto"):
            return self._raw.readinto(view) or 0
        data = self._raw.read(len(view))
        view[:len(data)] = data
        return len(data)


class _Decoded:
    """Wraps a decompressor so its foreign errors surface as DataCorrupted."""

    def __init__(self, inner: BinaryIO, kind: str):
        self._inner = inner
        self._kind = kind

    def readable(self) -> bool:
        return True

    def read(self, n: int = -1) -> bytes:
        try:
            return self._inner.read(n)
        except Exception as exc:  # zlib.error, lzma.LZMAError, OSError, EOFError
            raise _translate(exc, self._kind) from exc

    def readinto(self, buf) -> int:
        try:
            return self._inner.readinto(buf)
        except Exception as exc:
            raise _translate(exc, self._kind) from exc

    def close(self) -> None:
        self._inner.close()


def _translate(exc: Exception, kind: str) -> DataCorrupted:
    if isinstance(exc, EOFError):
        return DataCorrupted(f"{kind} layer: unexpected EOF")
    return DataCorrupted(f"{kind} layer: invalid compressed data: {exc}")


def _read_head(raw: BinaryIO, n: int) -> bytes:
    head = b""
    while len(head) < n:
        chunk = raw.read(n - len(head))
        if not chunk:
            break
        head += chunk
    return head


def open_layer_stream(raw: BinaryIO) -> BinaryIO:
    """Sniff the compression of a layer blob and return a reader of its tar."""
    head = _read_head(raw, len(XZ_MAGIC))
    src = _Prefixed(head, raw)
    if head.startswith(GZIP_MAGIC):
        import gzip
        return _Decoded(gzip.GzipFile(fileobj=src, mode="rb"), "gzip")
    if head.startswith(ZSTD_MAGIC):
        raise InvalidArgument("zstd layers are not supported yet")
    if head.startswith(BZIP2_MAGIC):
        import bz2
        return _Decoded(bz2.BZ2File(src, mode="rb"), "bzip2")
    if head.startswith(XZ_MAGIC):
        import lzma
        return _Decoded(lzma.LZMAFile(src, mode="rb"), "xz")
    return src  # plain tar: the tar reader judges it


def gzip_writer(out: BinaryIO) -> BinaryIO:
    """A deterministic gzip compressor over `out` (mtime 0, no name, fixed level).

    Closing the returned writer finishes the gzip member but leaves `out` open.
    """
    try:
        # ISA-L deflate: ~10x zlib's speed here (push is bound by compression); its output
        # is as deterministic as zlib's for a given library version
        from isal import igzip
        return igzip.IGzipFile(filename="", fileobj=out, mode="wb", compresslevel=1, mtime=0)
    except ImportError:
        import gzip
        return gzip.GzipFile(filename="", fileobj=out, mode="wb",
                             compresslevel=GZIP_LEVEL, mtime=0)
