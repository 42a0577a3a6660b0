"""Shared fixtures: a private pallet store per test, the CLI in-process, a busybox base image.

Integration tests need root (overlayfs, runc, conmon); they fail, not skip, without it.
"""
from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from palletcli import Pallet

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture
def root_required():
    assert os.geteuid() == 0, "integration tests need root (overlayfs, runc, conmon)"


@pytest.fixture(autouse=True)
def reset_stores():
    """Every store a test made ends with `system reset`, so that nothing of it outlives the
    test (a network's bridge stays after its last container, as docker0 does)."""
    Pallet.instances.clear()
    yield
    for p in Pallet.instances:
        if p.root.exists() and os.geteuid() == 0:
            p("system", "reset", "-f")
    Pallet.instances.clear()


@pytest.fixture
def pallet(request, tmp_path, root_required):
    """The CLI on the test's private store: `pallet` itself, or (a test marked with
    api_service.ALSO_DOCKER, param "docker") the docker CLI through `pallet system service`
    on that same store, wherever Docker's behaviour is the same."""
    native = Pallet(tmp_path / "root", tmp_path / "run")
    if getattr(request, "param", "pallet") != "docker":
        yield native
        return
    from api_service import DockerCLI
    docker = DockerCLI(native, tmp_path / "api.sock")
    try:
        yield docker
    finally:
        docker.stop()


@pytest.fixture(scope="session")
def busybox_tar(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("busybox") / "busybox-rootfs.tar"
    subprocess.run([str(REPO / "examples" / "busybox-rootfs.sh"), str(out)], check=True)
    return out


@pytest.fixture
def busybox(pallet, busybox_tar) -> str:
    """busybox:latest imported into the test's store; returns its image ID."""
    native = getattr(pallet, "native", pallet)  # pallet's own import, whichever CLI the test drives
    r = native.ok("import", "-c", 'CMD ["sh"]', str(busybox_tar), "busybox:latest")
    return r.out.strip()
