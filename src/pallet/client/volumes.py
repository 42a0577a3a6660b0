"""`volume ls|create|inspect|rm` over the Engine API, answering with the local driver's
Volume records (name, driver, mountpoint, labels) that the CLI renders."""
from __future__ import annotations

from .transport import path_of


def _volume(doc: dict):
    from pathlib import Path
    from ..volume.local import Volume
    return Volume(name=doc["Name"], created=doc.get("CreatedAt") or "", labels=doc.get("Labels") or {},
                  options=doc.get("Options") or {}, mountpoint=Path(doc.get("Mountpoint") or ""),
                  driver=doc.get("Driver") or "local")


class RemoteVolumes:
    def __init__(self, transport):
        self.t = transport

    def list(self, filters: dict | None = None) -> list:
        doc = self.t.call("GET", "/volumes", {"filters": filters or None}) or {}
        return sorted((_volume(v) for v in doc.get("Volumes") or []), key=lambda v: v.name)

    def inspect(self, name: str) -> dict:
        return self.t.call("GET", path_of("/volumes/{}", name))

    def create(self, name: str | None = None, driver: str = "local", labels: dict | None = None,
               options: dict | None = None):
        return _volume(self.t.call("POST", "/volumes/create", body={
            "Name": name or "", "Driver": driver or "local", "Labels": labels or {}, "DriverOpts": options or {}}))

    def remove(self, name: str, force: bool = False) -> None:
        self.t.request("DELETE", path_of("/volumes/{}", name), {"force": force or None})

    def prune(self, all_volumes: bool = False, filters: dict | None = None) -> tuple[list[str], int]:
        filters = dict(filters or {})
        if all_volumes:
            filters["all"] = ["true"]
        doc = self.t.call("POST", "/volumes/prune", {"filters": filters or None}) or {}
        return doc.get("VolumesDeleted") or [], int(doc.get("SpaceReclaimed") or 0)
