"""Property: no hostile tar, through any verb that unpacks one, changes anything outside its
destination, and every refusal is a one-line error (exit 1), never a traceback.

One store (and, for `cp`, one container) serves all the examples of a test, so each example
also meets what the earlier ones left in the destination. The tars come from
tests/hostile_tars.py; `--hypothesis-show-statistics` counts the refused and accepted ones.
"""
from __future__ import annotations

import hashlib
import io
import json
import tarfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase, event, example, given, settings

import hostile_tars as H

SETTINGS = settings(max_examples=25, deadline=None, derandomize=True,
                    phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.shrink],
                    suppress_health_check=[HealthCheck.function_scoped_fixture,
                                           HealthCheck.too_slow, HealthCheck.data_too_large])


def _judge(r) -> None:
    """A refusal is Docker's exit 1 with one line naming the problem."""
    assert r.code in (0, 1), r.err
    assert "internal error" not in r.err and "Traceback" not in r.err, r.err
    assert len(r.err.strip().splitlines()) <= 1, r.err
    event("refused" if r.code else "accepted")


@pytest.fixture
def box(tmp_path) -> tuple[Path, Path, tuple[Path, ...]]:
    """(box, sentinel, what the store may change): the store lives inside the box, so `../`
    chains from any destination reach the sentinel."""
    return tmp_path, H.make_sentinel(tmp_path), (tmp_path / "root", tmp_path / "run")


def _docker_archive(layer: bytes, tag: str) -> bytes:
    diff_id = "sha256:" + hashlib.sha256(layer).hexdigest()
    config = json.dumps({"architecture": "amd64", "os": "linux", "config": {},
                         "rootfs": {"type": "layers", "diff_ids": [diff_id]}}).encode()
    manifest = json.dumps([{"Config": "c.json", "RepoTags": [tag], "Layers": ["l/layer.tar"]}]).encode()
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for name, data in (("manifest.json", manifest), ("c.json", config), ("l/layer.tar", layer)):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


@SETTINGS
@given(spec=H.entries)
@example(spec=H.HARDLINK_THEN_FILE)
@example(spec=H.SYMLINK_THEN_FILE)
def test_load_of_hostile_layers_writes_nothing_outside_the_layer(pallet, box, spec):
    root, sentinel, store = box
    before = H.snapshot(root, store)
    _judge(pallet("load", stdin=_docker_archive(H.build(spec, sentinel), "hostile:1")))
    H.assert_untouched(root, before, sentinel, store)


@SETTINGS
@given(spec=H.entries)
@example(spec=H.HARDLINK_THEN_FILE)
@example(spec=H.SYMLINK_THEN_FILE)
def test_import_of_hostile_tars_writes_nothing_outside_the_layer(pallet, box, spec):
    root, sentinel, store = box
    before = H.snapshot(root, store)
    _judge(pallet("import", "-", "hostile:1", stdin=H.build(spec, sentinel)))
    H.assert_untouched(root, before, sentinel, store)


@SETTINGS
@given(spec=H.entries)
@example(spec=H.HARDLINK_THEN_FILE)
@example(spec=H.SYMLINK_THEN_FILE)
def test_build_add_of_hostile_local_tars_writes_nothing_outside_the_image(pallet, box, spec):
    root, sentinel, store = box
    ctx = root / "ctx"
    ctx.mkdir(exist_ok=True)
    (ctx / "Dockerfile").write_text("FROM scratch\nADD evil.tar /x/\n")
    (ctx / "evil.tar").write_bytes(H.build(spec, sentinel))
    skip = store + (ctx,)
    before = H.snapshot(root, skip)
    r = pallet("build", "-q", str(ctx))
    _judge(r)
    H.assert_untouched(root, before, sentinel, skip)


@SETTINGS
@given(spec=H.entries)
@example(spec=H.HARDLINK_THEN_FILE)
@example(spec=H.SYMLINK_THEN_FILE)
def test_build_of_a_hostile_context_tar_on_stdin_writes_nothing_outside_the_context(pallet, box, spec):
    root, sentinel, store = box
    context = io.BytesIO()
    with tarfile.open(fileobj=context, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for member in tarfile.open(fileobj=io.BytesIO(H.build(spec, sentinel))):
            tar.addfile(member, io.BytesIO(b"pwned") if member.isreg() else None)
        dockerfile = b"FROM scratch\nCOPY . /ctx/\n"
        info = tarfile.TarInfo("Dockerfile")
        info.size = len(dockerfile)
        tar.addfile(info, io.BytesIO(dockerfile))
    before = H.snapshot(root, store)
    _judge(pallet("build", "-q", "-", stdin=context.getvalue()))
    H.assert_untouched(root, before, sentinel, store)


@pytest.fixture
def container(pallet, busybox) -> Path:
    """A created container with an empty /dest; returns its writable layer (upper dir)."""
    cid = pallet.ok("create", "--name", "holder", "busybox", "true").out.strip()
    dest = tarfile.TarInfo("dest")
    dest.type, dest.mode = tarfile.DIRTYPE, 0o755
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        tar.addfile(dest)
    pallet.ok("cp", "-", "holder:/", stdin=buf.getvalue())
    return pallet.root / "containers" / cid / "upper"


@SETTINGS
@given(spec=H.entries)
@example(spec=H.HARDLINK_THEN_FILE)
@example(spec=H.SYMLINK_THEN_FILE)
@example(spec=H.WHITEOUT_AFTER_A_FILE)
def test_cp_of_hostile_tars_into_a_container_is_all_or_nothing_and_stays_inside(
        pallet, box, container, spec):
    root, sentinel, store = box
    upper = container
    host_before = H.snapshot(root, store)
    outside_before = H.snapshot(upper, (upper / "dest",))
    dest_before = H.snapshot(upper / "dest")
    r = pallet("cp", "-", "holder:/dest", stdin=H.build(spec, sentinel))
    _judge(r)
    H.assert_untouched(root, host_before, sentinel, store)
    assert H.snapshot(upper, (upper / "dest",)) == outside_before
    if r.code:
        assert H.snapshot(upper / "dest") == dest_before  # nothing of a refused archive is left


@SETTINGS
@given(spec=H.entries)
@example(spec=H.SYMLINK_THEN_FILE)
def test_cp_out_of_a_container_holding_hostile_files_writes_only_the_destination(
        pallet, box, container, spec):
    root, sentinel, store = box
    pallet("cp", "-", "holder:/dest", stdin=H.build(spec, sentinel))  # whatever of it is accepted
    out = root / "out"
    out.mkdir(exist_ok=True)
    skip = store + (out,)
    before = H.snapshot(root, skip)
    target = out / str(len(list(out.iterdir())))
    target.mkdir()
    _judge(pallet("cp", "holder:/dest", str(target)))
    H.assert_untouched(root, before, sentinel, skip)
