"""Push: upload an image's layers, config and manifest to a repository.

pallet keeps no compressed blobs, so a layer is pushed by regenerating its
exact tar (`LayerStore.write_tar`), gzipping it deterministically
(`compression.gzip_writer`: the same layer always gives the same blob digest)
and streaming it: a producer thread writes tar -> gzip -> sha256 into a pipe,
the request body reads the pipe (chunked PATCH), and `PUT ?digest=` closes
the upload once the digest is known. No temp file, flat memory, and gzip
runs on one core while the socket is fed from another.

Before compressing, a layer is looked up in the db's digest<->diff_id record:
if the registry already has that digest in this repository (HEAD) it is
skipped; if another repository on the same registry has it, it is mounted
(`POST ?mount=&from=`). The manifest is Docker v2 schema 2, as Docker pushes.
"""
from __future__ import annotations

import json
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from .. import digest as dg
from ..errors import PalletError
from ..oci import image as oci
from .client import Session

PARALLEL = 3
CHUNK = 1 << 20


@dataclass
class PushedLayer:
    digest: str
    size: int
    diff_id: str


def push_scopes(path: str, also_pull: list[str] = ()) -> list[str]:
    return [f"repository:{path}:pull,push"] + [f"repository:{p}:pull" for p in also_pull]


class Uploader:
    """Blob uploads to one repository."""

    def __init__(self, session: Session, path: str):
        self.session, self.path = session, path

    def exists(self, digest: str) -> bool:
        resp = self.session.send("HEAD", f"/v2/{self.path}/blobs/{digest}", push_scopes(self.path),
                                 ok=(200, 404))
        return resp.status_code == 200

    def mount(self, digest: str, source_path: str) -> str | None:
        """Cross-repository mount; None when mounted, else an upload location to use."""
        resp = self.session.send("POST", f"/v2/{self.path}/blobs/uploads/",
                                 push_scopes(self.path, [source_path]),
                                 params={"mount": digest, "from": source_path}, ok=(201, 202))
        return None if resp.status_code == 201 else self._location(resp)

    def start(self) -> str:
        resp = self.session.send("POST", f"/v2/{self.path}/blobs/uploads/", push_scopes(self.path),
                                 ok=(202,))
        return self._location(resp)

    def _location(self, resp) -> str:
        loc = resp.headers.get("location")
        if not loc:
            raise PalletError(f"registry {self.session.host} started an upload without a Location")
        return str(resp.request.url.join(loc))

    def put_bytes(self, data: bytes, digest: str) -> None:
        """Monolithic upload (configs): POST, then PUT with the body and ?digest=."""
        self.finish(self.start(), digest, data)

    def finish(self, location: str, digest: str, data: bytes = b"") -> None:
        self.session.send("PUT", location, push_scopes(self.path), params={"digest": digest},
                          content=data, headers={"Content-Type": "application/octet-stream"},
                          ok=(201, 204))

    def stream(self, location: str, produce) -> tuple[str, int, str]:
        """Chunked PATCH of what `produce(sink)` writes; returns (digest, size, next location)."""
        r_fd, w_fd = os.pipe()
        result: dict = {}

        def producer() -> None:
            try:
                with open(w_fd, "wb") as sink:
                    hashing = dg.HashingWriter(sink)
                    produce(hashing)
                    result["digest"], result["size"] = hashing.digest, hashing.size
            except BaseException as exc:  # noqa: BLE001 - handed to the caller below
                result["error"] = exc

        src = open(r_fd, "rb")

        def body():
            while chunk := src.read(CHUNK):
                yield chunk

        thread = threading.Thread(target=producer, name="push-gzip", daemon=True)
        thread.start()
        try:
            resp = self.session.send("PATCH", location, push_scopes(self.path), content=body(),
                                     headers={"Content-Type": "application/octet-stream"}, ok=(202, 204))
        finally:
            src.close()  # a failed request must not leave the producer blocked on a full pipe
            thread.join()
        if "error" in result:
            raise result["error"]
        return result["digest"], result["size"], self._location(resp)


class LayerPusher:
    """Pushes the layers of one image in parallel, reporting progress per layer."""

    def __init__(self, db, layers, uploader: Uploader, domain: str, progress):
        self.db, self.layers = db, layers
        self.up, self.domain, self.progress = uploader, domain, progress

    def push_all(self, layers: list[tuple[str, str]]) -> dict[str, PushedLayer]:
        """layers: (diff_id, chain_id) top-down -> {diff_id: PushedLayer}."""
        unique = list(dict.fromkeys(layers))
        for diff_id, _chain in unique:
            self.progress.layer(short(diff_id), "Preparing")
        with ThreadPoolExecutor(max_workers=PARALLEL, thread_name_prefix="push") as pool:
            futures = {d: pool.submit(self._push_one, d, c) for d, c in unique}
            return {d: f.result() for d, f in futures.items()}

    def _push_one(self, diff_id: str, chain_id: str) -> PushedLayer:
        sid = short(diff_id)
        location = None
        for digest, size, repo in self.db.registry_blobs_for(diff_id):
            domain, _, path = repo.partition("/")
            if domain != self.domain:
                continue
            if self.up.exists(digest):
                self.progress.layer(sid, "Layer already exists")
                return PushedLayer(digest, size, diff_id)
            if path != self.up.path and location is None:
                location = self.up.mount(digest, path)
                if location is None:
                    self.progress.layer(sid, f"Mounted from {path}")
                    return PushedLayer(digest, size, diff_id)
        return self._upload(sid, diff_id, chain_id, location)

    def _upload(self, sid: str, diff_id: str, chain_id: str, location: str | None) -> PushedLayer:
        from ..archive.compression import gzip_writer
        row = self.db.layer(chain_id)
        self.progress.layer(sid, "Pushing", total=row.tar_size if row else None)
        layers = self.layers

        def produce(sink) -> None:
            gz = gzip_writer(sink)
            layers.write_tar(chain_id, _Counted(gz, lambda n: self.progress.advance(sid, n)))
            gz.close()

        location = location or self.up.start()
        digest, size, location = self.up.stream(location, produce)
        self.up.finish(location, digest)
        self.progress.layer(sid, "Pushed")
        return PushedLayer(digest, size, diff_id)


class _Counted:
    def __init__(self, raw, on_bytes):
        self.raw, self.on_bytes = raw, on_bytes

    def write(self, data) -> int:
        self.on_bytes(len(data))
        return self.raw.write(data)

    def flush(self) -> None:
        self.raw.flush()


def short(digest: str) -> str:
    return digest.split(":", 1)[-1][:12]


def build_manifest(config_bytes: bytes, layers: list[PushedLayer]) -> bytes:
    """Docker v2 schema 2, indented with three spaces as Docker writes it."""
    doc = oci.manifest(dg.sha256_bytes(config_bytes), len(config_bytes),
                       [(l.digest, l.size, oci.DOCKER_LAYER_GZIP) for l in layers], docker=True)
    return json.dumps(doc, indent=3).encode()


def put_manifest(session: Session, path: str, tag: str, data: bytes) -> str:
    digest = dg.sha256_bytes(data)
    session.send("PUT", f"/v2/{path}/manifests/{tag}", push_scopes(path), content=data,
                 headers={"Content-Type": oci.DOCKER_MANIFEST}, ok=(201, 200, 202))
    return digest
