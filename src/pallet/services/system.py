"""Docker's system-wide use cases: `version`, `info`, `system df`, `system prune`, `system reset`.

Owns what spans every noun; each part is asked of the service that owns it
(containers, images, volumes, networks, builds), never read from the store here.
"""
from __future__ import annotations

import os
import platform

from ..record import dataclass, field


@dataclass
class Pruned:
    """What `system prune` removed, per noun, and the bytes it freed."""
    containers: list = field(default_factory=list)
    networks: list = field(default_factory=list)
    volumes: list = field(default_factory=list)
    images_untagged: list = field(default_factory=list)
    images_deleted: list = field(default_factory=list)
    freed: int = 0


class _Lazy:
    """An attribute read through the zero-argument callable the constructor was given."""

    def __set_name__(self, owner, name: str):
        self.key = "_" + name

    def __get__(self, obj, owner=None):
        return getattr(obj, self.key)()


class SystemService:
    """Over every part of the store: `system check`, `df` and `reset` read the store pieces
    and ask each noun's service. Every collaborator is a zero-argument callable, built on
    first use: `version` must not even open the store."""
    db, content, image_store, layers, leftovers = _Lazy(), _Lazy(), _Lazy(), _Lazy(), _Lazy()
    images, containers, networks, volumes, builds = _Lazy(), _Lazy(), _Lazy(), _Lazy(), _Lazy()

    def __init__(self, paths, *, db, content, image_store, layers, leftovers,
                 images, containers, networks, volumes, builds):
        self.paths = paths
        self._db, self._content, self._image_store = db, content, image_store
        self._layers, self._leftovers = layers, leftovers
        self._images, self._containers, self._networks = images, containers, networks
        self._volumes, self._builds = volumes, builds

    def check(self, quick: bool = False, max_age: float = 24 * 3600, repair: bool = False,
              force: bool = False) -> tuple[list, list]:
        """podman's `system check`: (what was found, what is still there). With `repair` what a
        crash can leave is removed; `force` also removes containers whose image is damaged."""
        from . import leftovers, system_check
        found = system_check.check(self, quick=quick, max_age=max_age)
        if not found or not (repair or force):
            return found, found
        leftovers.repair(found, force=force)
        return found, system_check.check(self, quick=quick, max_age=max_age)

    def version(self) -> dict:
        """`version` / `GET /version`: pallet's, and the runtime's and monitor's own words."""
        from .. import __version__
        return {"Client": {"Version": __version__, "Os": "linux", "Arch": platform.machine(),
                           "PythonVersion": platform.python_version()},
                "Server": {"Runtime": _tool_version(["runc", "--version"]),
                           "Monitor": _tool_version(["conmon", "--version"])}}

    def info(self) -> dict:
        """`info` / `GET /info`: counts and the host, with Docker's key names."""
        from .. import __version__
        counts = self.containers.counts()
        return {
            "Containers": counts["total"], "ContainersRunning": counts["running"],
            "ContainersPaused": counts["paused"], "ContainersStopped": counts["stopped"],
            "Images": self.images.count(), "Layers": self.images.layer_count(), "Driver": "overlay",
            "DockerRootDir": str(self.paths.root), "RunRoot": str(self.paths.runroot),
            "OperatingSystem": _os_name(), "KernelVersion": platform.release(),
            "Architecture": platform.machine(), "NCPU": os.cpu_count(),
            "CgroupVersion": "2" if os.path.exists("/sys/fs/cgroup/cgroup.controllers") else "1",
            "DefaultRuntime": "runc", "ServerVersion": __version__,
        }

    def df(self) -> dict:
        """`system df`: `summary` (a row each for images, containers, local volumes, build
        cache) and the verbose form's lists (`images`, `containers`, `volumes`, `build_cache`)."""
        from .disk import disk_usage
        return disk_usage(self, self.containers)

    def prune(self, all_images: bool = False, volumes: bool = False, filters: dict | None = None) -> Pruned:
        """`system prune`: stopped containers, unused networks, (anonymous volumes), dangling
        (or all unused) images and the build cache, in that order (each frees the next)."""
        out = Pruned()
        out.containers, out.freed = self.containers.prune(filters)
        out.networks = self.networks.prune(filters)
        if volumes:
            names, freed = self.volumes.prune()
            out.volumes, out.freed = list(names), out.freed + freed
        out.images_untagged, out.images_deleted, freed = self.images.prune(all_images)
        out.freed += freed + self.builds.prune()[1]
        return out

    def reset(self) -> None:
        """`system reset`: every container, network, image and volume of this store gone."""
        from .reset import reset
        reset(self)


def _tool_version(cmd: list[str]) -> str:
    import shutil
    import subprocess
    if not shutil.which(cmd[0]):
        return "not installed"
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=5).stdout
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"
    return (out.splitlines() or ["unknown"])[0]


def _os_name() -> str:
    try:
        with open("/etc/os-release") as f:
            for line in f:
                if line.startswith("PRETTY_NAME="):
                    return line.split("=", 1)[1].strip().strip('"')
    except OSError:
        pass
    return "Linux"
