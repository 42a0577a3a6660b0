"""The API service as the tests drive it: started on a private store, stopped at teardown."""
from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from palletcli import Result

# Runs a test twice: with `pallet`, and with the docker CLI through the service on the same
# store (the `pallet` fixture's "docker" param), for behaviour Docker's CLI shares.
ALSO_DOCKER = pytest.mark.parametrize("pallet", ["pallet", "docker"], indirect=True)


class UnixHTTPConnection(http.client.HTTPConnection):
    def __init__(self, path: str, timeout: float = 30):
        super().__init__("localhost", timeout=timeout)
        self.path = path

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(self.timeout)
        self.sock.connect(self.path)


class ApiService:
    def __init__(self, pallet, sock: Path, timeout: int = 0, extra: tuple = ()):
        self.pallet, self.sock = pallet, sock
        self.url = f"unix://{sock}"
        cmd = [sys.executable, "-m", "pallet.cli.main", "--root", str(pallet.root), "--runroot",
               str(pallet.runroot), "system", "service", "--timeout", str(timeout), *extra, self.url]
        self.log = sock.with_suffix(".log")
        self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=open(self.log, "wb"))
        deadline = time.monotonic() + 20
        while not sock.exists():
            assert self.proc.poll() is None, f"the service exited: {self.log.read_text()}"
            assert time.monotonic() < deadline, "the service did not listen within 20 s"
            time.sleep(0.02)

    @property
    def env(self) -> dict:
        return {**os.environ, "DOCKER_HOST": self.url, "DOCKER_CONFIG": str(self.sock.parent / "docker-config"),
                "DOCKER_BUILDKIT": "0", "DOCKER_CLI_HINTS": "false"}

    def docker(self, *argv: str, stdin: bytes | None = None, timeout: float = 120) -> Result:
        p = subprocess.run(["docker", *argv], input=stdin, capture_output=True, env=self.env, timeout=timeout)
        return Result(p.returncode, p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace"),
                      p.stdout)

    def docker_ok(self, *argv: str, **kw) -> Result:
        r = self.docker(*argv, **kw)
        assert r.code == 0, f"docker {' '.join(argv)} exited {r.code}: {r.err}"
        return r

    def request(self, method: str, path: str, body=None, headers: dict | None = None):
        """(status, headers, body bytes) of one request."""
        conn = UnixHTTPConnection(str(self.sock))
        data = body if isinstance(body, (bytes, type(None))) else json.dumps(body).encode()
        conn.request(method, path, body=data, headers=headers or {})
        resp = conn.getresponse()
        out = resp.status, dict(resp.getheaders()), resp.read()
        conn.close()
        return out

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                raise AssertionError("the service did not stop on SIGTERM")
        assert not self.sock.exists(), "the service left its socket behind"


def _classic(argv: tuple) -> tuple:
    """docker's legacy builder (DOCKER_BUILDKIT=0, the one that speaks POST /build) prints
    only the classic output and refuses --progress, which `pallet build` needs to print it."""
    if "build" in argv[:2]:
        return tuple(a for a in argv if a != "--progress=classic")
    return argv


class DockerCLI:
    """The docker CLI through `pallet system service` on a Pallet's store, with the test
    surface of palletcli.Pallet (call, ok, sub, root, runroot, engine, error_prefix)."""

    error_prefix = "Error response from daemon: "
    stream_error_prefix = ""

    def __init__(self, native, sock: Path):
        self.native, self.root, self.runroot = native, native.root, native.runroot
        self.service = ApiService(native, sock)

    def __call__(self, *argv: str, stdin: bytes = b"") -> Result:
        return self.service.docker(*_classic(argv), stdin=stdin)

    def sub(self, *argv: str, stdin: bytes | None = None, timeout: float = 120, check: bool = False) -> Result:
        r = self.service.docker(*_classic(argv), stdin=stdin or b"", timeout=timeout)
        if check:
            assert r.code == 0, f"docker {' '.join(argv)} failed: {r.err}"
        return r

    def ok(self, *argv: str, stdin: bytes = b"") -> Result:
        r = self(*argv, stdin=stdin)
        assert r.code == 0, f"docker {' '.join(argv)} exited {r.code}: {r.err}"
        return r

    @property
    def engine(self):
        return self.native.engine

    def stop(self) -> None:
        self.service.stop()
