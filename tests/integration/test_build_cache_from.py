"""`build --cache-from` with BuildKit's inline cache: an image built with
`--build-arg BUILDKIT_INLINE_CACHE=1` carries its steps' cache keys in its config; pushed to a
registry (Debian's docker-registry on loopback), it seeds another store's build cache. An image
without that record is no cache source; one that cannot be pulled is its step's error and the
build goes on, as BuildKit's. The Engine API's `cachefrom` reaches the same code."""
from __future__ import annotations

import io
import json
import re
import tarfile
import urllib.parse

from registry_fixtures import docker_config, registry  # noqa: F401 - fixtures
from test_build import write_context

DOCKERFILE = "FROM busybox\nCOPY a.txt /a.txt\nENV STAGE=one\nRUN echo built-now > /built\nCMD [\"sh\"]\n"


def _layers(pallet, name: str) -> list[str]:
    return json.loads(pallet.ok("image", "inspect", "-f", "{{json .RootFS.Layers}}", name).out)


def _push_and_forget(pallet, ref: str) -> list[str]:
    """Push, then wipe what this store knows of the build: the image and the whole build cache."""
    layers = _layers(pallet, ref)
    pallet.ok("push", "-q", ref)
    pallet.ok("rmi", ref)
    pallet.ok("builder", "prune", "-af")
    return layers


def test_cache_from_a_pushed_inline_cache_image_reuses_its_steps_and_layers(pallet, busybox, registry,
                                                                            docker_config, tmp_path):
    ref = f"{registry.host}/cachefrom/app:1"
    ctx = write_context(tmp_path / "c", {"Dockerfile": DOCKERFILE, "a.txt": "a\n"})
    first = pallet.ok("build", "--build-arg", "BUILDKIT_INLINE_CACHE=1", "-t", ref, str(ctx)).err
    assert re.search(r"#\d+ exporting to image\n#\d+ exporting layers done\n"
                     r"#\d+ preparing layers for inline cache done\n", first)
    assert "were not consumed" not in first
    layers = _push_and_forget(pallet, ref)

    r = pallet.ok("build", "--progress=plain", "--cache-from", ref, "-t", "again", str(ctx))
    assert re.search(rf"#(\d+) importing cache manifest from {re.escape(ref)}\n#\1 DONE 0.0s\n", r.err)
    assert re.search(r"#(\d+) \[2/3\] COPY a.txt /a.txt\n#\1 CACHED\n", r.err), r.err
    assert re.search(r"#(\d+) \[3/3\] RUN echo built-now > /built\n#\1 CACHED\n", r.err)
    assert "built-now" not in r.err.replace("RUN echo built-now", "")  # the RUN did not run
    assert _layers(pallet, "again") == layers
    assert pallet.ok("run", "--rm", "again", "cat", "/built").out == "built-now\n"

    # a changed step and every step after it are built again; the base layer stays
    (ctx / "a.txt").write_text("b\n")
    r = pallet.ok("build", "--progress=plain", "--cache-from", ref, "-t", "changed", str(ctx))
    assert re.search(r"\[2/3\] COPY a.txt /a.txt\n#\d+ cache miss: a.txt changed\n", r.err)
    assert re.search(r"\[3/3\] RUN echo built-now > /built\n#\d+ cache miss: parent image changed", r.err)
    changed = _layers(pallet, "changed")
    assert changed[0] == layers[0] and changed[1:] != layers[1:]


def test_cache_from_a_local_image_is_read_from_the_store_without_a_registry(pallet, busybox, tmp_path):
    # moby's docker driver looks for a --cache-from image in the local store first
    ctx = write_context(tmp_path / "c", {"Dockerfile": DOCKERFILE, "a.txt": "a\n"})
    built = pallet.ok("build", "-q", "--build-arg", "BUILDKIT_INLINE_CACHE=1", "-t", "app:ci", str(ctx)).out.strip()
    pallet.ok("builder", "prune", "-af")  # the tagged image stays, its step images go
    r = pallet.ok("build", "--progress=plain", "--build-arg", "BUILDKIT_INLINE_CACHE=1",
                  "--cache-from", "app:ci", "-t", "app:ci", str(ctx))
    assert r.err.count("CACHED\n") == 3 and "cache miss" not in r.err  # FROM, COPY, RUN
    # the same steps and the same record: the very same image
    assert pallet.ok("image", "inspect", "-f", "{{.Id}}", "app:ci").out.strip() == built


def test_cache_from_an_image_without_inline_cache_is_no_cache_source(pallet, busybox, registry,
                                                                     docker_config, tmp_path):
    ref = f"{registry.host}/cachefrom/plain:1"
    ctx = write_context(tmp_path / "c", {"Dockerfile": DOCKERFILE, "a.txt": "a\n"})
    pallet.ok("build", "-q", "-t", ref, str(ctx))
    _push_and_forget(pallet, ref)
    r = pallet.ok("build", "--progress=plain", "--cache-from", ref, str(ctx))
    assert re.search(rf"#(\d+) importing cache manifest from {re.escape(ref)}\n#\1 DONE", r.err)
    assert r.err.count("CACHED\n") == 1  # the FROM only
    assert "cache miss: no earlier build of this step" in r.err


def test_cache_from_that_cannot_be_pulled_is_an_error_of_its_step_and_the_build_goes_on(
        pallet, busybox, registry, docker_config, tmp_path):
    ref = f"{registry.host}/cachefrom/nosuch:1"
    ctx = write_context(tmp_path / "c", {"Dockerfile": "FROM busybox\nRUN echo ran\n"})
    r = pallet.ok("build", "--progress=plain", "--cache-from", ref, "-t", "built", str(ctx))
    line = re.search(rf"#(\d+) importing cache manifest from {re.escape(ref)}\n#\1 ERROR: (.*)\n", r.err)
    assert line and line.group(2).startswith(ref + ": ")
    assert "ran" in r.err and "ERROR: failed to solve" not in r.err
    r = pallet.ok("build", "--progress=classic", "--cache-from", ref, str(ctx))
    assert f"WARNING: importing cache manifest from {ref}: {ref}: " in r.out
    r = pallet("build", "--cache-from", "type=local,src=/tmp/cache", str(ctx))
    assert r.code == 1 and "unsupported cache import 'type=local,src=/tmp/cache'" in r.err


def _context_tar(files: dict[str, str]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for name, text in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(text.encode())
            tar.addfile(info, io.BytesIO(text.encode()))
    return buf.getvalue()


def test_api_build_cachefrom_reuses_the_inline_cache_as_the_cli_does(api, pallet, busybox, registry,
                                                                     docker_config, tmp_path):
    ref = f"{registry.host}/cachefrom/api:1"
    files = {"Dockerfile": DOCKERFILE, "a.txt": "a\n"}
    ctx = write_context(tmp_path / "c", files)
    pallet.ok("build", "-q", "--build-arg", "BUILDKIT_INLINE_CACHE=1", "-t", ref, str(ctx))
    layers = _push_and_forget(pallet, ref)
    query = urllib.parse.urlencode({"t": "viaapi", "cachefrom": json.dumps([ref])})
    status, _h, body = api.request("POST", f"/build?{query}", _context_tar(files),
                                   {"Content-Type": "application/x-tar"})
    stream = "".join(json.loads(line).get("stream", "") for line in body.decode().splitlines() if line)
    assert status == 200 and stream.count(" ---> Using cache") == 4, stream  # COPY, ENV, RUN, CMD
    assert "built-now\n" not in stream
    assert _layers(pallet, "viaapi") == layers
    status, _h, body = api.request("POST", "/build?cachefrom=notjson", _context_tar(files),
                                   {"Content-Type": "application/x-tar"})
    assert status == 400 and b"invalid cachefrom" in body
