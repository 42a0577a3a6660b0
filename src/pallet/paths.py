"""The only module that spells directory names under --root and --runroot.

root (persistent, default /var/lib/pallet, env PALLET_ROOT):
    db.sqlite              metadata (pallet.store.db owns the SQL)
    reserve                space kept for deleting on a full disk (pallet.store.reserve)
    lock                   flock file serialising structural changes
    blobs/sha256/<hex>     content store: configs, manifests
    ingest/                half-written blobs (swept when stale)
    layers/<chain hex>/    one unpacked layer: diff/ (the tree), tar-split.gz
    layers/.tmp-*          layers being unpacked (swept when stale)
    containers/<id>/       upper/, work/, userdata (config.json bundle, logs)
    trash/                 directories being deleted (renamed here first)
    volumes/<name>/_data
    events, events.1       the bounded event journal (`pallet events`, GET /events)

runroot (volatile, default /run/pallet, env PALLET_RUNROOT): runtime state,
wiped by a reboot: runc's state dir, conmon's exit files, container rootfs
mount points. (conmon's pid files and attach sockets are in the container's
userdata dir: see pallet.runtime.monitor.attach_path.)

Both trees are private to root (directories 0700, the database 0600): the
database holds every container's environment (secrets), and a layer may hold a
setuid-root file that any user could otherwise reach and run (the class of
CVE-2021-41091). Containers lose nothing by it: runc and conmon run as root,
and a container's process, whatever its user, sees its rootfs only after the
pivot, never the path to it. A store made before keeps its old modes until
the next command, which fixes them (one stat of each tree tells).
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

    @property
    def events(self) -> Path:
        """The event journal (JSON lines); `events.1` is the previous, rotated file."""
        return self.root / "events"

    # --- volatile ---
    @property
    def runc_root(self) -> Path:
        return self.runroot / "runc"

    def container_run(self, container_id: str) -> Path:
        return self.runroot / "containers" / container_id

    def compose_watch_lock(self, project: str) -> Path:
        """`compose watch`'s lock on a project (one watch at a time), its holder's PID in it."""
        return self.runroot / "compose-watch" / f"{project}.pid"

    @property
    def reserve(self) -> Path:
        return self.root / "reserve"

    def ensure(self) -> bool:
        """Make the trees (private) or, for a store made before, make them private now;
        True when it did either. The common case is two stats: every command pays it."""
        if _is_private_dir(self.root) and _is_private_dir(self.runroot):
            return False
        self._make_private()
        return True

    def _make_private(self) -> None:
        for d in (self.root, self.runroot):
            d.mkdir(mode=PRIVATE_DIR, parents=True, exist_ok=True)
        for d in (self.blobs / "sha256", self.ingest, self.trash):
            d.mkdir(parents=True, exist_ok=True)
        for d in (self.root, self.runroot, self.layers, self.containers, self.volumes):
            d.mkdir(mode=PRIVATE_DIR, parents=True, exist_ok=True)
            os.chmod(d, PRIVATE_DIR)
        # SQLite gives its -wal and -shm files the mode of the database file
        os.close(os.open(self.db, os.O_WRONLY | os.O_CREAT, PRIVATE_FILE))
        for f in (self.db, Path(f"{self.db}-wal"), Path(f"{self.db}-shm")):
            try:
                os.chmod(f, PRIVATE_FILE)
            except FileNotFoundError:
                continue


PRIVATE_DIR = 0o700
PRIVATE_FILE = 0o600


def _is_private_dir(d: Path) -> bool:
    try:
        st = os.stat(d)
    except OSError:
        return False
    return st.st_mode & 0o170077 == 0o040000  # a directory, nothing for group or others
