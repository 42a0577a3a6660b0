"""What other services and `ps`/`system df`/`inspect` ask of the containers: read-only
views over the records (with live state folded in by `get`/`container_status.refresh`).

A mixin of ContainerService (it uses its `store`, `get`, `paths`); it changes nothing.
"""
from __future__ import annotations

from . import state as status
from ..container_types import ListRequest


class ContainerQueries:
    def image_users(self, image_id: str) -> list[tuple[str, bool]]:
        return [(cid, self.get(cid)["State"]["Running"]) for cid in self.store.ids_using_image(image_id)]

    def images_in_use(self) -> set[str]:
        return self.store.image_ids()

    def list(self, req: ListRequest | None = None) -> list[dict]:
        """The records, newest first, live state folded in; `req` selects as `ps` does
        (None: every one)."""
        records = [status.refresh(self, r) for r in self.store.all()]
        if req is None:
            return records
        from .listing import select
        return select(self, records, req)

    def ports(self, ref: str) -> dict[str, list[dict]]:
        """`port`: "80/tcp" -> its host bindings, while the container runs ({} otherwise)."""
        record = self.get(ref)
        if not record["State"]["Running"]:
            return {}
        return (record.get("NetworkSettings") or {}).get("Ports") or {}

    def counts(self) -> dict:
        recs = self.list()
        running = sum(1 for r in recs if r["State"]["Running"] and not r["State"]["Paused"])
        paused = sum(1 for r in recs if r["State"]["Paused"])
        return {"total": len(recs), "running": running, "paused": paused,
                "stopped": len(recs) - running - paused}

    def disk_rows(self) -> dict:
        from ..disk import tree_size
        recs = self.list()
        sizes = {r["Id"]: tree_size(self.paths.container(r["Id"]) / "upper") for r in recs}
        active = [r for r in recs if r["State"]["Running"]]
        return {"total": len(recs), "active": len(active), "size": sum(sizes.values()),
                "reclaim": sum(s for cid, s in sizes.items() if cid not in {r["Id"] for r in active})}

    def inspect(self, ref: str) -> dict:
        """Docker's inspect document, with live state folded in. While the stored record,
        the live state and the image's layers are what they were, it is the document made
        before (shared: read-only), which a client polling one container (docker-py,
        testcontainers, 50 at once) mostly asks for: one query instead of four, no
        decoding, no rendering."""
        cid, text = self.store.find(ref)
        base = self.store.decoded(cid, text)
        record = status.refresh(self, {**base, "State": dict(base["State"])})
        chain = self.db.image_chain(record["Image"])  # gone with the image (rmi -f): LowerDir ""
        hit = _RENDERED.get(cid)
        if hit is not None and hit[0] == text and hit[1] == record["State"] and hit[2] == chain:
            return hit[3]
        from ...dockerjson.container import inspect_container
        doc = inspect_container(self, record)
        if len(_RENDERED) >= _RENDERED_MAX:
            _RENDERED.clear()
        _RENDERED[cid] = (text, record["State"], chain, doc)
        return doc


# id -> (stored text, live State, image chain, inspect document), for every engine of the
# process (the API service leases one per thread); entries are replaced, never changed
_RENDERED: dict[str, tuple[str, dict, list, dict]] = {}
_RENDERED_MAX = 256
