"""`commit` freezes the container while it copies its layer; killed at that moment it must
not leave a container that every other command misjudges. A SIGTERM unwinds `commit` as
^C does (the container is thawed); after a kill -9 the container stays frozen, and `ps`,
`inspect`, `exec` and `unpause` all go by runc's freezer rather than by the record."""
from __future__ import annotations

import os
import signal
import subprocess
import sys

from polling import wait_for


def frozen_commit(pallet, tmp_path, container: str) -> subprocess.Popen:
    """`pallet commit` as a real process, held (PALLET_TEST_COMMIT_HOLD) with the container paused."""
    hold = tmp_path / "commit-held"
    proc = subprocess.Popen([sys.executable, "-m", "pallet.cli.main", "--root", str(pallet.root),
                             "--runroot", str(pallet.runroot), "commit", container, "snap"],
                            env={**os.environ, "PALLET_TEST_COMMIT_HOLD": str(hold)},
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert wait_for(hold.exists, 30), proc.communicate()
    return proc


def state(pallet, container: str) -> str:
    return pallet.ok("inspect", "-f", "{{.State.Status}} {{.State.Paused}}", container).out.strip()


def test_commit_interrupted_by_sigterm_thaws_the_container_and_makes_no_image(
        pallet, busybox, tmp_path, no_leaks):
    pallet.ok("run", "-d", "--name", "app", busybox, "sleep", "1000")
    commit = frozen_commit(pallet, tmp_path, "app")
    assert state(pallet, "app") == "paused true"
    commit.send_signal(signal.SIGTERM)
    assert commit.wait(30) == 143
    assert state(pallet, "app") == "running false"
    assert pallet.ok("exec", "app", "echo", "alive").out == "alive\n"
    assert pallet.ok("images", "-q", "snap").out == ""


def test_commit_killed_outright_leaves_a_paused_container_that_unpause_resumes(
        pallet, busybox, tmp_path, no_leaks):
    pallet.ok("run", "-d", "--name", "app", busybox, "sleep", "1000")
    commit = frozen_commit(pallet, tmp_path, "app")
    commit.kill()
    commit.wait(30)
    assert "(Paused)" in pallet.ok("ps", "--format", "{{.Status}}").out
    r = pallet("exec", "app", "true")
    assert (r.code, r.err) == (1, "Error: Container app is paused, unpause the container before exec\n")
    assert pallet.ok("unpause", "app").out == "app\n"
    assert pallet.ok("exec", "app", "echo", "alive").out == "alive\n"


def test_a_pause_the_record_missed_is_seen_and_undone_by_unpause(pallet, busybox, no_leaks):
    # what a `pause` killed between `runc pause` and its record update leaves
    cid = pallet.ok("run", "-d", busybox, "sleep", "1000").out.strip()
    pallet.engine.containers.monitor.runc.pause(cid)
    assert state(pallet, cid) == "paused true"
    assert pallet.ok("unpause", cid).out == f"{cid}\n"
    assert state(pallet, cid) == "running false"
    r = pallet("unpause", cid)
    assert (r.code, r.err) == (1, f"Error: Container {cid} is not paused\n")


def test_a_resume_the_record_missed_is_seen_and_pause_works_again(pallet, busybox, no_leaks):
    # what an `unpause` killed between `runc resume` and its record update leaves
    cid = pallet.ok("run", "-d", busybox, "sleep", "1000").out.strip()
    pallet.ok("pause", cid)
    pallet.engine.containers.monitor.runc.resume(cid)
    assert state(pallet, cid) == "running false"
    assert pallet.ok("exec", cid, "echo", "alive").out == "alive\n"
    assert pallet.ok("pause", cid).out == f"{cid}\n"
    assert state(pallet, cid) == "paused true"
