"""BuildKit's inline cache in pallet's cache keys: `BUILDKIT_INLINE_CACHE=1` and `--cache-from`.

Owns: the record a build writes into its image's config when given the build arg
`BUILDKIT_INLINE_CACHE=1` (`entries`, under `CONFIG_KEY`), and `CacheSource`, one
`--cache-from` image read back: which of its history entries (and layer) a step
with a given cache key (pallet.build.cache) produced.

As BuildKit's inline cache, the record lives in the exported image's config, so a
pushed image carries it and a build on another machine can pull it and reuse the
steps, fetching only the layers it takes. An image without the record is no cache
source (BuildKit ignores it the same way). The record holds pallet's keys, not
BuildKit's, so it sits under a name of pallet's own: each entry maps a step's key
to the length of the image's history at that step. A step taken from a source
recommits the source's history entry verbatim on the same parent, so the step's
image, its ID, and therefore the next step's key are those of the original build.
Pure: no I/O (the executor fetches layers through the build service).
"""
from __future__ import annotations

CONFIG_KEY = "pallet.build.cache.v0"
BUILD_ARG = "BUILDKIT_INLINE_CACHE"


def wanted(build_args: dict[str, str]) -> bool:
    """BuildKit reads the build arg as a Go bool."""
    return build_args.get(BUILD_ARG, "").strip().lower() in ("1", "t", "true")


def entries(step_images: list[tuple[str, str]], history_len: dict[str, int]) -> list[dict]:
    """The record for an image: each step key whose image is in the image's chain
    (`history_len`: image ID -> history length, for the chain only), in build order."""
    out, seen = [], set()
    for key, image_id in step_images:
        if image_id in history_len and key not in seen:
            seen.add(key)
            out.append({"key": key, "history": history_len[image_id]})
    return out


class CacheSource:
    """One `--cache-from` image: its config, and for a remote one the layer descriptors
    paired with diff IDs (None when the image is in the local store)."""

    def __init__(self, name: str, config: dict, layers: list[tuple[dict, str]] | None):
        self.name, self.config, self.layers = name, config, layers
        self.history = [h for h in config.get("history") or [] if isinstance(h, dict)]
        self.diff_ids = list((config.get("rootfs") or {}).get("diff_ids") or [])
        self.keys: dict[str, int] = {}
        record = config.get(CONFIG_KEY)
        for item in record if isinstance(record, list) else []:
            if isinstance(item, dict) and isinstance(item.get("key"), str) \
                    and isinstance(item.get("history"), int):
                self.keys.setdefault(item["key"], item["history"])

    def __bool__(self) -> bool:
        return bool(self.keys)

    def step(self, key: str, parent: dict) -> tuple[dict, str | None] | None:
        """(history entry, diff_id or None for an empty layer) of the step with `key`, when
        `parent` (the step's parent config) is the prefix of this image the step was built on."""
        n = self.keys.get(key)
        if n is None or not 0 < n <= len(self.history):
            return None
        history = parent.get("history") or []
        parent_ids = list((parent.get("rootfs") or {}).get("diff_ids") or [])
        if len(history) != n - 1 or history != self.history[:n - 1]:
            return None
        if parent_ids != self.diff_ids[:len(parent_ids)]:
            return None
        entry = self.history[n - 1]
        if entry.get("empty_layer"):
            return entry, None
        if len(parent_ids) >= len(self.diff_ids):
            return None
        return entry, self.diff_ids[len(parent_ids)]

    def layer_job(self, diff_id: str) -> tuple[dict, str] | None:
        """The (descriptor, diff_id) to fetch a remote source's layer; None for a local one."""
        for desc, did in self.layers or []:
            if did == diff_id:
                return desc, did
        return None
