"""save/load: Docker's archive formats, checked against skopeo and umoci; bad archives change nothing."""
from __future__ import annotations

import gzip
import hashlib
import io
import json
import subprocess
import tarfile

import pytest

from api_service import ALSO_DOCKER


def _tree_digest(root) -> str:
    """A digest of a directory tree: names, modes, link targets and file bytes."""
    h = hashlib.sha256()
    for p in sorted(root.rglob("*")):
        st = p.lstat()
        h.update(f"{p.relative_to(root)} {st.st_mode:o} {st.st_uid}:{st.st_gid}".encode())
        if p.is_symlink():
            h.update(str(p.readlink()).encode())
        elif p.is_file():
            h.update(p.read_bytes())
    return h.hexdigest()


def _layer_dirs(pallet):
    return sorted(p for p in (pallet.root / "layers").iterdir() if not p.name.startswith("."))


@ALSO_DOCKER
def test_save_then_load_into_another_store_keeps_id_and_tags(pallet, busybox, tmp_path):
    from palletcli import Pallet
    pallet.ok("tag", "busybox", "myapp:1.0")
    archive = tmp_path / "images.tar"
    pallet.ok("save", "-o", str(archive), "busybox:latest", "myapp:1.0")
    other = Pallet(tmp_path / "root2", tmp_path / "run2")
    r = other.ok("load", "-i", str(archive))
    assert r.lines == ["Loaded image: busybox:latest", "Loaded image: myapp:1.0"]
    assert other.ok("images", "-q", "--no-trunc").lines == [busybox, busybox]  # one per tag, as docker
    assert _tree_digest(_layer_dirs(other)[0] / "diff") == _tree_digest(_layer_dirs(pallet)[0] / "diff")


@ALSO_DOCKER
def test_save_to_stdout_and_load_from_stdin(pallet, busybox, tmp_path):
    from palletcli import Pallet
    data = pallet.ok("save", "busybox").out_bytes
    other = Pallet(tmp_path / "r2", tmp_path / "s2")
    assert other.ok("load", stdin=data).lines == ["Loaded image: busybox:latest"]


def test_saved_archive_is_both_docker_archive_and_oci_layout(pallet, busybox, tmp_path):
    archive = tmp_path / "bb.tar"
    pallet.ok("save", "-o", str(archive), "busybox")
    with tarfile.open(archive) as t:
        names = set(t.getnames())
        manifest = json.load(t.extractfile("manifest.json"))
        layer = t.extractfile(manifest[0]["Layers"][0]).read()
    assert {"manifest.json", "index.json", "oci-layout", "repositories"} <= names
    assert manifest[0]["RepoTags"] == ["busybox:latest"]
    diff_id = json.loads(pallet.ok("inspect", "busybox").out)[0]["RootFS"]["Layers"][0]
    assert "sha256:" + hashlib.sha256(layer).hexdigest() == diff_id


def test_skopeo_reads_saved_archive_and_umoci_unpacks_it(pallet, busybox, tmp_path):
    archive = tmp_path / "bb.tar"
    pallet.ok("save", "-o", str(archive), "busybox")
    info = json.loads(subprocess.run(["skopeo", "inspect", f"docker-archive:{archive}"],
                                     check=True, capture_output=True).stdout)
    assert info["Digest"].startswith("sha256:") and len(info["Layers"]) == 1
    subprocess.run(["skopeo", "copy", "-q", f"docker-archive:{archive}", f"oci:{tmp_path}/oci:bb"],
                   check=True, capture_output=True)
    subprocess.run(["umoci", "unpack", "--image", f"{tmp_path}/oci:bb", str(tmp_path / "bundle")],
                   check=True, capture_output=True)
    assert (tmp_path / "bundle" / "rootfs" / "bin" / "busybox").is_file()


@pytest.mark.parametrize("transport", ["docker-archive", "oci-archive"])
def test_archive_made_by_skopeo_loads_and_lists(pallet, busybox, tmp_path, transport):
    from palletcli import Pallet
    src = tmp_path / "src.tar"
    pallet.ok("save", "-o", str(src), "busybox")
    made = tmp_path / "made.tar"
    subprocess.run(["skopeo", "copy", "-q", f"docker-archive:{src}", f"{transport}:{made}:skopeo/bb:v1"],
                   check=True, capture_output=True)
    other = Pallet(tmp_path / "r3", tmp_path / "s3")
    other.ok("load", "-i", str(made))
    assert other.ok("images", "--format", "{{.Repository}}:{{.Tag}}").lines == ["skopeo/bb:v1"]


# pallet only (not ALSO_DOCKER): a load error ends dockerd's JSON stream; the docker CLI prints it bare, without 'Error: '
def test_load_of_something_that_is_not_an_archive_fails_and_changes_nothing(pallet, busybox):
    before = pallet.ok("images", "-q", "--no-trunc").out
    r = pallet("load", stdin=b"this is not a tar archive at all" * 100)
    assert r.code == 1 and r.err.startswith("Error: invalid archive")
    assert len(r.err.strip().splitlines()) == 1
    assert pallet.ok("images", "-q", "--no-trunc").out == before


def _archive(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as t:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            t.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def _layer(files: dict[str, bytes]) -> bytes:
    return _archive(files)


def test_load_rejects_archive_without_manifest(pallet, busybox):
    r = pallet("load", stdin=_archive({"hello.txt": b"hi"}))
    assert r.code == 1 and "no manifest.json" in r.err


def test_load_rejects_layer_that_does_not_match_config(pallet, busybox):
    layer = _layer({"a.txt": b"real"})
    config = json.dumps({"architecture": "amd64", "os": "linux", "config": {},
                         "rootfs": {"type": "layers", "diff_ids": ["sha256:" + "0" * 64]}}).encode()
    manifest = json.dumps([{"Config": "c.json", "RepoTags": ["bad:1"], "Layers": ["l/layer.tar"]}]).encode()
    r = pallet("load", stdin=_archive({"manifest.json": manifest, "c.json": config, "l/layer.tar": layer}))
    assert r.code == 1 and "diff ID" in r.err
    assert pallet.ok("images", "--format", "{{.Repository}}").lines == ["busybox"]
    assert not [p for p in (pallet.root / "layers").iterdir() if p.name.startswith(".tmp")]


@ALSO_DOCKER
def test_load_accepts_gzip_compressed_archive(pallet, busybox, tmp_path):
    from palletcli import Pallet
    data = gzip.compress(pallet.ok("save", "busybox").out_bytes)
    other = Pallet(tmp_path / "r4", tmp_path / "s4")
    assert other.ok("load", stdin=data).lines == ["Loaded image: busybox:latest"]


def test_import_of_truncated_gzip_fails_and_changes_nothing(pallet, busybox, busybox_tar):
    data = gzip.compress(busybox_tar.read_bytes())[:50000]
    r = pallet("import", "-", "broken:1", stdin=data)
    assert r.code == 1 and len(r.err.strip().splitlines()) == 1
    assert pallet.ok("images", "--format", "{{.Repository}}").lines == ["busybox"]


@ALSO_DOCKER
def test_save_of_unknown_image_fails(pallet, tmp_path):
    r = pallet("save", "-o", str(tmp_path / "x.tar"), "nosuch")
    assert r.code == 1 and "No such image: nosuch:latest" in r.err
    assert not (tmp_path / "x.tar").exists()


def _deep_archive(base_layer: bytes, extra: int, tag: str) -> bytes:
    """A docker-archive of `base_layer` plus `extra` tiny layers (one file each)."""
    layers = [base_layer] + [_layer({f"layer{i}": str(i).encode()}) for i in range(extra)]
    diff_ids = ["sha256:" + hashlib.sha256(data).hexdigest() for data in layers]
    config = json.dumps({"architecture": "amd64", "os": "linux", "config": {"Cmd": ["sh"]},
                         "rootfs": {"type": "layers", "diff_ids": diff_ids}}).encode()
    members = {"config.json": config}
    members.update({f"{i}/layer.tar": data for i, data in enumerate(layers)})
    members["manifest.json"] = json.dumps([{"Config": "config.json", "RepoTags": [tag],
                                            "Layers": [f"{i}/layer.tar" for i in range(len(layers))]}]).encode()
    return _archive(members)


# pallet only (not ALSO_DOCKER): a load error ends dockerd's JSON stream; the docker CLI prints it bare, without 'Error: '
def test_load_refuses_an_image_deeper_than_overlayfs_can_mount_with_max_depth_exceeded(
        pallet, busybox, busybox_tar, tmp_path):
    """Docker's layer store refuses past 125 layers ("max depth exceeded"); pallet's limit is what
    one overlay mount's lowerdir option can hold in a page for this store, and the deepest image
    it accepts does run."""
    from pallet.snapshot import overlay
    limit = pallet.engine.image_store.max_layers
    assert 50 <= limit < 125
    paths = pallet.engine.paths
    lowers = [paths.layers / ("0" * 64) / "diff"] * (limit + 1)
    one_more = overlay.describe(paths.container("f" * 64), lowers, paths.layers, volatile=True)
    assert len(one_more.option_string()) >= overlay.PAGE_SIZE  # the kernel would refuse it
    base = busybox_tar.read_bytes()
    pallet.ok("load", stdin=_deep_archive(base, limit - 1, "deep:ok"))
    assert pallet.ok("run", "--rm", "deep:ok", "cat", f"/layer{limit - 2}").out == str(limit - 2)
    layers_before = _layer_dirs(pallet)
    r = pallet("load", stdin=_deep_archive(base, limit, "deep:toomany"))
    assert r.code == 1 and r.err == (f"Error: max depth exceeded: the image has {limit + 1} layers, "
                                     f"more than the {limit} overlayfs can stack in this store\n")
    assert _layer_dirs(pallet) == layers_before
    assert pallet("image", "inspect", "deep:toomany").code == 1
    (tmp_path / "ctx").mkdir()
    (tmp_path / "ctx" / "Dockerfile").write_text("FROM deep:ok\nCOPY Dockerfile /one-more\n")
    r = pallet("build", "--progress=classic", str(tmp_path / "ctx"))
    assert r.code == 1 and r.err.startswith("Error: max depth exceeded") and len(r.err.splitlines()) == 1
    r = pallet("build", str(tmp_path / "ctx"))  # BuildKit's display ends with the same words
    assert r.code == 1 and r.err.splitlines()[-1].startswith("ERROR: failed to solve: max depth exceeded")
    assert _layer_dirs(pallet) == layers_before


@pytest.mark.parametrize("member", ["manifest.json", "config.json"])
# pallet only (not ALSO_DOCKER): a load error ends dockerd's JSON stream; the docker CLI prints it bare, without 'Error: '
def test_load_of_an_archive_whose_manifest_or_config_is_a_dangling_symlink_is_refused(pallet, busybox, member):
    config = json.dumps({"architecture": "amd64", "os": "linux", "config": {},
                         "rootfs": {"type": "layers", "diff_ids": []}}).encode()
    manifest = json.dumps([{"Config": "config.json", "RepoTags": ["x:1"], "Layers": []}]).encode()
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as t:
        for name, data in (("manifest.json", manifest), ("config.json", config)):
            info = tarfile.TarInfo(name)
            if name == member:
                info.type, info.linkname = tarfile.SYMTYPE, "/etc/nosuchfile.json"
                t.addfile(info)
            else:
                info.size = len(data)
                t.addfile(info, io.BytesIO(data))
    r = pallet("load", stdin=buf.getvalue())
    assert r.code == 1 and r.err == (f"Error: invalid archive: {member} is a symbolic link to "
                                     "/etc/nosuchfile.json, which is not in the archive\n")
    assert pallet.ok("images", "--format", "{{.Repository}}").lines == ["busybox"]


def test_load_follows_a_symlinked_manifest_inside_the_archive_as_docker_does(pallet, busybox):
    data = pallet.ok("save", "busybox").out_bytes
    src = tarfile.open(fileobj=io.BytesIO(data))
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as t:
        for m in src.getmembers():
            if m.name == "manifest.json":
                m.name = "real/manifest.json"
            t.addfile(m, src.extractfile(m) if m.isreg() else None)
        link = tarfile.TarInfo("manifest.json")
        link.type, link.linkname = tarfile.SYMTYPE, "real/manifest.json"
        t.addfile(link)
    assert pallet.ok("load", stdin=buf.getvalue()).lines == ["Loaded image: busybox:latest"]
