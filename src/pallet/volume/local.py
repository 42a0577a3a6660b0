"""The local volume driver: `<root>/volumes/<name>/_data`, a row per volume, optional mounts.

Owns: creating (idempotent: a second create of a name returns the first),
listing, removing volumes, and the driver options Docker's local driver takes
(`--opt type=tmpfs --opt device=tmpfs --opt o=size=64m`, `o=bind` with a host
`device`): such a volume's `_data` is mounted when a container first uses it
and unmounted when the volume is removed.

Invariants: the row is written after the directory exists, and deleted before
the directory goes to trash, so a listed volume always has its `_data`.
Whether a volume is in use is the caller's question (pallet.services.volumes).
"""
from __future__ import annotations

import json
import os
from ..record import dataclass, field
from pathlib import Path

from ..errors import InvalidArgument, NotFound, PalletError

DRIVER = "local"
VALID_OPTIONS = ("type", "device", "o", "size")
_FLAGS = {"bind": 4096, "rbind": 4096 | 16384, "ro": 1}   # MS_BIND, MS_REC, MS_RDONLY


@dataclass
class Volume:
    name: str
    created: str
    labels: dict[str, str] = field(default_factory=dict)
    options: dict[str, str] = field(default_factory=dict)
    mountpoint: Path = Path()
    driver: str = DRIVER

    def inspect(self) -> dict:
        """Docker's `volume inspect` shape."""
        return {"CreatedAt": self.created, "Driver": self.driver, "Labels": self.labels or None,
                "Mountpoint": str(self.mountpoint), "Name": self.name,
                "Options": self.options or None, "Scope": "local"}


class LocalDriver:
    def __init__(self, volumes_dir: Path, trash_dir: Path, db):
        self.dir, self.trash, self.db = Path(volumes_dir), Path(trash_dir), db

    def _volume(self, row: tuple) -> Volume:
        name, _driver, created, labels, options = row
        return Volume(name, created, json.loads(labels), json.loads(options), self.dir / name / "_data")

    def create(self, name: str, labels: dict[str, str], options: dict[str, str]) -> Volume:
        from ..oci.image import now_rfc3339
        _check_options(name, options)
        data = self.dir / name / "_data"
        try:
            data.mkdir(parents=True, exist_ok=True)
        except OSError as exc:  # a name too long for the filesystem, a read-only or full disk
            root = self.dir / name
            why = (exc.strerror or str(exc)).lower()  # Go's errno strings are lower case
            raise PalletError(f"create {name}: error while creating volume root path '{root}': "
                              f"mkdir {root}: {why}") from None
        with self.db.transaction():
            self.db.insert_volume(name, DRIVER, now_rfc3339(), json.dumps(labels), json.dumps(options))
        return self.get(name)

    def get(self, name: str) -> Volume:
        row = self.db.volume(name)
        if row is None:
            raise NotFound(f"get {name}: no such volume")
        return self._volume(row)

    def exists(self, name: str) -> bool:
        return self.db.volume(name) is not None

    def list(self) -> list[Volume]:
        return [self._volume(r) for r in self.db.volumes()]

    def remove(self, volume: Volume) -> None:
        self.deactivate(volume)
        with self.db.deleting():
            self.db.delete_volume(volume.name)
        d = self.dir / volume.name
        trash = self.trash / f"v-{volume.name[:24]}-{os.urandom(4).hex()}"
        self.trash.mkdir(parents=True, exist_ok=True)
        try:
            os.rename(d, trash)
        except OSError:
            trash = d
        import shutil  # lazily: every `run` imports this module
        shutil.rmtree(trash, ignore_errors=True)
        self.db.restore_reserve()

    # ---- driver options: a volume whose _data is a mount ----
    def activate(self, volume: Volume) -> None:
        """Mount the volume's device on `_data` if its options ask for one and it is not mounted."""
        if not volume.options.get("type") and not volume.options.get("device"):
            return
        from .. import libc
        from ..snapshot.overlay import is_mounted
        target = volume.mountpoint
        if is_mounted(target):
            return
        flags, data = _mount_flags(volume.options.get("o", ""))
        device = volume.options.get("device", "")
        fstype = volume.options.get("type", "") or "none"
        try:
            libc.mount(device, str(target), fstype, flags, data)
        except OSError as exc:
            raise PalletError(f"error while mounting volume '{target}': failed to mount local "
                              f"volume: mount {device}:{target}: {exc.strerror}") from None

    def deactivate(self, volume: Volume) -> None:
        from ..snapshot.overlay import unmount
        if volume.options:
            unmount(volume.mountpoint)


def _check_options(name: str, options: dict[str, str]) -> None:
    for key in options:
        if key not in VALID_OPTIONS:
            raise InvalidArgument(f'create {name}: invalid option key: "{key}"')
    if options.get("type") and not options.get("device"):
        raise InvalidArgument(f'create {name}: missing required option: "device"')
    if options.get("device") and not options.get("type"):
        raise InvalidArgument(f'create {name}: missing required option: "type"')


def _mount_flags(o: str) -> tuple[int, str]:
    flags, rest = 0, []
    for item in filter(None, o.split(",")):
        if item in _FLAGS:
            flags |= _FLAGS[item]
        else:
            rest.append(item)
    return flags, ",".join(rest)
