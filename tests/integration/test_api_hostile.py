"""Hostile archives through the Engine API: `PUT /containers/{id}/archive` and `POST /build`
reach the same safe applier as `pallet cp -` and `pallet build -`, so nothing of the request
body lands outside the container or the build's own scratch space."""
from __future__ import annotations

import io
import os
import tarfile


def _tar(entries: dict[str, bytes | str], hardlinks: dict[str, str] | None = None) -> bytes:
    """A tar of regular files (bytes), symlinks (str targets) and hardlinks (name -> target)."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for name, target in (hardlinks or {}).items():
            info = tarfile.TarInfo(name)
            info.type, info.linkname = tarfile.LNKTYPE, target
            tar.addfile(info)
        for name, value in entries.items():
            info = tarfile.TarInfo(name)
            if isinstance(value, str):
                info.type, info.linkname = tarfile.SYMTYPE, value
                tar.addfile(info)
            else:
                info.size = len(value)
                tar.addfile(info, io.BytesIO(value))
    return buf.getvalue()


def test_put_archive_through_a_symlink_leaving_the_container_is_refused_and_copies_nothing(
        api, busybox, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    sentinel = tmp_path / "sentinel"
    sentinel.write_text("host")
    cid = api.docker_ok("create", "busybox", "true").out.strip()
    for body in (_tar({"first": b"1", "link": str(outside), "link/pwn": b"x"}),
                 _tar({"../../../../escape": b"x"}),
                 _tar({"x": b"overwritten"}, hardlinks={"x": str(sentinel)})):
        status, _headers, answer = api.request("PUT", f"/containers/{cid}/archive?path=/tmp", body,
                                               {"Content-Type": "application/x-tar"})
        assert status == 400, (status, answer)
        assert b"message" in answer
    assert os.listdir(outside) == [] and sentinel.read_text() == "host"
    status, _headers, answer = api.request("GET", f"/containers/{cid}/archive?path=/tmp")
    assert status == 200
    assert tarfile.open(fileobj=io.BytesIO(answer)).getnames() == ["tmp"]  # all or nothing


def test_build_context_with_a_hardlink_to_a_host_file_never_reads_or_writes_it(api, busybox, tmp_path):
    sentinel = tmp_path / "sentinel"
    sentinel.write_text("host secret")
    context = _tar({"Dockerfile": b"FROM busybox\nCOPY . /ctx/\n", "x": b"overwritten"},
                   hardlinks={"x": str(sentinel)})
    status, _headers, answer = api.request("POST", "/build?t=evil", context,
                                           {"Content-Type": "application/x-tar"})
    # the classic builder's stream: 200, then the error as its last message (dockerd's way)
    assert status == 200 and b'"errorDetail"' in answer
    assert b"invalid hardlink 'x'" in answer and b"not found in the build context" in answer
    assert sentinel.read_text() == "host secret"
    assert api.docker("image", "inspect", "evil").code == 1  # nothing was tagged
