"""Docker's volume use cases (`volume create|ls|inspect|rm|prune`) and the container hooks.

Owns: the VolumeService over the local driver (pallet.volume.local), and the
three seams ContainerService calls: `on_create` (named and anonymous volumes
from -v/--mount, image VOLUMEs and --volumes-from become the record's Mounts,
with Docker's precedence: user mounts, then --volumes-from, then the image),
`runtime_mounts` (at start: activate driver options, copy the image's content
up into an empty volume, then the bind/tmpfs mounts for config.json) and
`on_remove` (`rm -v`, `--rm`: anonymous volumes no other container uses).

Invariants: which containers use a volume is read from the container records,
never stored twice; a volume in use is never removed; anonymous volumes carry
Docker's `com.docker.volume.anonymous` label.
"""
from __future__ import annotations

import os

from ..errors import Conflict, InvalidArgument, NotFound

ANONYMOUS_LABEL = "com.docker.volume.anonymous"
NOCOPY_KEY = "_volume_nocopy"     # record key: destinations mounted with nocopy
TMPFS_KEY = "_mount_tmpfs"        # record key: destination -> {size, mode} of --mount type=tmpfs


class VolumeService:
    """`records` is the container store (which containers use a volume is read from their
    records); `sweep_leftovers()` sweeps the store's leftovers after a prune."""

    def __init__(self, paths, db, records, sweep_leftovers, events):
        self.events = events
        from ..volume.local import LocalDriver
        self.driver = LocalDriver(paths.volumes, paths.trash, db)
        self.records = records
        self.sweep_leftovers = sweep_leftovers

    def create(self, name: str | None = None, driver: str = "local", labels: dict | None = None,
               options: dict | None = None, anonymous: bool = False):
        from ..opts.mounts import validate_volume_name
        if driver not in ("", "local"):
            raise NotFound(f"create {name or ''}: error looking up volume plugin {driver}: "
                           f'plugin "{driver}" not found')
        labels = dict(labels or {})
        if anonymous or not name:
            name, labels[ANONYMOUS_LABEL] = os.urandom(32).hex(), ""
        validate_volume_name(name)
        volume = self.driver.create(name, labels, dict(options or {}))
        self.events().record("volume", "create", volume.name, {"driver": "local"})
        return volume

    def get(self, name: str):
        return self.driver.get(name)

    def inspect(self, name: str) -> dict:
        try:
            return self.driver.get(name).inspect()
        except NotFound:
            raise NotFound(f"No such volume: {name}") from None

    def content_size(self, volume) -> int:
        """Bytes the volume's files hold: `system df -v`'s SIZE, the API's UsageData.Size."""
        from .disk import content_size
        return content_size(volume.mountpoint)

    def usage(self) -> dict[str, list[str]]:
        """volume name -> ids of the containers whose records mount it."""
        out: dict[str, list[str]] = {}
        for record in self.records.all():
            for m in record.get("Mounts") or []:
                if m.get("Type") == "volume" and m.get("Name"):
                    out.setdefault(m["Name"], []).append(record["Id"])
        return out

    def list(self, filters: dict[str, list[str]] | None = None) -> list:
        from ..opts.filters import Filters
        f = Filters(filters or {})
        f.validate(("dangling", "driver", "label", "name"))
        used = self.usage()
        dangling = f.bool_value("dangling")
        return [v for v in self.driver.list()
                if f.match("name", v.name) and f.exact_match("driver", v.driver)
                and f.match_label(v.labels)
                and (dangling is None or dangling == (v.name not in used))]

    def remove(self, name: str, force: bool = False) -> None:
        try:
            volume = self.driver.get(name)
        except NotFound:
            if force:
                return
            raise
        users = self.usage().get(name)
        if users:
            raise Conflict(f"remove {name}: volume is in use - [{', '.join(users)}]")
        self.driver.remove(volume)
        self.events().record("volume", "destroy", volume.name, {"driver": "local"})

    def prune(self, all_volumes: bool = False, filters: dict | None = None) -> tuple[list[str], int]:
        """Remove unused volumes (anonymous ones unless `all_volumes`); (names, bytes freed)."""
        from ..opts.filters import Filters
        from .disk import tree_size
        f = Filters(filters or {})
        f.validate(("label", "label!", "all"))
        all_volumes = all_volumes or f.bool_value("all", False)
        used = self.usage()
        removed, freed = [], 0
        for v in self.driver.list():
            if v.name in used or not f.match_label(v.labels) or _label_excluded(f, v.labels):
                continue
            if not all_volumes and ANONYMOUS_LABEL not in v.labels:
                continue
            freed += tree_size(v.mountpoint)
            self.driver.remove(v)
            removed.append(v.name)
        return removed, freed + self.sweep_leftovers()


def _label_excluded(f, labels: dict) -> bool:
    for value in f.get("label!"):
        key, has_value, expected = value.partition("=")
        if key in labels and (not has_value or labels[key] == expected):
            return True
    return False


# ---------------- container hooks ----------------

def on_create(svc, vols, record: dict, req, image_config: dict) -> None:
    """Turn the request's volumes, --volumes-from and the image's VOLUMEs into record Mounts.
    `vols()` is the VolumeService, built on first use: a bind mount needs none."""
    mounts: list[dict] = []
    nocopy: list[str] = []
    for m, point in zip(req.mounts, record["Mounts"]):
        if m.type == "volume":
            point = _volume_point(vols(), m)
            if m.options.get("nocopy"):
                nocopy.append(m.target)
        elif m.type == "tmpfs":
            record.setdefault(TMPFS_KEY, {})[m.target] = {
                k: m.options[k] for k in ("size", "mode") if m.options.get(k) is not None}
            point.update(Source="", Propagation="")
        mounts.append(point)
    taken = {p["Destination"] for p in mounts}
    for point in _volumes_from(svc, (req.extra or {}).get("volumes_from") or []):
        if point["Destination"] not in taken:
            mounts.append(point)
            taken.add(point["Destination"])
    for target in sorted((image_config.get("config") or {}).get("Volumes") or {}):
        target = os.path.normpath("/" + target.strip("/"))
        if target != "/" and target not in taken:
            vol = vols().create(anonymous=True)
            mounts.append(_point(vol, target, True, mode=""))
            taken.add(target)
    record["Mounts"] = mounts
    if nocopy:
        record[NOCOPY_KEY] = nocopy


def _volume_point(vols, m) -> dict:
    if m.source:
        try:
            vol = vols.get(m.source)
        except NotFound:
            vol = vols.create(m.source, m.options.get("driver") or "local",
                              m.options.get("labels"), m.options.get("driver_opts"))
    else:
        vol = vols.create(labels=m.options.get("labels"), anonymous=True)
    return _point(vol, m.target, not m.read_only, mode=m.options.get("mode", "z"))


def _point(vol, target: str, rw: bool, mode: str) -> dict:
    return {"Type": "volume", "Name": vol.name, "Source": str(vol.mountpoint), "Destination": target,
            "Driver": vol.driver, "Mode": mode, "RW": rw, "Propagation": ""}


def _volumes_from(svc, specs: list[str]) -> list[dict]:
    out = []
    for spec in specs:
        ref, _, mode = spec.partition(":")
        if mode not in ("", "ro", "rw"):
            raise InvalidArgument(f"invalid mode for volumes-from: {mode}")
        other = svc.store.get(svc.resolve(ref))
        for point in other.get("Mounts") or []:
            if point["Type"] in ("volume", "bind"):
                copy = dict(point)
                if mode:
                    copy["RW"] = mode == "rw"
                out.append(copy)
    return out


def runtime_mounts(svc, volumes, record: dict) -> list:
    """config.json mounts for the record's volumes and --mount tmpfs; copy-up happens here.
    `volumes()` is the VolumeService."""
    from ..runtime import spec as rs
    out = []
    for m in record["Mounts"]:
        if m["Type"] == "volume":
            vols = volumes()
            try:
                vol = vols.get(m["Name"])
            except NotFound:
                raise NotFound(f"error while mounting volume '{m['Source']}': volume {m['Name']} "
                               "not found") from None
            vols.driver.activate(vol)
            if m["Destination"] not in record.get(NOCOPY_KEY, []):
                copy_up(svc.rootfs(record["Id"]), m["Destination"], vol.mountpoint)
            out.append(rs.bind(str(vol.mountpoint), m["Destination"], not m["RW"], "rprivate"))
        elif m["Type"] == "tmpfs":
            opts = record.get(TMPFS_KEY, {}).get(m["Destination"], {})
            out.append(rs.tmpfs(m["Destination"], opts.get("size"), opts.get("mode")))
    return out


def copy_up(rootfs, target: str, data_dir) -> bool:
    """Fill an empty volume with what the image has at `target`, resolved inside the rootfs.

    Returns whether anything was copied. A target that is missing, not a
    directory, or reached only through a path the resolver refuses is skipped."""
    from ..archive.apply import Policy, apply_tar
    from ..archive.unpack import piped
    from .container_fs_scope import Scope
    from .container_fs_tar import write_tar
    if os.listdir(data_dir):
        return False
    scope = Scope(rootfs)
    try:
        parts = scope.resolve(target)
        st = scope.lstat(parts)
    except (OSError, InvalidArgument):
        return False
    if st is None or not _is_dir(st) or not parts:
        return False
    fd = os.open(data_dir, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        with piped(lambda out: write_tar(scope, parts, "", out)) as reader:
            # The volume is empty and the tar is pallet's own: nothing to check first.
            apply_tar(reader, fd, Policy(whiteouts=False, keep_dirs=True, root_meta=False))
        os.fchown(fd, st.st_uid, st.st_gid)
        os.fchmod(fd, st.st_mode & 0o7777)
    finally:
        os.close(fd)
    return True


def _is_dir(st) -> bool:
    import stat
    return stat.S_ISDIR(st.st_mode)


def on_remove(vols: VolumeService, record: dict) -> None:
    """After a container's record is gone (rm -v, --rm): remove its anonymous volumes
    nobody else uses."""
    names = [m["Name"] for m in record.get("Mounts") or [] if m.get("Type") == "volume"]
    if not names:
        return
    used = vols.usage()
    for name in names:
        try:
            vol = vols.get(name)
        except NotFound:
            continue
        if ANONYMOUS_LABEL in vol.labels and name not in used:
            vols.driver.remove(vol)
