"""Layer blobs arrive gzip, bzip2, xz or plain; pallet's own gzip is reproducible."""
from __future__ import annotations

import bz2
import gzip
import io
import lzma
import os
import tarfile

import pytest

from pallet.archive.apply import apply_layer
from pallet.archive.compression import gzip_writer, open_layer_stream
from pallet.errors import DataCorrupted, InvalidArgument


def _layer() -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        info = tarfile.TarInfo("hello.txt")
        data = os.urandom(300_000)
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


LAYER = _layer()


@pytest.mark.parametrize("compress", [gzip.compress, bz2.compress, lzma.compress, bytes],
                         ids=["gzip", "bzip2", "xz", "plain"])
def test_pull_decompresses_every_supported_layer_format(compress):
    stream = open_layer_stream(io.BytesIO(compress(LAYER)))
    out = bytearray()
    buf = bytearray(7000)  # odd sizes: readinto and read both stream correctly
    while n := stream.readinto(buf):
        out += buf[:n]
        out += stream.read(1234)
    assert bytes(out) == LAYER


def test_pull_of_zstd_layer_says_it_is_not_supported():
    with pytest.raises(InvalidArgument, match="zstd layers are not supported yet"):
        open_layer_stream(io.BytesIO(b"\x28\xb5\x2f\xfd" + b"\0" * 20))


def test_truncated_gzip_layer_is_unexpected_eof(tmp_path):
    blob = gzip.compress(LAYER)[:5000]
    with pytest.raises(DataCorrupted, match="unexpected EOF"):
        apply_layer(open_layer_stream(io.BytesIO(blob)), tmp_path, None)


def test_corrupt_gzip_layer_is_data_corrupted(tmp_path):
    blob = bytearray(gzip.compress(LAYER))
    blob[100:120] = b"\xff" * 20
    with pytest.raises(DataCorrupted) as exc:
        apply_layer(open_layer_stream(io.BytesIO(bytes(blob))), tmp_path, None)
    assert "\n" not in str(exc.value)


def test_pallet_gzip_is_deterministic_with_no_name_and_zero_mtime(tmp_path):
    blobs = []
    for name in ("a.gz", "b.gz"):
        with open(tmp_path / name, "wb") as raw:
            with gzip_writer(raw) as gz:
                gz.write(LAYER)
            assert not raw.closed
        blobs.append((tmp_path / name).read_bytes())
    assert blobs[0] == blobs[1]
    header = blobs[0][:10]
    assert header[3] & 0x08 == 0          # FNAME flag unset
    assert header[4:8] == b"\0\0\0\0"     # MTIME 0
    assert gzip.decompress(blobs[0]) == LAYER


def test_pull_streams_without_reading_the_layer_into_memory():
    class Endless(io.RawIOBase):
        """A gzip header followed by far more data than anyone should buffer."""
        served = 0

        def readable(self):
            return True

        def readinto(self, b):
            pos = self.served % len(MEMBER)  # back-to-back gzip members, forever
            chunk = MEMBER[pos:pos + len(b)]
            b[:len(chunk)] = chunk
            self.served += len(chunk)
            return len(chunk)

    MEMBER = gzip.compress(bytes(1 << 20))
    source = Endless()
    stream = open_layer_stream(source)
    stream.read(1 << 16)
    assert source.served < 4 << 20
