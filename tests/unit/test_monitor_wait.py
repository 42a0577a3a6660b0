"""How a waiter learns a container's exit: conmon writes `exit_dir/<id>` (a temporary file
renamed in) the moment the process ends, and `Monitor.wait_exit` returns its code."""
from __future__ import annotations

import os
import threading

import pytest

from pallet.runtime.monitor import Monitor
from pallet.runtime.runc import Runc

CID = "c0ffee" * 10 + "abcd"


@pytest.fixture
def mon(tmp_path):
    (tmp_path / "exits").mkdir()
    return Monitor(Runc(tmp_path / "runc"), exit_dir=tmp_path / "exits")


def test_the_waiter_returns_the_code_conmon_renames_in(mon):
    def conmon_writes_exit():  # what conmon's g_file_set_contents does
        tmp = mon.exit_dir / f"{CID}.XYZ123"
        tmp.write_text("137")
        os.rename(tmp, mon.exit_dir / CID)
    writer = threading.Timer(0.05, conmon_writes_exit)
    writer.start()
    assert mon.wait_exit(CID, timeout=10) == 137
    writer.join()


def test_a_code_already_recorded_is_returned_without_waiting(mon):
    (mon.exit_dir / CID).write_text("42")
    assert mon.wait_exit(CID, timeout=0) == 42


def test_no_exit_within_the_timeout_is_a_timeout_error(mon):
    with pytest.raises(TimeoutError, match="still running"):
        mon.wait_exit(CID, timeout=0.05)
