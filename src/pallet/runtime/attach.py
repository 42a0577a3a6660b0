"""Attaching to a running container through conmon's attach socket (``docker attach``, ``run -it``).

Owns: the client side of conmon's attach protocol (`Attachment`) and conmon's resize message.
The socket (``monitor.attach_path(bundle)``) is SEQPACKET; every packet conmon sends is one
frame whose first byte names the stream (2 stdout, 3 stderr; a terminal's output all
arrives as stdout) and the rest is data. Whatever we send is raw stdin for the
container (conmon was started with ``-i``); shutting down our write side closes the
container's stdin, but for a terminal's (conmon's --leave-stdin-open: Docker never
closes a TTY's stdin when an attach ends). conmon closes the socket when the container
exits. With a terminal, the detach keys (`runtime.escape`) end the relay and leave the
container running.
Connect before ``start`` to miss no output. Imports only the stdlib: `_socket` and
`select.poll` rather than `socket` and `selectors`, whose enum tables cost every
foreground `run` ~3 ms for one Unix socket.
"""
from __future__ import annotations

import os
import select
from pathlib import Path
TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: importing typing costs ~3 ms per command
    from socket import socket
    from typing import BinaryIO
    from .escape import EscapeProxy

from pallet.errors import NotFound
from pallet.runtime.escape import pass_on

STDIN_FRAME, STDOUT_FRAME, STDERR_FRAME = 1, 2, 3
FRAME_MAX = 65536
WIN_RESIZE_EVENT = 1


def connect(attach_path: Path) -> socket:
    """A connection to conmon's attach socket; NotFound if the container has no monitor."""
    import _socket
    sock = _socket.socket(_socket.AF_UNIX, _socket.SOCK_SEQPACKET)
    dir_fd = -1
    try:
        # sun_path holds 108 bytes; like conmon's own bind, reach the socket through
        # /proc/self/fd/N of its directory so that long --runroot paths work.
        dir_fd = os.open(Path(attach_path).parent, os.O_RDONLY | os.O_DIRECTORY)
        sock.connect(f"/proc/self/fd/{dir_fd}/{Path(attach_path).name}")
    except (FileNotFoundError, ConnectionRefusedError, NotADirectoryError) as exc:
        sock.close()
        raise NotFound(f"container is not running: no attach socket at {attach_path}") from exc
    finally:
        if dir_fd >= 0:
            os.close(dir_fd)
    return sock


def relay(sock: socket, stdout: BinaryIO, stderr: BinaryIO,
          stdin: BinaryIO | None = None, escape: EscapeProxy | None = None) -> bool:
    """Copy frames to stdout/stderr and our stdin to the container until conmon hangs up
    (False) or `escape` reads the detach sequence on stdin (True: the container runs on,
    its stdin left open for the next attach)."""
    poller = select.poll()
    sock_fd = sock.fileno()
    poller.register(sock_fd, select.POLLIN)
    stdin_fd = stdin.fileno() if stdin is not None else None
    if stdin_fd is not None:
        poller.register(stdin_fd, select.POLLIN)
    while True:
        for fd, _events in poller.poll():
            if fd == stdin_fd:
                data = os.read(stdin_fd, FRAME_MAX)
                if data:
                    if pass_on(escape, data, sock.sendall):
                        return True
                else:
                    poller.unregister(stdin_fd)
                    stdin_fd = None
                    sock.shutdown(1)  # SHUT_WR: the container's stdin reaches EOF
                continue
            frame = sock.recv(FRAME_MAX + 1)
            if not frame:
                return False
            out = stderr if frame[0] == STDERR_FRAME else stdout
            out.write(frame[1:])
            out.flush()


def resize(bundle: Path, height: int, width: int) -> None:
    """Tell conmon the terminal's size (its ``ctl`` fifo), as the CLI does on SIGWINCH."""
    fd = os.open(Path(bundle) / "ctl", os.O_WRONLY | os.O_NONBLOCK)
    try:
        os.write(fd, f"{WIN_RESIZE_EVENT} {height} {width}\n".encode())
    finally:
        os.close(fd)


class Attachment:
    """One connection to a running container's stdio, as the edges use it: relay the
    streams, pass on the size of the terminal they are shown in, close."""

    def __init__(self, sock: socket, bundle: Path, *, open_stdin: bool = False, tty: bool = False):
        self.sock, self.bundle = sock, bundle
        self.open_stdin, self.tty = open_stdin, tty

    def relay(self, stdout: BinaryIO, stderr: BinaryIO, stdin: BinaryIO | None = None,
              detach_keys: bytes | None = None) -> bool:
        """Relay until the container's streams end (False) or, with a terminal, the user
        types `detach_keys` (True; `opts.detachkeys`, default ctrl-p,ctrl-q)."""
        stdin = stdin if self.open_stdin else None
        escape = None
        if self.tty and stdin is not None:  # Docker watches for the keys only on a terminal
            from .escape import EscapeProxy
            from ..opts.detachkeys import DEFAULT_DETACH_KEYS
            escape = EscapeProxy(DEFAULT_DETACH_KEYS if detach_keys is None else detach_keys)
        return relay(self.sock, stdout, stderr, stdin, escape)

    def resize(self, height: int, width: int) -> None:
        """The terminal is now `height` x `width`; nothing if the container has gone."""
        try:
            resize(self.bundle, height, width)
        except OSError:
            pass

    def close(self) -> None:
        self.sock.close()

    def __enter__(self) -> Attachment:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
