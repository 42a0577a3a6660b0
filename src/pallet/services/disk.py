"""`system df`: what pallet keeps on disk, by kind, and what a prune would free.

Image sizes come from the database (each unique layer counted once, plus
tar-split records and config blobs); container and volume sizes are measured
on disk, since they change under running containers.
"""
from __future__ import annotations

import os
from pathlib import Path


def tree_size(path: Path) -> int:
    """Bytes allocated under a directory, each hard-linked inode counted once."""
    total, seen = 0, set()
    for root, dirs, files in os.walk(path, onerror=lambda e: None):
        for name in files + dirs:
            try:
                st = os.lstat(os.path.join(root, name))
            except OSError:
                continue
            if (st.st_dev, st.st_ino) in seen:
                continue
            seen.add((st.st_dev, st.st_ino))
            total += st.st_blocks * 512 if st.st_blocks else st.st_size
    return total


def content_size(path: Path) -> int:
    """Docker's directory.Size: the apparent size of the files under `path`, directories
    left out, each hard-linked inode once (an empty volume is 0B, not a 4 kB block)."""
    total, seen = 0, set()
    for root, _, files in os.walk(path, onerror=lambda e: None):
        for name in files:
            try:
                st = os.lstat(os.path.join(root, name))
            except OSError:
                continue
            if st.st_size and (st.st_dev, st.st_ino) not in seen:
                seen.add((st.st_dev, st.st_ino))
                total += st.st_size
    return total


def _pct(part: int, whole: int) -> str:
    """docker/cli's RECLAIMABLE: a percentage (rounded down) only when there is a total."""
    from ..opts.units import human_size
    return f"{human_size(part)} ({part * 100 // whole}%)" if whole > 0 else human_size(part)


def image_usage(engine, in_use: set[str]) -> dict:
    from ..opts.units import human_size
    db = engine.db
    layers = {r.chain_id: r.size for r in db.all_layers()}
    used_layers = set()
    for image_id in in_use:
        used_layers.update(db.image_chain(image_id))
    total = sum(layers.values())
    for d in engine.content.all_digests():
        total += engine.content.size(d)
    # what a prune of every unused image frees: all but the layers in use (their blobs count
    # as reclaimable too: an image nobody uses takes its config and tar-split with it)
    reclaim = total - sum(s for c, s in layers.items() if c in used_layers)
    images = db.images()
    return {"Type": "Images", "TotalCount": str(len(images)),
            "Active": str(len([i for i in images if i.id in in_use])),
            "Size": human_size(total), "Reclaimable": _pct(reclaim, total), "_bytes": total}


def disk_usage(engine, containers=None) -> list[dict]:
    from ..opts.units import human_size
    in_use = containers.images_in_use() if containers else set()
    rows = [image_usage(engine, in_use)]
    c_rows = containers.disk_rows() if containers else {"total": 0, "active": 0, "size": 0, "reclaim": 0}
    rows.append({"Type": "Containers", "TotalCount": str(c_rows["total"]), "Active": str(c_rows["active"]),
                 "Size": human_size(c_rows["size"]), "Reclaimable": _pct(c_rows["reclaim"], c_rows["size"])})
    vol_dir = engine.paths.volumes
    vols = [d for d in vol_dir.iterdir()] if vol_dir.exists() else []
    vsize = sum(content_size(v) for v in vols)
    rows.append({"Type": "Local Volumes", "TotalCount": str(len(vols)), "Active": "0",
                 "Size": human_size(vsize), "Reclaimable": _pct(vsize, vsize)})
    cache_dir = engine.paths.root / "buildcache"
    csize = tree_size(cache_dir) if cache_dir.exists() else 0
    csize += sum(_entry_size(p) for p in _entries(engine.paths.ingest))  # build scratch, live or killed
    rows.append({"Type": "Build Cache", "TotalCount": "0", "Active": "0", "Size": human_size(csize),
                 "Reclaimable": human_size(csize)})
    return rows


def _entries(d: Path) -> list[Path]:
    try:
        return list(d.iterdir())
    except OSError:
        return []


def _entry_size(p: Path) -> int:
    try:
        return tree_size(p) if p.is_dir() else p.lstat().st_size
    except OSError:
        return 0
