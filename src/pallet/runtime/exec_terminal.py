"""`exec -it` through a terminal pallet holds: relayed, detachable, resizable.

runc exec with a terminal in the foreground relays the process's console to its own
stdio. Given the user's terminal, that leaves no place to watch for the detach keys,
so runc gets the slave side of a pty of ours as its stdio (its "host console"), in a
session of its own, and `ExecTerminal` relays the master side, as `attach.Attachment`
relays conmon's socket: same `relay`/`resize`/`tty` surface, so the edges treat both
alike. On detach the relay stops and runc carries on with the process; once pallet
has gone, runc's writes to the orphaned pty fail and the process runs on unwatched
(as an exec Docker detached from: its output goes nowhere).

runc's own stderr is dropped: its message is read from its --log file when the exec
fails (`wait`), and turned into Docker's words by `runc.translate_error` (the
`failure` runc hands in: this module does not import runc).
"""
from __future__ import annotations

import os
import select
import signal
import subprocess
from pathlib import Path

CHUNK = 65536


class ExecTerminal:
    tty = True
    open_stdin = True

    def __init__(self, argv: list[str], files: tuple[Path, Path, Path], failure,
                 size: tuple[int, int] | None, guard: bytes | None):
        """`files`: runc's (pid file, log file, process file); `failure()`: the error to
        raise when runc wrote no pid file (the process never started)."""
        from .syscall_guard import preexec
        self.files, self.failure = files, failure
        self.master, slave = os.openpty()
        try:
            if size:  # before runc starts: it copies its console's size once, at start
                _set_size(self.master, *size)
            self.proc = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=subprocess.DEVNULL,
                                         start_new_session=True, preexec_fn=preexec(guard))
        except BaseException:
            os.close(self.master)
            self._remove_files()
            raise
        finally:
            os.close(slave)  # runc holds the only slave: its exit is our EIO

    def relay(self, stdout, stderr, stdin=None, detach_keys: bytes | None = None) -> bool:
        """Copy the terminal's output to `stdout` and `stdin` to it until runc exits
        (False) or the user types the detach keys (True)."""
        from .escape import EscapeProxy
        from ..opts.detachkeys import DEFAULT_DETACH_KEYS
        escape = EscapeProxy(DEFAULT_DETACH_KEYS if detach_keys is None else detach_keys)
        poller = select.poll()
        poller.register(self.master, select.POLLIN)
        stdin_fd = stdin.fileno() if stdin is not None else None
        if stdin_fd is not None:
            poller.register(stdin_fd, select.POLLIN)
        while True:
            for fd, _events in poller.poll():
                if fd == stdin_fd:
                    typed = os.read(stdin_fd, CHUNK)
                    if not typed:  # our stdin ended; a terminal's input simply stops
                        poller.unregister(stdin_fd)
                        stdin_fd = None
                        continue
                    data, detached = escape.feed(typed)
                    if data:
                        _write_all(self.master, data)
                    if detached:
                        return True
                    continue
                try:
                    data = os.read(self.master, CHUNK)
                except OSError:  # EIO: runc has exited, no slave is left
                    data = b""
                if not data:
                    return False
                stdout.write(data)
                stdout.flush()

    def resize(self, height: int, width: int) -> None:
        """The user's terminal is now `height` x `width`: size our pty and tell runc
        (SIGWINCH), which resizes the process's own console, as it does for its terminal."""
        _set_size(self.master, height, width)
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGWINCH)

    def wait(self) -> int:
        """The command's exit code; Docker's error when it could not be started."""
        code = self.proc.wait()
        if not self.files[0].exists():
            raise self.failure()
        return code

    def close(self) -> None:
        """Let go of the terminal. After a detach runc runs on; its files go once the
        process has started (runc has read them) or runc has finished."""
        if self.master >= 0:
            os.close(self.master)
            self.master = -1
        if self.proc.poll() is not None or self.files[0].exists():
            self._remove_files()

    def _remove_files(self) -> None:
        for leftover in self.files:
            leftover.unlink(missing_ok=True)

    def __enter__(self) -> ExecTerminal:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _set_size(fd: int, height: int, width: int) -> None:
    import fcntl
    import struct
    import termios
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", height, width, 0, 0))


def _write_all(fd: int, data: bytes) -> None:
    while data:
        data = data[os.write(fd, data):]
