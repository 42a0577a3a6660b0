"""``-v``/``--volume``, ``--mount`` and ``--tmpfs``, parsed into ``MountSpec``.

Owns both halves Docker splits between CLI and daemon: the CLI's syntax checks
(``invalid spec: :/x: empty section between colons``, ``unexpected key 'foo' in
'foo=bar'``) and the daemon's validation (``invalid volume specification:
'/a:relative': invalid mount config for type "bind": invalid mount path:
'relative' mount path must be absolute``), with Docker's wording throughout.

Invariants of a returned ``MountSpec``: ``target`` is absolute, cleaned and not
``/``; a bind's ``source`` is absolute and cleaned; a volume's ``source`` is a
valid local volume name or ``""`` (anonymous); a tmpfs has no source. Binds
default to ``rprivate`` propagation. Whether a bind source exists is not checked
here (no I/O): the container service does that. What Docker's CLI rejects is a
``UsageError`` (exit 125), what its daemon rejects an ``InvalidArgument``.
"""
from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass, field

from ..errors import InvalidArgument, UsageError
from . import go_bool
from .units import parse_bytes

BIND, VOLUME, TMPFS = "bind", "volume", "tmpfs"
PROPAGATION_MODES = ("private", "rprivate", "slave", "rslave", "shared", "rshared")
DEFAULT_PROPAGATION = "rprivate"
_LABEL_MODES = ("z", "Z")
_CONSISTENCY_MODES = ("consistent", "cached", "delegated")
_VOLUME_NAME = r"[a-zA-Z0-9][a-zA-Z0-9_.-]+"


@dataclass
class MountSpec:
    type: str  # bind | volume | tmpfs
    target: str
    source: str = ""  # bind: host path; volume: name, "" for anonymous; tmpfs: ""
    read_only: bool = False
    propagation: str = ""
    mode: str = ""  # -v's third field verbatim, as inspect shows it in Mounts[].Mode
    no_copy: bool = False
    selinux_label: str = ""  # "z" shared, "Z" private
    consistency: str = ""
    bind_nonrecursive: bool = False
    volume_driver: str = ""
    volume_labels: dict[str, str] = field(default_factory=dict)
    volume_options: dict[str, str] = field(default_factory=dict)
    volume_subpath: str = ""
    tmpfs_size: int | None = None
    tmpfs_mode: int | None = None
    tmpfs_options: tuple[str, ...] = ()  # --tmpfs options verbatim (rw,noexec,size=64m)

    @property
    def anonymous(self) -> bool:
        return self.type == VOLUME and not self.source


def clean_path(path: str) -> str:
    """Go's path.Clean for absolute paths (posixpath.normpath keeps a leading ``//``)."""
    cleaned = posixpath.normpath(path)
    return "/" + cleaned.lstrip("/") if cleaned.startswith("//") else cleaned


def validate_volume_name(name: str) -> str:
    """The local driver's rule for volume names, with its message."""
    if not re.fullmatch(_VOLUME_NAME, name):
        raise InvalidArgument(
            f'create {name}: "{name}" includes invalid characters for a local volume name, '
            'only "[a-zA-Z0-9][a-zA-Z0-9_.-]" are allowed. If you intended to pass a host '
            "directory, use absolute path")
    return name


# -- -v / --volume ------------------------------------------------------------------

def parse_volume(spec: str, cwd: str | None = None) -> MountSpec:
    """One ``-v`` value. With ``cwd`` (the CLI), ``./dir`` and ``.`` sources are made absolute."""
    source = _cli_split_volume(spec)
    if source and cwd is not None and source.startswith(".") and not source.startswith("/"):
        spec = posixpath.join(cwd, source) + spec[len(source):]
    return _parse_mount_raw(spec)


def _cli_split_volume(spec: str) -> str:
    """The CLI's syntax check (compose's ParseVolume); returns the source part or ""."""
    if not spec:
        raise UsageError("invalid empty volume spec")
    if len(spec) <= 2:
        return ""
    sections = spec.split(":")
    for index, section in enumerate(sections):
        if not section:
            raise UsageError(f"invalid spec: {spec}: empty section between colons")
        if index >= 2 and index < len(sections) - 1:  # a colon after the mode
            raise UsageError(f"invalid spec: {spec}: too many colons")
    return sections[0] if len(sections) > 1 else ""


def _valid_mode(mode: str) -> bool:
    """linuxValidMountMode: each known option at most once per kind."""
    if not mode:
        return True
    kinds = {"rw": 0, "label": 0, "propagation": 0, "copy": 0, "consistency": 0}
    for option in mode.split(","):
        kind = _mode_kind(option)
        if kind is None:
            return False
        kinds[kind] += 1
    return all(count <= 1 for count in kinds.values())


def _mode_kind(option: str) -> str | None:
    if option in ("rw", "ro"):
        return "rw"
    if option in _LABEL_MODES:
        return "label"
    if option in PROPAGATION_MODES:
        return "propagation"
    if option == "nocopy":
        return "copy"
    if option in _CONSISTENCY_MODES:
        return "consistency"
    return None


def _parse_mount_raw(raw: str) -> MountSpec:
    """The daemon's ParseMountRaw for ``[source:]target[:mode]``."""
    invalid = InvalidArgument(f"invalid volume specification: '{raw}'")
    parts = raw.split(":")
    if len(parts) > 3 or not parts[0]:
        raise invalid
    mode = ""
    if len(parts) == 1:
        source, target = "", parts[0]
    elif len(parts) == 2:
        if _valid_mode(parts[1]):  # "/foo:rw": a mode without a source is no volume
            raise invalid
        source, target = parts
    else:
        source, target, mode = parts
    if not _valid_mode(mode):
        raise InvalidArgument(f"invalid mode: {mode}")
    options = mode.split(",") if mode else []
    spec = MountSpec(BIND if posixpath.isabs(source) else VOLUME, target, source, mode=mode,
                     read_only="ro" in options, no_copy="nocopy" in options)
    spec.selinux_label = next((o for o in options if o in _LABEL_MODES), "")
    spec.consistency = next((o for o in options if o in _CONSISTENCY_MODES), "")
    spec.propagation = next((o for o in options if o in PROPAGATION_MODES), "")
    problem = _mount_config_error(spec, has_volume_options="nocopy" in options,
                                  has_bind_options=bool(spec.propagation))
    if problem:
        raise InvalidArgument(f"{invalid}: {problem}")
    return _finish(spec)


# -- shared daemon-side validation --------------------------------------------------

def _mount_config_error(spec: MountSpec, *, has_volume_options: bool = False,
                        has_bind_options: bool = False, has_tmpfs_options: bool = False) -> str:
    """validateMountConfig's message for ``spec``, or "" when it is acceptable."""
    prefix = f'invalid mount config for type "{spec.type}": '
    problem = _target_error(spec.target)
    if not problem and spec.type == BIND:
        problem = _bind_error(spec, has_volume_options, has_tmpfs_options)
    elif not problem and spec.type == VOLUME:
        if has_bind_options:
            problem = "field BindOptions must not be specified"
        elif has_tmpfs_options:
            problem = "field TmpfsOptions must not be specified"
        elif spec.read_only and not spec.source:
            problem = "must not set ReadOnly mode when using anonymous volumes"
    elif not problem and spec.type == TMPFS:
        if has_bind_options or has_volume_options:
            kind = "BindOptions" if has_bind_options else "VolumeOptions"
            problem = f"field {kind} must not be specified"
        elif spec.source:
            problem = "field Source must not be specified"
    elif not problem:
        problem = "mount type unknown"
    return prefix + problem if problem else ""


def _target_error(target: str) -> str:
    if not target:
        return "field Target must not be empty"
    if clean_path(target.replace("\\", "/")) == "/":
        return "invalid specification: destination can't be '/'"
    return _absolute_error(target)


def _absolute_error(path: str) -> str:
    path = path.replace("\\", "/")
    return "" if path.startswith("/") else f"invalid mount path: '{path}' mount path must be absolute"


def _bind_error(spec: MountSpec, has_volume_options: bool, has_tmpfs_options: bool) -> str:
    if not spec.source:
        return "field Source must not be empty"
    if spec.propagation and spec.propagation not in PROPAGATION_MODES:
        return f"invalid propagation mode: {spec.propagation}"
    if has_volume_options:
        return "field VolumeOptions must not be specified"
    if has_tmpfs_options:
        return "field TmpfsOptions must not be specified"
    return _absolute_error(spec.source)


def _finish(spec: MountSpec) -> MountSpec:
    """Normalise a validated spec: clean paths, default propagation, check volume names."""
    spec.target = clean_path(spec.target)
    if spec.type == BIND:
        spec.source = clean_path(spec.source)
        spec.propagation = spec.propagation or DEFAULT_PROPAGATION
    elif spec.type == VOLUME and spec.source:
        validate_volume_name(spec.source)
    return spec


# -- --mount ------------------------------------------------------------------------

_FLAG_ONLY_KEYS = {"readonly": "read_only", "ro": "read_only", "volume-nocopy": "no_copy",
                   "bind-nonrecursive": "bind_nonrecursive"}


def parse_mount(value: str, cwd: str | None = None) -> MountSpec:
    """One ``--mount`` value: ``type=bind,source=/a,target=/b,readonly`` and friends."""
    import csv

    fields = next(csv.reader([value]), [])
    spec = MountSpec(VOLUME, "")
    kinds: set[str] = set()  # which option families appeared: bind, volume, tmpfs
    for item in fields:
        key, has_value, val = item.partition("=")
        key = key.lower()
        if not has_value:
            if key not in _FLAG_ONLY_KEYS:
                raise UsageError(f"invalid field '{item}' must be a key=value pair")
            setattr(spec, _FLAG_ONLY_KEYS[key], True)
            kinds.update(k for k in (BIND, VOLUME) if key.startswith(k + "-"))
            continue
        _set_mount_field(spec, key, val, item, cwd)
        kinds.update(k for k in (BIND, VOLUME, TMPFS) if key.startswith(k + "-"))
    if not spec.type:
        raise UsageError("type is required")
    if not spec.target:
        raise UsageError("target is required")
    for kind in (VOLUME, BIND, TMPFS):
        if kind in kinds and spec.type != kind:
            raise UsageError(f"cannot mix '{kind}-*' options with mount type '{spec.type}'")
    problem = _mount_config_error(spec, has_volume_options=VOLUME in kinds,
                                  has_bind_options=BIND in kinds, has_tmpfs_options=TMPFS in kinds)
    if problem:
        raise InvalidArgument(problem)
    return _finish(spec)


def _parse_bool(key: str, val: str) -> bool:
    value = go_bool(val)
    if value is None:
        raise UsageError(f"invalid value for {key}: {val}")
    return value


def _set_mount_field(spec: MountSpec, key: str, val: str, item: str, cwd: str | None) -> None:
    if key == "type":
        spec.type = val.lower()
    elif key in ("source", "src"):
        absolute = cwd is not None and (val == "." or val.startswith("./"))
        spec.source = posixpath.join(cwd, val) if absolute else val
    elif key in ("target", "dst", "destination"):
        spec.target = val
    elif key in _FLAG_ONLY_KEYS:
        setattr(spec, _FLAG_ONLY_KEYS[key], _parse_bool(key, val))
    elif key == "consistency":
        spec.consistency = val.lower()
    elif key == "bind-propagation":
        spec.propagation = val.lower()
    elif key in ("volume-label", "volume-opt"):
        name, _, setting = val.partition("=")
        target = spec.volume_labels if key == "volume-label" else spec.volume_options
        target[name] = setting
    elif key == "volume-driver":
        spec.volume_driver = val
    elif key == "volume-subpath":
        spec.volume_subpath = val
    elif key == "tmpfs-size":
        try:
            spec.tmpfs_size = parse_bytes(val)
        except InvalidArgument:
            raise UsageError(f"invalid value for {key}: {val}") from None
    elif key == "tmpfs-mode":
        if not re.fullmatch(r"[0-7]+", val) or int(val, 8) > 0xFFFFFFFF:
            raise UsageError(f"invalid value for {key}: {val}")
        spec.tmpfs_mode = int(val, 8)
    else:
        raise UsageError(f"unexpected key '{key}' in '{item}'")


# -- --tmpfs ------------------------------------------------------------------------

# mount(8) flags a tmpfs option may name, keyed by the flag they set: a later option
# replaces an earlier one with the same key (exec after noexec), as Docker's MergeTmpfsOptions
_TMPFS_FLAGS = {
    "ro": "rdonly", "rw": "rdonly", "suid": "nosuid", "nosuid": "nosuid", "dev": "nodev",
    "nodev": "nodev", "exec": "noexec", "noexec": "noexec", "sync": "sync", "async": "sync",
    "dirsync": "dirsync", "remount": "remount", "mand": "mand", "nomand": "mand",
    "atime": "noatime", "noatime": "noatime", "diratime": "nodiratime", "nodiratime": "nodiratime",
    "bind": "bind", "rbind": "rbind", "relatime": "relatime", "norelatime": "relatime",
    "strictatime": "strictatime", "nostrictatime": "strictatime",
    **{mode: "propagation" for mode in PROPAGATION_MODES + ("unbindable", "runbindable")},
}
_TMPFS_DATA = ("size", "mode", "uid", "gid", "nr_inodes", "nr_blocks", "mpol")
TMPFS_DEFAULTS = ("noexec", "nosuid", "nodev")


def merge_tmpfs_options(data: str) -> list[str]:
    """The options of a ``--tmpfs`` mount: Docker's defaults (noexec, nosuid, nodev), then
    the user's, the last of each kind winning; an option mount(8) would not take for a
    tmpfs is Docker's ``Invalid tmpfs option ["x"]``."""
    kept: dict[str, str] = {}
    for option in [*TMPFS_DEFAULTS, *(o for o in data.split(",") if o)]:
        if option == "defaults":
            continue
        if option in _TMPFS_FLAGS:
            key = _TMPFS_FLAGS[option]
        else:
            key, eq, _ = option.partition("=")
            if not eq or key not in _TMPFS_DATA:
                parts = option.split("=", 1)
                raise InvalidArgument("Invalid tmpfs option [" + " ".join(f'"{p}"' for p in parts) + "]")
        kept.pop(key, None)  # re-inserted last: the order the user gave stays
        kept[key] = option
    return list(kept.values())


def parse_tmpfs(value: str) -> MountSpec:
    """One ``--tmpfs /run:rw,size=64m``: options are kept verbatim for the mount call."""
    target, _, options = value.partition(":")
    problem = _target_error(target)
    if problem:
        raise InvalidArgument(problem)
    opts = tuple(o for o in options.split(",") if o)
    spec = MountSpec(TMPFS, clean_path(target), tmpfs_options=opts, read_only="ro" in opts)
    for option in opts:
        key, _, val = option.partition("=")
        if key == "size" and re.fullmatch(r"[0-9]+[kKmMgG]?", val):
            spec.tmpfs_size = parse_bytes(val)
        elif key == "mode" and re.fullmatch(r"[0-7]+", val):
            spec.tmpfs_mode = int(val, 8)
    return spec
