"""HTTP on one connection: h11 events in, a Request to dispatch, a Response's bytes out.

Owns: HTTP/1.1 framing through h11 (no hand-written parser), keep-alive, whole and
chunked answers, Docker's common headers, and hijacking (101 UPGRADED, then the raw
socket belongs to the handler). `Connection` is a connection in a thread of its own
(blocking reads); pallet.api.loop drives the same h11 state without one.
"""
from __future__ import annotations

import socket
from urllib.parse import unquote

import h11

from .wire import Request, Response

MAX_HEADER = 64 * 1024
RECV = 65536


class Connection:
    """One client connection: requests in turn (keep-alive) until close or hijack."""

    def __init__(self, service, sock: socket.socket, h: h11.Connection | None = None):
        self.service, self.sock = service, sock
        self.h = h or h11.Connection(h11.SERVER, max_incomplete_event_size=MAX_HEADER)
        self.hijacked = False

    def _next(self):
        while True:
            event = self.h.next_event()
            if event is h11.NEED_DATA:
                self.h.receive_data(self.sock.recv(RECV))
                continue
            return event

    def _send(self, event) -> None:
        data = self.h.send(event)
        if data:
            self.sock.sendall(data)

    def run(self, first: h11.Request | None = None) -> bool:
        """Answer requests until the connection ends (False) or, once one is answered, give
        the connection back to the service's loop (True)."""
        while True:
            if first is not None:
                event, first = first, None
            else:
                try:
                    event = self._next()
                except h11.RemoteProtocolError as exc:
                    self._refuse(exc)
                    return False
            if not isinstance(event, h11.Request):
                return False  # closed, or paused at a protocol switch
            self._handle(event)
            if self.hijacked or self.h.our_state is h11.MUST_CLOSE:
                return False
            try:
                self._drain()
                self.h.start_next_cycle()
            except (h11.ProtocolError, OSError):
                return False
            if self.service.loop is not None:
                self.service.loop.adopt(self.sock, self.h)
                return True

    def _drain(self) -> None:
        """Read what is left of a request body the handler did not read."""
        while self.h.their_state is h11.SEND_BODY:
            self._next()
        if self.h.their_state is h11.DONE and self.h.our_state is h11.DONE:
            return
        while self.h.their_state not in (h11.DONE, h11.MUST_CLOSE, h11.CLOSED):
            self._next()

    def _refuse(self, exc) -> None:
        if self.h.our_state in (h11.IDLE, h11.SEND_RESPONSE):
            status = getattr(exc, "error_status_hint", 400)
            body = b'{"message":"bad request"}\n'
            self._send(h11.Response(status_code=status, reason=_reason(status), headers=[
                ("Content-Type", "application/json"), ("Content-Length", str(len(body))),
                ("Connection", "close")]))
            self._send(h11.Data(data=body))
            self._send(h11.EndOfMessage())

    def _body(self):
        while True:
            event = self._next()
            if isinstance(event, h11.Data):
                yield bytes(event.data)
            elif isinstance(event, h11.EndOfMessage):
                return
            else:
                return

    def request(self, event: h11.Request) -> Request:
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in event.headers}
        target = event.target.decode("latin-1")
        path, _, query = target.partition("?")
        path = unquote(path, errors="replace")  # a name that is not UTF-8 names nothing: 404
        self.service.touch(0)
        return Request(event.method.decode("latin-1"), path, query, headers, self._body, "",
                       hijacker=self._hijack)

    def _handle(self, event: h11.Request) -> None:
        req = self.request(event)
        response = self.service.router.dispatch(req, self.service.engine)
        if response.status == 0:  # the handler took the socket
            return
        self._respond(req, response)

    def _respond(self, req: Request, resp: Response) -> None:
        if not resp.streaming:
            self.sock.sendall(encode_response(self.h, req, resp))  # one write: head and body
            return
        self._send(h11.Response(status_code=resp.status, headers=_headers(resp),  # flushed at once
                                reason=_reason(resp.status)))
        try:
            for chunk in resp.body:
                if chunk:
                    self._send(h11.Data(data=chunk))
        finally:
            close = getattr(resp.body, "close", None)
            if close:
                close()
        self._send(h11.EndOfMessage())

    def _hijack(self, content_type: str):
        """Answer the upgrade and hand over the raw socket (see Request.hijack)."""
        # the request body (exec start's JSON) must be read before h11 lets us switch
        while self.h.their_state is h11.SEND_BODY:
            self._next()
        headers = [("Content-Type", content_type), ("Api-Version", _api_version())]
        if self.h.their_state is h11.MIGHT_SWITCH_PROTOCOL:
            self._send(h11.InformationalResponse(status_code=101, reason=b"UPGRADED", headers=headers + [
                ("Connection", "Upgrade"), ("Upgrade", "tcp")]))
            leftover = self.h.trailing_data[0]
        else:
            # a client that did not ask to upgrade gets Docker's 200 and then the raw stream,
            # unframed: h11 has no way to say that, so this head is written as dockerd writes it
            self.sock.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: " + content_type.encode() +
                              b"\r\nConnection: close\r\n\r\n")
            leftover = self.h.trailing_data[0]
        self.hijacked = True
        return self.sock, bytes(leftover)


_COMMON_HEADERS: tuple = ()


def _headers(resp: Response) -> list[tuple[str, str]]:
    global _COMMON_HEADERS
    if not _COMMON_HEADERS:
        _COMMON_HEADERS = (("Api-Version", _api_version()), ("Docker-Experimental", "false"),
                           ("Ostype", "linux"), ("Server", f"pallet/{_version()} (linux)"))
    return [*_COMMON_HEADERS, *resp.headers.items()]


def encode_response(h: h11.Connection, req: Request, resp: Response) -> bytes:
    """A whole (not streamed) answer as the bytes to write: head and body at once."""
    headers = _headers(resp)
    empty = resp.status in (204, 304)
    if not empty:
        headers.append(("Content-Length", str(len(resp.body))))
    data = h.send(h11.Response(status_code=resp.status, headers=headers, reason=_reason(resp.status)))
    if resp.body and req.method != "HEAD" and not empty:
        data += h.send(h11.Data(data=resp.body))
    return data + h.send(h11.EndOfMessage())


_REASONS: dict[int, bytes] = {}


def _reason(status: int) -> bytes:
    reason = _REASONS.get(status)
    if reason is None:
        from http import HTTPStatus
        try:
            reason = HTTPStatus(status).phrase.encode()
        except ValueError:
            reason = b""
        _REASONS[status] = reason
    return reason


def _api_version() -> str:
    from .router import API_VERSION
    return API_VERSION


def _version() -> str:
    from .. import __version__
    return __version__
