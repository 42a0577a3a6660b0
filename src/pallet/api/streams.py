"""Relays of a hijacked connection: a container's stdio to and from a client's raw socket.

Owns the byte plumbing only: conmon's attach frames (stream byte + data) become raw
bytes (TTY) or stdcopy frames (no TTY); what the client sends is the container's
stdin, and the client's half-close (CloseWrite) closes it. When the container's
side ends, the client's connection is shut down, which is how it learns the end.
"""
from __future__ import annotations

import os
import select
import socket
import threading

from .wire import STDERR, STDOUT, frame

CONMON_STDERR = 3
BUF = 65536


def relay_attach(conmon: socket.socket, client: socket.socket, leftover: bytes, *, tty: bool,
                 stdin: bool, stdout: bool = True, stderr: bool = True) -> None:
    """Until conmon hangs up (the container exited) or the client goes away."""
    if stdin and leftover:
        conmon.sendall(leftover)
    poller = select.poll()
    poller.register(conmon.fileno(), select.POLLIN)
    client_open = True
    poller.register(client.fileno(), select.POLLIN)
    try:
        while True:
            for fd, _ev in poller.poll():
                if fd == conmon.fileno():
                    packet = conmon.recv(BUF + 1)
                    if not packet:
                        return
                    is_err = packet[0] == CONMON_STDERR
                    if (is_err and not stderr) or (not is_err and not stdout):
                        continue
                    data = packet[1:]
                    client.sendall(data if tty else frame(STDERR if is_err else STDOUT, data))
                    continue
                data = client.recv(BUF)
                if data and stdin:
                    conmon.sendall(data)
                elif not data:  # half-close: the container's stdin ends; output still flows
                    poller.unregister(client.fileno())
                    client_open = False
                    if stdin:
                        conmon.shutdown(socket.SHUT_WR)
    except OSError:
        return  # the client went away mid-stream; the container is not ours to touch
    finally:
        _ = client_open
        conmon.close()
        end(client)


def end(client: socket.socket) -> None:
    """Tell the client the stream is over: shut down our side and close."""
    try:
        client.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass


def pump_stdin(client: socket.socket, leftover: bytes, write_fd: int) -> threading.Thread:
    """Client -> a process's stdin pipe, closing the pipe at the client's half-close."""
    def run():
        try:
            if leftover:
                os.write(write_fd, leftover)
            while True:
                data = client.recv(BUF)
                if not data:
                    return
                os.write(write_fd, data)
        except OSError:
            return
        finally:
            os.close(write_fd)
    t = threading.Thread(target=run, daemon=True)
    t.start()
    return t


def pump_output(read_fd: int, client: socket.socket, stream: int | None) -> threading.Thread:
    """A process's stdout or stderr pipe -> the client, framed unless `stream` is None (TTY)."""
    def run():
        try:
            while True:
                data = os.read(read_fd, BUF)
                if not data:
                    return
                client.sendall(data if stream is None else frame(stream, data))
        except OSError:
            return
        finally:
            os.close(read_fd)
    t = threading.Thread(target=run, daemon=True)
    t.start()
    return t


def piped(write):
    """Chunks of what `write(out)` writes to a file, run in a thread (a response body from a
    core call that writes a tar); a failure of the writer ends the stream early."""
    rfd, wfd = os.pipe()
    failure: list[BaseException] = []

    def run():
        try:
            with open(wfd, "wb", buffering=BUF) as out:
                write(out)
        except BrokenPipeError:
            pass
        except BaseException as exc:  # noqa: BLE001 - the answer began: the stream stops short
            failure.append(exc)
    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    with open(rfd, "rb", buffering=0) as reader:
        while True:
            chunk = reader.read(BUF)
            if not chunk:
                break
            yield chunk
    thread.join()
    if failure:
        raise failure[0]
