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
    volumes: list = field(default_factory=list)
    images_untagged: list = field(default_factory=list)
    images_deleted: list = field(default_factory=list)
    freed: int = 0


class SystemService:
    def __init__(self, engine):
        self.engine = engine

    def check(self, quick: bool = False, max_age: float = 24 * 3600, repair: bool = False,
              force: bool = False) -> tuple[list, list]:
        """podman's `system check`: (what was found, what is still there). With `repair` what a
        crash can leave is removed; `force` also removes containers whose image is damaged."""
        from . import leftovers, system_check
        found = system_check.check(self.engine, quick=quick, max_age=max_age)
        if not found or not (repair or force):
            return found, found
        leftovers.repair(found, force=force)
        return found, system_check.check(self.engine, quick=quick, max_age=max_age)

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
        eng = self.engine
        counts = eng.containers.counts()
        return {
            "Containers": counts["total"], "ContainersRunning": counts["running"],
            "ContainersPaused": counts["paused"], "ContainersStopped": counts["stopped"],
            "Images": eng.images.count(), "Layers": eng.images.layer_count(), "Driver": "overlay",
            "DockerRootDir": str(eng.paths.root), "RunRoot": str(eng.paths.runroot),
            "OperatingSystem": _os_name(), "KernelVersion": platform.release(),
            "Architecture": platform.machine(), "NCPU": os.cpu_count(),
            "CgroupVersion": "2" if os.path.exists("/sys/fs/cgroup/cgroup.controllers") else "1",
            "DefaultRuntime": "runc", "ServerVersion": __version__,
        }

    def df(self) -> list[dict]:
        """`system df` rows: images, containers, local volumes, build cache."""
        from .disk import disk_usage
        return disk_usage(self.engine, self.engine.containers)

    def prune(self, all_images: bool = False, volumes: bool = False, filters: dict | None = None) -> Pruned:
        """`system prune`: stopped containers, (anonymous volumes), dangling (or all unused)
        images and the build cache, in that order (each frees the next)."""
        eng = self.engine
        out = Pruned()
        out.containers, out.freed = eng.containers.prune(filters)
        if volumes:
            names, freed = eng.volumes.prune()
            out.volumes, out.freed = list(names), out.freed + freed
        out.images_untagged, out.images_deleted, freed = eng.images.prune(all_images)
        out.freed += freed + eng.builds.prune()[1]
        return out

    def reset(self) -> None:
        """`system reset`: every container, network, image and volume of this store gone."""
        from .reset import reset
        reset(self.engine)


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
