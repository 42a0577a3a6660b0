"""What a handler sees of HTTP: a Request to decode, a Response to return.

Owns: query-parameter decoding as dockerd reads it (booleans, integers, the
`filters` JSON), the JSON body (malformed or wrongly typed is 400, never 500),
and stdcopy framing (Docker's multiplexed stdout/stderr stream).
Imports nothing of h11: pallet.api.server reads and writes the connection.
"""
from __future__ import annotations

import json
import struct
from urllib.parse import parse_qs

from ..errors import InvalidArgument

STDIN, STDOUT, STDERR = 0, 1, 2
MAX_JSON_BODY = 16 * 1024 * 1024  # a JSON request body past this is refused, not buffered
RAW_STREAM = "application/vnd.docker.raw-stream"
MULTIPLEXED_STREAM = "application/vnd.docker.multiplexed-stream"


def frame(stream: int, data: bytes) -> bytes:
    """One stdcopy frame: [stream, 0, 0, 0, size (big-endian u32)] + data."""
    return struct.pack(">BxxxL", stream, len(data)) + data


class Request:
    """One request: method, path (version prefix stripped), query, headers, body."""

    def __init__(self, method: str, path: str, query: str, headers: dict[str, str],
                 body_reader, api_version: str, hijacker=None):
        self.method, self.path, self.headers = method, path, headers
        self.params = parse_qs(query, keep_blank_values=True)
        self.api_version = api_version
        self._body_reader = body_reader   # () -> iterator of bytes chunks
        self._hijacker = hijacker          # server callback: take the raw socket
        self._body: bytes | None = None

    # ---- query parameters ----
    def param(self, name: str, default: str | None = None) -> str | None:
        values = self.params.get(name)
        return values[-1] if values else default

    def params_list(self, name: str) -> list[str]:
        return self.params.get(name, [])

    def flag(self, name: str, default: bool = False) -> bool:
        """dockerd's BoolValue: absent -> default; "", "0", "no", "false", "none" -> false."""
        value = self.param(name)
        if value is None:
            return default
        return value.strip().lower() not in ("", "0", "no", "false", "none")

    def int_param(self, name: str, default: int | None = None) -> int | None:
        value = self.param(name)
        if value in (None, ""):
            return default
        try:
            return int(value)
        except ValueError:
            raise InvalidArgument(f"invalid value for {name}: {value!r} is not an integer") from None

    def registry_auth(self):
        """The X-Registry-Auth header as dockerd decodes it: base64url of a JSON AuthConfig
        (`username`/`password`, or `auth` = base64 "user:pass") as (username, password); None
        when absent or empty.
        Malformed is 400, in dockerd's words."""
        text = self.headers.get("x-registry-auth", "").strip()
        if not text:
            return None
        import base64
        try:
            doc = json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
            if not isinstance(doc, dict):
                raise ValueError("expected a JSON object")
            user, password = doc.get("username") or "", doc.get("password") or ""
            if not user and doc.get("auth"):
                user, _, password = base64.b64decode(doc["auth"]).decode().partition(":")
            if not isinstance(user, str) or not isinstance(password, str):
                raise ValueError("username and password must be strings")
        except (ValueError, UnicodeDecodeError) as exc:  # binascii.Error is a ValueError
            raise InvalidArgument(f"invalid X-Registry-Auth header: {exc}") from None
        return (user, password) if user else None

    def json_list(self, name: str) -> list[str]:
        """A query parameter holding a JSON array of strings (`cachefrom`); [] when absent."""
        text = self.param(name)
        if not text:
            return []
        return _decoded(text, name, lambda d: isinstance(d, list) and all(isinstance(v, str) for v in d),
                        "an array of strings")

    def json_object(self, name: str, word: str | None = None) -> dict:
        """A query parameter holding a JSON object (`filters`, `buildargs`, `labels`); {} when
        absent. `word` names it in errors (dockerd says "invalid filter")."""
        text = self.param(name)
        if not text:
            return {}
        return _decoded(text, word or name, lambda d: isinstance(d, dict), "an object")

    def filters(self) -> dict[str, list[str]]:
        """The `filters` parameter: {"name": ["a"]} or the old {"name": {"a": true}} form."""
        raw = self.json_object("filters", "filter")
        out = {}
        for key, value in raw.items():
            if isinstance(value, dict):
                out[key] = [k for k, on in value.items() if on]
            elif isinstance(value, list) and all(isinstance(v, str) for v in value):
                out[key] = value
            else:
                raise InvalidArgument(f"invalid filter: values of {key!r} must be strings")
        return out

    # ---- body ----
    def chunks(self):
        """The body as it arrives (for tar streams); read once."""
        if self._body is not None:
            yield self._body
            return
        yield from self._body_reader()

    def reader(self) -> "BodyReader":
        """The body as a read-only file (for tar streams)."""
        return BodyReader(self.chunks())

    def body(self) -> bytes:
        if self._body is None:
            parts, size = [], 0
            for chunk in self._body_reader():
                size += len(chunk)
                if size > MAX_JSON_BODY:
                    raise InvalidArgument(f"request body too large: more than {MAX_JSON_BODY} bytes")
                parts.append(chunk)
            self._body = b"".join(parts)
        return self._body

    def json(self, required: bool = False) -> dict:
        """The body as a JSON object; empty is {} unless required. Bad JSON is 400."""
        data = self.body()
        if not data.strip():
            if required:
                raise InvalidArgument("bad parameter: request body must not be empty")
            return {}
        return _decoded(data, "JSON", lambda d: isinstance(d, dict), "an object")

    def wants_upgrade(self) -> bool:
        return self.headers.get("upgrade", "").lower() == "tcp" or \
            "upgrade" in self.headers.get("connection", "").lower()

    def hijack(self, content_type: str):
        """Answer 101 UPGRADED (or 200 for a client that did not ask) and take the raw socket:
        returns (socket, bytes the client sent past the request)."""
        return self._hijacker(content_type)


class BodyReader:
    def __init__(self, chunks):
        self.chunks, self.buf = chunks, b""

    def readable(self) -> bool:
        return True

    def read(self, n: int = -1) -> bytes:
        while n < 0 or len(self.buf) < n:
            chunk = next(self.chunks, None)
            if chunk is None:
                break
            self.buf += chunk
        if n < 0:
            out, self.buf = self.buf, b""
        else:
            out, self.buf = self.buf[:n], self.buf[n:]
        return out


class Response:
    """A whole answer: status, headers and a body (bytes, or an iterator of chunks)."""

    def __init__(self, status: int = 200, body=b"", content_type: str | None = None,
                 headers: dict[str, str] | None = None):
        self.status = status
        self.body = body
        self.headers = dict(headers or {})
        if content_type:
            self.headers["Content-Type"] = content_type

    @property
    def streaming(self) -> bool:
        return not isinstance(self.body, (bytes, bytearray))


def quick(handler=None, *, unless: str | None = None):
    """Marks a route the service's loop may answer without a thread of its own: a read of
    the store that returns at once and never streams, hijacks or waits (see pallet.api.loop).
    `unless`: a query parameter that makes it slow (`size` has `ps` measure every layer)."""
    def mark(fn):
        fn.quick = (lambda query: True) if unless is None else \
            (lambda query: all(p.partition("=")[0] != unless for p in query.split("&")))
        return fn
    return mark(handler) if handler is not None else mark


HIJACKED = Response(0)  # a handler that took the socket returns this: nothing more to send


def json_response(doc, status: int = 200) -> Response:
    return Response(status, (json.dumps(doc) + "\n").encode(), "application/json")


# id(document) -> (document, its body): see shared_json_response
_ENCODED: dict[int, tuple[object, bytes]] = {}


def shared_json_response(doc) -> Response:
    """json_response for a document the core hands out again while it is unchanged (a
    container's inspect): encoded once. The entry holds the document, so its id cannot
    be reused by another object while the entry lives."""
    hit = _ENCODED.get(id(doc))
    if hit is None or hit[0] is not doc:
        if len(_ENCODED) >= 256:
            _ENCODED.clear()
        hit = _ENCODED[id(doc)] = (doc, (json.dumps(doc) + "\n").encode())
    return Response(200, hit[1], "application/json")


def no_content() -> Response:
    return Response(204)


def json_lines(events) -> Response:
    """A stream of JSON documents, one per line (pull progress, build output, events)."""
    return Response(200, ((json.dumps(e) + "\r\n").encode() for e in events), "application/json")


_JSON_NAMES = {str: "string", bool: "bool", int: "number", float: "number", list: "array", dict: "object"}
_GO_NAMES = {str: "string", bool: "bool", int: "int64", list: "[]string", dict: "map[string]string"}


def _decoded(text, what: str, shaped, shape: str):
    """`text` (str or bytes) as JSON of the shape `shaped` accepts; else one 400 line
    naming `what`, in the words dockerd uses for a bad filter, body or parameter."""
    try:
        doc = json.loads(text)
    except ValueError as exc:
        raise InvalidArgument(f"invalid {what}: {exc}") from None
    if not shaped(doc):
        raise InvalidArgument(f"invalid {what}: expected {shape}")
    return doc


def check_type(doc: dict, key: str, kind, where: str = "") -> object:
    """doc[key] if absent, null or of `kind`; else 400 in Go's decoder's words."""
    value = doc.get(key)
    if value is None or (isinstance(value, kind) and not (kind is int and isinstance(value, bool))):
        return value
    raise InvalidArgument(f"json: cannot unmarshal {_JSON_NAMES.get(type(value), 'value')} into Go struct "
                          f"field {where}{key} of type {_GO_NAMES.get(kind, kind.__name__)}")
