"""Interoperability both ways with outside clients: skopeo and umoci against the same registry."""
from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
from pathlib import Path

from palletcli import Pallet
from registry_fixtures import docker_config, registry  # noqa: F401 - fixtures


def _run(*argv: str) -> str:
    p = subprocess.run(list(argv), capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, f"{argv[0]} failed: {p.stderr}"
    return p.stdout


def _skopeo_copy(src: str, dst: str, *extra: str) -> None:
    _run("skopeo", "copy", "--quiet", "--src-tls-verify=false", "--dest-tls-verify=false", *extra, src, dst)


def _pallet_pushed_layout(pallet, registry, tmp_path, name: str) -> Path:
    """busybox pushed by pallet, then copied out by skopeo into an OCI layout at tmp_path/layout."""
    pallet.ok("tag", "busybox", f"{registry.host}/{name}")
    pallet.ok("push", f"{registry.host}/{name}")
    layout = tmp_path / "layout"
    _skopeo_copy(f"docker://{registry.host}/{name}", f"oci:{layout}:1")
    return layout


def test_image_pushed_by_pallet_is_copied_by_skopeo_and_unpacked_by_umoci(pallet, busybox, registry,
                                                                          docker_config, tmp_path):
    layout = _pallet_pushed_layout(pallet, registry, tmp_path, "interop/out:1")
    bundle = tmp_path / "bundle"
    _run("umoci", "unpack", "--image", f"{layout}:1", str(bundle))
    assert (bundle / "rootfs" / "bin" / "busybox").is_file()
    config = json.loads((bundle / "config.json").read_text())
    assert config["process"]["args"] == ["sh"]


def test_image_made_by_umoci_and_pushed_by_skopeo_pulls_and_runs(pallet, busybox, registry,
                                                                 docker_config, tmp_path):
    layout = _pallet_pushed_layout(pallet, registry, tmp_path, "interop/base:1")
    bundle = tmp_path / "bundle"
    _run("umoci", "unpack", "--image", f"{layout}:1", str(bundle))
    (bundle / "rootfs" / "hello").write_text("from umoci\n")
    _run("umoci", "repack", "--image", f"{layout}:2", str(bundle))
    name = f"{registry.host}/interop/fromskopeo:2"
    _skopeo_copy(f"oci:{layout}:2", f"docker://{name}")
    other = Pallet(tmp_path / "o" / "root", tmp_path / "o" / "run")
    r = other.ok("pull", name)
    assert any(l.endswith("Pull complete") for l in r.lines), r.out
    assert other.ok("run", "--rm", name, "cat", "/hello").out == "from umoci\n"


def _blob(layout: Path, data: bytes) -> dict:
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    (layout / "blobs" / "sha256" / digest[7:]).write_bytes(data)
    return {"digest": digest, "size": len(data)}


def _multi_arch_layout(src: Path, dst: Path) -> None:
    """An OCI layout whose tag `multi` is an index of an amd64 and an arm64 image (same layer)."""
    shutil.copytree(src, dst)
    index = json.loads((src / "index.json").read_text())
    manifest = json.loads((src / "blobs" / "sha256" / index["manifests"][0]["digest"][7:]).read_bytes())
    config = json.loads((src / "blobs" / "sha256" / manifest["config"]["digest"][7:]).read_bytes())
    entries = []
    for arch in ("amd64", "arm64"):
        cfg = _blob(dst, json.dumps({**config, "architecture": arch}).encode())
        mf = {**manifest, "config": {**manifest["config"], **cfg}}
        desc = _blob(dst, json.dumps(mf).encode())
        entries.append({"mediaType": "application/vnd.oci.image.manifest.v1+json", **desc,
                        "platform": {"os": "linux", "architecture": arch}})
    idx = _blob(dst, json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
                                 "manifests": entries}).encode())
    (dst / "index.json").write_text(json.dumps({"schemaVersion": 2, "manifests": [
        {"mediaType": "application/vnd.oci.image.index.v1+json", **idx,
         "annotations": {"org.opencontainers.image.ref.name": "multi"}}]}))


def test_multi_arch_index_pushed_by_skopeo_resolves_to_the_right_platform(pallet, busybox, registry,
                                                                          docker_config, tmp_path):
    layout = _pallet_pushed_layout(pallet, registry, tmp_path, "interop/single:1")
    multi = tmp_path / "multi"
    _multi_arch_layout(layout, multi)
    name = f"{registry.host}/interop/multi:1"
    _skopeo_copy(f"oci:{multi}:multi", f"docker://{name}", "--all")
    assert json.loads(pallet.ok("manifest", "inspect", name).out)["mediaType"].endswith("index.v1+json")
    host = Pallet(tmp_path / "h" / "root", tmp_path / "h" / "run")
    host.ok("pull", name)
    assert host.ok("image", "inspect", "--format", "{{.Architecture}}", name).out == "amd64\n"
    arm = Pallet(tmp_path / "a" / "root", tmp_path / "a" / "run")
    r = arm.ok("pull", "--platform", "linux/arm64", name)
    index_digest = r.lines[-3].split()[-1]
    assert arm.ok("image", "inspect", "--format", "{{.Architecture}}", name).out == "arm64\n"
    assert arm.ok("image", "inspect", "--format", "{{index .RepoDigests 0}}", name).out == \
        f"{registry.host}/interop/multi@{index_digest}\n"
