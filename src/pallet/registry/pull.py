"""Pull: resolve a reference to a manifest, fetch and verify its config and layers.

Invariants: nothing becomes visible before `ImageStore.commit`. Every byte is
checked before it is trusted: manifests against the digest asked for (or the
registry's Docker-Content-Digest) and a size limit, the config against its
descriptor, each layer's compressed digest and size, and its diff_id against
the config's rootfs.diff_ids. Layers stream from the socket through
decompression into a private staging directory (flat memory) in at most
`PARALLEL` worker threads; on any failure every staged layer is released, so
a failed or killed pull leaves nothing, and the next pull starts clean.
"""
from __future__ import annotations

import json
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from .. import digest as dg
from ..errors import DataCorrupted, InvalidArgument, PalletError
from ..oci import image as oci
from .client import BodyReader, Session, read_limited

ACCEPT = ", ".join([oci.OCI_INDEX, oci.DOCKER_LIST, oci.OCI_MANIFEST, oci.DOCKER_MANIFEST])
MAX_MANIFEST = 4 << 20   # distribution refuses manifests past 4 MiB; so do we
MAX_CONFIG = 8 << 20
PARALLEL = 3             # Docker's default max-concurrent-downloads is 3


@dataclass
class Manifest:
    data: bytes
    media_type: str
    digest: str

    @property
    def doc(self) -> dict:
        return oci.decode(self.data, "manifest")

    @property
    def is_index(self) -> bool:
        return self.media_type in oci.INDEX_TYPES or "manifests" in self.doc


def pull_scope(path: str) -> list[str]:
    return [f"repository:{path}:pull"]


def fetch_manifest(session: Session, path: str, reference: str) -> Manifest:
    """GET a manifest by tag or digest, with content negotiation, verified and size-limited."""
    resp = session.send("GET", f"/v2/{path}/manifests/{reference}", pull_scope(path),
                        headers={"Accept": ACCEPT}, stream=True)
    data = read_limited(resp, MAX_MANIFEST, f"manifest {reference}")
    got = dg.sha256_bytes(data)
    expected = reference if reference.startswith("sha256:") else resp.headers.get("docker-content-digest")
    if expected and expected.startswith("sha256:") and got != expected:
        raise DataCorrupted(f"manifest verification failed for digest {expected} (got {got})")
    doc = oci.decode(data, "manifest")
    media = (resp.headers.get("content-type") or "").split(";")[0].strip() or doc.get("mediaType", "")
    if doc.get("mediaType") in oci.MANIFEST_TYPES | oci.INDEX_TYPES:
        media = doc["mediaType"]
    if media not in oci.MANIFEST_TYPES | oci.INDEX_TYPES and "manifests" not in doc:
        if doc.get("schemaVersion") != 2:
            raise InvalidArgument(f"unsupported manifest format {media or doc.get('schemaVersion')!r} "
                                  f"for {path}:{reference}")
        media = oci.OCI_MANIFEST
    return Manifest(data, media, got)


def resolve(session: Session, path: str, reference: str, platform: dict | None) -> tuple[Manifest, Manifest]:
    """(top-level manifest or index, the image manifest for the platform)."""
    top = fetch_manifest(session, path, reference)
    if not top.is_index:
        return top, top
    desc = oci.select_platform(top.doc, platform)
    if not isinstance(desc.get("digest"), str):
        raise InvalidArgument("malformed manifest list: entry without digest")
    image = fetch_manifest(session, path, dg.validate(desc["digest"]))
    if image.is_index:
        raise InvalidArgument("malformed manifest list: nested index entries are not supported")
    return top, image


def fetch_blob_bytes(session: Session, path: str, desc: dict, limit: int, what: str) -> bytes:
    digest = dg.validate(desc["digest"])
    resp = session.send("GET", f"/v2/{path}/blobs/{digest}", pull_scope(path), stream=True)
    data = read_limited(resp, limit, f"{what} {digest}")
    if dg.sha256_bytes(data) != digest or (desc.get("size") is not None and len(data) != desc["size"]):
        raise DataCorrupted(f"{what} verification failed for digest {digest}")
    return data


def short(digest: str) -> str:
    return digest.split(":", 1)[-1][:12]


class LayerFetcher:
    """Downloads layers in parallel into staging; cancels the rest at the first failure."""

    def __init__(self, session: Session, path: str, layer_store, progress):
        self.session, self.path = session, path
        self.layers, self.progress = layer_store, progress
        self._failed = threading.Event()

    def fetch_all(self, jobs: list[tuple[dict, str]]) -> dict:
        """jobs: (layer descriptor, expected diff_id) -> {diff_id: StagedLayer}."""
        staged: dict = {}
        if not jobs:
            return staged
        with ThreadPoolExecutor(max_workers=PARALLEL, thread_name_prefix="pull") as pool:
            futures = [(diff_id, pool.submit(self._fetch, desc, diff_id)) for desc, diff_id in jobs]
            error = None
            for diff_id, fut in futures:
                try:
                    staged[diff_id] = fut.result()
                except BaseException as exc:  # noqa: BLE001 - first error wins, the rest are released
                    self._failed.set()
                    error = error or exc
        if error is not None:
            for s in staged.values():
                s.release()
            raise error
        return staged

    def _fetch(self, desc: dict, diff_id: str):
        if self._failed.is_set():
            raise PalletError("cancelled")
        digest, size = dg.validate(desc["digest"]), desc.get("size")
        sid = short(digest)
        resp = self.session.send("GET", f"/v2/{self.path}/blobs/{digest}", pull_scope(self.path), stream=True)
        seen = [0]

        def on_bytes(n: int) -> None:
            seen[0] += n
            if self._failed.is_set():
                raise PalletError("cancelled")
            if size is not None and seen[0] > size:
                raise DataCorrupted(f"filesystem layer verification failed for digest {digest}: "
                                    f"more than its {size} bytes")
            self.progress.advance(sid, n)

        reader = BodyReader(resp, on_bytes)
        hashing = dg.HashingReader(reader)
        self.progress.layer(sid, "Downloading", total=size)
        try:
            try:
                staged = self.layers.stage(_fast_gunzip(hashing, desc.get("mediaType")))
            except (DataCorrupted, InvalidArgument) as exc:
                raise self._name_failure(hashing, digest, size, exc) from exc
            try:
                hashing.drain()
                _verify_layer(hashing, digest, size, staged.diff_id, diff_id)
            except BaseException:
                staged.release()
                raise
        finally:
            reader.close()
        self.progress.layer(sid, "Download complete")
        self.progress.layer(sid, "Pull complete")
        return staged


    @staticmethod
    def _name_failure(hashing, digest: str, size: int | None, exc: Exception) -> PalletError:
        """An unpack error names the layer; corrupt bytes are reported as what they are."""
        try:
            hashing.drain()
        except PalletError:
            pass
        if hashing.digest != digest or (size is not None and hashing.size != size):
            return DataCorrupted(f"filesystem layer verification failed for digest {digest}")
        return DataCorrupted(f"layer {digest}: {exc}")


class _Translated:
    """isal's decoder errors leave as DataCorrupted, like pallet.archive.compression's."""

    def __init__(self, inner):
        self._inner = inner

    def readable(self) -> bool:
        return True

    def read(self, n: int = -1) -> bytes:
        try:
            return self._inner.read(n)
        except PalletError:
            raise
        except Exception as exc:  # isal_zlib.error, OSError, EOFError from a corrupt stream
            raise DataCorrupted(f"gzip layer: invalid compressed data: {exc}") from exc


def _fast_gunzip(stream, media_type: str | None):
    """Decompress gzip layers with ISA-L (~1.7x stdlib zlib) when it is installed.

    Only decompression: its output is the same whatever the library, so digests
    and diff_ids are unaffected. Other layers go to LayerStore.stage as they are
    (it sniffs and decompresses them itself).
    """
    if not (media_type or "").endswith("gzip"):
        return stream
    try:
        from isal import igzip
    except ImportError:
        return stream
    return _Translated(igzip.IGzipFile(fileobj=stream, mode="rb"))


def _verify_layer(hashing, digest: str, size: int | None, got_diff_id: str, diff_id: str) -> None:
    if hashing.digest != digest or (size is not None and hashing.size != size):
        raise DataCorrupted(f"filesystem layer verification failed for digest {digest}")
    if got_diff_id != diff_id:
        raise DataCorrupted(f"layer {digest} has diff ID {got_diff_id}, but the image config "
                            f"expects {diff_id}")


def plan_layers(manifest: dict, config: dict) -> list[tuple[dict, str]]:
    """Pair the manifest's layer descriptors with the config's diff_ids, checking both."""
    _cfg, layers = oci.read_manifest(manifest)
    diff_ids = oci.diff_ids(config)
    if len(diff_ids) != len(layers):
        raise InvalidArgument(f"malformed image: the manifest lists {len(layers)} layers but the "
                              f"config lists {len(diff_ids)} diff IDs")
    for desc in layers:
        mt = desc.get("mediaType")
        if mt and mt not in oci.LAYER_TYPES:
            raise InvalidArgument(f"unsupported layer media type {mt}")
        if not isinstance(desc.get("size", 0), int):
            raise InvalidArgument("malformed manifest: layer size is not a number")
    return list(zip(layers, diff_ids))


def pretty(data: bytes) -> str:
    """Manifest JSON as `docker manifest inspect` prints it (3-space indent, order kept)."""
    return json.dumps(json.loads(data), indent=3, ensure_ascii=False)
