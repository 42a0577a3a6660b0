"""How a waiter learns a container's exit: conmon writes `exit_dir/<id>` (a temporary file
renamed in) the moment the process ends, and `Monitor.wait_exit` returns its code. The
waiter sleeps on an inotify watch of the exit dir, so it wakes when the file lands, not at
its next poll; where inotify is not to be had it polls, with the same answer."""
from __future__ import annotations

import os
import threading

import pytest

from pallet import libc
from pallet.runtime import monitor as monitor_mod
from pallet.runtime.monitor import Monitor
from pallet.runtime.runc import Runc

CID = "c0ffee" * 10 + "abcd"


def conmon_writes_exit(exit_dir, code: int, after: threading.Event) -> threading.Thread:
    """What conmon's g_file_set_contents does once `after` is set: a temporary file in the
    exit dir, renamed to the container's id."""
    def write():
        after.wait(5)
        tmp = exit_dir / f"{CID}.XYZ123"
        tmp.write_text(str(code))
        os.rename(tmp, exit_dir / CID)
    t = threading.Thread(target=write)
    t.start()
    return t


@pytest.fixture
def mon(tmp_path):
    (tmp_path / "exits").mkdir()
    return Monitor(Runc(tmp_path / "runc"), exit_dir=tmp_path / "exits")


def test_the_waiter_sleeps_on_the_exit_dir_and_wakes_when_the_file_is_renamed_in(mon, monkeypatch):
    selected, started = [], threading.Event()
    real_select = monitor_mod.select.select

    def select(r, w, x, timeout):
        selected.append(list(r))
        started.set()  # the watch is in place before conmon writes
        return real_select(r, w, x, timeout)
    monkeypatch.setattr(monitor_mod.select, "select", select)
    monkeypatch.setattr(monitor_mod.time, "sleep", lambda s: pytest.fail("polled with a watch in place"))
    writer = conmon_writes_exit(mon.exit_dir, 137, started)
    assert mon.wait_exit(CID, timeout=10) == 137
    writer.join()
    assert selected and all(len(fds) == 1 for fds in selected)


def test_without_inotify_the_waiter_polls_and_gets_the_same_code(mon, monkeypatch):
    def no_inotify(path, mask):
        raise OSError(24, "Too many open files")  # fs.inotify.max_user_instances used up
    monkeypatch.setattr(libc, "inotify_watch", no_inotify)
    started = threading.Event()
    started.set()
    writer = conmon_writes_exit(mon.exit_dir, 3, started)
    assert mon.wait_exit(CID, timeout=10) == 3
    writer.join()


def test_a_code_already_recorded_is_returned_without_waiting(mon):
    (mon.exit_dir / CID).write_text("42")
    assert mon.wait_exit(CID, timeout=0) == 42


def test_no_exit_within_the_timeout_is_a_timeout_error(mon):
    with pytest.raises(TimeoutError, match="still running"):
        mon.wait_exit(CID, timeout=0.05)


def test_the_watch_is_closed_after_the_wait(mon):
    before = set(os.listdir("/proc/self/fd"))
    (mon.exit_dir / CID).write_text("0")
    mon.wait_exit(CID, timeout=1)
    with pytest.raises(TimeoutError):
        mon.wait_exit("other" + CID[5:], timeout=0.02)
    assert set(os.listdir("/proc/self/fd")) <= before


def test_a_process_holds_at_most_a_few_watches_and_later_waits_poll(mon, monkeypatch):
    # inotify instances are counted per user (128 by default): the API service waiting on
    # many containers at once must not take them all from root's other programs
    held = [monitor_mod._exit_watch(mon.exit_dir) for _ in range(monitor_mod.WATCHES_MAX)]
    try:
        assert all(fd >= 0 for fd in held)
        assert monitor_mod._exit_watch(mon.exit_dir) == -1
        started = threading.Event()
        started.set()
        writer = conmon_writes_exit(mon.exit_dir, 5, started)
        assert mon.wait_exit(CID, timeout=10) == 5  # by polling
        writer.join()
    finally:
        for fd in held:
            monitor_mod._close_watch(fd)
    assert monitor_mod._watches[0] == 0
    fd = monitor_mod._exit_watch(mon.exit_dir)
    assert fd >= 0
    monitor_mod._close_watch(fd)
