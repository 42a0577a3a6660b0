"""RUN: a step executed in a real container, its writable layer becoming the step's layer.

Owns: `--mount` parsing for RUN (cache, bind, secret, tmpfs), the RunSpec the build
service turns into a container (pallet.services.build_run: create, start attached, wait),
removing from the container's upper dir what only the runtime created there
(mount points for /etc/hosts, /proc, bind targets ...) so a layer holds what
the command wrote and nothing else.

Invariants: the container is removed whatever happens; cache mounts live in
`<root>/buildcache/<id>` and persist between builds until `builder prune`;
a bind mount from the context or a stage is read-only unless `rw`, and then the
command writes into a copy thrown away after the step (as BuildKit discards them).
"""
from __future__ import annotations

import hashlib
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import InvalidArgument, NotFound

RUNTIME_PATHS = ("/etc/hosts", "/etc/hostname", "/etc/resolv.conf", "/proc", "/sys", "/dev",
                 "/.dockerenv", "/etc/mtab")


@dataclass
class RunMount:
    type: str                        # cache | bind | secret | tmpfs
    target: str
    source: str = ""                 # bind: path in the context or in `from`
    from_: str = ""                  # bind/cache: a stage or image
    id: str = ""                     # cache/secret id
    read_only: bool = True
    required: bool = False
    options: dict = field(default_factory=dict)

    def describe(self) -> str:
        extra = (",rw" if self.type == "bind" and not self.read_only else "") + \
            (f",env={self.options['env']}" if self.options.get("env") else "")
        return f"{self.type}:{self.id or self.source}:{self.from_}->{self.target}{extra}"


def parse_mount(spec: str) -> RunMount:
    """`type=cache,target=/root/.cache,id=x` (BuildKit's CSV) to a RunMount."""
    fields: dict[str, str] = {}
    for part in spec.split(","):
        key, eq, value = part.partition("=")
        fields[key.strip().lower()] = value if eq else "true"
    kind = fields.pop("type", "bind")
    target = fields.pop("target", fields.pop("dst", fields.pop("destination", "")))
    if kind not in ("cache", "bind", "secret", "tmpfs"):
        raise InvalidArgument(f"unsupported mount type {kind!r}")
    m = RunMount(kind, target, source=fields.pop("source", fields.pop("src", "")),
                 from_=fields.pop("from", ""), id=fields.pop("id", ""),
                 read_only=kind in ("bind", "secret") and fields.get("rw") not in ("true", "1"),
                 required=fields.pop("required", "false") in ("true", "1"), options=fields)
    if kind == "secret":
        m.options["explicit_target"] = bool(m.target)
        m.target = m.target or f"/run/secrets/{m.id}"
    if not m.target:
        raise InvalidArgument(f"mount type={kind} requires a target")
    if kind == "cache" and not m.id:
        m.id = m.target
    return m


def cache_dir(root: Path, cache_id: str) -> Path:
    d = root / "buildcache" / hashlib.sha256(cache_id.encode()).hexdigest()[:32]
    d.mkdir(parents=True, exist_ok=True)
    return d


@dataclass
class RunSpec:
    image_id: str
    argv: list[str]
    env: list[str]
    workdir: str
    user: str
    network: str
    binds: list[tuple[str, str, bool]]       # (host source, target, read_only)
    tmpfs: list[str]
    limits: object | None = None   # services.build_types.RunLimits: build's flags for every RUN


def remove_container(containers, cid: str) -> None:
    try:
        containers.remove(cid, force=True)
    except NotFound:
        pass


def drop_runtime_artifacts(upper: Path, view, targets: list[str]) -> None:
    """Remove mount points the runtime created in `upper` that the image did not have.

    Only empty files and empty directories absent from the image are removed,
    then parent directories that became empty and are absent from the image."""
    for target in list(RUNTIME_PATHS) + targets:
        path = upper / target.lstrip("/")
        while target not in ("", "/"):
            if not _is_empty(path) or not _absent_or_same(view, target, path):
                break
            if path.is_dir():
                os.rmdir(path)
            else:
                path.unlink()
            target, path = os.path.dirname(target), path.parent


def _absent_or_same(view, target: str, path: Path) -> bool:
    """The image lacks it, or it is a directory only copied up (same mode and owner, not opaque)."""
    from ..archive.export import is_opaque
    below = view.lookup(target)
    if below is None:
        return True
    st, bst = os.lstat(path), os.lstat(below)
    return (stat.S_ISDIR(st.st_mode) and stat.S_ISDIR(bst.st_mode) and not is_opaque(path)
            and (st.st_mode, st.st_uid, st.st_gid) == (bst.st_mode, bst.st_uid, bst.st_gid))


def _is_empty(path: Path) -> bool:
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return False
    if stat.S_ISDIR(st.st_mode):
        return not os.listdir(path)
    return stat.S_ISREG(st.st_mode) and st.st_size == 0
