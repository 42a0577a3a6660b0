"""What other services and `ps`/`system df`/`inspect` ask of the containers: read-only
views over the records (with live state folded in by `get`/`container_status.refresh`).

A mixin of ContainerService (it uses its `store`, `get`, `paths`); it changes nothing.
"""
from __future__ import annotations

from . import container_status as status


class ContainerQueries:
    def image_users(self, image_id: str) -> list[tuple[str, bool]]:
        return [(cid, self.get(cid)["State"]["Running"]) for cid in self.store.ids_using_image(image_id)]

    def image_in_use(self, image_id: str) -> bool:
        return bool(self.store.ids_using_image(image_id))

    def images_in_use(self) -> set[str]:
        return self.store.image_ids()

    def list(self) -> list[dict]:
        return [status.refresh(self, r) for r in self.store.all()]

    def counts(self) -> dict:
        recs = self.list()
        running = sum(1 for r in recs if r["State"]["Running"] and not r["State"]["Paused"])
        paused = sum(1 for r in recs if r["State"]["Paused"])
        return {"total": len(recs), "running": running, "paused": paused,
                "stopped": len(recs) - running - paused}

    def disk_rows(self) -> dict:
        from .disk import tree_size
        recs = self.list()
        sizes = {r["Id"]: tree_size(self.paths.container(r["Id"]) / "upper") for r in recs}
        active = [r for r in recs if r["State"]["Running"]]
        return {"total": len(recs), "active": len(active), "size": sum(sizes.values()),
                "reclaim": sum(s for cid, s in sizes.items() if cid not in {r["Id"] for r in active})}

    def inspect(self, ref: str) -> dict:
        from ..dockerjson.container import inspect_container
        return inspect_container(self, self.get(ref))
