"""`ps` / `GET /containers/json`: which containers a ListRequest selects, as Docker selects them.

Cost is one SQL read plus a stat of each running container's exit file, so `ps -a`
stays flat as stopped containers accumulate. Filters arrive parsed (name -> values);
names and values Docker refuses are refused here, with Docker's words, so every
edge answers alike.
"""
from __future__ import annotations

from ...errors import InvalidArgument, PalletError
from ...dockerjson.columns import docker_status
from ..container_types import ListRequest

PS_FILTERS = {"id", "name", "label", "exited", "status", "ancestor", "before", "since",
              "volume", "network", "publish", "expose", "health", "isolation", "is-task"}
HEALTH_STATES = {"starting", "healthy", "unhealthy", "none"}
STATUSES = {"created", "restarting", "running", "removing", "paused", "exited", "dead"}


def select(svc, records: list[dict], req: ListRequest) -> list[dict]:
    """Those of `records` (newest first, live state folded in) that `req` selects."""
    from ...opts.filters import Filters
    f = Filters(req.filters)
    f.validate(PS_FILTERS)
    for s in f.get("status"):
        if s not in STATUSES:
            raise InvalidArgument(f"invalid filter 'status={s}'")
    for h in f.get("health"):
        if h not in HEALTH_STATES:
            raise InvalidArgument(f"Unrecognised filter value for health: {h}")
    show_all = req.all or req.last != -1 or req.latest or "status" in f or "exited" in f
    if not show_all:
        records = [r for r in records if r["State"]["Running"]]
    ancestors = _ancestor_ids(svc.images, f.get("ancestor")) if "ancestor" in f else None
    records = [r for r in records if _keep(r, f, ancestors)]
    records = _before_since(svc, records, f)
    if req.latest:
        records = records[:1]
    elif req.last > -1:
        records = records[:req.last]
    if req.size:
        records = [{**r, **_sizes(svc, r)} for r in records]
    return records


def _ancestor_ids(images, names: list[str]) -> set[str]:
    found = set()
    for name in names:
        try:
            image_id = images.resolve(name)
        except PalletError:  # Docker ignores unknown ancestors
            continue
        found.add(image_id)
        found.update(images.descendants(image_id))
    return found


def _keep(record: dict, f, ancestors) -> bool:
    state = docker_status(record)
    if not f.exact_match("status", state):
        return False
    if "exited" in f and not (state == "exited" and f.exact_match("exited", str(record["State"]["ExitCode"]))):
        return False
    if "health" in f and not f.exact_match("health", (record["State"].get("Health") or {}).get("Status") or "none"):
        return False
    return (f.fuzzy_match("id", record["Id"]) and f.match("name", record["Name"].lstrip("/"))
            and f.match_label(record["Config"].get("Labels"))
            and (ancestors is None or record["Image"] in ancestors))


def _sizes(svc, record: dict) -> dict:
    """Docker's SizeRw (file sizes in the writable layer) and SizeRootFs (that plus the image)."""
    from ..disk import content_size
    written = content_size(svc.paths.container(record["Id"]) / "upper")
    return {"SizeRw": written, "SizeRootFs": written + svc.images.size(record["Image"])}


def _before_since(svc, records: list[dict], f) -> list[dict]:
    for key in ("before", "since"):
        for ref in f.get(key):
            pivot = svc.store.get(svc.resolve(ref))["_created"]
            if key == "before":
                records = [r for r in records if r["_created"] < pivot]
            else:
                records = [r for r in records if r["_created"] > pivot]
    return records
