"""Any --runroot a user can create works, however long: conmon's attach socket, runc's state,
the rootfs mount point and the exit command all live under it, and a Unix socket's path
(sun_path) holds only 108 bytes."""
from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from palletcli import Pallet
from polling import wait_for


def remove_runroots(token: str) -> None:
    """Once no monitor or exit command of them runs (a cleanup would make one again)."""
    wait_for(lambda: subprocess.run(["pgrep", "-f", f"/tmp/{token}"], capture_output=True).stdout == b"", 10)
    for runroot in Path("/tmp").glob(f"{token}r*"):
        if runroot.name.rstrip("r") == token:  # only the ones these tests made
            shutil.rmtree(runroot, ignore_errors=True)


def test_run_rm_attaches_under_every_runroot_length_from_10_to_120(pallet, busybox):
    # conmon named its socket-dir symlink one character short when that path came to 107
    # bytes: with a 35-character runroot every attached run missed the socket
    token = os.urandom(2).hex()
    failed = []
    try:
        for length in range(10, 121):
            runroot = Path(f"/tmp/{token}" + "r" * (length - 9))
            assert len(str(runroot)) == length
            r = Pallet(pallet.root, runroot)("run", "--rm", "--network", "none", busybox, "echo", "hi")
            if (r.code, r.out) != (0, "hi\n"):
                failed.append((length, r.code, r.err.strip()))
    finally:
        remove_runroots(token)
    Pallet.instances[:] = [pallet]  # the runroots are gone; the store's own reset remains
    assert failed == []


def test_build_run_steps_work_under_the_runroot_length_conmon_used_to_miss(pallet, busybox, tmp_path):
    token = os.urandom(2).hex()
    runroot = Path(f"/tmp/{token}" + "r" * 26)  # 35 characters
    (tmp_path / "ctx").mkdir()
    (tmp_path / "ctx" / "Dockerfile").write_text("FROM busybox\nRUN echo built > /f\nRUN cat /f\n")
    try:
        r = Pallet(pallet.root, runroot)("build", "-q", "-t", "made", str(tmp_path / "ctx"))
    finally:
        remove_runroots(token)
        Pallet.instances[:] = [pallet]
    assert r.code == 0, r.err
    assert pallet.ok("run", "--rm", "--network", "none", "made", "cat", "/f").out == "built\n"
