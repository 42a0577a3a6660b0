"""Applying layer tars: Docker's unpack semantics on real files (run as root)."""
from __future__ import annotations

import hashlib
import io
import os
import stat
import tarfile
from pathlib import Path

import pytest

from pallet.archive.apply import apply_layer
from pallet.errors import DataCorrupted, InvalidArgument


@pytest.fixture(autouse=True)
def _root():
    assert os.geteuid() == 0, "archive tests need root (lchown, mknod, trusted xattrs)"


def entry(name, kind=tarfile.REGTYPE, data=b"", **attrs):
    info = tarfile.TarInfo(name)
    info.type = kind
    info.size = len(data) if kind == tarfile.REGTYPE else 0
    info.mode = attrs.pop("mode", 0o755 if kind == tarfile.DIRTYPE else 0o644)
    info.mtime = attrs.pop("mtime", 1_600_000_000)
    for key, value in attrs.items():
        setattr(info, key, value)
    return info, data


def make_tar(*entries, fmt=tarfile.PAX_FORMAT) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=fmt) as tar:
        for info, data in entries:
            tar.addfile(info, io.BytesIO(data) if info.type == tarfile.REGTYPE else None)
    return buf.getvalue()


def apply_bytes(data: bytes, dest: Path, tarsplit: Path | None = None):
    dest.mkdir(exist_ok=True)
    return apply_layer(io.BytesIO(data), dest, tarsplit)


def test_pull_unpacks_files_dirs_links_and_devices_with_metadata(tmp_path):
    data = make_tar(
        entry("etc", tarfile.DIRTYPE, mode=0o750, uid=10, gid=20, mtime=1_000_000),
        entry("etc/passwd", data=b"root:x:0:0\n", mode=0o640, uid=1, gid=2),
        entry("usr/bin/su", data=b"ELF", mode=0o4755),
        entry("bin", tarfile.SYMTYPE, linkname="usr/bin", uid=5, gid=6, mtime=1_234),
        entry("etc/passwd-hard", tarfile.LNKTYPE, linkname="etc/passwd"),
        entry("dev/null", tarfile.CHRTYPE, devmajor=1, devminor=3, mode=0o666),
        entry("dev/sda", tarfile.BLKTYPE, devmajor=8, devminor=0, mode=0o660),
        entry("run/fifo", tarfile.FIFOTYPE, mode=0o620),
    )
    dest = tmp_path / "diff"
    result = apply_bytes(data, dest)
    assert result.diff_id == "sha256:" + hashlib.sha256(data).hexdigest()
    # Docker's directory.Size: file bytes once per inode, plus each symlink's target length
    assert result.size == len(b"root:x:0:0\n") + 3 + len("usr/bin")
    st = os.lstat(dest / "etc")
    assert (stat.S_IMODE(st.st_mode), st.st_uid, st.st_gid, st.st_mtime) == (0o750, 10, 20, 1_000_000)
    st = os.lstat(dest / "etc/passwd")
    assert (stat.S_IMODE(st.st_mode), st.st_uid, st.st_gid, st.st_nlink) == (0o640, 1, 2, 2)
    assert (dest / "etc/passwd").read_bytes() == b"root:x:0:0\n"
    assert os.lstat(dest / "etc/passwd-hard").st_ino == st.st_ino
    assert stat.S_IMODE(os.lstat(dest / "usr/bin/su").st_mode) == 0o4755
    assert stat.S_IMODE(os.lstat(dest / "usr").st_mode) == 0o755  # implicit parent
    st = os.lstat(dest / "bin")
    assert stat.S_ISLNK(st.st_mode) and os.readlink(dest / "bin") == "usr/bin"
    assert (st.st_uid, st.st_gid, st.st_mtime) == (5, 6, 1_234)
    st = os.lstat(dest / "dev/null")
    assert stat.S_ISCHR(st.st_mode) and st.st_rdev == os.makedev(1, 3)
    assert stat.S_IMODE(st.st_mode) == 0o666
    assert stat.S_ISBLK(os.lstat(dest / "dev/sda").st_mode)
    st = os.lstat(dest / "run/fifo")
    assert stat.S_ISFIFO(st.st_mode) and stat.S_IMODE(st.st_mode) == 0o620


def test_pull_keeps_pax_xattrs_and_drops_overlay_ones(tmp_path):
    info, data = entry("bin/ping", data=b"x")
    info.pax_headers = {"SCHILY.xattr.user.note": "hello",
                        "SCHILY.xattr.trusted.overlay.opaque": "y"}
    dest = tmp_path / "diff"
    apply_bytes(make_tar((info, data)), dest)
    assert os.getxattr(dest / "bin/ping", "user.note") == b"hello"
    with pytest.raises(OSError):
        os.getxattr(dest / "bin/ping", "trusted.overlay.opaque")


def test_later_entry_replaces_earlier_one_of_the_same_name(tmp_path):
    data = make_tar(
        entry("a", data=b"first"),
        entry("a", data=b"second"),
        entry("d/inner", data=b"x"),
        entry("d", tarfile.SYMTYPE, linkname="/etc"),
        entry("l", tarfile.SYMTYPE, linkname="x"),
        entry("l", tarfile.DIRTYPE),
    )
    dest = tmp_path / "diff"
    apply_bytes(data, dest)
    assert (dest / "a").read_bytes() == b"second"
    assert os.readlink(dest / "d") == "/etc"
    assert (dest / "l").is_dir() and not (dest / "l").is_symlink()


def test_oci_whiteouts_become_overlay_whiteouts(tmp_path):
    data = make_tar(
        entry("etc/.wh.hostname"),
        entry("var/cache/.wh..wh..opq"),
        entry("tmp/.wh..wh.plnk"),
    )
    dest = tmp_path / "diff"
    apply_bytes(data, dest)
    st = os.lstat(dest / "etc/hostname")
    assert stat.S_ISCHR(st.st_mode) and st.st_rdev == 0
    assert not (dest / "etc/.wh.hostname").exists()
    assert os.getxattr(dest / "var/cache", "trusted.overlay.opaque") == b"y"
    assert not (dest / "var/cache/.wh..wh..opq").exists()
    assert os.listdir(dest / "tmp") == []


def test_whiteout_later_in_the_same_layer_removes_the_file(tmp_path):
    data = make_tar(entry("d/f", data=b"gone"), entry("d/sub/x", data=b"y"),
                    entry("d/.wh.f"), entry("d/.wh.sub"))
    dest = tmp_path / "diff"
    apply_bytes(data, dest)
    for name in ("f", "sub"):
        st = os.lstat(dest / "d" / name)
        assert stat.S_ISCHR(st.st_mode) and st.st_rdev == 0


def test_entries_under_absolute_names_land_inside_the_layer(tmp_path):
    dest = tmp_path / "diff"
    apply_bytes(make_tar(entry("/etc/abs", data=b"in"), entry("./x/../y", data=b"z")), dest)
    assert (dest / "etc/abs").read_bytes() == b"in"
    assert (dest / "y").read_bytes() == b"z"


@pytest.mark.parametrize("name", ["../x", "a/../../x", "./../x"])
def test_pull_refuses_entries_climbing_out_of_the_layer(tmp_path, name):
    with pytest.raises(InvalidArgument, match="escapes the layer root"):
        apply_bytes(make_tar(entry(name, data=b"bad")), tmp_path / "diff")
    assert not (tmp_path / "x").exists()


def test_pull_refuses_to_write_through_a_symlink_from_the_same_layer(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    data = make_tar(entry("a", tarfile.SYMTYPE, linkname=str(outside)),
                    entry("a/file", data=b"bad"))
    with pytest.raises(InvalidArgument, match="is a symbolic link"):
        apply_bytes(data, tmp_path / "diff")
    assert os.listdir(outside) == []


def test_hardlink_to_a_path_outside_the_layer_is_refused(tmp_path):
    data = make_tar(entry("h", tarfile.LNKTYPE, linkname="../../etc/passwd"))
    with pytest.raises(InvalidArgument):
        apply_bytes(data, tmp_path / "diff")


def test_hardlink_to_an_escaping_symlink_links_the_symlink_itself(tmp_path):
    data = make_tar(entry("s", tarfile.SYMTYPE, linkname="/etc/passwd"),
                    entry("h", tarfile.LNKTYPE, linkname="s"))
    dest = tmp_path / "diff"
    apply_bytes(data, dest)
    assert os.lstat(dest / "h").st_ino == os.lstat(dest / "s").st_ino
    assert os.readlink(dest / "h") == "/etc/passwd"


def test_truncated_layer_is_reported_as_unexpected_eof(tmp_path):
    data = make_tar(entry("f", data=b"x" * 5000))
    with pytest.raises(DataCorrupted, match="unexpected EOF"):
        apply_bytes(data[:2000], tmp_path / "diff")


def test_garbage_layer_is_reported_as_invalid_tar_header(tmp_path):
    with pytest.raises(DataCorrupted, match="invalid tar header"):
        apply_bytes(b"this is not a tar archive".ljust(1024, b"!"), tmp_path / "diff")


def test_empty_layer_has_the_diff_id_of_its_bytes(tmp_path):
    data = make_tar()
    result = apply_bytes(data, tmp_path / "diff")
    assert result.diff_id == "sha256:" + hashlib.sha256(data).hexdigest()
    assert result.size == 0


def test_big_layer_applies_at_disk_speed(tmp_path):
    import time
    src = tmp_path / "big.tar"
    block = os.urandom(1 << 20)
    with open(src, "wb") as f:
        for i in range(2):
            info = tarfile.TarInfo(f"blob{i}")
            info.size = 64 << 20
            f.write(info.tobuf(tarfile.PAX_FORMAT))
            for _ in range(64):
                f.write(block)
        f.write(bytes(1024))
    dest = tmp_path / "diff"
    started = time.monotonic()
    with open(src, "rb") as f:
        result = apply_bytes_stream(f, dest, tmp_path / "tar-split")
    elapsed = time.monotonic() - started
    assert result.size == 128 << 20
    assert (dest / "blob1").read_bytes()[-(1 << 20):] == block
    assert elapsed < 4, f"128 MiB layer took {elapsed:.1f}s"


def apply_bytes_stream(f, dest, tarsplit):
    dest.mkdir()
    return apply_layer(f, dest, tarsplit)


def test_pull_refuses_a_symlink_target_or_xattr_with_a_nul_byte_in_one_line(tmp_path):
    link, _ = entry("l", tarfile.SYMTYPE)
    link.pax_headers = {"linkpath": "a\0b"}
    with pytest.raises(InvalidArgument, match="invalid tar entry 'l'"):
        apply_bytes(make_tar((link, b"")), tmp_path / "diff")
    f, data = entry("f", data=b"x")
    f.pax_headers = {"SCHILY.xattr.user.a\0b": "v"}
    with pytest.raises(InvalidArgument, match="invalid tar entry 'f'"):
        apply_bytes(make_tar((f, data)), tmp_path / "diff2")


def test_pull_refuses_an_extended_header_claiming_gigabytes_without_reading_it(tmp_path):
    """Go's archive/tar bounds PAX and GNU long-name records at 1 MiB; a bigger claim was a
    MemoryError (an 8 GiB read) before."""
    info = tarfile.TarInfo("././@PaxHeader")
    info.type, info.size = tarfile.XHDTYPE, 8 * 1024 ** 3 - 1
    layer = tmp_path / "huge.tar"
    layer.write_bytes(info.tobuf(tarfile.USTAR_FORMAT) + bytes(1024))
    (tmp_path / "diff").mkdir()
    with open(layer, "rb") as f, pytest.raises(DataCorrupted, match="extended header of 8589934591 bytes"):
        apply_layer(f, tmp_path / "diff")
