"""Docker's image use cases: import, list, resolve, tag, remove, prune, inspect, history.

Names: the store keeps fully qualified names (docker.io/library/busybox:latest);
everything shown to users is in Docker's familiar form (busybox:latest).
"""
from __future__ import annotations

from ..record import dataclass
TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: importing typing costs ~3 ms per command
    from typing import BinaryIO, Callable

from .. import reference
from ..reference import familiar, split_name
from ..errors import Conflict, InvalidArgument, NotFound
from ..oci import image as oci


@dataclass
class Removal:
    untagged: list[str]
    deleted: list[str]


class ImageService:
    """`users(image_id)` lists the containers using an image as (id, running): the engine
    hands in the container service's answer, so that no caller can remove or prune an
    image a container needs by forgetting to ask. `sweep_leftovers()` sweeps the store's
    leftovers after a prune (pallet.services.leftovers)."""

    def __init__(self, store, db, layers, locks, users: Callable[[str], list[tuple[str, bool]]],
                 sweep_leftovers: Callable[[], int], events):
        self.events = events
        self.store = store
        self.db = db
        self.layers = layers
        self.locks = locks
        self.users = users
        self.sweep_leftovers = sweep_leftovers

    # ---- names ----
    def resolve(self, name: str) -> str:
        """Image ID for a name, a full ID, or a unique ID prefix (Docker's lookup order)."""
        image_id = self._lookup(name)
        if image_id is None:
            raise NotFound(f"No such image: {self._shown(name)}")
        return image_id

    def _shown(self, name: str) -> str:
        try:
            return familiar(str(reference.parse(name).tagged()))
        except InvalidArgument:
            return name

    def _lookup(self, name: str) -> str | None:
        if name.startswith("sha256:") and len(name) == 71:
            return name if self.db.image(name) else None
        try:
            ref = reference.parse(name)
        except InvalidArgument:
            ref = None
        if ref is not None:
            if ref.digest and ref.tag is None:
                found = self.db.image_by_repo_digest(f"{ref.name}@{ref.digest}")
            else:
                found = self.db.tag(str(ref.tagged()))
            if found:
                return found
        hexpart = name[7:] if name.startswith("sha256:") else name
        if reference.looks_like_id_prefix(hexpart) and (ref is None or ref.tag is None):
            matches = self.db.images_by_prefix(hexpart)
            if len(matches) > 1:
                raise Conflict(f"ambiguous image ID prefix {hexpart}: {len(matches)} images match")
            if matches:
                return matches[0]
        return None

    def exists(self, name: str) -> bool:
        return self._lookup(name) is not None

    def repo_tags(self, image_id: str) -> list[str]:
        return [familiar(t) for t in self.db.tags_of(image_id)]

    def repo_digests(self, image_id: str) -> list[str]:
        return [familiar(t) for t in self.db.repo_digests_of(image_id)]

    def config(self, image_id: str) -> dict:
        return self.store.config(image_id)

    def matches_platform(self, name: str, platform: str | None) -> bool:
        """Whether the stored image is for `platform` (os/arch[/variant]; none asked: yes)."""
        if not platform:  # every `run` asks; most give none
            return True
        from ..opts.platform import parse_platform
        wanted = parse_platform(platform)
        if not wanted:
            return True
        cfg = self.config(self.resolve(name))
        return (wanted["os"], wanted["architecture"]) == (cfg.get("os", "linux"), cfg.get("architecture", ""))

    def count(self) -> int:
        return len(self.db.images())

    def layer_count(self) -> int:
        return len(self.db.all_layers())

    def size(self, image_id: str) -> int:
        """Bytes of the image's layers (0 for an image no longer stored)."""
        row = self.db.image(image_id)
        return row.size if row else 0

    def descendants(self, image_id: str) -> set[str]:
        """Images built on this one, at any depth (`ps --filter ancestor=`)."""
        out, todo = set(), [image_id]
        while todo:
            for child in self.db.children(todo.pop()):
                if child not in out:
                    out.add(child)
                    todo.append(child)
        return out

    def layer_dirs(self, image_id: str) -> list:
        """Unpacked layer directories, lowest first (overlay wants them highest first)."""
        return [self.layers.diff_dir(c) for c in self.db.image_chain(image_id)]

    # ---- import ----
    def import_tar(self, source: BinaryIO, source_name: str, target: str | None = None,
                   changes: list[str] = (), message: str = "", platform: str | None = None) -> str:
        """`import`: a filesystem tar as a one-layer image; `platform` os/arch[/variant]."""
        from ..opts.platform import parse_platform
        platform = parse_platform(platform)
        tag = str(reference.parse_repository_tag(target).tagged()) if target else None
        with self.locks.in_flight():
            staged = self.layers.stage(source)
            try:
                from ..opts.changes import apply_changes
                cfg = apply_changes({}, list(changes))
                created = oci.now_rfc3339()
                history = [{"created": created, "comment": message or f"Imported from {source_name}"}]
                doc = oci.new_config([staged.diff_id], cfg, history, created)
                if platform:
                    doc.update(platform)
                result = self.store.commit(oci.encode(doc), {staged.diff_id: staged},
                                           [tag] if tag else [])
            finally:
                staged.release()
        return result.image_id

    def import_url(self, url: str, target: str | None = None, changes: list[str] = (),
                   message: str = "", platform: str | None = None) -> str:
        """`import http://...`: the tar a URL serves, streamed into a new image."""
        import urllib.request
        try:
            resp = urllib.request.urlopen(url, timeout=60)  # noqa: S310 - the user asked for this URL
        except OSError as exc:
            raise InvalidArgument(f"cannot fetch {url}: {exc}") from exc
        with resp:
            return self.import_tar(resp, url, target, changes, message, platform)

    # ---- tag ----
    def tag(self, source: str, target: str) -> None:
        image_id = self.resolve(source)
        try:
            name = str(reference.parse_repository_tag(target).tagged())
        except InvalidArgument as exc:
            from ..format.lexer import go_quote
            raise InvalidArgument(f"Error parsing reference: {go_quote(target)} is not a valid "
                                  f"repository/tag: {exc}") from None
        with self.db.transaction():
            self.db.set_tag(name, image_id)
        self.events().record("image", "tag", image_id, {"name": familiar(name)})

    # ---- remove ----
    def remove(self, name: str, force: bool = False, prune: bool = True) -> Removal:
        """Docker's rmi (moby's ImageDelete): untag a name; delete the image when nothing is left.

        Unlike Docker, `-f` never deletes an image a stopped container still uses: it only untags.
        """
        image_id = self.resolve(name)
        users = self.users
        out = Removal([], [])
        refs = self._refs(image_id)
        if not _is_id_prefix(image_id, name):
            full = self._full_name(name)
            using = users(image_id)
            if using and len(refs) == 1 and not force:
                raise Conflict(f'conflict: unable to remove repository reference "{name}" (must force) '
                               f"- container {using[0][0][:12]} is using its referenced image {_short(image_id)}")
            self._drop_refs([full], out)
            self._drop_orphan_digests(image_id, full, out)
            if self._refs(image_id):
                return out
            # as moby: once a name was removed, a conflict left (child images) only stops the
            # delete; the untag stands and rmi succeeds
            self._delete_helper(image_id, force, prune, users, out, quiet=True)
            return out
        if _single_reference(refs):
            self._check_conflicts(image_id, users, soft=not force, active_refs=False)
            self._drop_refs(refs, out)
        self._delete_helper(image_id, force, prune, users, out, quiet=False)
        return out

    def _drop_orphan_digests(self, image_id: str, removed: str, out: Removal) -> None:
        """moby: when the last tag of a repository goes, that repository's digest references
        (`repo@sha256:...`, recorded by push and pull) go with it."""
        if "@" in removed:
            return
        repo = split_name(removed)[0]
        if any(split_name(t)[0] == repo for t in self.db.tags_of(image_id)):
            return
        self._drop_refs([d for d in self.db.repo_digests_of(image_id) if split_name(d)[0] == repo], out)

    def _full_name(self, name: str) -> str:
        ref = reference.parse(name)
        return f"{ref.name}@{ref.digest}" if ref.digest and not ref.tag else str(ref.tagged())

    def _refs(self, image_id: str) -> list[str]:
        return self.db.tags_of(image_id) + self.db.repo_digests_of(image_id)

    def _drop_refs(self, refs: list[str], out: Removal) -> None:
        with self.db.deleting():
            for r in refs:
                self.db.delete_tag(r)
                self.db.conn.execute("DELETE FROM repo_digests WHERE name=?", (r,))
        out.untagged += [familiar(r) for r in refs]
        for r in refs:
            self.events().record("image", "untag", r, {"name": familiar(r)})

    def _check_conflicts(self, image_id, users, soft: bool, active_refs: bool = True) -> None:
        short = _short(image_id)
        if self.db.children(image_id):
            raise Conflict(f"conflict: unable to delete {short} (cannot be forced) - image has dependent child images")
        using = users(image_id)
        running = [cid for cid, is_running in using if is_running]
        if running:
            raise Conflict(f"conflict: unable to delete {short} (cannot be forced) "
                           f"- image is being used by running container {running[0][:12]}")
        if soft and active_refs and self._refs(image_id):
            raise Conflict(f"conflict: unable to delete {short} (must be forced) "
                           "- image is referenced in multiple repositories")
        if soft and using:
            raise Conflict(f"conflict: unable to delete {short} (must be forced) "
                           f"- image is being used by stopped container {using[0][0][:12]}")

    def _delete_helper(self, image_id, force, prune, users, out: Removal, quiet: bool) -> None:
        try:
            self._check_conflicts(image_id, users, soft=not force)
        except Conflict:
            if quiet:
                return
            raise
        self._drop_refs(self._refs(image_id), out)
        if users(image_id):
            return  # pallet keeps an image a stopped container needs; -f only untagged it
        parent = self.db.image(image_id).parent
        self.store.remove(image_id)
        out.deleted.append(image_id)
        self.events().record("image", "delete", image_id, {"name": image_id})
        if prune and parent and self.db.image(parent):
            self._delete_helper(parent, False, True, users, out, quiet=True)

    def prune(self, all_images: bool = False, until: float | None = None) -> tuple[list[str], list[str], int]:
        """Remove dangling images (all unused with -a). Returns (untagged, deleted, bytes freed)."""
        out = Removal([], [])

        def in_use(image_id: str) -> bool:
            return bool(self.users(image_id))
        before = self._disk_usage()
        for row in sorted(self.db.images(), key=lambda r: -r.loaded):
            if self.db.image(row.id) is None or in_use(row.id) or self.db.children(row.id):
                continue
            if until is not None and oci.parse_time(row.created) >= until:
                continue
            if self.db.tags_of(row.id) and not all_images:
                continue
            self._delete_helper(row.id, True, True, lambda i: [("", False)] if in_use(i) else [],
                                out, quiet=True)
        self.store.sweep_layers()  # also reclaims what killed processes left behind
        swept = self.sweep_leftovers()
        return out.untagged, out.deleted, max(0, before - self._disk_usage()) + swept

    def _disk_usage(self) -> int:
        return sum(r.size for r in self.db.all_layers())

    # ---- listing ----
    def list_rows(self, all_images: bool = False, filters: dict | None = None,
                  repository: str | None = None, show_digests: bool = False,
                  need_digest: bool = False) -> list[dict]:
        from .image_list import list_rows
        return list_rows(self, all_images, filters or {}, repository, show_digests, need_digest)

    def inspect(self, name: str) -> dict:
        from ..dockerjson.image import inspect_image
        return inspect_image(self, self.resolve(name))

    def history(self, name: str) -> list[dict]:
        from ..dockerjson.image import image_history
        return image_history(self, self.resolve(name))


def _is_id_prefix(image_id: str, name: str) -> bool:
    return image_id.startswith(name) or image_id.startswith("sha256:" + name)


def _single_reference(refs: list[str]) -> bool:
    """At most one tag, and every reference in one repository (moby's isSingleReference)."""
    repos = {split_name(r)[0] for r in refs}
    tags = [r for r in refs if "@" not in r]
    return len(tags) <= 1 and len(repos) <= 1


def _short(image_id: str) -> str:
    return image_id.split(":", 1)[-1][:12]

