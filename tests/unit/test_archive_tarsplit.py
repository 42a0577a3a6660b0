"""save/push rebuild each layer's tar byte for byte from the unpacked tree."""
from __future__ import annotations

import hashlib
import io
import os
import subprocess
import tarfile
from pathlib import Path

import pytest

from pallet.archive.apply import apply_layer
from pallet.archive.tarsplit import iter_layer_tar, write_layer_tar
from pallet.errors import DataCorrupted

LONG = "d" * 120 + "/" + "n" * 150


@pytest.fixture(autouse=True)
def _root():
    assert os.geteuid() == 0, "archive tests need root"


@pytest.fixture
def tree(tmp_path) -> Path:
    """A source tree with the awkward cases: long names, links, empty dirs, whiteouts."""
    src = tmp_path / "src"
    (src / "etc").mkdir(parents=True)
    (src / "etc/os-release").write_text("ID=pallet\n")
    (src / "etc/setuid").write_bytes(os.urandom(3000))
    os.chmod(src / "etc/setuid", 0o4755)
    os.chown(src / "etc/setuid", 1000, 1001)
    (src / "empty").mkdir()
    Path(src, LONG).parent.mkdir(parents=True)
    Path(src, LONG).write_bytes(b"long" * 1000)
    os.symlink("/" + "t" * 200, src / "longlink")
    os.symlink("etc/os-release", src / "rel")
    os.link(src / "etc/os-release", src / "hard")
    os.link(Path(src, LONG), src / "hard-to-long")
    os.mkfifo(src / "fifo")
    (src / "var").mkdir()
    (src / "var/.wh.gone").touch()
    (src / "var/.wh..wh..opq").touch()
    (src / "utf8-näme").write_text("ü")
    os.setxattr(src / "etc/os-release", "user.pallet", b"\x00\xffbinary")
    return src


def _round_trip(data: bytes, tmp_path: Path) -> bytes:
    dest, split = tmp_path / "diff", tmp_path / "tar-split.gz"
    dest.mkdir()
    result = apply_layer(io.BytesIO(data), dest, split)
    assert result.diff_id == "sha256:" + hashlib.sha256(data).hexdigest()
    out = io.BytesIO()
    assert write_layer_tar(dest, split, out) == result.diff_id
    return out.getvalue()


@pytest.mark.parametrize("fmt", ["gnu", "oldgnu", "posix", "ustar-short"])
def test_save_reproduces_gnu_tar_layers_exactly(tree, tmp_path, fmt):
    layer = tmp_path / "layer.tar"
    flags = ["--format=" + fmt.split("-")[0], "--xattrs"]
    members = ["."]
    if fmt == "ustar-short":  # ustar cannot hold the long names
        members = ["etc", "empty", "rel", "hard", "fifo", "var"]
        flags = ["--format=ustar"]
    subprocess.run(["tar", *flags, "-cf", str(layer), "-C", str(tree), *members], check=True)
    data = layer.read_bytes()
    assert len(data) % 10240 == 0  # GNU tar pads to a full record: must survive too
    assert _round_trip(data, tmp_path) == data


def test_save_reproduces_busybox_tar_layers_exactly(tree, tmp_path):
    layer = tmp_path / "layer.tar"
    subprocess.run(["busybox", "tar", "-cf", str(layer), "-C", str(tree), "."], check=True)
    data = layer.read_bytes()
    assert _round_trip(data, tmp_path) == data


@pytest.mark.parametrize("fmt", [tarfile.PAX_FORMAT, tarfile.GNU_FORMAT, tarfile.USTAR_FORMAT])
def test_save_reproduces_python_tarfile_layers_exactly(tree, tmp_path, fmt):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=fmt) as tar:
        for path in sorted(tree.rglob("*")):
            rel = str(path.relative_to(tree))
            if fmt == tarfile.USTAR_FORMAT and len(rel) > 100 or "long" in rel:
                continue
            tar.add(path, rel, recursive=False)
    data = buf.getvalue()
    assert _round_trip(data, tmp_path) == data


def test_save_reproduces_layers_whose_files_were_replaced_or_whited_out(tmp_path):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        def add(name, data=b"", kind=tarfile.REGTYPE):
            info = tarfile.TarInfo(name)
            info.type, info.size, info.linkname = kind, len(data), "/etc"
            tar.addfile(info, io.BytesIO(data))
        add("a", b"first version")
        add("d/x", b"inside d")
        add("b", b"b content")
        add("a", b"second version")
        add("d", kind=tarfile.SYMTYPE)
        add(".wh.b")
        add("c", b"c" * 70000)
        add("c", kind=tarfile.DIRTYPE)
    data = buf.getvalue()
    assert _round_trip(data, tmp_path) == data
    assert (tmp_path / "diff/a").read_bytes() == b"second version"


def test_save_detects_a_layer_file_changed_on_disk(tree, tmp_path):
    layer = tmp_path / "layer.tar"
    subprocess.run(["tar", "--format=posix", "-cf", str(layer), "-C", str(tree), "."], check=True)
    data = layer.read_bytes()
    _round_trip(data, tmp_path)
    target = tmp_path / "diff/etc/os-release"
    target.write_text("ID=evil!!\n")  # same size, other bytes
    got = write_layer_tar(tmp_path / "diff", tmp_path / "tar-split.gz", io.BytesIO())
    assert got != "sha256:" + hashlib.sha256(data).hexdigest()
    target.unlink()
    with pytest.raises(DataCorrupted, match="/etc/os-release"):
        write_layer_tar(tmp_path / "diff", tmp_path / "tar-split.gz", io.BytesIO())


def test_save_refuses_to_follow_a_symlink_planted_in_the_tree(tmp_path):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        info = tarfile.TarInfo("dir/secret")
        info.size = 4
        tar.addfile(info, io.BytesIO(b"safe"))
    _round_trip(buf.getvalue(), tmp_path)
    diff = tmp_path / "diff"
    (diff / "dir/secret").unlink()
    os.symlink("/etc/passwd", diff / "dir/secret")
    with pytest.raises(DataCorrupted):
        b"".join(iter_layer_tar(diff, tmp_path / "tar-split.gz"))


def test_tar_split_is_small_compared_to_the_layer(tmp_path):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for i in range(200):
            info = tarfile.TarInfo(f"files/f{i}")
            info.size = 4096
            tar.addfile(info, io.BytesIO(os.urandom(4096)))
    _round_trip(buf.getvalue(), tmp_path)
    assert (tmp_path / "tar-split.gz").stat().st_size < 200 * 150
