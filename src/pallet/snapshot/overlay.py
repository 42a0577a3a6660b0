"""Overlay snapshots: a container's private writable layer over shared read-only layers.

`prepare` makes the upper/work directories and returns a `Mount` description;
`mount`/`unmount` are the small executors (the mount(2) syscall, no `mount`
binary, since a fork costs more than the syscall). Layer directories are never
written: overlayfs copies up into the container's upper directory.

The lowerdir option is limited to one page (4096 bytes) by the kernel, so
lower paths are given relative to the layers directory (the mount runs with
that as its working directory): `max_layers` says how many fit for a store
(54 under /var/lib/pallet), and images with more are refused when they are
made (load, pull, import, build, commit) with Docker's "max depth exceeded",
not when a container is started. (Docker's overlay2 stacks 125, through short
symlinks; pallet's relative paths cost 70 bytes a layer.)
"""
from __future__ import annotations

import os
from ..record import dataclass
from pathlib import Path

from .. import libc
from ..errors import PalletError


@dataclass(frozen=True)
class Mount:
    type: str
    source: str
    options: tuple[str, ...]
    cwd: str | None = None     # relative lowerdirs are resolved against this
    # overlay's marker of an earlier `volatile` mount, which makes the kernel refuse the
    # next mount of the same upper/work: removed before mounting (see `describe`)
    incompat: str | None = None

    def option_string(self) -> str:
        return ",".join(self.options)


def layout(container_dir: Path) -> tuple[Path, Path]:
    return container_dir / "upper", container_dir / "work"


def prepare(container_dir: Path, lower_dirs: list[Path], layers_root: Path) -> Mount:
    """Create upper/work for a container; lower_dirs are lowest first (image order)."""
    upper, work = layout(container_dir)
    upper.mkdir(parents=True, exist_ok=True)
    work.mkdir(parents=True, exist_ok=True)
    return describe(container_dir, lower_dirs, layers_root)


def describe(container_dir: Path, lower_dirs: list[Path], layers_root: Path,
             volatile: bool = False) -> Mount:
    """The overlay mount of a container's layers. `volatile` (for `--rm` containers, whose
    writes are thrown away) skips overlay's sync of the upper filesystem, which otherwise
    costs every unmount a journal commit (~1 ms of each `run --rm`); after a crash such an
    upper is not to be trusted, and nothing keeps it."""
    upper, work = layout(container_dir)
    if not lower_dirs:  # FROM scratch: overlay needs a lower; an empty dir will do
        empty = container_dir / "empty"
        empty.mkdir(exist_ok=True)
        lower_dirs = [empty]
    rel = [os.path.relpath(d, layers_root) for d in reversed(lower_dirs)]
    opts = (f"lowerdir={':'.join(rel)}", f"upperdir={upper}", f"workdir={work}",
            "index=off", "redirect_dir=off") + (("volatile",) if volatile else ())
    return Mount("overlay", "overlay", opts, str(layers_root), str(work / "work" / "incompat"))


PAGE_SIZE = 4096  # mount(2) copies its data string into one page, NUL included


def max_layers(containers_root: Path, layers_root: Path) -> int:
    """How many layers one container's overlay mount can stack in this store: the most whose
    option string (the longest form: `volatile`, a 64-hex container ID) fits in a page."""
    name = "0" * 64
    one = describe(containers_root / name, [layers_root / name / "diff"], layers_root, volatile=True)
    per_layer = len(f"{name}/diff:")
    return 1 + (PAGE_SIZE - 1 - len(one.option_string())) // per_layer


def mount(m: Mount, target: Path, readonly: bool = False) -> None:
    target.mkdir(parents=True, exist_ok=True)
    if m.incompat and os.path.lexists(m.incompat):
        from ..store.layers import force_rmtree
        force_rmtree(Path(m.incompat))
    try:
        # relative lower dirs keep the options under a page: mount(2) runs in m.cwd
        if m.cwd:
            with libc.working_directory(m.cwd):
                _mount(m, target, readonly)
        else:
            _mount(m, target, readonly)
    except OSError as exc:
        raise PalletError(f"mounting the container's root filesystem at {target}: "
                          f"{exc.strerror}") from None


def _mount(m: Mount, target: Path, readonly: bool) -> None:
    libc.mount(m.source, str(target), m.type, libc.MS_RDONLY if readonly else 0, m.option_string())


def unmount(target: Path) -> None:
    """Lazy unmount; quiet when nothing is mounted there."""
    try:
        libc.umount2(str(target), libc.MNT_DETACH)
    except OSError as exc:
        if exc.errno not in (22, 2):  # EINVAL: not a mount point; ENOENT: gone already
            raise PalletError(f"unmounting {target}: {exc.strerror}") from None


def is_mounted(target: Path) -> bool:
    t = str(target)
    with open("/proc/self/mountinfo") as f:
        return any(line.split()[4] == t for line in f)
