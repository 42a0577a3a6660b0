"""Docker's build use cases: `build` (Dockerfile + context -> tagged image) and `builder prune`.

Owns: turning what the user named (a context directory, a tar or a
Dockerfile on stdin, `-f`, `--build-arg`, tags) into a BuildRequest for
pallet.build.executor, and clearing the build cache. The executor never sees
flags; the CLI never sees the executor.

Context rules (Docker's): PATH is a directory; `-` reads stdin, which is either
a tar (plain or compressed) holding the context, or a bare Dockerfile with no
context. `-f -` reads the Dockerfile from stdin with PATH as the context. A
relative `-f` is looked up from the current directory, then inside the context.
"""
from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import BinaryIO, Callable

from .. import reference
from ..errors import Conflict, InvalidArgument, NotFound
from .build_types import BuildSource

TAR_MAGIC_OFFSET = 257


def _check_platform(text: str | None) -> None:
    """pallet builds with the host's runc, so for the host's platform only."""
    if not text:
        return
    from ..oci.image import host_platform
    from ..opts.platform import parse_platform
    want, host = parse_platform(text), host_platform()
    if (want["os"], want["architecture"]) != (host["os"], host["architecture"]):
        raise InvalidArgument(f'platform "{text}" is not the host\'s ({host["os"]}/{host["architecture"]}): '
                              "pallet builds for the host platform only")


class BuildService:
    """What a build uses, handed to the executor as its `parts`: the store pieces, the image
    service, and, resolved on first use, the registry (FROM a missing image) and the
    container service (RUN steps)."""

    def __init__(self, paths, db, images, image_store, layers, locks, registry, containers,
                 sweep_leftovers):
        self.paths, self.db, self.images = paths, db, images
        self.image_store, self.layers, self.locks = image_store, layers, locks
        self._registry, self._containers = registry, containers
        self.sweep_leftovers = sweep_leftovers

    @property
    def registry(self):
        return self._registry()

    @property
    def containers(self):
        return self._containers()

    def run_step(self, spec, output, on_created=lambda cid: None) -> tuple[str, int]:
        """A RUN step's container (pallet.services.build_run): (container id, exit code)."""
        from .build_run import run_step
        return run_step(self.containers, spec, output, on_created)

    def build(self, source: BuildSource, emit: Callable[[object], None], want_output: bool = True,
              *, tags: list[str] = (), build_args: dict[str, str] | None = None, target: str | None = None,
              no_cache: bool = False, labels: dict[str, str] | None = None, network: str | None = None,
              secrets: dict[str, str] | None = None, source_date_epoch: int | None = None,
              run_limits=None, pull: bool = False, platform: str | None = None,
              cache_from: list[str] = ()):
        """Build and tag; returns pallet.build.executor.BuildResult. Progress goes to `emit` as
        pallet.build.events (RUN output too, unless not `want_output`); `run_limits` is a
        build_types.RunLimits, `platform` --platform (the host's only), `cache_from` the images
        whose inline cache (BUILDKIT_INLINE_CACHE=1) seeds the cache (pallet.build.inlinecache). The older form, `emit`
        taking the classic builder's lines and a binary stream in place of `want_output` for
        RUN's output, still works (events.classic_sink)."""
        if not isinstance(want_output, bool):
            from ..build.events import classic_sink
            emit, want_output = classic_sink(emit, want_output), want_output is not None
        _check_platform(platform)
        from ..build.dockerfile import parse
        from ..build.executor import Builder, BuildRequest
        full_tags = [str(reference.parse_repository_tag(t).tagged()) for t in tags]
        from ..store.leases import ScratchLease
        self.paths.ensure()
        ingest = self.paths.ingest
        with ScratchLease(ingest) as prefix, \
                tempfile.TemporaryDirectory(prefix=prefix + "build-ctx-", dir=ingest) as scratch:
            context, text, filename, context_id = self._open(source, Path(scratch))
            dockerfile = parse(text, filename)
            req = BuildRequest(context, dockerfile, context_id, full_tags, dict(build_args or {}), target,
                               no_cache, dict(labels or {}), network, dict(secrets or {}), source_date_epoch,
                               run_limits, pull, _cache_from(cache_from))
            return Builder(self, req, emit, want_output).run()

    def _open(self, source: BuildSource, scratch: Path):
        from ..build.context import BuildContext
        if source.context_path == "-":
            if source.dockerfile == "-":
                raise InvalidArgument("invalid argument: can't use stdin for both build context and dockerfile")
            data_head, stream = _peek(source.stdin)
            if not data_head:
                raise InvalidArgument("the build context on stdin is empty")
            if not _looks_like_archive(data_head):
                text = (data_head + stream.read()).decode("utf-8", "replace")
                return BuildContext(None), text, "Dockerfile", "stdin"
            context = BuildContext.from_tar(_Joined(data_head, stream), scratch / "context")
            name = source.dockerfile or "Dockerfile"
            return context, _read_dockerfile(context.root, name), name, "stdin-tar"
        context = BuildContext.from_dir(source.context_path)
        if source.dockerfile == "-":
            text = source.stdin.read().decode("utf-8", "replace")
            return context, text, "Dockerfile", f"{context.root}:-"
        path = _dockerfile_path(context.root, source.dockerfile)
        return context, path.read_text(), path.name, f"{context.root}:{path}"

    def prune(self) -> tuple[int, int]:
        """Forget the build cache, delete intermediate images nothing needs and cache mounts.

        Returns (cache entries removed, bytes reclaimed)."""
        db, images = self.db, self.images
        before = sum(r.size for r in db.all_layers())
        candidates = db.build_cache_images()
        with db.deleting():
            entries = db.build_cache_clear()
        for image_id in candidates:
            if db.image(image_id) is None or db.tags_of(image_id):
                continue
            try:
                images.remove(image_id)
            except (Conflict, NotFound):
                continue  # a tagged image's ancestor, or used by a container: kept
        mounts = self.paths.root / "buildcache"
        freed = _tree_size(mounts)
        shutil.rmtree(mounts, ignore_errors=True)
        self.image_store.sweep_layers()
        freed += self.sweep_leftovers()  # a killed build's copied context, too
        after = sum(r.size for r in db.all_layers())
        return entries, max(0, before - after) + freed


def _cache_from(values) -> list[str]:
    """--cache-from NAME, or buildx's `type=registry,ref=NAME` (the one type pallet reads: an
    image's inline cache); any other type is refused rather than silently ignored."""
    out = []
    for value in values:
        if "=" not in value:
            out.append(value)
            continue
        fields = dict(p.partition("=")[::2] for p in value.split(","))
        if fields.get("type", "registry") != "registry" or not fields.get("ref"):
            raise InvalidArgument(f"unsupported cache import {value!r}: pallet reads an image's "
                                  "inline cache only (NAME or type=registry,ref=NAME)")
        out.append(fields["ref"])
    return out


def _peek(stream: BinaryIO) -> tuple[bytes, BinaryIO]:
    head = b""
    while len(head) < 512:
        chunk = stream.read(512 - len(head))
        if not chunk:
            break
        head += chunk
    return head, stream


def _looks_like_archive(head: bytes) -> bool:
    if head[:2] == b"\x1f\x8b" or head[:3] == b"BZh" or head[:6] == b"\xfd7zXZ\x00" \
            or head[:4] == b"\x28\xb5\x2f\xfd":
        return True
    return head[TAR_MAGIC_OFFSET:TAR_MAGIC_OFFSET + 5] == b"ustar"


class _Joined:
    """The peeked head followed by the rest of the stream."""

    def __init__(self, head: bytes, rest: BinaryIO):
        self.head, self.rest = head, rest

    def readable(self) -> bool:
        return True

    def read(self, n: int = -1) -> bytes:
        if self.head:
            if n is None or n < 0:
                data, self.head = self.head + self.rest.read(), b""
                return data
            data, self.head = self.head[:n], self.head[n:]
            return data
        return self.rest.read(n)


def _read_dockerfile(root: Path, name: str) -> str:
    from ..build.context import BuildContext
    found = BuildContext(root).resolve(name)
    if found is None or not found.path.is_file():
        raise NotFound(f"Cannot locate specified Dockerfile: {name}")
    return found.path.read_text()


def _dockerfile_path(root: Path, name: str | None) -> Path:
    if name is None:
        for candidate in ("Dockerfile", "dockerfile"):
            if (root / candidate).is_file():
                return root / candidate
        raise NotFound("Cannot locate specified Dockerfile: Dockerfile")
    for path in (Path(name), root / name):
        if path.is_file():
            return path.resolve()
    raise NotFound(f"Cannot locate specified Dockerfile: {name}")


def _tree_size(path: Path) -> int:
    total = 0
    for dirpath, _dirs, files in os.walk(path):
        for f in files:
            try:
                total += os.lstat(os.path.join(dirpath, f)).st_size
            except OSError:
                pass
    return total
