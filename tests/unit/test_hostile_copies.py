"""Property: copying a tree that a hostile layer left (volume copy-up, RUN --mount's writable
copy) writes only into the copy, through the same applier, and leaves the source as it was."""
from __future__ import annotations

import io
import os
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase, event, example, given, settings

import hostile_tars as H
from pallet.archive.apply import apply_layer
from pallet.archive.unpack import copy_tree
from pallet.errors import PalletError
from pallet.services.volumes import copy_up

SETTINGS = settings(max_examples=40, deadline=None, derandomize=True,
                    phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.shrink],
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
TARGETS = ("a", "s", "h", "b", "d", "deep")


@pytest.fixture(autouse=True)
def _root():
    assert os.geteuid() == 0, "archive tests need root"


def _hostile_tree(box: Path, spec) -> tuple[Path, Path]:
    """(rootfs, sentinel): what a hostile layer leaves after the applier refused or took it."""
    sentinel = H.make_sentinel(box)
    rootfs = box / "outer" / "rootfs"
    rootfs.mkdir(parents=True)
    try:
        apply_layer(io.BytesIO(H.build(spec, sentinel)), rootfs)
    except PalletError:
        pass  # what it wrote before refusing stays: a harsher source
    return rootfs, sentinel


@SETTINGS
@given(spec=H.entries)
@example(spec=H.SYMLINK_THEN_FILE)
@example(spec=H.HARDLINK_THEN_FILE)
def test_volume_copy_up_from_a_hostile_image_writes_only_into_the_volume(spec):
    with tempfile.TemporaryDirectory() as tmp:
        box = Path(tmp)
        rootfs, sentinel = _hostile_tree(box, spec)
        volumes = box / "outer" / "volumes"
        volumes.mkdir()
        before = H.snapshot(box, (volumes,))
        copied = 0
        for target in TARGETS:
            vol = volumes / target / "_data"
            vol.mkdir(parents=True)
            copied += copy_up(rootfs, "/" + target, vol)
        event("copied into a volume" if copied else "nothing to copy up")
        H.assert_untouched(box, before, sentinel, (volumes,))


@SETTINGS
@given(spec=H.entries)
@example(spec=H.SYMLINK_THEN_FILE)
def test_run_mount_writable_copy_of_a_hostile_tree_writes_only_into_the_copy(spec):
    with tempfile.TemporaryDirectory() as tmp:
        box = Path(tmp)
        rootfs, sentinel = _hostile_tree(box, spec)
        copy = box / "outer" / "copy"
        copy.mkdir()
        before = H.snapshot(box, (copy,))
        copy_tree(rootfs, copy)
        assert H.snapshot(copy).keys() == {str(copy / k[len(str(rootfs)) + 1:])
                                           for k in H.snapshot(rootfs)}
        H.assert_untouched(box, before, sentinel, (copy,))
