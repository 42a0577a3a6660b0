"""`system check` (as podman has it): is the store whole, and what did crashes leave?

Damage is found in records: a layer whose tree no longer gives its diff ID (or whose
directory is gone), an image whose config or layers are missing, a container whose
image or storage is gone. Leftovers are what no record and no live process owns: scratch
files of killed writers in ingest/ and layers/.tmp-*, the trash, container directories
without a record (in root and runroot), their mounts, runc states, cgroups, network
namespaces and endpoints (with their nft rules and resolver entries).

`repair` removes leftovers, damaged images no container uses, and records a crash left
without storage; with `force`, also containers whose image is damaged or gone (podman's
--force). Prunes sweep the store leftovers too (`StoreLeftovers.sweep`).

Every finding names its fix (a callable), so what is reported and what is repaired
cannot drift apart.
"""
from __future__ import annotations

import os
import time
from pathlib import Path

from ..errors import Conflict, PalletError
from .leftovers import (YOUNG, Finding, discard_fix, entries, mount_points, older_than,
                        trash_fix, unmount_fix)


def check(system, quick: bool = False, max_age: float = 24 * 3600) -> list[Finding]:
    """Everything wrong with the store. `max_age`: a layer no image uses counts only once it
    is older (podman's --max; a crash between `rmi`'s two steps leaves such layers)."""
    layers = _layers(system, quick, max_age)
    images = _images(system, quick, {f.subject for f in layers if f.kind == "layer"})
    found = _containers(system, {f.subject for f in images}) + images + layers + _volumes(system)
    return _merged(found + system.leftovers.find() + runtime_leftovers(system))


def _merged(findings: list[Finding]) -> list[Finding]:
    """One finding per thing, its problems joined: a thing is repaired (removed) once. The fix
    kept is the one that needs no --force, if any problem has one."""
    out: dict[tuple[str, str], Finding] = {}
    for f in findings:
        seen = out.get((f.kind, f.subject))
        if seen is None:
            out[(f.kind, f.subject)] = f
            continue
        seen.problem += f"; {f.problem}"
        if seen.lossy and not f.lossy and f.fix is not None or seen.fix is None:
            seen.fix, seen.lossy = f.fix, f.lossy
    return list(out.values())


# ---- damage ----
class _Sink:
    def write(self, data) -> int:
        return len(data)


def _layers(system, quick: bool, max_age: float) -> list[Finding]:
    out = []
    for row in system.db.all_layers():
        problem = None
        if not system.layers.diff_dir(row.chain_id).is_dir():
            problem = "its directory is missing"
        elif not system.layers.tarsplit_path(row.chain_id).is_file():
            problem = "its tar-split record is missing"
        elif not quick:
            try:
                system.layers.write_tar(row.chain_id, _Sink())
            except (PalletError, OSError, ValueError, EOFError) as exc:
                problem = f"its content does not match its diff ID {row.diff_id}: {exc}"
        if problem:
            out.append(Finding("layer", row.chain_id, problem, _sweep_layer(system, row.chain_id)))
    referenced = {c for img in system.db.images() for c in system.db.image_chain(img.id)}
    now = time.time()
    unused = [r.chain_id for r in system.db.all_layers()
              if r.chain_id not in referenced and now - r.created > max_age]
    for chain_id in unused:
        out.append(Finding("leftover", chain_id, "layer used by no image", _sweep_layer(system, chain_id)))
    return out


def _images(system, quick: bool, damaged_layers: set[str]) -> list[Finding]:
    out, layers = [], {r.chain_id for r in system.db.all_layers()}
    for img in system.db.images():
        problems = []
        try:
            system.content.read(img.id, verify=not quick)
        except PalletError as exc:
            problems.append(str(exc))
        chain = system.db.image_chain(img.id)
        problems += [f"layer {c} is missing" for c in chain if c not in layers]
        problems += [f"layer {c} is damaged" for c in chain if c in damaged_layers]
        for p in problems:
            out.append(Finding("image", img.id, p, _remove_image(system, img.id)))
    return out


def _containers(system, damaged_images: set[str]) -> list[Finding]:
    out, svc = [], system.containers
    images = {img.id for img in system.db.images()}
    volumes = {row[0] for row in system.db.volumes()}
    for rec in svc.store.all():
        cid = rec["Id"]
        if not (system.paths.container(cid) / "upper").is_dir():
            out.append(Finding("container", cid, "its storage is missing (a crash during rm)",
                               _remove_container(svc, cid)))
        if rec["Image"] not in images or rec["Image"] in damaged_images:
            how = "missing" if rec["Image"] not in images else "damaged"
            out.append(Finding("container", cid, f"its image {rec['Image']} is {how}",
                               _remove_container(svc, cid), lossy=True))
        for m in rec.get("Mounts") or []:
            if m.get("Type") == "volume" and m.get("Name") not in volumes:
                out.append(Finding("container", cid, f"its volume {m.get('Name')} is missing"))
    return out


def _volumes(system) -> list[Finding]:
    out = []
    for name, *_ in system.db.volumes():
        if not (system.paths.volumes / name / "_data").is_dir():
            out.append(Finding("volume", name, "its directory is missing"))
    named = {row[0] for row in system.db.volumes()}
    for d in entries(system.paths.volumes):
        if d.name not in named and older_than(d, YOUNG):
            out.append(Finding("leftover", str(d), "volume directory without a volume", trash_fix(system.paths, d)))
    return out


# ---- leftovers in the store ----


# ---- leftovers of the runtime ----
def runtime_leftovers(system) -> list[Finding]:
    svc, run = system.containers, system.paths.runroot
    records = {r["Id"]: r for r in svc.store.all()}
    out = []
    mounts = mount_points()
    for d in entries(run / "containers"):
        rootfs = str(d / "rootfs")
        rec = records.get(d.name)
        if rec is None:
            what = "mounted root filesystem of a removed container" if rootfs in mounts \
                else "runtime directory of a removed container"
            out.append(Finding("leftover", str(d), what, _unmount_and_remove(d)))
        elif rootfs in mounts and not _running(svc, rec) and not _locked(system, d.name):
            out.append(Finding("leftover", rootfs, "root filesystem mounted, container not running",
                               unmount_fix(Path(rootfs))))
    for d in entries(run / "runc"):
        if d.is_dir() and d.name not in records:
            out.append(Finding("leftover", str(d), "runc state of a removed container", _runc_delete(svc, d.name)))
    for d in entries(run / "socket"):
        if d.name not in records:
            out.append(Finding("leftover", str(d), "attach sockets of a removed container", discard_fix(d)))
    out += _cgroups(system, records, run)
    out += _network(system, svc, records)
    return out


def _cgroups(system, records: dict, run: Path) -> list[Finding]:
    """Cgroups of containers this store knows (stopped and not being started, or removed with
    a trace left); the cgroup parent is shared by every store, so others' are never touched."""
    from ..runtime.cgroups import MOUNT, remove_leftovers
    from ..runtime.spec import cgroups_path
    svc = system.containers
    known = [cid for cid, rec in records.items() if not _running(svc, rec) and not _locked(system, cid)]
    known += [f.name for f in entries(run / "exits") if f.name not in records]
    try:
        hierarchies = os.listdir(MOUNT)
    except OSError:
        return []
    out = []
    for cid in known:
        rel = cgroups_path(cid).strip("/")
        if any(os.path.isdir(os.path.join(MOUNT, h, rel)) for h in hierarchies):
            out.append(Finding("leftover", f"cgroup {cgroups_path(cid)}", "cgroup of a container not running",
                               lambda p=cgroups_path(cid): remove_leftovers(p)))
    return out


def _network(system, svc, records: dict) -> list[Finding]:
    from ..network.state import NetworkState
    state = NetworkState(system.paths.root, system.paths.runroot)
    out = []
    with_endpoint = set()
    for sb in state.sandboxes():
        with_endpoint.add(sb["cid"])
        rec = records.get(sb["cid"])
        if rec is None or not _running(svc, rec) and not _locked(system, sb["cid"]):
            out.append(Finding("leftover", f"network endpoint {sb['cid']}",
                               "namespace, veth and nft rules of a container not running",
                               _reconcile_network(system)))
    if not out and not system.networks.sandboxes.rules_current():
        out.append(Finding("leftover", "nft table " + system.networks.sandboxes.table,
                           "rules that the endpoints no longer call for", _reconcile_network(system)))
    for ns in entries(state.run_dir / "netns"):
        if ns.name not in with_endpoint and ns.name not in records:
            from ..network.kernel import delete_netns
            out.append(Finding("leftover", str(ns), "network namespace of a removed container",
                               lambda p=str(ns): delete_netns(p)))
    return out


# ---- fixes ----
def _sweep_layer(system, chain_id: str):
    def fix():  # its images went first (damage is repaired in order: containers, images, layers)
        system.image_store.sweep_layers()
        if system.db.layer(chain_id) is not None:
            raise Conflict(f"layer {chain_id} is still used")
    return fix


def _remove_image(system, image_id: str):
    def fix():
        # podman's rule: an image a container uses is left alone (even its tags), unless
        # --force removed that container first
        if system.containers.store.ids_using_image(image_id) or system.db.children(image_id):
            raise Conflict(f"image {image_id} is in use")
        system.images.remove(image_id, force=True)
    return fix


def _remove_container(svc, cid: str):
    return lambda: svc.remove(cid, force=True)


def _unmount_and_remove(d: Path):
    def fix():
        unmount_fix(d / "rootfs")()
        from .containers.service import remove_mount_point
        remove_mount_point(d)
    return fix


def _runc_delete(svc, cid: str):
    return lambda: svc.monitor.runc.delete(cid, force=True)


def _reconcile_network(system):
    def fix():
        system.networks.reconcile()
    return fix


# ---- small readers ----


def _running(svc, rec: dict) -> bool:
    from .containers import state as status
    return bool(status.refresh(svc, rec)["State"]["Running"])


def _locked(system, cid: str) -> bool:
    from ..store.locks import is_held
    return is_held(system.paths.container(cid) / "lock")
