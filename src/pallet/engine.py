"""The composition root: Engine(paths) builds every service, each on first use.

Nothing here has behaviour of its own: it makes the store pieces and the services
and hands each service its collaborators, so that the CLI and the API call the same
objects and no edge wires services together (or can forget to: ImageService gets
the container service's answer to "which containers use this image" here, once).
Services are built lazily (`cached_property`): `run --rm` builds only what it uses.
Each service gets exactly the store pieces and services it uses, as constructor
arguments; one that would be built too early (the cycle images <-> containers, a
network service `run --network none` never needs, `version` that must not open the
store) is handed as a zero-argument callable, resolved on first use.
The container lifecycle's plug-ins (volumes, limits, network, restart, health, log
rotation) are registered here too (pallet.services.containers.hooks.standard_hooks).
Compose alone still takes the engine: it is a use case over all the services.
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
        from .store.images import ImageStore

        def max_layers() -> int:  # only a new image is checked: `run` never asks
            from .snapshot.overlay import max_layers
            return max_layers(self.paths.containers, self.paths.layers)
        return ImageStore(self.db, self.content, self.layers, self.locks, max_layers)

    @cached_property
    def container_store(self):
        from .store.containers import ContainerStore
        return ContainerStore(self.db)

    @cached_property
    def leftovers(self):
        from .services.leftovers import StoreLeftovers
        return StoreLeftovers(self.paths, self.db, self.layers, self.container_store)

    def _sweep_leftovers(self) -> int:
        return self.leftovers.sweep()

    # ---- the services ----
    @cached_property
    def images(self):
        from .services.images import ImageService
        return ImageService(self.image_store, self.db, self.layers, self.locks,
                            users=lambda image_id: self.containers.image_users(image_id),
                            sweep_leftovers=self._sweep_leftovers,
                            events=lambda: self.events)

    @cached_property
    def transfer(self):
        from .services.transfer import TransferService
        return TransferService(self.paths, self.db, self.images, self.layers, self.locks)

    @cached_property
    def registry(self):
        from .services.registry import RegistryService
        return RegistryService(self.db, self.content, self.layers, self.image_store, self.locks,
                               events=lambda: self.events)

    @cached_property
    def builds(self):
        from .services.builds import BuildService
        return BuildService(self.paths, self.db, self.images, self.image_store, self.layers,
                            self.locks, registry=lambda: self.registry,
                            containers=lambda: self.containers,
                            sweep_leftovers=self._sweep_leftovers)

    @cached_property
    def containers(self):
        from .services.containers.hooks import standard_hooks
        from .services.containers.service import ContainerService
        # images, networks and volumes are built on first use: `run --rm --network none`
        # needs no network service, most containers no volume service
        return ContainerService(self.paths, self.db, self.container_store,
                                images=lambda: self.images,
                                hooks=standard_hooks(networks=lambda: self.networks,
                                                     volumes=lambda: self.volumes),
                                sweep_leftovers=self._sweep_leftovers,
                                events=lambda: self.events)

    @cached_property
    def container_fs(self):
        from .services.container_fs import ContainerFS
        return ContainerFS(self.paths, self.containers, self.images, self.image_store,
                           self.layers, self.locks)

    @cached_property
    def networks(self):
        from .services.networks import NetworkService
        return NetworkService(self.paths, containers=lambda: self.containers,
                              events=lambda: self.events)

    @cached_property
    def volumes(self):
        from .services.volumes import VolumeService
        return VolumeService(self.paths, self.db, self.container_store, self._sweep_leftovers,
                             events=lambda: self.events)

    @cached_property
    def events(self):
        from .services.events import EventService
        return EventService(self.paths)

    @cached_property
    def system(self):
        from .services.system import SystemService
        return SystemService(
            self.paths, db=lambda: self.db, content=lambda: self.content,
            image_store=lambda: self.image_store, layers=lambda: self.layers,
            leftovers=lambda: self.leftovers, images=lambda: self.images,
            containers=lambda: self.containers, networks=lambda: self.networks,
            volumes=lambda: self.volumes, builds=lambda: self.builds)

    def compose(self, options, services=(), **hooks):
        """docker compose's use cases over the project `options` name
        (pallet.services.compose_types.ProjectOptions): a pallet.compose.service.ComposeService."""
        from .compose.service import open_project
        return open_project(self, options, services, **hooks)

    def compose_projects(self, all_states: bool = False) -> list[dict]:
        """`compose ls`: the projects found by their labels, with compose's status text."""
        from .compose.state import projects
        return projects(self, all_states)
