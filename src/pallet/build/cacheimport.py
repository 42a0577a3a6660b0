"""`--cache-from` and `BUILDKIT_INLINE_CACHE=1` during a build: the executor's side of
pallet.build.inlinecache.

Owns: `load_sources(builder)` (each `--cache-from` image read, shown as BuildKit's
`importing cache manifest from ...` steps), `take_step(builder, state, key)` (a step whose
key a source recorded, recommitted from that source: its history entry on the same parent,
its layer fetched only when the store lacks it) and `export(builder, image_id)` (the image
with its steps' keys in its config). Prints nothing: progress leaves as events.
"""
from __future__ import annotations

from ..errors import PalletError
from ..oci import image as oci
from . import events, inlinecache


def load_sources(builder) -> list[inlinecache.CacheSource]:
    """Each `--cache-from` image read as BuildKit's docker driver reads it: from the local
    store when there, else its manifest and config from its registry (layers are fetched
    only for the steps taken). One that cannot be read is its step's error and the build
    goes on without it, as BuildKit's; one without an inline cache record is no source."""
    parts, out = builder.parts, []
    for name in dict.fromkeys(builder.req.cache_from):
        vertex = builder.next_vertex()
        title = f"importing cache manifest from {name}"
        try:
            if parts.images.exists(name):
                source = inlinecache.CacheSource(name, parts.images.config(parts.images.resolve(name)), None)
            else:
                source = inlinecache.CacheSource(name, *parts.registry.remote_config(name))
        except PalletError as exc:
            builder.emit(events.Internal(vertex, title, error=f"{name}: {exc}"))
            continue
        builder.emit(events.Internal(vertex, title))
        if source:
            out.append(source)
    return out


def take_step(builder, state, key: str) -> bool:
    """Make the step from a source that recorded `key`; False when no source has it."""
    for source in builder.cache_sources:
        found = source.step(key, state.doc)
        if found is None:
            continue
        entry, diff_id = found
        staged = {}
        if diff_id is not None and not _has_layer(builder, state, diff_id):
            job = source.layer_job(diff_id)
            if job is None:
                continue  # a local source lost the layer: build the step
            staged = builder.parts.registry.fetch_layers(source.name, [job], _Quiet())
        builder.commit_entry(state, entry, diff_id, staged)
        return True
    return False


def _has_layer(builder, state, diff_id: str) -> bool:
    from ..digest import chain_ids
    return builder.parts.layers.has(chain_ids([*oci.diff_ids(state.doc), diff_id])[-1])


def export(builder, image_id: str) -> str:
    """BUILDKIT_INLINE_CACHE=1: the image exported with its steps' cache keys in its config
    (same layers and history), so a build elsewhere can use it with --cache-from."""
    parts, lengths, cur = builder.parts, {}, image_id
    while cur is not None:
        row = parts.db.image(cur)
        if row is None:
            break
        lengths[cur] = len(parts.images.config(cur).get("history") or [])
        cur = row.parent
    doc = parts.images.config(image_id)
    doc[inlinecache.CONFIG_KEY] = inlinecache.entries(builder.step_images, lengths)
    return parts.image_store.commit(oci.encode(doc), {}, parent=image_id).image_id


class _Quiet:
    """A cached step's layer fetched from a cache source: BuildKit shows the step as CACHED only."""

    def line(self, text: str) -> None:
        pass

    def layer(self, layer_id: str, status: str, total: int | None = None) -> None:
        pass

    def advance(self, layer_id: str, n: int) -> None:
        pass

    def close(self) -> None:
        pass
