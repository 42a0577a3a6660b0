"""The bytes of a hijacked attach or exec: Docker's stdcopy frames (no TTY) or raw bytes
(TTY) out, the user's input in, the detach keys watched on a terminal.

`RemoteAttachment` has the face of `runtime.attach.Attachment` (relay, resize, tty, close),
so `run`, `start -a`, `exec -it` relay a remote container with the CLI's own terminal code.
The escape proxy is the core's (`runtime.escape`), the one the local relay uses.
"""
from __future__ import annotations

import os
import select
import socket
import struct

from ..runtime.escape import pass_on

BUF = 65536


class Demux:
    """Feed stdcopy bytes; whole frames go to stdout or stderr (a TTY stream goes as it is)."""

    def __init__(self, stdout, stderr, tty: bool):
        self.stdout, self.stderr, self.tty, self.buf = stdout, stderr, tty, b""

    def feed(self, data: bytes) -> None:
        if self.tty:
            _write(self.stdout, data)
            return
        self.buf += data
        while len(self.buf) >= 8:
            stream, size = struct.unpack(">BxxxL", self.buf[:8])
            if len(self.buf) < 8 + size:
                return
            payload, self.buf = self.buf[8:8 + size], self.buf[8 + size:]
            _write(self.stderr if stream == 2 else self.stdout, payload)


def frames(chunks, tty: bool):
    """(stream number, payload) of a stdcopy body (a logs answer); TTY bodies are stream 1."""
    buf = b""
    for chunk in chunks:
        if tty:
            yield 1, chunk
            continue
        buf += chunk
        while len(buf) >= 8:
            stream, size = struct.unpack(">BxxxL", buf[:8])
            if len(buf) < 8 + size:
                break
            yield stream, buf[8:8 + size]
            buf = buf[8 + size:]


def _write(stream, data: bytes) -> None:
    if stream is None or not data:
        return
    stream.write(data)
    stream.flush()


def relay(sock: socket.socket, leftover: bytes, demux: Demux, stdin=None, escape=None) -> bool:
    """Until the engine closes the stream (False) or the detach keys are read (True). Our
    stdin's end is a half-close (CloseWrite), which ends the process's input over there."""
    demux.feed(leftover)
    poller = select.poll()
    poller.register(sock.fileno(), select.POLLIN)
    stdin_fd = _fileno(stdin)
    if stdin_fd is not None:
        poller.register(stdin_fd, select.POLLIN)
    elif stdin is not None:  # a stream without a descriptor (in-process callers): send it all
        sock.sendall(stdin.read() or b"")
        sock.shutdown(socket.SHUT_WR)
    while True:
        for fd, _ev in poller.poll():
            if fd == stdin_fd:
                data = os.read(stdin_fd, BUF)
                if not data:
                    poller.unregister(stdin_fd)
                    stdin_fd = None
                    sock.shutdown(socket.SHUT_WR)
                    continue
                if pass_on(escape, data, sock.sendall):
                    return True
                continue
            try:
                data = sock.recv(BUF)
            except ConnectionResetError:
                data = b""
            if not data:
                return False
            demux.feed(data)


def _fileno(stream) -> int | None:
    if stream is None:
        return None
    try:
        return stream.fileno()
    except (AttributeError, OSError, ValueError):
        return None


class RemoteAttachment:
    """A hijacked attach or exec stream; `resize` posts the size to `resize_path`."""

    def __init__(self, transport, sock: socket.socket, leftover: bytes, *, tty: bool,
                 open_stdin: bool, resize_path: str):
        self.transport, self.sock, self.leftover = transport, sock, leftover
        self.tty, self.open_stdin, self.resize_path = tty, open_stdin, resize_path

    def relay(self, stdout, stderr, stdin=None, detach_keys: bytes | None = None) -> bool:
        stdin = stdin if self.open_stdin else None
        escape = None
        if self.tty and stdin is not None:  # Docker watches for the keys only on a terminal
            from ..opts.detachkeys import DEFAULT_DETACH_KEYS
            from ..runtime.escape import EscapeProxy
            escape = EscapeProxy(DEFAULT_DETACH_KEYS if detach_keys is None else detach_keys)
        leftover, self.leftover = self.leftover, b""
        return relay(self.sock, leftover, Demux(stdout, stderr, self.tty), stdin, escape)

    def resize(self, height: int, width: int) -> None:
        from ..errors import PalletError
        try:
            self.transport.request("POST", self.resize_path, {"h": height, "w": width})
        except PalletError:
            pass  # it has gone: nothing to size

    def close(self) -> None:
        try:
            self.sock.close()
        except OSError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def piped_chunks(write):
    """Chunks of what `write(out)` writes (a tar made on the fly, sent as a request body)."""
    from ..archive.unpack import piped
    with piped(write) as reader:
        while chunk := reader.read(BUF):
            yield chunk
