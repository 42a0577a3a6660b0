"""The service's event loop: every connection between requests, and the quick requests.

Owns: accepting connections, reading requests through h11 without a thread per
connection, answering the routes marked `quick` (reads of the store that return at
once: ping, version, inspect, lists) in this one thread, and handing a connection to a
thread of its own (server.Connection) for any other request. A long stream, a hijack,
a wait, a pull or a build blocks only its own thread, which gives the connection back
here when its request is done (keep-alive).

Why: with a thread per connection, 50 clients polling `inspect` were 50 threads taking
turns at the GIL, each request handing it over a dozen times (recv, each SQLite step,
each send): ~35 futex calls and ~0.5 ms of CPU per request, 2,200 requests/s. One
thread answering quick requests in turn never waits for the GIL. TLS connections keep a
thread each (see Service.serve): a non-blocking TLS handshake is not worth its code here.
"""
from __future__ import annotations

import collections
import errno
import selectors
import socket
import threading
import time

import h11

MAX_PIPELINED = 64  # requests answered for one connection before others get a turn


class Loop:
    def __init__(self, service):
        self.service = service
        self.selector = selectors.DefaultSelector()
        self.wake_r, self.wake_w = socket.socketpair()
        self.wake_r.setblocking(False)
        self.returned: collections.deque = collections.deque()  # (socket, h11) from threads
        self.clients: dict[int, _Client] = {}
        self.thread_id = threading.get_ident()

    def adopt(self, sock: socket.socket, h: h11.Connection) -> None:
        """A connection thread's request is done: its connection waits here for the next."""
        self.returned.append((sock, h))
        try:
            self.wake_w.send(b"\0")
        except OSError:
            pass  # the loop has ended; the socket is closed with the process

    def run(self) -> None:
        """Serve until stopping or idle (Service.idle_expired)."""
        svc = self.service
        svc.listener.setblocking(False)
        self.selector.register(svc.listener, selectors.EVENT_READ, "accept")
        self.selector.register(self.wake_r, selectors.EVENT_READ, "wake")
        try:
            while not svc.stopping.is_set():
                events = self.selector.select(0.25)
                if not events:
                    if svc.idle_expired():
                        return
                    svc.trim_when_idle()
                for key, mask in events:
                    if key.data == "accept":
                        self._accept()
                    elif key.data == "wake":
                        self._take_returned()
                    else:
                        self._ready(key.data, mask)
        finally:
            for client in list(self.clients.values()):
                client.close()
            self.selector.close()
            self.wake_r.close()
            self.wake_w.close()

    @staticmethod
    def _ready(client: "_Client", mask: int) -> None:
        try:
            client.ready(mask)
        except Exception:  # noqa: BLE001 - a bug answering one client must not end the service
            import sys
            import traceback
            traceback.print_exc(file=sys.stderr)
            client.close()

    def _accept(self) -> None:
        for _ in range(64):
            try:
                sock, _addr = self.service.listener.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError as exc:
                if exc.errno == errno.ECONNABORTED:
                    continue
                if exc.errno in (errno.EMFILE, errno.ENFILE):
                    time.sleep(0.05)  # out of descriptors: not a busy loop until some close
                    return
                raise
            self.service.touch(+1)
            self._watch(sock, h11.Connection(h11.SERVER, max_incomplete_event_size=_max_header()))

    def _take_returned(self) -> None:
        try:
            while self.wake_r.recv(4096):
                pass
        except (BlockingIOError, InterruptedError):
            pass
        while self.returned:
            sock, h = self.returned.popleft()
            self._ready(self._watch(sock, h), 0)  # it may hold a pipelined request already

    def _watch(self, sock: socket.socket, h: h11.Connection) -> "_Client":
        sock.setblocking(False)
        client = self.clients[sock.fileno()] = _Client(self, sock, h)
        self.selector.register(sock, selectors.EVENT_READ, client)
        return client

    def release(self, client: "_Client") -> None:
        """Stop watching `client`'s socket (closed, or handed to a thread)."""
        self.clients.pop(client.fd, None)
        try:
            self.selector.unregister(client.sock)
        except (KeyError, ValueError, OSError):
            pass


class _Client:
    """One connection while it belongs to the loop: bytes in, h11 events, bytes out."""

    def __init__(self, loop: Loop, sock: socket.socket, h: h11.Connection):
        self.loop, self.sock, self.h = loop, sock, h
        self.fd = sock.fileno()
        self.out = b""

    def ready(self, mask: int) -> None:
        try:
            if mask & selectors.EVENT_WRITE:
                self._flush()
            if mask & selectors.EVENT_READ and not self.out:
                data = self.sock.recv(65536)
                self.h.receive_data(data)
                if not data and self.h.their_state is h11.IDLE:
                    self.close()  # the client hung up between requests
                    return
            self.serve()
        except (BlockingIOError, InterruptedError):
            pass
        except (OSError, h11.LocalProtocolError):
            self.close()

    def serve(self) -> None:
        """Answer whole requests already received, until one needs a thread or more bytes."""
        from .connection import Connection, encode_response
        for _ in range(MAX_PIPELINED):
            if self.out or self.sock.fileno() < 0:
                return
            try:
                event = self.h.next_event()
            except h11.RemoteProtocolError as exc:
                self._hand_off(None, refuse=exc)
                return
            if event is h11.NEED_DATA:
                return
            if not isinstance(event, h11.Request):
                self.close()  # closed, or h11 paused on a protocol switch it cannot make
                return
            service = self.loop.service
            route = service.router.quick(event)
            if route is None or _has_body(event):
                self._hand_off(event)
                return
            self.h.next_event()  # the request's EndOfMessage (it has no body: it is here)
            req = Connection(service, self.sock, self.h).request(event)
            self.out = encode_response(self.h, req, service.router.dispatch(req, service.engine, route))
            self._flush()
            if self.h.our_state is h11.MUST_CLOSE:
                if not self.out:
                    self.close()
                return
            self.h.start_next_cycle()
        self.loop.selector.modify(self.sock, selectors.EVENT_READ | selectors.EVENT_WRITE, self)

    def _flush(self) -> None:
        if self.out:
            sent = self.sock.send(self.out)
            self.out = self.out[sent:]
        if self.out:
            self.loop.selector.modify(self.sock, selectors.EVENT_WRITE, self)
            return
        self.loop.selector.modify(self.sock, selectors.EVENT_READ, self)
        if self.h.our_state is h11.MUST_CLOSE:
            self.close()

    def _hand_off(self, event, refuse=None) -> None:
        """This request needs a thread of its own (it may block): the connection goes with it."""
        self.loop.release(self)
        self.sock.setblocking(True)
        threading.Thread(target=self.loop.service.connection_thread, args=(self.sock, self.h, event, refuse),
                         daemon=True).start()

    def close(self) -> None:
        if self.sock.fileno() < 0:
            return
        self.loop.release(self)
        try:
            self.sock.close()
        finally:
            self.loop.service.touch(-1)


def _has_body(event: h11.Request) -> bool:
    for name, value in event.headers:
        if name == b"transfer-encoding" or (name == b"content-length" and value.strip() != b"0"):
            return True
    return False


def _max_header() -> int:
    from .connection import MAX_HEADER
    return MAX_HEADER
