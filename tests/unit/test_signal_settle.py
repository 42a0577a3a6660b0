"""`stop` right after `run -d`: the container's init, its pid namespace's init, drops a
signal it neither catches nor blocks, so pallet waits (briefly) for the handlers before it
signals. Until the command is executed, the init is still runc's (named `runc:[2:INIT]`),
whose Go runtime would take a SIGTERM and exit 2: nothing is sent before the exec."""
from __future__ import annotations

import signal
import subprocess
import sys
import time

from pallet.runtime.runc import _let_handlers_settle

# a stand-in for runc's init: named as runc names it, slow to exec (a loaded host), then a
# shell that traps SIGTERM as a polite container's init does
SLOW_INIT = r"""
import os, time
from pallet import libc
libc._call("prctl", 15, b"runc:[2:INIT]", 0, 0, 0)   # PR_SET_NAME
time.sleep(0.4)
os.execv("/bin/sh", ["sh", "-c", "trap 'exit 143' TERM; while :; do sleep 0.01; done"])
"""


def _named(pid: int) -> str:
    with open(f"/proc/{pid}/status") as f:
        return f.readline().split(":", 1)[1].strip()


def test_the_signal_waits_for_the_exec_and_the_handler_of_a_slow_starting_init():
    child = subprocess.Popen([sys.executable, "-c", SLOW_INIT])
    try:
        deadline = time.monotonic() + 10
        while _named(child.pid) != "runc:[2:INIT]":  # as runc's clone is named from the start
            assert time.monotonic() < deadline and child.poll() is None
            time.sleep(0.005)
        _let_handlers_settle(child.pid, signal.SIGTERM)
        child.send_signal(signal.SIGTERM)
        assert child.wait(10) == 143  # not -15: it was not sent to runc's init
    finally:
        child.kill()
        child.wait()


def test_a_process_that_never_handles_the_signal_gets_it_once_settled():
    child = subprocess.Popen(["sleep", "100"])
    try:
        _let_handlers_settle(child.pid, signal.SIGTERM)
        child.send_signal(signal.SIGTERM)
        assert child.wait(10) == -signal.SIGTERM
    finally:
        child.kill()
        child.wait()
