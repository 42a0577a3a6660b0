"""Registry auth: challenges, Basic and Bearer tokens, and Docker's credential store.

`Authorizer` answers a registry's `WWW-Authenticate` challenge: Basic sends the
stored username/password; Bearer (`realm=…,service=…,scope=…`) fetches a token
from the realm, cached per (realm, service, scopes) until it expires, so a
pull asks the token server once per scope, not once per blob.

`CredentialStore` reads and writes a `config.json` in Docker's format
($DOCKER_CONFIG/config.json, else ~/.docker/config.json), so an existing
`docker login` works and `pallet login` is seen by docker. `credHelpers`
(per registry) and `credsStore` (default) name `docker-credential-NAME`
programs, spoken to with Docker's helper protocol (get/store/erase on stdin).
Docker Hub's key is `https://index.docker.io/v1/`, as Docker writes it.
Passwords never appear in error messages.
"""
from __future__ import annotations

import base64
import json
import os
import re
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from ..errors import Denied, PalletError, Unavailable

HUB_KEY = "https://index.docker.io/v1/"
_PARAM = re.compile(r'(\w+)=(?:"([^"]*)"|([^,\s]*))')


@dataclass
class Credentials:
    username: str
    password: str


def parse_challenge(header: str) -> tuple[str, dict[str, str]]:
    """`Bearer realm="…",service="…"` -> ("bearer", {"realm": …, "service": …})."""
    scheme, _, rest = header.strip().partition(" ")
    return scheme.lower(), {k.lower(): (q if q or not u else u) for k, q, u in _PARAM.findall(rest)}


class Authorizer:
    """Turns challenges into Authorization headers; thread-safe (layers move in parallel)."""

    def __init__(self, credentials: Credentials | None):
        self.credentials = credentials
        self._challenge: tuple[str, dict] | None = None
        self._tokens: dict[tuple, tuple[str, float]] = {}
        self._lock = threading.Lock()
        self.token_requests = 0

    def remember_challenge(self, header: str) -> None:
        if header:
            self._challenge = parse_challenge(header)

    def header(self, session, scopes: list[str]) -> dict[str, str]:
        if self._challenge is None:
            return {}
        scheme, params = self._challenge
        if scheme == "basic" and self.credentials:
            raw = f"{self.credentials.username}:{self.credentials.password}".encode()
            return {"Authorization": "Basic " + base64.b64encode(raw).decode()}
        if scheme == "bearer" and params.get("realm"):
            return {"Authorization": "Bearer " + self._token(session, params, scopes)}
        return {}

    def answer(self, session, header: str, scopes: list[str]) -> bool:
        """A 401 arrived: learn its challenge; True if a retry can now succeed."""
        before = self._challenge
        self.remember_challenge(header)
        if self._challenge is None:
            return False
        scheme, params = self._challenge
        if scheme == "basic":
            return self.credentials is not None and before != self._challenge
        if scheme == "bearer":
            extra = [s for s in params.get("scope", "").split(" ") if s]
            with self._lock:
                self._tokens.pop(self._key(params, scopes), None)
            return bool(params.get("realm")) and (before != self._challenge or bool(extra))
        return False

    @staticmethod
    def _key(params: dict, scopes: list[str]) -> tuple:
        return (params.get("realm"), params.get("service"), tuple(sorted(set(scopes))))

    def _token(self, session, params: dict, scopes: list[str]) -> str:
        key = self._key(params, scopes)
        with self._lock:
            cached = self._tokens.get(key)
            if cached and cached[1] > time.monotonic():
                return cached[0]
            token, ttl = self._fetch(session, params, scopes)
            self._tokens[key] = (token, time.monotonic() + max(ttl - 10, 5))
            return token

    def _fetch(self, session, params: dict, scopes: list[str]) -> tuple[str, int]:
        query = [("service", params["service"])] if params.get("service") else []
        query += [("scope", s) for s in sorted(set(scopes))]
        if self.credentials:
            query.append(("account", self.credentials.username))
        basic = (self.credentials.username, self.credentials.password) if self.credentials else None
        self.token_requests += 1
        resp = session.get_token(params["realm"], query, basic)
        if resp.status_code in (401, 403):
            raise Denied("unauthorized: incorrect username or password" if basic
                         else "unauthorized: authentication required")
        try:
            doc = resp.json()
            token = doc.get("token") or doc.get("access_token")
        except (ValueError, AttributeError):
            token = None
        if resp.status_code != 200 or not isinstance(token, str) or not token:
            raise PalletError(f"token server {params['realm']} answered {resp.status_code} without a token")
        return token, int(doc.get("expires_in") or 60)


# ---------------- the credential store ----------------

def server_key(domain: str) -> str:
    return HUB_KEY if domain in ("docker.io", "index.docker.io", "registry-1.docker.io") else domain


def _host_of(key: str) -> str:
    host = key.split("://", 1)[-1].split("/", 1)[0]
    return "docker.io" if host in ("index.docker.io", "registry-1.docker.io") else host


class CredentialStore:
    def __init__(self, path: Path | None = None):
        base = os.environ.get("DOCKER_CONFIG") or str(Path.home() / ".docker")
        self.path = path or Path(base) / "config.json"

    def _load(self) -> dict:
        try:
            doc = json.loads(self.path.read_text())
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as exc:
            raise Unavailable(f"cannot read {self.path}: {exc}") from exc
        return doc if isinstance(doc, dict) else {}

    def _save(self, doc: dict) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".config-")
        with os.fdopen(fd, "w") as f:
            json.dump(doc, f, indent="\t")
        os.chmod(tmp, 0o600)
        os.replace(tmp, self.path)

    def _entry(self, doc: dict, domain: str) -> tuple[str | None, dict | None]:
        for key, entry in (doc.get("auths") or {}).items():
            if _host_of(key) == _host_of(server_key(domain)):
                return key, entry if isinstance(entry, dict) else {}
        return None, None

    def _helper(self, doc: dict, domain: str) -> str | None:
        helpers = doc.get("credHelpers") or {}
        for key, name in helpers.items():
            if _host_of(key) == _host_of(server_key(domain)):
                return name
        return doc.get("credsStore") or None

    def get(self, domain: str) -> Credentials | None:
        doc = self._load()
        helper = self._helper(doc, domain)
        if helper:
            found = _run_helper(helper, "get", server_key(domain))
            if found:
                creds = json.loads(found)
                return Credentials(creds.get("Username", ""), creds.get("Secret", ""))
        _key, entry = self._entry(doc, domain)
        if not entry:
            return None
        if entry.get("auth"):
            try:
                user, _, password = base64.b64decode(entry["auth"]).decode().partition(":")
            except (ValueError, UnicodeDecodeError) as exc:
                raise Unavailable(f"invalid auth entry for {domain} in {self.path}") from exc
            return Credentials(user, password)
        if entry.get("username"):
            return Credentials(entry["username"], entry.get("password", ""))
        return None

    def store(self, domain: str, creds: Credentials) -> str:
        """Save credentials; returns where they went (a file path or a helper name)."""
        doc = self._load()
        helper = self._helper(doc, domain)
        key = server_key(domain)
        auths = doc.setdefault("auths", {})
        if helper:
            payload = json.dumps({"ServerURL": key, "Username": creds.username, "Secret": creds.password})
            _run_helper(helper, "store", payload)
            auths[key] = {}
            where = f"docker-credential-{helper}"
        else:
            raw = f"{creds.username}:{creds.password}".encode()
            auths[key] = {"auth": base64.b64encode(raw).decode()}
            where = str(self.path)
        self._save(doc)
        return where

    def erase(self, domain: str) -> bool:
        doc = self._load()
        helper = self._helper(doc, domain)
        key, _entry = self._entry(doc, domain)
        if helper:
            _run_helper(helper, "erase", server_key(domain))
        if key is None:
            return bool(helper)
        del doc["auths"][key]
        self._save(doc)
        return True


def _run_helper(name: str, verb: str, data: str) -> str | None:
    """Docker's credential-helper protocol; `get` of an unknown server returns None."""
    prog = f"docker-credential-{name}"
    try:
        p = subprocess.run([prog, verb], input=data.encode(), capture_output=True, timeout=30)
    except FileNotFoundError as exc:
        raise Unavailable(f'{prog}: executable file not found in $PATH') from exc
    except subprocess.TimeoutExpired as exc:
        raise Unavailable(f"{prog} {verb}: timed out") from exc
    out = p.stdout.decode(errors="replace").strip()
    if p.returncode != 0:
        if "credentials not found" in (out + p.stderr.decode(errors="replace")).lower():
            return None
        raise Unavailable(f"{prog} {verb}: {out or p.stderr.decode(errors='replace').strip()}")
    return out or None
