"""Hostile tars for every entry point that unpacks one, and the check that nothing leaked.

A hostile tar mixes: `..` and absolute names, hardlinks to absolute, `../` and host
(sentinel) targets, a symlink then a file through it, a hardlink then a regular file of the
same name, device nodes (including 0:0, an overlay whiteout), setuid/setgid/sticky modes,
names longer than NAME_MAX, and paths deeper than PATH_MAX. Link targets name a sentinel
directory beside the destination (never a real system file): `SENTINEL` is replaced by its
absolute path, and `../` chains of every depth reach it from wherever the destination is.
"""
from __future__ import annotations

import io
import os
import tarfile
from pathlib import Path

from hypothesis import strategies as st

DEEP = "/".join(["deep"] * 90) + "/f"           # > 450 bytes, 91 levels
VERY_DEEP = "/".join(["d" * 60] * 80) + "/f"     # > PATH_MAX (4096 bytes)
HUGE = "n" * 300                                 # > NAME_MAX (255 bytes)
NAMES = ["../x", "/abs", "a/../../x", "a", "a/file", "a/a/a/file", "b", "b/c/file", "s",
         "s/file", "s/s/file", "h", "h/file", "d/", "/", ".", "..", "./a/b/../../../x",
         "../sentinel/keep", "s/../x", "../../../../../../../../../x", ".wh.a", "a/.wh..wh..opq",
         HUGE, f"a/{HUGE}", DEEP, VERY_DEEP]
UPS = ["../" * k for k in range(1, 12)]
SYMLINK_TARGETS = ["..", "../..", "/", "a", ".", "s", "SENTINEL", "SENTINEL/keep", "a/../.."] + \
    [up + "sentinel" for up in UPS]
HARDLINK_TARGETS = ["SENTINEL/keep", "s", "a/file", "h", "a", "s/keep", "..", "b/c/file",
                    "/sentinel/keep", DEEP] + [up + "sentinel/keep" for up in UPS]
KINDS = [tarfile.REGTYPE, tarfile.DIRTYPE, tarfile.SYMTYPE, tarfile.LNKTYPE, tarfile.FIFOTYPE,
         tarfile.CHRTYPE, tarfile.BLKTYPE]
MODES = [0o644, 0o4755, 0o6777, 0o1777, 0o777, 0o000]

entries = st.lists(st.tuples(
    st.sampled_from(KINDS),
    st.one_of(st.sampled_from(NAMES),
              st.lists(st.sampled_from(["a", "s", "h", "..", ".", "", "x"]),
                       min_size=1, max_size=5).map("/".join)),
    st.integers(0, 1000),
    st.sampled_from(MODES)), min_size=1, max_size=10)

# The two classic attacks, always tried first (Hypothesis also explores around them).
HARDLINK_THEN_FILE = [(tarfile.LNKTYPE, "h", 0, 0o644), (tarfile.REGTYPE, "h", 0, 0o644)]
SYMLINK_THEN_FILE = [(tarfile.SYMTYPE, "s", 6, 0o777), (tarfile.REGTYPE, "s/keep", 0, 0o644)]
# overlayfs refuses (EPERM) to create a 0:0 char device through a mount: found half-way once
WHITEOUT_AFTER_A_FILE = [(tarfile.BLKTYPE, "b", 2, 0o1777), (tarfile.CHRTYPE, "s", 1, 0o644)]


def build(spec, sentinel: Path) -> bytes:
    """The tar `spec` describes; SENTINEL in a link target becomes `sentinel`'s path."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for kind, name, pick, mode in spec:
            info = tarfile.TarInfo(name)
            info.type, info.mode = kind, mode
            if kind == tarfile.SYMTYPE:
                info.linkname = SYMLINK_TARGETS[pick % len(SYMLINK_TARGETS)]
            elif kind == tarfile.LNKTYPE:
                info.linkname = HARDLINK_TARGETS[pick % len(HARDLINK_TARGETS)]
            elif kind in (tarfile.CHRTYPE, tarfile.BLKTYPE):
                info.devmajor, info.devminor = (0, 0) if pick % 2 else (1, 3)
            info.linkname = info.linkname.replace("SENTINEL", str(sentinel))
            data = b"pwned" if kind == tarfile.REGTYPE else b""
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def make_sentinel(box: Path) -> Path:
    sentinel = box / "sentinel"
    sentinel.mkdir(parents=True)
    (sentinel / "keep").write_bytes(b"original")
    return sentinel


def snapshot(box: Path, skip: tuple[Path, ...] = ()) -> dict:
    """Every path under `box` but those under `skip`, with what a change would alter (walked
    by directory fd: a hostile tree may be deeper than PATH_MAX)."""
    seen = {}
    for dirpath, dirnames, filenames, dfd in os.fwalk(box):
        dirnames[:] = [d for d in dirnames if Path(dirpath, d) not in skip]
        for name in dirnames + filenames:
            if Path(dirpath, name) in skip:
                continue
            st_ = os.stat(name, dir_fd=dfd, follow_symlinks=False)
            seen[os.path.join(dirpath, name)] = (st_.st_mode, st_.st_nlink, st_.st_size,
                                                 st_.st_mtime_ns, st_.st_uid)
    return seen


def assert_untouched(box: Path, before: dict, sentinel: Path, skip: tuple[Path, ...] = ()) -> None:
    assert snapshot(box, skip) == before
    assert (sentinel / "keep").read_bytes() == b"original"
    assert os.stat(sentinel / "keep").st_nlink == 1
    assert not Path("/abs").exists() and not Path("/sentinel").exists()
