"""Images as stored: config blob + ordered layers + names, made visible atomically.

`commit` is the only way an image appears: config blob written and verified,
staged layers renamed into place, then in ONE transaction the layer rows, the
image row, its layer list and its tags. `remove` is its mirror: rows go in one
transaction, trees are moved to trash under the commit lock and deleted after.
Names are stored fully qualified (docker.io/library/busybox:latest).
"""
from __future__ import annotations

import time
from ..record import dataclass

from .. import crash_point, digest as dg
from ..errors import InvalidArgument, NotFound
from ..oci import image as oci
from .content import ContentStore
from .db import Database, ImageRow
from .layers import LayerStore, StagedLayer
from .locks import Locks


@dataclass
class Committed:
    image_id: str
    new: bool                    # False when the image already existed
    retagged_from: dict[str, str]  # tag -> image it pointed at before


class ImageStore:
    def __init__(self, db: Database, content: ContentStore, layers: LayerStore, locks: Locks,
                 max_layers=None):
        self.db, self.content, self.layers, self.locks = db, content, layers, locks
        self._max_layers = max_layers  # an int, or a function computing it when first asked

    @property
    def max_layers(self) -> int | None:
        """What a container's mount can stack (snapshot.overlay); only making an image asks."""
        if callable(self._max_layers):
            self._max_layers = self._max_layers()
        return self._max_layers

    def check_depth(self, layers: int) -> None:
        """Refuse an image deeper than a container can mount, as Docker's layer store does
        past its 125 (in Docker's words), before anything of it is stored."""
        if self.max_layers is not None and layers > self.max_layers:
            raise InvalidArgument(f"max depth exceeded: the image has {layers} layers, more than "
                                  f"the {self.max_layers} overlayfs can stack in this store")

    def commit(self, config_bytes: bytes, staged: dict[str, StagedLayer], tags: list[str] = (),
               repo_digests: list[tuple[str, str]] = (), parent: str | None = None) -> Committed:
        """Make an image visible. `staged` maps diff_id -> StagedLayer for layers not yet stored."""
        config = oci.decode(config_bytes, "image config")
        oci.validate_config(config)
        diff_ids = oci.diff_ids(config)
        self.check_depth(len(diff_ids))
        chains = dg.chain_ids(diff_ids)
        image_id = self.content.put_bytes(config_bytes)
        size = 0
        with self.locks.commit(), self.db.transaction():
            for i, (diff_id, chain_id) in enumerate(zip(diff_ids, chains)):
                if not self.layers.has(chain_id):
                    if diff_id not in staged:
                        raise NotFound(f"layer {diff_id} is missing: it was removed while in use, retry")
                    self.layers.commit_staged(staged.pop(diff_id), chain_id, chains[i - 1] if i else None)
                size += self.db.layer(chain_id).size
            new = self.db.insert_image(ImageRow(image_id, config.get("created"), size, parent,
                                                time.time()), chains)
            before = {}
            for tag in tags:
                old = self.db.set_tag(tag, image_id)
                if old and old != image_id:
                    before[tag] = old
            for name, manifest_digest in repo_digests:
                self.db.add_repo_digest(name, image_id, manifest_digest)
        for leftover in staged.values():  # duplicates inside one image, or already stored
            leftover.release()
        return Committed(image_id, new, before)

    def config_bytes(self, image_id: str) -> bytes:
        return self.content.read(image_id)

    def config(self, image_id: str) -> dict:
        return oci.decode(self.config_bytes(image_id), "image config")

    def row(self, image_id: str) -> ImageRow:
        row = self.db.image(image_id)
        if row is None:
            raise NotFound(f"No such image: {image_id}")
        return row

    def untag(self, name: str) -> None:
        with self.db.transaction():
            self.db.delete_tag(name)

    def remove(self, image_id: str) -> None:
        """Delete the image rows, then sweep layers no image uses any more."""
        with self.locks.commit(), self.db.deleting():
            self.db.delete_image(image_id)
        crash_point("rmi:image-deleted")
        self.sweep_layers()
        self.db.restore_reserve()

    def sweep_layers(self) -> int:
        """Delete unreferenced layers, unless a writer is in flight (it may be reusing one).

        Returns the bytes freed (unpacked size)."""
        freed = 0
        with self.locks.sweep() as got:
            if not got:
                return 0
            with self.locks.commit():
                with self.db.deleting():
                    unused = self.db.unreferenced_layers()
                    freed = sum(self.db.layer(c).size for c in unused)
                    self.db.delete_layers(unused)
                self.layers.remove(unused)
                for orphan in self.layers.orphan_dirs():
                    self.layers._to_trash(orphan)
                self._sweep_blobs()
            self.layers.sweep_staging()
            self.content.sweep_ingest()
        self.layers.empty_trash()
        return freed

    def _sweep_blobs(self) -> None:
        keep = {row.id for row in self.db.images()} | self.db.manifest_digests()
        for d in self.content.all_digests():
            if d not in keep:
                self.content.delete(d)
