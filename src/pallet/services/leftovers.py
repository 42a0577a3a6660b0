"""What a crash can leave in the store, found and swept: scratch of processes that are gone
(leases under ingest/, layers being unpacked), the trash, container directories without a
record. `system check` reports these with the rest; every prune sweeps them
(`StoreLeftovers.sweep`), never what a live process owns.

Imports nothing of the container service: the prunes of every service call it.
"""
from __future__ import annotations

import os
import time
from pathlib import Path

from ..errors import PalletError
from ..record import dataclass

YOUNG = 60.0  # seconds: a directory without a lock this young may be being made right now


@dataclass
class Finding:
    kind: str            # "layer", "image", "container", "volume" (damage) or "leftover"
    subject: str         # an ID, a name or a path
    problem: str
    fix: object = None   # callable that repairs it; None: only reported
    lossy: bool = False  # the fix throws away a container (only with --force)
    repaired: bool = False


def repair(findings: list[Finding], force: bool = False) -> None:
    """Apply each finding's fix (lossy ones only with `force`), damage first, leftovers last."""
    for f in sorted(findings, key=lambda f: f.kind == "leftover"):
        if f.fix is None or (f.lossy and not force):
            continue
        try:
            f.fix()
            f.repaired = True
        except (PalletError, OSError):
            continue


class StoreLeftovers:
    """The store pieces the sweep reads (the Engine builds it; the prunes and `system check`
    use it): paths, the database, the layer store and the container records."""

    def __init__(self, paths, db, layers, records):
        self.paths, self.db, self.layers, self.records = paths, db, layers, records

    def sweep(self) -> int:
        """What the prunes remove besides their own objects: the store's leftovers (scratch of
        killed processes, the trash, container directories without a container). Bytes freed."""
        from .disk import tree_size
        found = self.find()
        size = sum(tree_size(Path(f.subject)) for f in found if f.subject.startswith("/"))
        repair(found)
        self.db.restore_reserve()
        return size

    def find(self) -> list[Finding]:
        from ..store import leases
        from ..store.locks import is_held
        paths = self.paths
        out = [Finding("leftover", str(p), "scratch of a process that is gone", discard_fix(p))
               for p in leases.stale(paths.ingest)]
        for lock in sorted(paths.layers.glob(".tmp-*.lock")):
            if not is_held(lock):
                out.append(Finding("leftover", str(lock.with_suffix("")),
                                   "layer unpacked by a process that is gone", self.layers.sweep_staging))
        out += [Finding("leftover", str(p), "deleted, not yet freed", discard_fix(p))
                for p in entries(paths.trash)]
        records = set(self.records.ids())
        for d in entries(paths.containers):
            if d.name not in records and _abandoned(d):
                out.append(Finding("leftover", str(d), "container storage without a container",
                                   _remove_container_dir(self.records, paths, d)))
        return out


def _abandoned(d: Path) -> bool:
    """No process is making it: its lock is free (or, without a lock, it is not new)."""
    from ..store.locks import is_held
    lock = d / "lock"
    if lock.exists():
        return not is_held(lock)
    return older_than(d, YOUNG)


def _remove_container_dir(records, paths, d: Path):
    def fix():
        from ..store.locks import is_held
        if (d / "lock").exists() and is_held(d / "lock") or records.exists(d.name):
            return
        trash_fix(paths, d)()
    return fix


def trash_fix(paths, d: Path):
    def fix():
        from ..store.layers import force_rmtree
        target = paths.trash / f"x-{d.name[:24]}-{os.urandom(4).hex()}"
        paths.trash.mkdir(parents=True, exist_ok=True)
        os.rename(d, target)
        force_rmtree(target)
    return fix


def discard_fix(p: Path):
    def fix():
        from ..store.leases import discard
        for m in sorted((m for m in mount_points() if m.startswith(f"{p}/")), reverse=True):
            unmount_fix(Path(m))()
        discard(p)
    return fix


def unmount_fix(target: Path):
    def fix():
        from ..snapshot import overlay
        overlay.unmount(target)
    return fix


def entries(d: Path) -> list[Path]:
    try:
        return sorted(d.iterdir())
    except OSError:
        return []


def older_than(p: Path, age: float) -> bool:
    try:
        return time.time() - p.lstat().st_mtime > age
    except OSError:
        return False


def mount_points() -> set[str]:
    with open("/proc/self/mountinfo") as f:
        return {line.split()[4].replace("\\040", " ") for line in f}
