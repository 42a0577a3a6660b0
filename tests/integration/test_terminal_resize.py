"""A terminal's size follows the user's window: `run -it`, `exec -it` and `attach` under a real pty.

pallet runs as a child of a pseudo-terminal (Python's pty module), as in a terminal
emulator; the test changes the window size on the pty, which sends SIGWINCH to pallet,
and reads `stty size` in the container, as Docker's CLI passes each resize on.
"""
from __future__ import annotations

import fcntl
import os
import pty
import select
import signal
import struct
import sys
import termios
import time

import pytest

from palletcli import Pallet


class Terminal:
    """`pallet ARGS...` on the slave side of a new pty; we hold the master."""

    def __init__(self, p: Pallet, *args: str, rows: int = 24, cols: int = 80):
        self.pid, self.fd = pty.fork()
        if self.pid == 0:  # the child: pallet in the terminal
            try:
                os.execv(sys.executable, [sys.executable, "-m", "pallet.cli.main", "--root", str(p.root),
                                          "--runroot", str(p.runroot), *args])
            finally:
                os._exit(127)
        self.resize(rows, cols)
        self.seen = b""

    def resize(self, rows: int, cols: int) -> None:
        """What a terminal emulator does when its window changes (the kernel sends SIGWINCH)."""
        fcntl.ioctl(self.fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))

    def send(self, text: str) -> None:
        os.write(self.fd, text.encode())

    def expect(self, wanted: str, timeout: float = 20.0) -> str:
        deadline = time.monotonic() + timeout
        while wanted.encode() not in self.seen:
            left = deadline - time.monotonic()
            assert left > 0, f"never saw {wanted!r}; the terminal showed {self.seen[-400:]!r}"
            if select.select([self.fd], [], [], left)[0]:
                try:
                    chunk = os.read(self.fd, 4096)
                except OSError:  # EIO: the child has gone
                    chunk = b""
                assert chunk, f"pallet ended before {wanted!r}; it showed {self.seen[-400:]!r}"
                self.seen += chunk
        before, _, self.seen = self.seen.partition(wanted.encode())
        return before.decode(errors="replace")

    def size_in_container(self) -> str:
        """`stty size` in the container's shell, between markers (the echo shows the command)."""
        self.send("echo S; stty size; echo E\r")
        self.expect("\nS")
        return self.expect("E").strip()

    def wait(self, timeout: float = 20.0) -> int:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                self.pid = 0
                return os.waitstatus_to_exitcode(status)
            if select.select([self.fd], [], [], 0.05)[0]:
                try:
                    os.read(self.fd, 4096)
                except OSError:
                    pass
        raise AssertionError("pallet did not exit")

    def close(self) -> None:
        if self.pid:
            os.kill(self.pid, signal.SIGKILL)
            os.waitpid(self.pid, 0)
        os.close(self.fd)


@pytest.fixture
def terminals():
    opened = []

    def open_terminal(*args, **kw) -> Terminal:
        opened.append(Terminal(*args, **kw))
        return opened[-1]
    yield open_terminal
    for t in opened:
        t.close()


def _shell_follows_resizes(t: Terminal) -> None:
    t.expect("# ")
    assert t.size_in_container() == "24 80"  # the size at start is passed on too
    t.resize(40, 132)
    time.sleep(0.2)  # the resize travels by signal and fifo, like the user's own
    assert t.size_in_container() == "40 132"
    t.resize(25, 90)
    time.sleep(0.2)
    assert t.size_in_container() == "25 90"


def test_run_it_follows_the_terminal_size(pallet, busybox, terminals):
    t = terminals(pallet, "run", "--rm", "-it", "--network", "none", "busybox", "sh")
    _shell_follows_resizes(t)
    t.send("exit 3\r")
    assert t.wait() == 3


def test_exec_it_follows_the_terminal_size(pallet, busybox, terminals):
    cid = pallet.ok("run", "-d", "--network", "none", "busybox", "sleep", "300").out.strip()
    t = terminals(pallet, "exec", "-it", cid, "sh")
    _shell_follows_resizes(t)
    t.send("exit\r")
    assert t.wait() == 0
    pallet.ok("rm", "-f", cid)


def test_attach_follows_the_terminal_size(pallet, busybox, terminals):
    cid = pallet.ok("run", "-dit", "--network", "none", "busybox", "sh").out.strip()
    t = terminals(pallet, "attach", cid)
    t.send("\r")  # the prompt was printed before we attached: ask for a new one
    _shell_follows_resizes(t)
    t.send("exit\r")
    assert t.wait() == 0
