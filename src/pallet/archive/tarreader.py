"""A streaming tar reader that accounts for every byte it reads.

Owns: parsing a tar stream block by block into `Entry` values, folding PAX
('x' local, 'g' global) and GNU long-name/long-link ('L', 'K') records into the
entry they describe, and handing every byte that is NOT regular-file content
(headers, extension records, padding, end-of-archive blocks, trailing bytes)
to the `raw` callback in stream order. Together with the file contents this is
the whole stream, which is what lets tarsplit rebuild it byte for byte.

Invariants: the stream is read once, forward, in bounded chunks; bad input
raises DataCorrupted with a one-line message. Uses tarfile only to decode a
single 512-byte header (TarInfo.frombuf).
"""
from __future__ import annotations

import os
import tarfile
from dataclasses import dataclass, field
TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: importing typing costs ~3 ms per command
    from typing import BinaryIO, Callable

from ..errors import DataCorrupted

BLOCK = 512
CHUNK = 1 << 20
MAX_EXTENSION = 1 << 20  # a PAX or GNU long-name record; Go's maxSpecialFileSize
REGULAR_TYPES = (tarfile.REGTYPE, tarfile.AREGTYPE, tarfile.CONTTYPE)
_PAX_TYPES = (tarfile.XHDTYPE, tarfile.XGLTYPE, tarfile.SOLARIS_XHDTYPE)
XATTR_PREFIX = "SCHILY.xattr."


@dataclass
class Entry:
    name: str
    type: bytes
    size: int
    mode: int
    uid: int
    gid: int
    mtime: float
    linkname: str = ""
    devmajor: int = 0
    devminor: int = 0
    xattrs: dict[str, bytes] = field(default_factory=dict)

    @property
    def is_regular(self) -> bool:
        return self.type in REGULAR_TYPES


def _padding(size: int) -> int:
    return -size % BLOCK


def parse_pax(data: bytes) -> dict[str, bytes]:
    """Decode PAX records `"<len> <key>=<value>\\n"`; values stay bytes."""
    records: dict[str, bytes] = {}
    pos = 0
    while pos < len(data) and data[pos:pos + 1] != b"\0":
        space = data.find(b" ", pos)
        if space < 0:
            raise DataCorrupted("invalid tar header: malformed PAX record")
        try:
            length = int(data[pos:space])
        except ValueError:
            raise DataCorrupted("invalid tar header: malformed PAX record") from None
        record = data[space + 1:pos + length]
        if length <= 0 or not record.endswith(b"\n") or b"=" not in record:
            raise DataCorrupted("invalid tar header: malformed PAX record")
        key, value = record[:-1].split(b"=", 1)
        records[key.decode("utf-8", "surrogateescape")] = value
        pos += length
    return records


class TarReader:
    """Yields entries; the caller consumes a regular file's content via copy_to_fd/skip."""

    def __init__(self, stream: BinaryIO, raw: Callable[[bytes], None]):
        self._stream = stream
        self._raw = raw
        self._globals: dict[str, bytes] = {}
        self._unread = 0      # content bytes of the current entry not consumed yet
        self._pad = 0         # padding after the current entry's content

    def _read_exact(self, n: int) -> bytes:
        data = self._stream.read(n)
        while len(data) < n:
            more = self._stream.read(n - len(data))
            if not more:
                raise DataCorrupted("invalid tar header: unexpected EOF")
            data += more
        return data

    def next(self) -> Entry | None:
        """The next entry, or None after the end-of-archive marker (stream drained)."""
        self.skip()
        if self._pad:
            pad = self._stream.read(self._pad)
            if not pad:  # the stream ends with the last entry's content: Go's tar.Reader takes
                return None  # that as the end (docker/cli's `build -f - DIR` context ends so)
            self._raw(pad if len(pad) == self._pad else pad + self._read_exact(self._pad - len(pad)))
            self._pad = 0
        local: dict[str, bytes] = {}
        while True:
            block = self._stream.read(BLOCK)
            while 0 < len(block) < BLOCK:
                more = self._stream.read(BLOCK - len(block))
                if not more:
                    raise DataCorrupted("invalid tar header: unexpected EOF")
                block += more
            if not block or block == bytes(BLOCK):
                self._drain(block)  # end of archive: keep the rest byte-exact too
                return None
            info = self._decode(block)
            self._raw(block)
            if info.type in _PAX_TYPES or info.type in (tarfile.GNUTYPE_LONGNAME,
                                                        tarfile.GNUTYPE_LONGLINK):
                self._extension(info, local)
                continue
            return self._entry(info, local)

    def _decode(self, block: bytes) -> tarfile.TarInfo:
        try:
            return tarfile.TarInfo.frombuf(block, "utf-8", "surrogateescape")
        except tarfile.HeaderError as exc:
            raise DataCorrupted(f"invalid tar header: {exc}") from exc

    def _extension(self, info: tarfile.TarInfo, local: dict[str, bytes]) -> None:
        if info.size > MAX_EXTENSION:  # read whole into memory: bounded, as Go's archive/tar
            raise DataCorrupted(f"invalid tar header: extended header of {info.size} bytes "
                                f"(at most {MAX_EXTENSION})")
        data = self._read_exact(info.size + _padding(info.size))
        self._raw(data)
        data = data[:info.size]
        if info.type == tarfile.XGLTYPE:
            self._globals.update(parse_pax(data))
        elif info.type in _PAX_TYPES:
            local.update(parse_pax(data))
        elif info.type == tarfile.GNUTYPE_LONGNAME:
            local["path"] = data.split(b"\0", 1)[0]
        else:
            local["linkpath"] = data.split(b"\0", 1)[0]

    def _entry(self, info: tarfile.TarInfo, local: dict[str, bytes]) -> Entry:
        pax = {**self._globals, **local}
        try:
            entry = Entry(
                name=_text(pax["path"]) if "path" in pax else info.name,
                type=info.type, size=int(pax.get("size", info.size)), mode=info.mode,
                uid=int(pax.get("uid", info.uid)), gid=int(pax.get("gid", info.gid)),
                mtime=float(pax.get("mtime", info.mtime)),
                linkname=_text(pax["linkpath"]) if "linkpath" in pax else info.linkname,
                devmajor=info.devmajor, devminor=info.devminor,
                xattrs={k[len(XATTR_PREFIX):]: v for k, v in pax.items()
                        if k.startswith(XATTR_PREFIX)})
        except ValueError as exc:
            raise DataCorrupted(f"invalid tar header: bad PAX value ({exc})") from exc
        if entry.size < 0:
            raise DataCorrupted("invalid tar header: negative size")
        self._unread, self._pad = entry.size, _padding(entry.size)
        if not entry.is_regular:
            self.skip()  # links, dirs and devices carry no content worth keeping apart
        return entry

    def copy_to_fd(self, fd: int) -> None:
        """Write the current regular file's content to `fd` (1 MiB at a time)."""
        buf = bytearray(min(CHUNK, max(self._unread, 1)))
        view = memoryview(buf)
        while self._unread:
            want = min(self._unread, len(buf))
            got = self._stream.readinto(view[:want])
            if not got:
                raise DataCorrupted("invalid tar header: unexpected EOF in file content")
            self._unread -= got
            done = 0
            while done < got:
                done += os.write(fd, view[done:got])

    def skip(self) -> None:
        """Consume the rest of the current entry's content as raw bytes."""
        while self._unread:
            data = self._read_exact(min(self._unread, CHUNK))
            self._unread -= len(data)
            self._raw(data)

    def _drain(self, data: bytes) -> None:
        while data:
            self._raw(data)
            data = self._stream.read(CHUNK)


def _text(value: bytes) -> str:
    return value.decode("utf-8", "surrogateescape")
