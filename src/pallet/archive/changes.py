"""What a container changed: `docker diff` over an overlay upper dir.

Owns: `changes(upper, lowers)`, the list of added (A), changed (C) and
deleted (D) paths of a writable layer, read from overlayfs' own format
(whiteout char devices 0:0, trusted.overlay.opaque=y dirs). `lowers` are the
image's layer dirs in overlay lowerdir order, topmost first.

Invariants: read-only; symlinks never followed; output sorted by path, paths
absolute as `docker diff` prints them. A directory holding any change is C
(unless it was itself added). The writable layer as a tar is
`write_diff_tar`, re-exported here from pallet.archive.export.
"""
from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path

from .export import is_opaque, is_whiteout, write_diff_tar

__all__ = ["Change", "changes", "write_diff_tar"]


@dataclass(frozen=True)
class Change:
    kind: str   # 'A' added, 'C' changed, 'D' deleted
    path: str   # absolute, as inside the container: "/etc/passwd"


def changes(upper: Path, lowers: list[Path]) -> list[Change]:
    """The `docker diff` of a container whose writable layer is `upper`."""
    found: dict[str, str] = {}
    _scan(Path(upper), [Path(p) for p in lowers], (), found)
    return [Change(found[path], "/" + path) for path in sorted(found)]


def _scan(upper: Path, lowers: list[Path], parts: tuple[str, ...],
          found: dict[str, str]) -> bool:
    """Record changes below `parts`; returns whether anything below changed."""
    changed = False
    here = upper.joinpath(*parts)
    for name in sorted(os.listdir(here)):
        child = parts + (name,)
        key = "/".join(child)
        st = os.lstat(here / name)
        if is_whiteout(st):
            found[key] = "D"
            changed = True
            continue
        lower = _lower_lstat(lowers, child)
        both_dirs = lower is not None and stat.S_ISDIR(st.st_mode) and stat.S_ISDIR(lower.st_mode)
        inner = False
        if stat.S_ISDIR(st.st_mode):
            inner = _scan(upper, lowers, child, found)
            if both_dirs and is_opaque(here / name):
                inner = _opaque_deletions(upper, lowers, child, found) or inner
        if lower is None:
            found[key] = "A"
        elif not both_dirs or inner or not _same_dir(st, lower):
            found[key] = "C"
        changed = changed or key in found
    return changed


def _opaque_deletions(upper: Path, lowers: list[Path], parts: tuple[str, ...],
                      found: dict[str, str]) -> bool:
    """An opaque dir hides all lower children it does not hold itself: those are deleted."""
    present = set(os.listdir(upper.joinpath(*parts)))
    gone = _lower_children(lowers, parts) - present
    for name in gone:
        found["/".join(parts + (name,))] = "D"
    return bool(gone)


def _same_dir(a: os.stat_result, b: os.stat_result) -> bool:
    return (a.st_mode == b.st_mode and a.st_uid == b.st_uid and a.st_gid == b.st_gid
            and a.st_mtime_ns == b.st_mtime_ns)


def _lstat(path: Path) -> os.stat_result | None:
    try:
        return os.lstat(path)
    except (FileNotFoundError, NotADirectoryError):
        return None


def _lower_lstat(lowers: list[Path], parts: tuple[str, ...]) -> os.stat_result | None:
    """lstat of `parts` in the merged view of the lower layers (None if absent)."""
    for lower in lowers:
        st = _lstat(lower.joinpath(*parts))
        if st is not None:
            return None if is_whiteout(st) else st
        if _hidden_in(lower, parts):
            return None
    return None


def _hidden_in(lower: Path, parts: tuple[str, ...]) -> bool:
    """Does this layer end the lookup of `parts` at one of its ancestors?"""
    for i in range(1, len(parts)):
        anc = lower.joinpath(*parts[:i])
        st = _lstat(anc)
        if st is None:
            return False
        if not stat.S_ISDIR(st.st_mode) or is_opaque(anc):
            return True
    return False


def _lower_children(lowers: list[Path], parts: tuple[str, ...]) -> set[str]:
    names: set[str] = set()
    hidden: set[str] = set()
    for lower in lowers:
        d = lower.joinpath(*parts)
        st = _lstat(d)
        if st is None:
            if _hidden_in(lower, parts):
                break
            continue
        if not stat.S_ISDIR(st.st_mode):
            break
        for name in os.listdir(d):
            if is_whiteout(os.lstat(d / name)):
                hidden.add(name)
            elif name not in hidden:
                names.add(name)
        if is_opaque(d):
            break
    return names
