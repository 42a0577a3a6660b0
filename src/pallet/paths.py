"""The only module that spells directory names under --root and --runroot.

root (persistent, default /var/lib/pallet, env PALLET_ROOT):
    db.sqlite              metadata (pallet.store.db owns the SQL)
    lock                   flock file serialising structural changes
    blobs/sha256/<hex>     content store: configs, manifests
    ingest/                half-written blobs (swept when stale)
    layers/<chain hex>/    one unpacked layer: diff/ (the tree), tar-split.gz
    layers/.tmp-*          layers being unpacked (swept when stale)
    containers/<id>/       upper/, work/, userdata (config.json bundle, logs)
    trash/                 directories being deleted (renamed here first)
    volumes/<name>/_data

runroot (volatile, default /run/pallet, env PALLET_RUNROOT): runtime state,
wiped by a reboot: runc's state dir, conmon pid files and attach sockets,
container rootfs mount points.
"""
from __future__ import annotations

import os
from .record import dataclass
from pathlib import Path

DEFAULT_ROOT = "/var/lib/pallet"
DEFAULT_RUNROOT = "/run/pallet"
HEALTH_PID_FILE = "health.pid"  # in a container's userdata: its health loop's process group


@dataclass(frozen=True)
class Paths:
    root: Path
    runroot: Path

    @classmethod
    def from_env(cls, root: str | None = None, runroot: str | None = None) -> "Paths":
        return cls(
            Path(root or os.environ.get("PALLET_ROOT") or DEFAULT_ROOT),
            Path(runroot or os.environ.get("PALLET_RUNROOT") or DEFAULT_RUNROOT),
        )

    # --- persistent ---
    @property
    def db(self) -> Path:
        return self.root / "db.sqlite"

    @property
    def lock(self) -> Path:
        return self.root / "lock"

    @property
    def blobs(self) -> Path:
        return self.root / "blobs"

    @property
    def ingest(self) -> Path:
        return self.root / "ingest"

    @property
    def layers(self) -> Path:
        return self.root / "layers"

    def layer(self, chain_hex: str) -> Path:
        return self.layers / chain_hex

    @property
    def containers(self) -> Path:
        return self.root / "containers"

    def container(self, container_id: str) -> Path:
        return self.containers / container_id

    @property
    def trash(self) -> Path:
        return self.root / "trash"

    @property
    def volumes(self) -> Path:
        return self.root / "volumes"

    # --- volatile ---
    @property
    def runc_root(self) -> Path:
        return self.runroot / "runc"

    def container_run(self, container_id: str) -> Path:
        return self.runroot / "containers" / container_id

    def ensure(self) -> None:
        for d in (self.root, self.blobs / "sha256", self.ingest, self.layers,
                  self.containers, self.trash, self.volumes, self.runroot):
            d.mkdir(parents=True, exist_ok=True)
