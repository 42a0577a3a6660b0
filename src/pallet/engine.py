"""The composition root: Engine(paths) builds every service, each on first use.

Nothing here has behaviour of its own: it makes the store pieces and the services
and hands each service its collaborators, so that the CLI and the API call the same
objects and no edge wires services together (or can forget to: ImageService gets
the container service's answer to "which containers use this image" here, once).
Services are built lazily (`cached_property`): `run --rm` builds only what it uses.
The services still take the engine itself to reach the store pieces (db, layers, locks,
paths) and each other; handing each only what it uses is the next step, left until the
branches that edit every service have been merged.
"""
from __future__ import annotations

from functools import cached_property

from .errors import Unavailable
from .paths import Paths


class Engine:
    def __init__(self, paths: Paths):
        self.paths = paths

    @classmethod
    def at(cls, root: str | None, runroot: str | None) -> Engine:
        """The engine for --root/--runroot (None: PALLET_ROOT/PALLET_RUNROOT or the defaults)."""
        return cls(Paths.from_env(root, runroot))

    # ---- the store ----
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

    # ---- the services ----
    @cached_property
    def images(self):
        from .services.images import ImageService
        return ImageService(self, users=lambda image_id: self.containers.image_users(image_id))

    @cached_property
    def transfer(self):
        from .services.transfer import TransferService
        return TransferService(self)

    @cached_property
    def registry(self):
        from .services.registry import RegistryService
        return RegistryService(self)

    @cached_property
    def builds(self):
        from .services.builds import BuildService
        return BuildService(self)

    @cached_property
    def containers(self):
        from .services.containers.service import ContainerService
        return ContainerService(self)

    @cached_property
    def container_fs(self):
        from .services.container_fs import ContainerFS
        return ContainerFS(self)

    @cached_property
    def networks(self):
        from .services.networks import NetworkService
        return NetworkService(self)

    @cached_property
    def volumes(self):
        from .services.volumes import VolumeService
        return VolumeService(self)

    @cached_property
    def events(self):
        from .services.events import EventService
        return EventService(self)

    @cached_property
    def system(self):
        from .services.system import SystemService
        return SystemService(self)

    def compose(self, options, services=(), **hooks):
        """docker compose's use cases over the project `options` name
        (pallet.services.compose_types.ProjectOptions): a pallet.compose.service.ComposeService."""
        from .compose.service import open_project
        return open_project(self, options, services, **hooks)

    def compose_projects(self, all_states: bool = False) -> list[dict]:
        """`compose ls`: the projects found by their labels, with compose's status text."""
        from .compose.state import projects
        return projects(self, all_states)
