"""Property: no layer tar, however hostile, writes outside the layer directory."""
from __future__ import annotations

import io
import os
import tarfile
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pallet.archive.apply import apply_layer
from pallet.errors import PalletError

NAMES = ["../x", "/abs", "a/../../x", "a", "a/file", "a/a/a/file", "b", "b/c/file",
         "./a/b/../../../x", "s", "s/file", "s/s/file", "h", "h/file", "d/", "/",
         ".wh.a", ".wh.s", "a/.wh..wh..opq", ".wh...", "../sentinel/keep", "s/../x",
         "a/b/c", "..", "../../../../tmp/x"]
SYMLINK_TARGETS = ["..", "../..", "../sentinel", "/", "a", ".", "s", "../sentinel/keep",
                   "SENTINEL", "SENTINEL/keep", "/etc", "a/../.."]
HARDLINK_TARGETS = ["../sentinel/keep", "s", "a/file", "../../etc/passwd", "SENTINEL/keep",
                    "/etc/passwd", "h", "a", "s/keep", "..", "b/c/file"]


@pytest.fixture(autouse=True)
def _root():
    assert os.geteuid() == 0, "archive tests need root"


def _entry(draw_kind, name, target):
    info = tarfile.TarInfo(name)
    info.type = draw_kind
    info.mode = 0o4777 if draw_kind == tarfile.REGTYPE else 0o777
    info.linkname = target
    return info


entries = st.lists(st.tuples(
    st.sampled_from([tarfile.REGTYPE, tarfile.DIRTYPE, tarfile.SYMTYPE, tarfile.LNKTYPE,
                     tarfile.FIFOTYPE]),
    st.one_of(st.sampled_from(NAMES),
              st.lists(st.sampled_from(["a", "s", "h", "..", ".", "", "x"]),
                       min_size=1, max_size=5).map("/".join)),
    st.integers(0, 100)), min_size=1, max_size=12)


def _build(spec, sentinel: Path) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for kind, name, pick in spec:
            if kind == tarfile.SYMTYPE:
                target = SYMLINK_TARGETS[pick % len(SYMLINK_TARGETS)]
            elif kind == tarfile.LNKTYPE:
                target = HARDLINK_TARGETS[pick % len(HARDLINK_TARGETS)]
            else:
                target = ""
            info = _entry(kind, name, target.replace("SENTINEL", str(sentinel)))
            data = b"pwned" if kind == tarfile.REGTYPE else b""
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def _snapshot(box: Path) -> dict:
    seen = {}
    for dirpath, dirnames, filenames in os.walk(box):
        if Path(dirpath).is_relative_to(box / "outer" / "dest"):
            continue
        for name in dirnames + filenames:
            if Path(dirpath, name) == box / "outer" / "dest":
                continue  # the layer directory itself is ours to change
            st = os.lstat(os.path.join(dirpath, name))
            seen[os.path.join(dirpath, name)] = (st.st_mode, st.st_nlink, st.st_size,
                                                 st.st_mtime_ns, st.st_uid)
    return seen


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(spec=entries)
def test_hostile_layer_never_writes_outside_its_directory(spec):
    passwd = os.lstat("/etc/passwd")
    tmp_x_before = os.path.lexists("/tmp/x")  # another program may own a /tmp/x: only a change counts
    with tempfile.TemporaryDirectory() as tmp:
        box = Path(tmp) / "box"
        sentinel = box / "sentinel"
        sentinel.mkdir(parents=True)
        (sentinel / "keep").write_bytes(b"original")
        dest = box / "outer" / "dest"  # nested: `..` and `../..` have somewhere to go
        dest.mkdir(parents=True)
        before = _snapshot(box)
        try:
            apply_layer(io.BytesIO(_build(spec, sentinel)), dest, Path(tmp) / "tar-split")
        except PalletError:
            pass  # refusing the layer is fine; escaping is not
        assert _snapshot(box) == before
        assert (sentinel / "keep").read_bytes() == b"original"
        assert not Path(tmp, "x").exists() and os.path.lexists("/tmp/x") == tmp_x_before
        assert not Path("/abs").exists()
    after = os.lstat("/etc/passwd")
    assert (after.st_nlink, after.st_mtime_ns, after.st_mode) == \
        (passwd.st_nlink, passwd.st_mtime_ns, passwd.st_mode)
