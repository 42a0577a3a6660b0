"""Scratch under ingest/ belongs to a live process (its lease) or to nobody: a sweep takes only
what nobody owns, whatever the moment it runs."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from pallet.store import leases

SRC = str(Path(__file__).resolve().parents[2] / "src")

HOLDER = """
import os, sys, tempfile, time
sys.path.insert(0, {src!r})
from pathlib import Path
from pallet.store.leases import ScratchLease
ingest = Path({ingest!r})
with ScratchLease(ingest) as prefix:
    tempfile.mkdtemp(prefix=prefix + "ctx-", dir=ingest)
    print("ready", flush=True)
    time.sleep(60)
"""


def _holder(ingest: Path) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, "-c", HOLDER.format(src=SRC, ingest=str(ingest))],
                            stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "ready"
    return proc


def test_scratch_of_a_live_process_is_kept_and_of_a_killed_one_swept(tmp_path):
    ingest = tmp_path / "ingest"
    proc = _holder(ingest)
    try:
        assert len(list(ingest.iterdir())) == 2  # its lease and its directory
        assert leases.stale(ingest) == []
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    gone = leases.stale(ingest)
    assert len(gone) == 2 and len({p.name.split("-", 1)[0].removesuffix(".lease") for p in gone}) == 1
    for p in gone:
        leases.discard(p)
    assert list(ingest.iterdir()) == []


def test_a_finished_lease_leaves_nothing_and_old_unleased_scratch_is_swept(tmp_path):
    ingest = tmp_path / "ingest"
    with leases.ScratchLease(ingest) as prefix:
        (ingest / f"{prefix}file").write_text("x")
        assert leases.stale(ingest) == []
        (ingest / f"{prefix}file").unlink()
    assert list(ingest.iterdir()) == []
    (ingest / "build-ctx-abc").mkdir()  # what a pallet without leases left
    (ingest / "blob-123").write_text("half a blob")
    assert sorted(p.name for p in leases.stale(ingest)) == ["blob-123", "build-ctx-abc"]


def test_a_lease_taken_while_a_sweep_discards_it_is_taken_again(tmp_path, monkeypatch):
    """A sweep that found a lease file free (before its taker locked it) and unlinked it: the
    taker notices the file is not the one it locked and takes another token."""
    ingest = tmp_path / "ingest"
    ingest.mkdir()
    real_flock = leases.fcntl.flock
    raced = []

    def flock(fd, op):
        if not raced:  # between the taker's open and its lock, a sweep discards the file
            raced.append(True)
            for p in ingest.glob("*.lease"):
                leases.discard(p)
        return real_flock(fd, op)
    monkeypatch.setattr(leases.fcntl, "flock", flock)
    token, fd = leases._take(ingest)
    try:
        assert (ingest / f"{token}.lease").exists() and raced
        assert os.fstat(fd).st_ino == os.stat(ingest / f"{token}.lease").st_ino
    finally:
        os.close(fd)
