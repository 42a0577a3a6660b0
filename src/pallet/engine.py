"""The composition root: Engine(paths).images / .containers / ... built on first use.

Nothing here has behaviour of its own; it wires the store pieces to the
services so the CLI and the API call the same objects.
"""
from __future__ import annotations

import os
from functools import cached_property

from .errors import Unavailable
from .paths import Paths


class Engine:
    def __init__(self, paths: Paths):
        self.paths = paths

    @cached_property
    def db(self):
        from .store.db import Database
        try:
            made = self.paths.ensure()
        except PermissionError as exc:
            raise Unavailable(f"cannot use {self.paths.root}: {exc.strerror} "
                              "(pallet needs root, or --root/--runroot you can write)") from exc
        db = Database(self.paths.db, self.paths.reserve)
        if made:  # a new store (or one made before the reserve): keep space to delete with
            db.restore_reserve()
        return db

    @cached_property
    def locks(self):
        from .store.locks import Locks
        self.db  # noqa: B018 - makes sure the root exists
        return Locks(self.paths.root)

    @cached_property
    def content(self):
        from .store.content import ContentStore
        return ContentStore(self.paths.blobs, self.paths.ingest)

    @cached_property
    def layers(self):
        from .store.layers import LayerStore
        return LayerStore(self.paths, self.db)

    @cached_property
    def image_store(self):
        from .snapshot.overlay import max_layers
        from .store.images import ImageStore
        return ImageStore(self.db, self.content, self.layers, self.locks,
                          max_layers(self.paths.containers, self.paths.layers))

    @cached_property
    def images(self):
        from .services.images import ImageService
        return ImageService(self)

    @cached_property
    def transfer(self):
        from .services.transfer import TransferService
        return TransferService(self)

    @cached_property
    def builds(self):
        from .services.builds import BuildService
        return BuildService(self)

    @cached_property
    def containers(self):
        from .services.containers import ContainerService
        return ContainerService(self)

    @property
    def is_root(self) -> bool:
        return os.geteuid() == 0
