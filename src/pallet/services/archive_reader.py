"""Reading image archives: docker-archive (manifest.json) and OCI layout (index.json).

The input may be a pipe and may be compressed; it is spooled (decompressed) to
a temporary file under the store's ingest directory so that members can be
read in any order with flat memory. Member names are never used as host paths.
"""
from __future__ import annotations

import json
import posixpath
import shutil
import tarfile
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: importing typing costs ~3 ms per command
    from typing import BinaryIO, Iterator

from .. import digest as dg
from ..errors import DataCorrupted, InvalidArgument
from ..oci import image as oci

MAX_JSON = 16 << 20  # manifests and configs larger than this are not sane
MAX_LINKS = 40       # as the kernel's symlink limit


@dataclass
class LayerRef:
    name: str
    digest: str | None = None   # OCI: the blob digest to verify
    size: int | None = None


@dataclass
class ImageEntry:
    config_name: str
    config_digest: str | None
    layers: list[LayerRef]
    tags: list[str] = field(default_factory=list)


@contextmanager
def open_archive(stream: BinaryIO, ingest: Path) -> Iterator["Archive"]:
    ingest.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryFile(dir=ingest, prefix="load-") as spool:
        _spool(stream, spool)
        try:
            tar = tarfile.open(fileobj=spool, mode="r:")
            members = tar.getmembers()
        except (tarfile.TarError, EOFError, OSError) as exc:
            raise InvalidArgument(f"invalid archive: not a readable tar file ({exc})") from exc
        except MemoryError:  # tarfile reads a PAX record whole, whatever size it claims
            raise InvalidArgument("invalid archive: a tar header claims more memory than "
                                  "there is") from None
        yield Archive(tar, members)


def _spool(stream: BinaryIO, spool) -> None:
    from ..archive.compression import open_layer_stream
    try:
        shutil.copyfileobj(open_layer_stream(stream), spool, 1 << 20)
    except (OSError, EOFError) as exc:
        raise InvalidArgument(f"invalid archive: {exc}") from exc
    if spool.tell() == 0:
        raise InvalidArgument("invalid archive: the input is empty")
    spool.seek(0)


def _norm(name: str) -> str:
    return posixpath.normpath("/" + name).lstrip("/")


class Archive:
    def __init__(self, tar: tarfile.TarFile, members: list[tarfile.TarInfo]):
        self.tar = tar
        self.members = {_norm(m.name): m for m in members}

    def _member(self, name: str) -> tarfile.TarInfo:
        """The member `name` names, links followed inside the archive (Docker reads the
        unpacked archive with symlinks resolved in its scope); never a host path."""
        m = self.members.get(_norm(name))
        if m is None:
            raise InvalidArgument(f"invalid archive: {name} is referenced but missing")
        for _ in range(MAX_LINKS):
            if not (m.issym() or m.islnk()):
                return m
            target = _norm(posixpath.join(posixpath.dirname(_norm(m.name)), m.linkname)
                           if m.issym() else m.linkname)
            nxt = self.members.get(target)
            if nxt is None:
                kind = "symbolic link" if m.issym() else "hardlink"
                raise InvalidArgument(f"invalid archive: {name} is a {kind} to {m.linkname}, "
                                      "which is not in the archive")
            m = nxt
        raise InvalidArgument(f"invalid archive: {name}: too many levels of symbolic links")

    def _open(self, name: str):
        member = self._member(name)
        f = self.tar.extractfile(member) if member.isreg() else None
        if f is None:
            raise InvalidArgument(f"invalid archive: {name} is not a regular file")
        return f

    def read_json_bytes(self, name: str) -> bytes:
        m = self._member(name)
        if m.size > MAX_JSON:
            raise InvalidArgument(f"invalid archive: {name} is {m.size} bytes, larger than the sane limit")
        return self._open(name).read()

    def images(self) -> list[ImageEntry]:
        if "manifest.json" in self.members:
            return self._docker_entries()
        if "index.json" in self.members:
            return self._oci_entries()
        raise InvalidArgument("invalid archive: no manifest.json (docker-archive) or index.json "
                              "(OCI layout) found")

    def _docker_entries(self) -> list[ImageEntry]:
        doc = _json(self.read_json_bytes("manifest.json"), "manifest.json")
        if not isinstance(doc, list):
            raise InvalidArgument("invalid archive: manifest.json is not a list")
        out = []
        for item in doc:
            if not isinstance(item, dict) or "Config" not in item or not isinstance(item.get("Layers"), list):
                raise InvalidArgument("invalid archive: manifest.json entry without Config and Layers")
            out.append(ImageEntry(item["Config"], None, [LayerRef(p) for p in item["Layers"]],
                                  list(item.get("RepoTags") or [])))
        return out

    def _blob_name(self, digest: str) -> str:
        algo, hexpart = dg.validate(digest).split(":", 1)
        return f"blobs/{algo}/{hexpart}"

    def _oci_entries(self) -> list[ImageEntry]:
        index = _json(self.read_json_bytes("index.json"), "index.json")
        out = []
        for desc in index.get("manifests") or []:
            out += self._from_descriptor(desc, desc.get("annotations") or {})
        return out

    def _from_descriptor(self, desc: dict, annotations: dict) -> list[ImageEntry]:
        data = self._verified(desc)
        doc = oci.decode(data, "manifest")
        media = desc.get("mediaType") or doc.get("mediaType")
        if media in oci.INDEX_TYPES or "manifests" in doc:
            return self._from_descriptor(oci.select_platform(doc), annotations)
        cfg, layers = oci.read_manifest(doc)
        tag = _tag_from(annotations)
        return [ImageEntry(self._blob_name(cfg["digest"]), cfg["digest"],
                           [LayerRef(self._blob_name(l["digest"]), l["digest"], l.get("size")) for l in layers],
                           [tag] if tag else [])]

    def _verified(self, desc: dict) -> bytes:
        data = self.read_json_bytes(self._blob_name(desc["digest"]))
        if dg.sha256_bytes(data) != desc["digest"]:
            raise DataCorrupted(f"invalid archive: blob {desc['digest']} does not match its digest")
        return data

    def read_config(self, entry: ImageEntry) -> bytes:
        data = self.read_json_bytes(entry.config_name)
        if entry.config_digest and dg.sha256_bytes(data) != entry.config_digest:
            raise DataCorrupted(f"invalid archive: config {entry.config_digest} does not match its digest")
        return data

    def stage_layer(self, layer_store, layer: LayerRef):
        raw = dg.HashingReader(self._open(layer.name))
        staged = layer_store.stage(raw)
        try:
            raw.drain()
            if layer.digest:
                raw.verify(layer.digest, layer.size, what="layer")
        except BaseException:
            staged.release()
            raise
        return staged


def _json(data: bytes, what: str):
    try:
        return json.loads(data)
    except ValueError as exc:
        raise InvalidArgument(f"invalid archive: malformed {what}: {exc}") from exc


def _tag_from(annotations: dict) -> str | None:
    name = annotations.get("io.containerd.image.name")
    if name:
        return name
    ref = annotations.get("org.opencontainers.image.ref.name")
    if not ref:
        return None
    # skopeo writes either a bare tag ("latest") or a full reference.
    return ref if ("/" in ref or ":" in ref) else None

