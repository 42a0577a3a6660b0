"""`system df` (and `-v`): what pallet keeps on disk, by kind, and what a prune would free.

Image sizes come from the database (each unique layer counted once, plus
tar-split records and config blobs); container and volume sizes are measured
on disk, since they change under running containers. Images are counted as
Docker counts them: top-level ones only (the hidden images of build steps are
not listed by `images` and not counted here), though their layers are in SIZE.
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


def _summary(kind: str, total: int, active: int, size: int, reclaim: int, pct: bool = True) -> dict:
    from ..opts.units import human_size
    return {"Type": kind, "TotalCount": str(total), "Active": str(active), "Size": human_size(size),
            "Reclaimable": _pct(reclaim, size) if pct else human_size(reclaim)}


def image_usage(system, users: dict[str, int]) -> tuple[dict, list[dict]]:
    """The Images summary and one verbose row per top-level image (`users`: image ID ->
    number of containers)."""
    from .image_list import top_level_rows
    db = system.db
    layers = {r.chain_id: r.size for r in db.all_layers()}
    rows = top_level_rows(system.images)
    chains = {r["_id"]: db.image_chain(r["_id"]) for r in rows}
    sharing: dict[str, int] = {}
    for chain in chains.values():
        for c in set(chain):
            sharing[c] = sharing.get(c, 0) + 1
    used_layers = {c for image_id, chain in chains.items() if users.get(image_id) for c in chain}
    for image_id in users:  # a container of an untagged build-step image holds its layers too
        used_layers.update(db.image_chain(image_id))
    total = sum(layers.values()) + sum(system.content.size(d) for d in system.content.all_digests())
    # what a prune of every unused image frees: all but the layers in use (their blobs count
    # as reclaimable too: an image nobody uses takes its config and tar-split with it)
    reclaim = total - sum(s for c, s in layers.items() if c in used_layers)
    for row in rows:
        shared = sum(layers.get(c, 0) for c in set(chains[row["_id"]]) if sharing[c] > 1)
        row.update(SharedSize=_human(shared), UniqueSize=_human(row["_size"] - shared),
                   Containers=str(users.get(row["_id"], 0)))
    active = sum(1 for r in {r["_id"] for r in rows} if users.get(r))
    return _summary("Images", len(chains), active, total, reclaim), rows


def _human(n: int) -> str:
    from ..opts.units import human_size
    return human_size(n)


def container_usage(containers) -> tuple[dict, list[dict]]:
    from ..dockerjson.container import ps_row
    records = containers.list()
    sizes = {r["Id"]: tree_size(containers.paths.container(r["Id"]) / "upper") for r in records}
    running = {r["Id"] for r in records if r["State"]["Running"]}
    rows = []
    for record in records:
        row = ps_row(record)
        row["Size"] = _human(sizes[record["Id"]])
        rows.append(row)
    size = sum(sizes.values())
    reclaim = sum(s for cid, s in sizes.items() if cid not in running)
    return _summary("Containers", len(records), len(running), size, reclaim), rows


def volume_usage(system) -> tuple[dict, list[dict]]:
    vols = system.volumes
    links = vols.usage()
    rows = []
    for vol in vols.list():
        size = content_size(vol.mountpoint)
        rows.append({"Name": vol.name, "Links": str(len(links.get(vol.name, []))),
                     "Size": _human(size), "_size": size})
    size = sum(r["_size"] for r in rows)
    reclaim = sum(r["_size"] for r in rows if r["Links"] == "0")
    active = sum(1 for r in rows if r["Links"] != "0")
    return _summary("Local Volumes", len(rows), active, size, reclaim), rows


def disk_usage(system, containers) -> dict:
    """Everything `system df` shows: `summary` (one row per kind) and the verbose lists."""
    users: dict[str, int] = {}
    for record in containers.store.all():
        users[record["Image"]] = users.get(record["Image"], 0) + 1
    images, image_rows = image_usage(system, users)
    conts, container_rows = container_usage(containers)
    vols, volume_rows = volume_usage(system)
    cache_dir = system.paths.root / "buildcache"
    cache = tree_size(cache_dir) if cache_dir.exists() else 0
    cache += sum(_entry_size(p) for p in _entries(system.paths.ingest))  # build scratch, live or killed
    build = _summary("Build Cache", 0, 0, cache, cache, pct=False)
    return {"summary": [images, conts, vols, build], "images": image_rows,
            "containers": container_rows, "volumes": volume_rows, "build_cache": cache}


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
