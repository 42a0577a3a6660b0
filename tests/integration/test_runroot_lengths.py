"""Any --runroot a user can create works, however long: conmon's attach socket, runc's state,
the rootfs mount point and the exit command all live under it, and a Unix socket's path
(sun_path) holds only 108 bytes."""
from __future__ import annotations

import os
import shutil
from pathlib import Path

from palletcli import Pallet


def test_run_rm_attaches_under_every_runroot_length_from_10_to_120(pallet, busybox):
    # conmon named its socket-dir symlink one character short when that path came to 107
    # bytes: with a 35-character runroot every attached run missed the socket
    token = os.urandom(2).hex()
    failed = []
    for length in range(10, 121):
        runroot = Path(f"/tmp/{token}" + "r" * (length - 9))
        assert len(str(runroot)) == length
        try:
            r = Pallet(pallet.root, runroot)("run", "--rm", "--network", "none", busybox, "echo", "hi")
            if (r.code, r.out) != (0, "hi\n"):
                failed.append((length, r.code, r.err.strip()))
        finally:
            shutil.rmtree(runroot, ignore_errors=True)
    Pallet.instances[:] = [pallet]  # the runroots are gone; the store's own reset remains
    assert failed == []


def test_build_run_steps_work_under_the_runroot_length_conmon_used_to_miss(pallet, busybox, tmp_path):
    runroot = Path(f"/tmp/{os.urandom(2).hex()}" + "r" * 26)  # 35 characters
    (tmp_path / "ctx").mkdir()
    (tmp_path / "ctx" / "Dockerfile").write_text("FROM busybox\nRUN echo built > /f\nRUN cat /f\n")
    try:
        r = Pallet(pallet.root, runroot)("build", "-q", "-t", "made", str(tmp_path / "ctx"))
    finally:
        shutil.rmtree(runroot, ignore_errors=True)
        Pallet.instances[:] = [pallet]
    assert r.code == 0, r.err
    assert pallet.ok("run", "--rm", "--network", "none", "made", "cat", "/f").out == "built\n"
