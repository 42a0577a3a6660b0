"""HTTP/1.1 to an Engine API endpoint: h11 over a unix:// or tcp:// socket (TLS when the
context carries certificates), one connection per request (a unix connect costs ~20 µs).

Owns: the endpoint's address, request encoding, streamed response bodies, the hijack of
attach/exec start (`101 UPGRADED`: the raw socket and what came after the headers), and
the one mapping from an error answer to the PalletError tree (`_error`):

    connection refused / no socket -> Unavailable ("Cannot connect to the Docker daemon at …")
    a connection broken mid-answer, an answer that is not HTTP or not JSON -> Unavailable
    unreadable TLS files -> InvalidArgument
    400 InvalidArgument, 401 Denied, 404 NotFound, 409 Conflict, 304 NotModified,
    501 NotImplemented, 503 Unavailable, anything else PalletError; the message is dockerd's

Paths are unversioned: dockerd and pallet both read them as their newest API version.
"""
from __future__ import annotations

import json
import socket
from urllib.parse import quote, urlencode

from ..errors import (Conflict, Denied, InvalidArgument, NotFound, NotImplemented, NotModified,
                      PalletError, Unavailable)

CHUNK = 65536
_BY_STATUS = {400: InvalidArgument, 401: Denied, 403: Denied, 404: NotFound, 409: Conflict,
              304: NotModified, 501: NotImplemented, 503: Unavailable}


def path_of(template: str, *parts: str) -> str:
    """`/containers/{}/json` with each part quoted as one path segment."""
    return template.format(*(quote(p, safe="") for p in parts))


class Response:
    """Status, headers, and the body as chunks (read once)."""

    def __init__(self, status: int, headers: dict, conn, sock):
        self.status, self.headers, self._conn, self.sock = status, headers, conn, sock

    def chunks(self):
        import h11
        try:
            while True:
                event = self._next()
                if isinstance(event, h11.Data):
                    yield bytes(event.data)
                elif isinstance(event, (h11.EndOfMessage, h11.ConnectionClosed)):
                    return
        finally:
            self.close()

    def _next(self):
        """The next h11 event; a connection the engine breaks mid-answer is Unavailable."""
        import h11
        try:
            while True:
                event = self._conn.next_event()
                if event is h11.NEED_DATA:
                    self._conn.receive_data(self.sock.recv(CHUNK))
                    continue
                return event
        except (OSError, h11.RemoteProtocolError) as exc:
            self.close()
            raise Unavailable(f"error reading from the engine: {exc or type(exc).__name__}") from exc

    def read(self) -> bytes:
        return b"".join(self.chunks())

    def json(self):
        body = self.read()
        try:
            return json.loads(body) if body else None
        except ValueError as exc:
            raise Unavailable(f"the engine answered something that is not JSON: {body[:80]!r}") from exc

    def lines(self):
        """A JSON-lines body (pull progress, build output), one decoded object at a time."""
        buf = b""
        for chunk in self.chunks():
            buf += chunk
            while b"\n" in buf:
                line, buf = buf.split(b"\n", 1)
                if line.strip():
                    yield json.loads(line)
        if buf.strip():
            yield json.loads(buf)

    def close(self) -> None:
        try:
            self.sock.close()
        except OSError:
            pass


class TLS:
    """A context's TLS material ({"ca", "cert", "key", "verify"}: file paths) as an SSL context."""

    def __init__(self, material: dict):
        import ssl
        self.context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        try:
            if material.get("ca"):
                self.context.load_verify_locations(material["ca"])
            else:
                self.context.load_default_certs()
            if material.get("cert") and material.get("key"):
                self.context.load_cert_chain(material["cert"], material["key"])
        except (OSError, ssl.SSLError) as exc:
            raise InvalidArgument(f"could not read TLS material: {exc}") from None
        if not material.get("verify", True):
            self.context.check_hostname = False
            self.context.verify_mode = ssl.CERT_NONE

    def wrap(self, sock: socket.socket, hostname: str) -> socket.socket:
        return self.context.wrap_socket(sock, server_hostname=hostname)


class Transport:
    def __init__(self, host: str, tls: dict | None = None):
        self.host = host
        self.tls = TLS(tls) if tls else None

    def _connect(self) -> socket.socket:
        try:
            if self.host.startswith("unix://"):
                sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                sock.connect(self.host[len("unix://"):])
                return sock
            if self.host.startswith("tcp://"):
                address, _, port = self.host[len("tcp://"):].rstrip("/").rpartition(":")
                sock = socket.create_connection((address.strip("[]"), int(port or 2375)))
                return self.tls.wrap(sock, address.strip("[]")) if self.tls else sock
        except (OSError, ValueError) as exc:
            raise Unavailable(f"Cannot connect to the Docker daemon at {self.host}. "
                              f"Is the docker daemon running?") from exc
        raise InvalidArgument(f"unable to parse docker host `{self.host}`: only unix:// and tcp:// "
                              "endpoints are supported")

    def request(self, method: str, path: str, params: dict | None = None, body=None,
                headers: dict | None = None, ok=(200, 201, 204), upgrade: bool = False) -> Response:
        """Send one request; an error status raises (`ok` lists the statuses that do not)."""
        import h11
        query = {k: list(v) if isinstance(v, tuple) else _query_value(v)  # a tuple: repeated (`t`)
                 for k, v in (params or {}).items() if v is not None}
        target = path + ("?" + urlencode(query, doseq=True) if query else "")
        data, content_type = _encode(body)
        head = [("Host", "docker"), ("User-Agent", "pallet")]
        if content_type:
            head.append(("Content-Type", content_type))
        if upgrade:
            head += [("Connection", "Upgrade"), ("Upgrade", "tcp")]
        head += list((headers or {}).items())
        streamed = data is not None and not isinstance(data, bytes)
        head.append(("Transfer-Encoding", "chunked") if streamed else ("Content-Length", str(len(data or b""))))
        sock = self._connect()
        conn = h11.Connection(h11.CLIENT)
        try:
            sock.sendall(conn.send(h11.Request(method=method, target=target, headers=head)))
            for chunk in ([data] if isinstance(data, bytes) else data or []):
                if chunk:
                    sock.sendall(conn.send(h11.Data(data=chunk)))
            sock.sendall(conn.send(h11.EndOfMessage()))
            resp = Response(0, {}, conn, sock)
            event = resp._next()
            while isinstance(event, h11.InformationalResponse) and event.status_code != 101:
                event = resp._next()
        except (OSError, h11.LocalProtocolError) as exc:
            sock.close()
            raise Unavailable(f"error during connect: {method} {self.host}{path}: {exc}") from exc
        resp.status = event.status_code
        resp.headers = {k.decode().lower(): v.decode() for k, v in event.headers}
        if resp.status not in ok and resp.status != 101:
            raise _error(resp)
        return resp

    def hijack(self, method: str, path: str, params: dict | None = None, body=None):
        """attach / exec start: (raw socket, bytes already read past the headers)."""
        resp = self.request(method, path, params, body, upgrade=True, ok=(101, 200))
        conn = resp._conn
        if resp.status == 101:
            leftover = bytes(conn.trailing_data[0])
        else:  # an old daemon that answers 200 and streams on the same connection
            leftover = bytes(conn.trailing_data[0]) if conn.trailing_data else b""
        return resp.sock, leftover

    def call(self, method: str, path: str, params: dict | None = None, body=None, **kw):
        """A whole JSON answer (None when empty)."""
        return self.request(method, path, params, body, **kw).json()


def _query_value(value):
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, (dict, list)):
        return json.dumps(value, separators=(",", ":"))
    return str(value)


def _encode(body):
    if body is None:
        return None, None
    if isinstance(body, (dict, list)):
        return json.dumps(body).encode(), "application/json"
    if isinstance(body, bytes):
        return body, "application/octet-stream"
    return body, "application/x-tar"  # an iterator of chunks: a build context, a tar to load


def _error(resp: Response) -> PalletError:
    cls = _BY_STATUS.get(resp.status, PalletError)
    if resp.status == 304:
        resp.close()
        return NotModified("not modified")
    try:
        doc = resp.json()
        message = doc.get("message") if isinstance(doc, dict) else None
    except Unavailable:
        message = None
    return cls(message or f"the engine answered {resp.status}")
