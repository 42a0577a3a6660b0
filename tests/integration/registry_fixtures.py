"""Real registries for the registry tests: Debian's docker-registry (distribution) on loopback.

Each fixture starts one `docker-registry serve` per test module on a free
127.0.0.1 port: plain http, htpasswd Basic auth, TLS with a CA made here, and
`auth: token` with a small token issuer (an http.server signing RS256 JWTs with
`openssl dgst`, its certificate in distribution's rootcertbundle). Keys, CAs and
bcrypt hashes are made in the test; nothing but 127.0.0.1 is ever contacted.
"""
from __future__ import annotations

import base64
import json
import socket
import subprocess
import threading
import time
import urllib.request
import warnings
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest

USER, PASSWORD = "alice", "s3cret-pw"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Registry:
    host: str                 # 127.0.0.1:PORT
    storage: Path             # distribution's filesystem root
    proc: subprocess.Popen
    extra: dict = field(default_factory=dict)

    def blob_data(self, digest: str) -> Path:
        hexpart = digest.split(":", 1)[1]
        return self.storage / "docker/registry/v2/blobs/sha256" / hexpart[:2] / hexpart / "data"


def start_registry(workdir: Path, tls: str = "", auth: str = "", scheme: str = "http") -> Registry:
    port = free_port()
    storage = workdir / "storage"
    storage.mkdir(parents=True, exist_ok=True)
    config = workdir / "config.yml"
    config.write_text(f"""version: 0.1
log:
  level: error
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: {storage}
  delete:
    enabled: true
http:
  addr: 127.0.0.1:{port}
{tls}
{auth}
""")
    log = open(workdir / "registry.log", "wb")
    proc = subprocess.Popen(["/usr/bin/docker-registry", "serve", str(config)], stdout=log, stderr=log)
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"docker-registry exited: {(workdir / 'registry.log').read_text()}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return Registry(f"127.0.0.1:{port}", storage, proc)
        except OSError:
            time.sleep(0.05)
    proc.kill()
    raise RuntimeError("docker-registry did not start listening")


def stop(reg: Registry) -> None:
    reg.proc.terminate()
    try:
        reg.proc.wait(10)
    except subprocess.TimeoutExpired:
        reg.proc.kill()
        reg.proc.wait()


def openssl(*args: str, input: bytes | None = None) -> bytes:
    return subprocess.run(["openssl", *args], input=input, capture_output=True, check=True).stdout


def make_ca(d: Path) -> tuple[Path, Path, Path]:
    """A CA, and a server certificate for 127.0.0.1 signed by it: (ca.crt, server.crt, server.key)."""
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(d / "ca.key"),
            "-out", str(d / "ca.crt"), "-days", "2", "-subj", "/CN=pallet test CA")
    openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", str(d / "server.key"),
            "-out", str(d / "server.csr"), "-subj", "/CN=127.0.0.1")
    (d / "ext.cnf").write_text("subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n")
    openssl("x509", "-req", "-in", str(d / "server.csr"), "-CA", str(d / "ca.crt"), "-CAkey",
            str(d / "ca.key"), "-CAcreateserial", "-out", str(d / "server.crt"), "-days", "2",
            "-extfile", str(d / "ext.cnf"))
    return d / "ca.crt", d / "server.crt", d / "server.key"


def bcrypt_hash(password: str) -> str:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        import crypt  # glibc's libxcrypt does bcrypt ($2b$), which is all distribution accepts
        return crypt.crypt(password, crypt.mksalt(crypt.METHOD_BLOWFISH, rounds=1 << 4))


# ---------------- the token issuer ----------------

def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class TokenIssuer:
    """Distribution's token auth server side: Basic-authenticated GET /token -> a signed JWT."""

    def __init__(self, d: Path, service: str, issuer: str):
        self.key, self.cert = d / "token.key", d / "token.crt"
        openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(self.key),
                "-out", str(self.cert), "-days", "2", "-subj", "/CN=pallet token issuer")
        self.x5c = base64.b64encode(openssl("x509", "-in", str(self.cert), "-outform", "DER")).decode()
        self.service, self.issuer = service, issuer
        self.requests: list[dict] = []
        issuer_self = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 - http.server's naming
                issuer_self._answer(self)

            def log_message(self, *a):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.realm = f"http://127.0.0.1:{self.server.server_address[1]}/token"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def _answer(self, h: BaseHTTPRequestHandler) -> None:
        q = parse_qs(urlparse(h.path).query)
        user = None
        auth = h.headers.get("Authorization", "")
        if auth.startswith("Basic "):
            name, _, pw = base64.b64decode(auth[6:]).decode().partition(":")
            if (name, pw) != (USER, PASSWORD):
                self._reply(h, 401, {"details": "incorrect username or password"})
                return
            user = name
        scopes = q.get("scope", [])
        self.requests.append({"user": user, "scopes": scopes})
        access = []
        for s in scopes if user else []:
            kind, name, actions = s.split(":", 2) if s.count(":") >= 2 else (s, "", "")
            access.append({"type": kind, "name": name, "actions": actions.split(",")})
        self._reply(h, 200, {"token": self.sign(user or "", access), "expires_in": 300})

    @staticmethod
    def _reply(h, code: int, doc: dict) -> None:
        body = json.dumps(doc).encode()
        h.send_response(code)
        h.send_header("Content-Type", "application/json")
        h.send_header("Content-Length", str(len(body)))
        h.end_headers()
        h.wfile.write(body)

    def sign(self, subject: str, access: list) -> str:
        now = int(time.time())
        header = {"typ": "JWT", "alg": "RS256", "x5c": [self.x5c]}
        claims = {"iss": self.issuer, "sub": subject, "aud": self.service, "exp": now + 300,
                  "nbf": now - 10, "iat": now, "jti": f"{now}-{len(self.requests)}", "access": access}
        signing_input = f"{_b64url(json.dumps(header).encode())}.{_b64url(json.dumps(claims).encode())}"
        sig = openssl("dgst", "-sha256", "-sign", str(self.key), input=signing_input.encode())
        return f"{signing_input}.{_b64url(sig)}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


# ---------------- fixtures ----------------

@pytest.fixture(scope="module")
def registry(tmp_path_factory):
    reg = start_registry(tmp_path_factory.mktemp("registry"))
    yield reg
    stop(reg)


@pytest.fixture(scope="module")
def basic_registry(tmp_path_factory):
    d = tmp_path_factory.mktemp("basic-registry")
    (d / "htpasswd").write_text(f"{USER}:{bcrypt_hash(PASSWORD)}\n")
    reg = start_registry(d, auth=f"auth:\n  htpasswd:\n    realm: pallet-test\n    path: {d / 'htpasswd'}")
    yield reg
    stop(reg)


@pytest.fixture(scope="module")
def tls_registry(tmp_path_factory):
    d = tmp_path_factory.mktemp("tls-registry")
    ca, cert, key = make_ca(d)
    reg = start_registry(d, tls=f"  tls:\n    certificate: {cert}\n    key: {key}")
    reg.extra["ca"] = ca
    yield reg
    stop(reg)


@pytest.fixture(scope="module")
def token_registry(tmp_path_factory):
    d = tmp_path_factory.mktemp("token-registry")
    issuer = TokenIssuer(d, "pallet-registry", "pallet-test-issuer")
    reg = start_registry(d, auth=f"""auth:
  token:
    realm: {issuer.realm}
    service: pallet-registry
    issuer: pallet-test-issuer
    rootcertbundle: {issuer.cert}""")
    reg.extra["issuer"] = issuer
    yield reg
    stop(reg)
    issuer.close()


@pytest.fixture
def docker_config(tmp_path, monkeypatch) -> Path:
    """A private ~/.docker and certs.d for the test: DOCKER_CONFIG and PALLET_CERTS_D point here."""
    conf = tmp_path / "docker-config"
    conf.mkdir()
    monkeypatch.setenv("DOCKER_CONFIG", str(conf))
    monkeypatch.setenv("PALLET_CERTS_D", str(tmp_path / "certs.d"))
    return conf


def http_get(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=10) as r:  # only ever 127.0.0.1
        return r.read()
