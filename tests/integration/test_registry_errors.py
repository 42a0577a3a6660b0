"""Bad input from registries: each a one-line error, a non-zero exit, no traceback, the store unchanged.

Cases a well-behaved registry cannot produce (a malformed or huge manifest, a
redirect loop, a blob that trickles while the pull is killed) are served by a
small hostile http.server on loopback that replays real blobs pushed to the
real registry.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from palletcli import Pallet
from registry_fixtures import docker_config, registry  # noqa: F401 - fixtures


def _assert_failed_cleanly(pallet, r, message):
    assert r.code == 1, r.out + r.err
    assert "Traceback" not in r.err
    lines = r.err.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], r.err
    assert pallet.ok("images", "-q").lines == []
    layers = pallet.root / "layers"
    assert not layers.exists() or [p.name for p in layers.iterdir() if not p.name.endswith(".lock")] == []


def test_pull_unknown_tag_says_manifest_unknown(pallet, registry, docker_config):
    r = pallet("pull", f"{registry.host}/nosuch/repo:nope")
    _assert_failed_cleanly(pallet, r, "manifest unknown")


def test_pull_from_unreachable_registry(pallet, docker_config):
    r = pallet("pull", "127.0.0.1:1/app:1")
    _assert_failed_cleanly(pallet, r, 'Get "http://127.0.0.1:1/v2/": connect: connection refused')


def test_push_of_a_missing_image(pallet, registry, docker_config):
    r = pallet("push", f"{registry.host}/missing/app:1")
    assert r.code == 1
    assert r.err.strip() == f"Error: An image does not exist locally with the tag: {registry.host}/missing/app"


def test_pull_rejects_a_blob_whose_bytes_do_not_match_then_pulls_cleanly(pallet, busybox, registry,
                                                                         docker_config, tmp_path):
    name = f"{registry.host}/bad/blob:1"
    pallet.ok("tag", "busybox", name)
    pallet.ok("push", name)
    layer = json.loads(pallet.ok("manifest", "inspect", name).out)["layers"][0]["digest"]
    data = registry.blob_data(layer)
    saved = tmp_path / "saved"
    shutil.copy(data, saved)
    raw = bytearray(data.read_bytes())
    raw[len(raw) // 2] ^= 0xFF
    os.chmod(data, 0o644)
    data.write_bytes(bytes(raw))
    other = Pallet(tmp_path / "o" / "root", tmp_path / "o" / "run")
    try:
        r = other("pull", name)
    finally:
        shutil.copy(saved, data)
    assert r.code == 1 and "Traceback" not in r.err
    assert layer in r.err and ("verification failed" in r.err or "invalid compressed data" in r.err), r.err
    assert other.ok("images", "-q").lines == []
    assert [p for p in (other.root / "layers").iterdir() if not p.name.startswith(".tmp")] == []
    assert other.ok("pull", "-q", name).lines == [name]


# ---------------- a hostile registry ----------------

class Hostile:
    """Serves /v2/ and canned manifests/blobs; `trickle` slows blob bodies down."""

    def __init__(self):
        self.routes: dict[str, tuple[int, dict, bytes]] = {}
        self.trickle = 0.0
        hostile = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self):  # noqa: N802
                code, headers, body = hostile.routes.get(self.path.split("?")[0], (404, {}, b"{}"))
                self.send_response(code)
                for k, v in {"Content-Length": str(len(body)), **headers}.items():
                    self.send_header(k, v)
                self.end_headers()
                step = 4096 if hostile.trickle else len(body) or 1
                for i in range(0, len(body), step):
                    try:
                        self.wfile.write(body[i:i + step])
                    except OSError:
                        return
                    time.sleep(hostile.trickle)

            do_HEAD = do_GET

            def log_message(self, *a):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.host = f"127.0.0.1:{self.server.server_address[1]}"
        self.routes["/v2/"] = (200, {}, b"{}")
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def manifest(self, path: str, ref: str, body: bytes, media="application/vnd.oci.image.manifest.v1+json"):
        self.routes[f"/v2/{path}/manifests/{ref}"] = (200, {"Content-Type": media}, body)

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def hostile():
    h = Hostile()
    yield h
    h.close()


def test_pull_of_a_malformed_manifest_fails(pallet, hostile, docker_config):
    hostile.manifest("bad/json", "1", b"{not json")
    r = pallet("pull", f"{hostile.host}/bad/json:1")
    _assert_failed_cleanly(pallet, r, "malformed manifest")


def test_pull_refuses_a_manifest_larger_than_sane_limits(pallet, hostile, docker_config):
    hostile.manifest("bad/huge", "1", b" " * (5 << 20))
    r = pallet("pull", f"{hostile.host}/bad/huge:1")
    _assert_failed_cleanly(pallet, r, "larger than the 4 MiB limit")


def test_pull_stops_a_redirect_loop(pallet, hostile, docker_config):
    path = "/v2/bad/loop/manifests/1"
    hostile.routes[path] = (307, {"Location": f"http://{hostile.host}{path}"}, b"")
    r = pallet("pull", f"{hostile.host}/bad/loop:1")
    _assert_failed_cleanly(pallet, r, "stopped after 10 redirects")


def test_pull_killed_half_way_is_redone_cleanly(pallet, busybox, registry, hostile, docker_config, tmp_path):
    name = f"{registry.host}/killed/app:1"
    pallet.ok("tag", "busybox", name)
    pallet.ok("push", name)
    manifest = pallet.ok("manifest", "inspect", name).out.encode()
    doc = json.loads(manifest)
    hostile.manifest("killed/app", "1", manifest, doc["mediaType"])
    for desc in [doc["config"], *doc["layers"]]:
        hostile.routes[f"/v2/killed/app/blobs/{desc['digest']}"] = (
            200, {}, registry.blob_data(desc["digest"]).read_bytes())
    other = Pallet(tmp_path / "o" / "root", tmp_path / "o" / "run")
    hostile.trickle = 0.02
    try:
        p = subprocess.Popen([sys.executable, "-m", "pallet.cli.main", "--root", str(other.root),
                              "--runroot", str(other.runroot), "pull", f"{hostile.host}/killed/app:1"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 20
        while not list((other.root / "layers").glob(".tmp-*")) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert list((other.root / "layers").glob(".tmp-*")), "the pull never started a layer"
        p.send_signal(signal.SIGKILL)
        p.wait()
    finally:
        hostile.trickle = 0.0
    assert other.ok("images", "-q").lines == []
    r = other.ok("pull", f"{hostile.host}/killed/app:1")
    assert re.search(r"Status: Downloaded newer image", r.out)
    assert other.ok("run", "--rm", f"{hostile.host}/killed/app:1", "true").code == 0
    other.ok("image", "prune", "-f")
    assert list((other.root / "layers").glob(".tmp-*")) == []
