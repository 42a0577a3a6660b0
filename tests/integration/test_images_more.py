"""More of Docker's image behaviour: import from a URL, listing options, system df, version and info."""
from __future__ import annotations

import http.server
import json
import threading
import time

import pytest
from api_service import ALSO_DOCKER


@pytest.fixture
def http_file(busybox_tar):
    """Serve the busybox tar on a loopback port (import FILE|URL)."""
    data = busybox_tar.read_bytes()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - http.server's name
            if self.path != "/rootfs.tar":
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args):
            pass
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


@ALSO_DOCKER
def test_import_from_url(pallet, http_file):
    r = pallet.ok("import", f"{http_file}/rootfs.tar", "fromurl:1")
    assert r.out.startswith("sha256:")
    comment = json.loads(pallet.ok("inspect", "fromurl:1").out)[0]["Comment"]
    assert comment == f"Imported from {http_file}/rootfs.tar"


def test_import_from_a_missing_url_fails_cleanly(pallet, http_file):
    r = pallet("import", f"{http_file}/missing.tar", "nope:1")
    assert r.code == 1 and len(r.err.strip().splitlines()) == 1
    assert pallet.ok("images", "-q").out == ""


def test_import_of_a_missing_file_fails(pallet):
    r = pallet("import", "/nonexistent.tar")
    assert r.code == 1 and "no such file or directory" in r.err


def test_import_with_bad_change_is_refused(pallet, busybox_tar):
    r = pallet("import", "-c", "FROBNICATE x", str(busybox_tar), "x:1")
    assert r.code == 1 and "frobnicate is not a valid change command" in r.err


def test_images_before_and_since(pallet, busybox_tar):
    pallet.ok("import", "-c", "LABEL n=1", str(busybox_tar), "first:1")
    time.sleep(1.1)
    pallet.ok("import", "-c", "LABEL n=2", str(busybox_tar), "second:1")
    fmt = ["--format", "{{.Repository}}"]
    assert pallet.ok("images", "--filter", "before=second:1", *fmt).lines == ["first"]
    assert pallet.ok("images", "--filter", "since=first:1", *fmt).lines == ["second"]


def test_images_lists_newest_first(pallet, busybox_tar):
    pallet.ok("import", "-c", "LABEL n=1", str(busybox_tar), "older:1")
    time.sleep(1.1)
    pallet.ok("import", "-c", "LABEL n=2", str(busybox_tar), "newer:1")
    assert pallet.ok("images", "--format", "{{.Repository}}").lines == ["newer", "older"]


def test_images_digests_column(pallet, busybox):
    r = pallet.ok("images", "--digests")
    assert r.lines[0].split()[:3] == ["REPOSITORY", "TAG", "DIGEST"]
    assert "<none>" in r.lines[1]


@ALSO_DOCKER
def test_images_digests_add_a_digest_column_to_a_table_of_ones_own(pallet, busybox):
    """docker/cli NewImageFormat: --digests appends \\t{{.Digest}} to a `table ...` format that
    lacks that very text (a plain substring test), never to a non-table one; `raw` is its own
    record per image, with a digest line under --digests."""
    def out(*flags):
        return pallet.ok("images", *flags, "busybox").lines
    assert out("--digests", "--format", "table {{.Repository}}\t{{.ID}}")[0].split() == [
        "REPOSITORY", "IMAGE", "ID", "DIGEST"]
    assert out("--digests", "--format", "table {{.Digest}}")[0].split() == ["DIGEST"]
    assert out("--digests", "--format", "table {{ .Digest }}")[0].split() == ["DIGEST", "DIGEST"]
    assert out("-q", "--digests", "--format", "table {{.Tag}}") == ["TAG       DIGEST", "latest    <none>"]
    assert out("--digests", "--format", "{{.Tag}}") == ["latest"]
    assert out("--digests", "--format", "raw")[:4] == [
        "repository: busybox", "tag: latest", "digest: <none>", f"image_id: {busybox[7:19]}"]
    assert out("-q", "--format", "raw") == [f"image_id: {busybox[7:19]}"]


def test_images_invalid_filter_is_refused(pallet, busybox):
    r = pallet("images", "--filter", "color=blue")
    assert r.code == 1 and "invalid filter 'color'" in r.err


def test_images_json_format(pallet, busybox):
    row = json.loads(pallet.ok("images", "--format", "json").lines[0])
    assert row["Repository"] == "busybox" and row["Tag"] == "latest"
    assert not any(k.startswith("_") for k in row)


@ALSO_DOCKER
def test_image_prune_removes_dangling_only_unless_all(pallet, busybox, busybox_tar):
    pallet.ok("import", str(busybox_tar))  # dangling
    r = pallet.ok("image", "prune", "-f")
    assert "deleted: sha256:" in r.out and "Total reclaimed space:" in r.out
    assert pallet.ok("images", "--format", "{{.Repository}}").lines == ["busybox"]
    pallet.ok("image", "prune", "-a", "-f")
    assert pallet.ok("images", "-q").out == ""


@ALSO_DOCKER
def test_system_df_counts_images_and_containers(pallet, busybox):
    pallet.ok("create", "busybox", "true")
    r = pallet.ok("system", "df")
    assert r.lines[0].split() == ["TYPE", "TOTAL", "ACTIVE", "SIZE", "RECLAIMABLE"]
    rows = {line.split()[0]: line.split() for line in r.lines[1:]}
    assert rows["Images"][1:3] == ["1", "1"]
    assert rows["Containers"][1] == "1"
    assert "Local" in rows and "Build" in rows


def test_system_df_reclaimable_as_docker_cli_prints_it(pallet, busybox):
    pallet.ok("volume", "create", "empty")
    rows = {line.split()[0]: line for line in pallet.ok("system", "df").lines[1:]}
    assert rows["Images"].endswith("(100%)")      # nothing uses the image: all of it
    assert rows["Local"].split()[-2:] == ["0B", "0B"]  # an empty volume is 0B, no percentage of 0
    pallet.ok("volume", "rm", "empty")


# pallet only (not ALSO_DOCKER): the CLI names itself
def test_version_flag_prints_one_line_like_docker(pallet):
    # `docker --version`: "Docker version 28.2.2, build e6534b4", not the `version` report
    for flag in ("--version", "-v"):
        r = pallet.ok(flag)
        assert r.out.startswith("pallet version ") and r.out.count("\n") == 1


def test_version_and_info(pallet):
    assert "Version:" in pallet.ok("version").out
    assert pallet.ok("version", "--format", "{{.Client.Version}}").out.strip()
    info = pallet.ok("info", "--format", "{{json .}}").out
    doc = json.loads(info)
    assert doc["Driver"] == "overlay" and doc["DockerRootDir"] == str(pallet.root)
