"""Transport to one registry: scheme and TLS policy, auth retry, error translation.

A `Session` talks to one registry host. It owns an httpx.Client and an
`auth.Authorizer`; every request goes through `Session.send`, the one seam
where httpx/ssl exceptions and registry error bodies become pallet errors:

    httpx.ConnectError, timeouts     -> Unavailable   ("Get "URL": connect: ...")
    ssl certificate failures         -> Unavailable   ("... tls: failed to verify certificate: ...")
    httpx.TooManyRedirects           -> Unavailable   ("... stopped after 10 redirects")
    401 / 403 error bodies           -> Denied        ("unauthorized: authentication required")
    404 error bodies                 -> NotFound      ("manifest unknown: manifest unknown")
    other 4xx/5xx                    -> PalletError   (the registry's code and message)

Policy: TLS with the system CAs, plus Docker's per-registry directory
`certs.d/HOST[:PORT]/` (`*.crt` extra CAs, `*.cert`+`*.key` client cert).
Plain http only for loopback hosts and registries listed as insecure in
pallet's daemon.json (`insecure-registries`) or $PALLET_INSECURE_REGISTRIES;
even for those https is tried first, and a certificate that fails to verify
is an error, never a reason to fall back. docker.io is reached at its real
endpoint, registry-1.docker.io.
"""
from __future__ import annotations

import ipaddress
import json
import os
import ssl
from pathlib import Path
TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: importing typing costs ~3 ms per command
    from typing import Iterator

import httpx

from ..errors import Denied, NotFound, PalletError, Unavailable
from .auth import Authorizer

DOCKER_HUB = "docker.io"
DOCKER_HUB_ENDPOINT = "registry-1.docker.io"
MAX_REDIRECTS = 10
USER_AGENT = "pallet/0.1 (OCI distribution client)"


def endpoint_host(domain: str) -> str:
    return DOCKER_HUB_ENDPOINT if domain == DOCKER_HUB else domain


def _daemon_config() -> dict:
    path = Path(os.environ.get("PALLET_DAEMON_CONFIG") or "/etc/pallet/daemon.json")
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return {}


def is_insecure(host: str) -> bool:
    """May this host be reached over plain http? Loopback always; others only when listed."""
    name = host.rsplit(":", 1)[0] if not host.endswith("]") else host
    name = name.strip("[]")
    if name == "localhost":
        return True
    try:
        if ipaddress.ip_address(name).is_loopback:
            return True
    except ValueError:
        pass
    listed = [h.strip() for h in os.environ.get("PALLET_INSECURE_REGISTRIES", "").split(",") if h.strip()]
    listed += list(_daemon_config().get("insecure-registries") or [])
    return host in listed or name in listed


def certs_dirs(host: str) -> list[Path]:
    roots = [os.environ.get("PALLET_CERTS_D") or "/etc/pallet/certs.d", "/etc/docker/certs.d"]
    return [Path(r) / host for r in roots if (Path(r) / host).is_dir()]


def ssl_context(host: str) -> ssl.SSLContext:
    """System CAs plus certs.d/HOST: *.crt are CAs, NAME.cert + NAME.key a client cert."""
    ctx = ssl.create_default_context()
    for d in certs_dirs(host):
        for f in sorted(d.iterdir()):
            try:
                if f.suffix == ".crt":
                    ctx.load_verify_locations(cafile=str(f))
                elif f.suffix == ".cert":
                    ctx.load_cert_chain(str(f), str(f.with_suffix(".key")))
            except (OSError, ssl.SSLError) as exc:
                raise Unavailable(f"bad certificate file {f} for {host}: {exc}") from exc
    return ctx


def registry_error(resp: httpx.Response) -> str:
    """The registry's error body in Docker's wording: `manifest unknown: manifest unknown`."""
    try:
        errors = json.loads(resp.read()[:65536]).get("errors") or []
    except (ValueError, AttributeError, httpx.HTTPError):
        errors = []
    parts = []
    for e in errors if isinstance(errors, list) else []:
        if isinstance(e, dict):
            code = str(e.get("code", "")).lower().replace("_", " ")
            parts.append(f"{code}: {e.get('message', '')}".strip(": "))
    if parts:
        return "; ".join(parts)
    if resp.status_code == 401:
        return "unauthorized: authentication required"
    return f"unexpected status from {resp.request.method} request to {resp.request.url}: " \
           f"{resp.status_code} {resp.reason_phrase}"


def _describe_exc(exc: Exception) -> str:
    """Go-like wording for transport failures, naming the cause."""
    cause = exc
    while cause.__context__ is not None and not isinstance(cause, ssl.SSLError):
        cause = cause.__context__
    if isinstance(cause, ssl.SSLCertVerificationError):
        reason = cause.verify_message or str(cause)
        if "unable to get local issuer" in reason or "self-signed" in reason or "self signed" in reason:
            reason = "x509: certificate signed by unknown authority"
        return f"tls: failed to verify certificate: {reason}"
    if isinstance(cause, ssl.SSLError):
        return f"tls: {cause.reason or cause}"
    if isinstance(cause, ConnectionRefusedError) or "refused" in str(exc).lower():
        return "connect: connection refused"
    if isinstance(exc, httpx.TimeoutException):
        return "i/o timeout"
    return str(exc) or type(exc).__name__


class Session:
    """HTTP to one registry host, with auth applied and retried once on 401."""

    def __init__(self, domain: str, credentials=None, timeout: float = 60.0):
        self.domain = domain
        self.host = endpoint_host(domain)
        self.authorizer = Authorizer(credentials)
        self._scheme: str | None = None
        self._timeout = timeout
        self._https = self._http = None

    def close(self) -> None:
        for c in (self._https, self._http):
            if c is not None:
                c.close()

    def __enter__(self) -> "Session":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _client(self, scheme: str) -> httpx.Client:
        attr = "_https" if scheme == "https" else "_http"
        if getattr(self, attr) is None:
            verify = ssl_context(self.host) if scheme == "https" else False
            limits = httpx.Limits(max_connections=16, max_keepalive_connections=8)
            setattr(self, attr, httpx.Client(
                verify=verify, timeout=httpx.Timeout(self._timeout, connect=10.0), limits=limits,
                follow_redirects=True, max_redirects=MAX_REDIRECTS, trust_env=False,
                headers={"User-Agent": USER_AGENT}))
        return getattr(self, attr)

    @property
    def base(self) -> str:
        return f"{self.scheme}://{self.host}"

    @property
    def scheme(self) -> str:
        if self._scheme is None:
            self.ping()
        return self._scheme

    def ping(self) -> httpx.Response:
        """GET /v2/: decides the scheme (https, or http where allowed) and primes auth."""
        schemes = ["https", "http"] if is_insecure(self.host) else ["https"]
        for i, scheme in enumerate(schemes):
            url = f"{scheme}://{self.host}/v2/"
            try:
                resp = self._client(scheme).get(url)
            except httpx.HTTPError as exc:
                if i + 1 < len(schemes) and not _is_cert_failure(exc):
                    continue
                raise Unavailable(f'Get "{url}": {_describe_exc(exc)}') from exc
            self._scheme = scheme
            resp.read()
            if resp.status_code == 401:
                self.authorizer.remember_challenge(resp.headers.get("www-authenticate", ""))
            return resp
        raise AssertionError("unreachable")

    def url(self, path: str) -> str:
        return path if "://" in path else self.base + path

    def send(self, method: str, path: str, scopes: list[str], *, headers: dict | None = None,
             content=None, params: dict | None = None, stream: bool = False,
             ok: tuple[int, ...] = (200,)) -> httpx.Response:
        """One request with auth; a status outside `ok` raises the registry's error."""
        url = self.url(path)
        if params:  # merged, not replaced: upload locations carry their own _state query
            url = str(httpx.URL(url).copy_merge_params(params))
        client = self._client(self.scheme if "://" not in path else path.split("://", 1)[0])
        for attempt in (0, 1):
            hdrs = {**(headers or {}), **self.authorizer.header(self, scopes)}
            req = client.build_request(method, url, headers=hdrs, content=content)
            try:
                resp = client.send(req, stream=True)
            except httpx.HTTPError as exc:
                raise _transport_error(method, url, exc) from exc
            if resp.status_code == 401 and attempt == 0 and _replayable(content):
                challenge = resp.headers.get("www-authenticate", "")
                resp.read()
                resp.close()
                if self.authorizer.answer(self, challenge, scopes):
                    continue
                break
            break
        if resp.status_code not in ok:
            raise self._error(method, resp)
        if not stream:
            try:
                resp.read()
            except httpx.HTTPError as exc:
                raise _transport_error(method, url, exc) from exc
            finally:
                resp.close()
        return resp

    def _error(self, method: str, resp: httpx.Response) -> PalletError:
        try:
            message = registry_error(resp)
        finally:
            resp.close()
        if resp.status_code in (401, 403):
            return Denied(message)
        if resp.status_code == 404:
            return NotFound(message)
        return PalletError(message)

    def get_token(self, realm: str, params: dict, basic: tuple[str, str] | None) -> httpx.Response:
        """GET a Bearer token from the auth server (any host: it is named by the registry)."""
        client = self._client(realm.split("://", 1)[0])
        try:
            return client.get(realm, params=params, auth=basic)
        except httpx.HTTPError as exc:
            raise _transport_error("GET", realm, exc) from exc


def _replayable(content) -> bool:
    return content is None or isinstance(content, (bytes, str))


def _is_cert_failure(exc: Exception) -> bool:
    cause = exc
    while cause is not None:
        if isinstance(cause, ssl.SSLCertVerificationError):
            return True
        cause = cause.__context__
    return False


def _transport_error(method: str, url: str, exc: Exception) -> PalletError:
    if isinstance(exc, httpx.TooManyRedirects):
        return Unavailable(f'{method.title()} "{url}": stopped after {MAX_REDIRECTS} redirects')
    return Unavailable(f'{method.title()} "{url}": {_describe_exc(exc)}')


def read_limited(resp: httpx.Response, limit: int, what: str) -> bytes:
    """Read a streamed body, refusing more than `limit` bytes (sane limits on manifests/configs)."""
    declared = resp.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        resp.close()
        raise PalletError(f"{what} is {declared} bytes, larger than the {limit >> 20} MiB limit")
    buf = bytearray()
    try:
        for chunk in resp.iter_raw(1 << 16):
            buf += chunk
            if len(buf) > limit:
                raise PalletError(f"{what} is larger than the {limit >> 20} MiB limit")
    except httpx.HTTPError as exc:
        raise _transport_error(resp.request.method, str(resp.request.url), exc) from exc
    finally:
        resp.close()
    return bytes(buf)


class BodyReader:
    """A file-like read(n) over a streamed response, for LayerStore.stage (flat memory)."""

    def __init__(self, resp: httpx.Response, on_bytes=None, chunk: int = 1 << 20):
        self._resp = resp
        self._chunks: Iterator[bytes] = resp.iter_raw(chunk)
        self._buf, self._pos = b"", 0
        self._on_bytes = on_bytes
        self.cancelled = False

    def readable(self) -> bool:
        return True

    def read(self, n: int = -1) -> bytes:
        if self.cancelled:
            raise PalletError("download cancelled")
        # Serve from one chunk at a time with an offset: slicing the tail off a
        # buffer on every small read would copy the chunk over and over.
        if self._pos >= len(self._buf):
            self._buf, self._pos = self._next(), 0
        if n < 0:
            out = [self._buf[self._pos:]]
            while chunk := self._next():
                out.append(chunk)
            self._buf, self._pos = b"", 0
            return b"".join(out)
        data = self._buf[self._pos:self._pos + n]
        self._pos += len(data)
        return data

    def _next(self) -> bytes:
        try:
            chunk = next(self._chunks, b"")
        except httpx.HTTPError as exc:
            raise _transport_error("GET", str(self._resp.request.url), exc) from exc
        if chunk and self._on_bytes:
            self._on_bytes(len(chunk))
        return chunk

    def readinto(self, buf) -> int:
        data = self.read(len(buf))
        memoryview(buf)[:len(data)] = data
        return len(data)

    def close(self) -> None:
        self._resp.close()
