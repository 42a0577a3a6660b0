"""`save` and `load`: images to and from archives.

`save` writes Docker 25's combined layout, which is at once a docker-archive
(manifest.json, repositories) and an OCI image layout (oci-layout, index.json,
blobs/sha256/): layers as uncompressed tars named by their diff_id, regenerated
byte-exact from the unpacked trees and verified as they stream out.

`load` reads docker-archives (old and new layouts, optionally compressed) and
OCI layouts (what `skopeo copy ... oci-archive:` writes). Every layer is
checked against the config's diff_ids (and OCI blobs against their digests)
before anything is committed; a bad archive leaves the store unchanged.
"""
from __future__ import annotations

import json
import os
import tarfile
import tempfile
import time
from pathlib import Path
TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: importing typing costs ~3 ms per command
    from typing import BinaryIO

from .. import digest as dg
from .. import reference
from ..errors import DataCorrupted, InvalidArgument
from ..oci import image as oci
from ..reference import familiar, split_name


class _TarWriter:
    """Streams a tar to a non-seekable sink; sizes must be known up front."""

    def __init__(self, out: BinaryIO):
        self.out = out
        self.mtime = int(time.time())

    def _header(self, name: str, size: int, kind=tarfile.REGTYPE, mode=0o644) -> None:
        info = tarfile.TarInfo(name)
        info.size, info.type, info.mode, info.mtime = size, kind, mode, self.mtime
        self.out.write(info.tobuf(tarfile.PAX_FORMAT))

    def _pad(self, size: int) -> None:
        if size % 512:
            self.out.write(b"\0" * (512 - size % 512))

    def dir(self, name: str) -> None:
        self._header(name.rstrip("/") + "/", 0, tarfile.DIRTYPE, 0o755)

    def file(self, name: str, data: bytes) -> None:
        self._header(name, len(data))
        self.out.write(data)
        self._pad(len(data))

    def stream(self, name: str, size: int, write_body) -> None:
        self._header(name, size)
        counter = _Counter(self.out)
        write_body(counter)
        if counter.n != size:
            raise DataCorrupted(f"{name}: wrote {counter.n} bytes, expected {size}")
        self._pad(size)

    def close(self) -> None:
        self.out.write(b"\0" * 1024)


class _Counter:
    def __init__(self, out):
        self.out, self.n = out, 0

    def write(self, data) -> int:
        self.n += len(data)
        return self.out.write(data)

    def flush(self) -> None:
        pass


class TransferService:
    """save/load/import over the image service and the store pieces layers are written with."""

    def __init__(self, paths, db, images, layers, locks):
        self.paths = paths
        self.db = db
        self.images = images
        self.layers = layers
        self.locks = locks

    # ---------- save ----------
    def _select(self, names: list[str]) -> dict[str, list[str]]:
        """image_id -> the tags to record, in the order names were given."""
        chosen: dict[str, list[str]] = {}
        for name in names:
            image_id = self.images.resolve(name)
            tags = chosen.setdefault(image_id, [])
            try:
                ref = reference.parse(name)
            except InvalidArgument:
                continue
            full = str(ref.tagged())
            if not image_id.endswith(name) and self.db.tag(full) == image_id and full not in tags:
                tags.append(full)
        return chosen

    def save_to_path(self, names: list[str], path: str) -> None:
        target = Path(path)
        fd, tmp = tempfile.mkstemp(dir=target.parent if str(target.parent) else ".", prefix=".pallet-save-")
        try:
            with os.fdopen(fd, "wb") as f:
                self.save(names, f)
            os.replace(tmp, target)
        except BaseException:
            os.unlink(tmp)
            raise

    def save(self, names: list[str], out: BinaryIO) -> None:
        chosen = self._select(names)
        w = _TarWriter(out)
        w.file("oci-layout", b'{"imageLayoutVersion":"1.0.0"}')
        w.dir("blobs")
        w.dir("blobs/sha256")
        written: set[str] = set()
        manifest_json, index, repositories = [], [], {}
        for image_id, tags in chosen.items():
            config_bytes = self.images.store.config_bytes(image_id)
            diff_ids = oci.diff_ids(json.loads(config_bytes))
            chains = self.db.image_chain(image_id)
            layers = []
            for diff_id, chain in zip(diff_ids, chains):
                name = f"blobs/sha256/{dg.hex_of(diff_id)}"
                size = self.db.layer(chain).tar_size
                if diff_id not in written:
                    w.stream(name, size, lambda sink, c=chain: self.layers.write_tar(c, sink))
                    written.add(diff_id)
                layers.append((diff_id, size, oci.OCI_LAYER))
            self._blob(w, config_bytes, written)
            mf = oci.encode(oci.manifest(image_id, len(config_bytes), layers))
            mf_digest = self._blob(w, mf, written)
            manifest_json.append({"Config": f"blobs/sha256/{dg.hex_of(image_id)}",
                                  "RepoTags": [familiar(t) for t in tags] or None,
                                  "Layers": [f"blobs/sha256/{dg.hex_of(d)}" for d, _, _ in layers]})
            index += _index_entries(mf_digest, len(mf), tags)
            for t in tags:
                repo, tag = split_name(t)
                if diff_ids:
                    repositories.setdefault(repo, {})[tag] = dg.hex_of(diff_ids[-1])
        w.file("index.json", oci.encode({"schemaVersion": 2, "mediaType": oci.OCI_INDEX, "manifests": index}))
        w.file("manifest.json", json.dumps(manifest_json, separators=(",", ":")).encode())
        if repositories:
            w.file("repositories", json.dumps(repositories, separators=(",", ":")).encode())
        w.close()

    def _blob(self, w: _TarWriter, data: bytes, written: set[str]) -> str:
        digest = dg.sha256_bytes(data)
        if digest not in written:
            w.file(f"blobs/sha256/{dg.hex_of(digest)}", data)
            written.add(digest)
        return digest

    # ---------- load ----------
    def load(self, stream: BinaryIO) -> list[str]:
        """Load every image in an archive; returns Docker's `Loaded image: ...` lines."""
        from .archive_reader import open_archive
        with open_archive(stream, self.paths.ingest) as archive:
            entries = archive.images()
            lines = []
            with self.locks.in_flight():
                for entry in entries:
                    lines += self._load_one(archive, entry)
        return lines

    def _load_one(self, archive, entry) -> list[str]:
        config_bytes = archive.read_config(entry)
        config = oci.decode(config_bytes, "image config")
        oci.validate_config(config)
        diff_ids = oci.diff_ids(config)
        self.images.store.check_depth(len(diff_ids))  # before any layer is unpacked
        if len(diff_ids) != len(entry.layers):
            raise InvalidArgument(f"invalid archive: image {dg.sha256_bytes(config_bytes)[:19]} has "
                                  f"{len(entry.layers)} layers but its config lists {len(diff_ids)}")
        staged = {}
        try:
            for diff_id, chain, layer in zip(diff_ids, dg.chain_ids(diff_ids), entry.layers):
                if self.layers.has(chain) or diff_id in staged:
                    continue
                s = archive.stage_layer(self.layers, layer)
                staged[diff_id] = s
                if s.diff_id != diff_id:
                    raise DataCorrupted(f"invalid archive: layer {layer.name} has diff ID {s.diff_id}, "
                                        f"but the config expects {diff_id}")
            tags = [str(reference.parse(t).tagged()) for t in entry.tags]
            result = self.images.store.commit(config_bytes, staged, tags)
        finally:
            for s in staged.values():
                s.release()
        lines = []
        for tag, old in result.retagged_from.items():
            lines.append(f"The image {familiar(tag)} already exists, renaming the old one with ID {old} to empty string")
        lines += [f"Loaded image: {familiar(t)}" for t in tags] or [f"Loaded image ID: {result.image_id}"]
        return lines


def _index_entries(mf_digest: str, size: int, tags: list[str]) -> list[dict]:
    base = {"mediaType": oci.OCI_MANIFEST, "digest": mf_digest, "size": size}
    if not tags:
        return [base]
    return [{**base, "annotations": {"io.containerd.image.name": t,
                                     "org.opencontainers.image.ref.name": split_name(t)[1]}} for t in tags]

