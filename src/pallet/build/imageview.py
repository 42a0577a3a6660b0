"""Reading an image's merged filesystem without a container: path lookups and a read-only view.

Owns: `ImageView(layer_dirs)` (layer directories lowest first, as
ImageService.layer_dirs gives them). `lookup` walks layers top-down honouring
overlay whiteouts (char 0:0) and opaque directories, so a file deleted in a
later layer is not found. `mounted()` yields one directory showing the merged
tree, for COPY --from and RUN --mount=from=: a read-only overlay mount when
there are two or more layers (released on exit), the layer itself when there
is one, an empty directory for none. Nothing is ever written into a layer.
"""
from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from pathlib import Path
from typing import Iterator

from ..archive.export import is_opaque, is_whiteout


class ImageView:
    def __init__(self, layer_dirs: list[Path]):
        self.layer_dirs = [Path(d) for d in layer_dirs]

    def lookup(self, path: str) -> Path | None:
        """The topmost layer's copy of an absolute image path; None when absent or deleted."""
        parts = [p for p in path.split("/") if p not in ("", ".")]
        for layer in reversed(self.layer_dirs):
            state = _state_in_layer(layer, parts)
            if state == "found":
                return layer.joinpath(*parts)
            if state == "hidden":
                return None
        return None

    def is_dir(self, path: str) -> bool:
        found = self.lookup(path)
        return found is not None and stat.S_ISDIR(os.lstat(found).st_mode)

    def read_text(self, path: str) -> str | None:
        found = self.lookup(path)
        if found is None or not stat.S_ISREG(os.lstat(found).st_mode):
            return None
        return found.read_text(errors="replace")

    @contextlib.contextmanager
    def mounted(self, scratch: Path) -> Iterator[Path]:
        if len(self.layer_dirs) == 1:
            yield self.layer_dirs[0]
            return
        target = Path(tempfile.mkdtemp(prefix="view-", dir=scratch))
        if not self.layer_dirs:
            yield target
            return
        from ..snapshot.overlay import Mount, mount, unmount
        lowers = ":".join(str(d) for d in reversed(self.layer_dirs))
        mount(Mount("overlay", "overlay", (f"lowerdir={lowers}",)), target, readonly=True)
        try:
            yield target
        finally:
            unmount(target)


def _state_in_layer(layer: Path, parts: list[str]) -> str:
    """'found', 'hidden' (a whiteout or opaque dir above it), or 'absent' in this layer."""
    cur = layer
    for i, name in enumerate(parts):
        try:
            st = os.lstat(cur / name)
        except (FileNotFoundError, NotADirectoryError):
            return "absent"
        if is_whiteout(st):
            return "hidden"
        if i < len(parts) - 1:
            if not stat.S_ISDIR(st.st_mode):
                return "hidden"  # a file here replaces any directory below
            if is_opaque(cur / name) and not (cur / name).joinpath(*parts[i + 1:]).exists():
                return "hidden"
        cur = cur / name
    return "found"


def lookup_user(view: ImageView, user: str) -> tuple[int, int]:
    """uid, gid for `--chown=user[:group]` (names from the image's /etc/passwd and /etc/group)."""
    from ..errors import NotFound
    name, _, group = user.partition(":")
    uid = gid = None
    if name.isdigit():
        uid = int(name)
    else:
        for line in (view.read_text("/etc/passwd") or "").splitlines():
            fields = line.split(":")
            if len(fields) >= 3 and fields[0] == name:
                uid = int(fields[2])
        if uid is None:
            raise NotFound(f"unable to find user {name}: no matching entries in passwd file")
    if group:
        if group.isdigit():
            gid = int(group)
        else:
            gid = None
            for line in (view.read_text("/etc/group") or "").splitlines():
                fields = line.split(":")
                if len(fields) >= 3 and fields[0] == group:
                    gid = int(fields[2])
            if gid is None:
                raise NotFound(f"unable to find group {group}: no matching entries in group file")
    # Docker: a user without a group uses the uid as the gid, even for a name
    return uid, gid if group else uid
