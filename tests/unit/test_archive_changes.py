"""`docker diff` / `commit` / `export` on real overlayfs writable layers (run as root)."""
from __future__ import annotations

import hashlib
import io
import os
import stat
import subprocess
import tarfile
from pathlib import Path

import pytest

from pallet.archive.apply import apply_layer
from pallet.archive.changes import Change, changes, write_diff_tar
from pallet.archive.export import write_tree_tar


@pytest.fixture(autouse=True)
def _root():
    assert os.geteuid() == 0, "archive tests need root (mknod, trusted xattrs, mount)"


def _tar(*files: tuple[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name, data in files:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def _layer(tmp_path: Path, name: str, data: bytes) -> Path:
    dest = tmp_path / name
    dest.mkdir()
    apply_layer(io.BytesIO(data), dest, None)
    return dest


@pytest.fixture
def overlay(tmp_path):
    """Mount helper: yields mount(lowers, upper=None) -> merged dir; unmounts at teardown."""
    mounted: list[Path] = []

    def mount(lowers: list[Path], upper: Path | None = None) -> Path:
        merged = tmp_path / f"merged{len(mounted)}"
        merged.mkdir()
        opts = "lowerdir=" + ":".join(map(str, lowers))
        if upper is not None:
            work = tmp_path / f"work{len(mounted)}"
            work.mkdir()
            opts += f",upperdir={upper},workdir={work}"
        subprocess.run(["mount", "-t", "overlay", "overlay", "-o", opts, str(merged)],
                       check=True)
        mounted.append(merged)
        return merged

    try:
        yield mount
    finally:
        for merged in reversed(mounted):
            subprocess.run(["umount", str(merged)], check=True)


def test_whiteout_in_upper_layer_hides_the_file_in_a_real_overlay(tmp_path, overlay):
    base = _layer(tmp_path, "base", _tar(("etc/hostname", b"base"), ("etc/keep", b"k"),
                                         ("var/cache/a", b"a"), ("var/cache/b", b"b")))
    top = _layer(tmp_path, "top", _tar(("etc/.wh.hostname", b""),
                                       ("var/cache/.wh..wh..opq", b""), ("var/cache/new", b"n")))
    merged = overlay([top, base])
    assert not (merged / "etc/hostname").exists()
    assert (merged / "etc/keep").read_bytes() == b"k"
    assert os.listdir(merged / "var/cache") == ["new"]


def test_docker_diff_reports_added_changed_and_deleted_paths(tmp_path, overlay):
    base = _layer(tmp_path, "base", _tar(("etc/passwd", b"root"), ("etc/motd", b"hi"),
                                         ("opt/app/a", b"1"), ("opt/app/b", b"2"),
                                         ("srv/x", b"x")))
    upper = tmp_path / "upper"
    upper.mkdir()
    merged = overlay([base], upper)
    (merged / "etc/passwd").write_bytes(b"root\nuser")
    (merged / "etc/motd").unlink()
    (merged / "tmp/new").mkdir(parents=True)
    (merged / "tmp/new/file").write_bytes(b"n")
    subprocess.run(["rm", "-rf", str(merged / "opt/app")], check=True)
    (merged / "opt/app").mkdir()  # recreated: overlay marks it opaque
    (merged / "opt/app/c").write_bytes(b"3")
    assert changes(upper, [base]) == [
        Change("C", "/etc"), Change("D", "/etc/motd"), Change("C", "/etc/passwd"),
        Change("C", "/opt"), Change("C", "/opt/app"), Change("D", "/opt/app/a"),
        Change("D", "/opt/app/b"), Change("A", "/opt/app/c"),
        Change("A", "/tmp"), Change("A", "/tmp/new"), Change("A", "/tmp/new/file")]


def test_commit_turns_overlay_whiteouts_into_an_oci_layer(tmp_path, overlay):
    base = _layer(tmp_path, "base", _tar(("etc/motd", b"hi"), ("opt/app/a", b"1")))
    upper = tmp_path / "upper"
    upper.mkdir()
    merged = overlay([base], upper)
    (merged / "etc/motd").unlink()
    subprocess.run(["rm", "-rf", str(merged / "opt/app")], check=True)
    (merged / "opt/app").mkdir()
    (merged / "opt/app/c").write_bytes(b"3")
    out = io.BytesIO()
    diff_id = write_diff_tar(upper, [base], out)
    data = out.getvalue()
    assert diff_id == "sha256:" + hashlib.sha256(data).hexdigest()
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        names = tar.getnames()
        assert tar.getmember("etc/.wh.motd").isreg()
    assert names == ["etc", "etc/.wh.motd", "opt", "opt/app", "opt/app/.wh..wh..opq",
                     "opt/app/c"]
    # the committed layer stacked on the base shows what the container saw
    layer = _layer(tmp_path, "committed", data)
    merged2 = overlay([layer, base])
    assert not (merged2 / "etc/motd").exists()
    assert os.listdir(merged2 / "opt/app") == ["c"]


def test_commit_of_the_same_changes_is_reproducible(tmp_path):
    upper = tmp_path / "upper"
    (upper / "d").mkdir(parents=True)
    (upper / "d/f").write_bytes(b"x")
    os.link(upper / "d/f", upper / "d/g")
    os.symlink("f", upper / "d/l")
    os.mknod(upper / "gone", stat.S_IFCHR, 0)
    first, second = io.BytesIO(), io.BytesIO()
    assert write_diff_tar(upper, [], first) == write_diff_tar(upper, [], second)
    assert first.getvalue() == second.getvalue()
    with tarfile.open(fileobj=io.BytesIO(first.getvalue())) as tar:
        assert tar.getmember("d/g").islnk() and tar.getmember("d/g").linkname == "d/f"
        assert tar.getmember(".wh.gone").isreg()
        assert all(m.uname == "" for m in tar.getmembers())


def test_build_copy_layer_clamps_mtimes_to_source_date_epoch(tmp_path):
    root = tmp_path / "ctx"
    (root / "app").mkdir(parents=True)
    long_name = "app/" + "x" * 200
    (root / long_name).write_bytes(b"data")
    os.setxattr(root / "app", "user.tag", b"v1")
    os.utime(root / long_name, (2_000_000_000, 2_000_000_000))
    out = io.BytesIO()
    write_tree_tar(root, out, source_date_epoch=1_700_000_000)
    with tarfile.open(fileobj=io.BytesIO(out.getvalue())) as tar:
        assert tar.getmember(long_name).mtime == 1_700_000_000
        assert tar.getmember(long_name).size == 4
        assert tar.getmember("app").pax_headers["SCHILY.xattr.user.tag"] == "v1"
    os.utime(root / "app", (1_000, 1_000))
    again = io.BytesIO()
    write_tree_tar(root, again, source_date_epoch=1_700_000_000)
    dest = _layer(tmp_path, "copy", again.getvalue())
    assert (dest / long_name).read_bytes() == b"data"
    assert os.getxattr(dest / "app", "user.tag") == b"v1"
    assert os.lstat(dest / "app").st_mtime == 1_000
