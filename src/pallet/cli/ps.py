"""`pallet ps`: rows from one query over the records, filtered as Docker filters them.

Cost is one SQL read plus a stat of each running container's exit file, so
`ps -a` stays flat as stopped containers accumulate.
"""
from __future__ import annotations

import time

from ..errors import InvalidArgument

PS_FILTERS = {"id", "name", "label", "exited", "status", "ancestor", "before", "since",
              "volume", "network", "publish", "expose", "health", "isolation", "is-task"}
HEALTH_STATES = {"starting", "healthy", "unhealthy", "none"}
STATUSES = {"created", "restarting", "running", "removing", "paused", "exited", "dead"}


def _ancestor_ids(svc, names: list[str]) -> set[str]:
    images = svc.engine.images
    found = set()
    for name in names:
        try:
            image_id = images.resolve(name)
        except Exception:  # noqa: BLE001 - Docker ignores unknown ancestors
            continue
        found.add(image_id)
        found.update(_descendants(svc.engine.db, image_id))
    return found


def _descendants(db, image_id: str) -> set[str]:
    out, todo = set(), [image_id]
    while todo:
        for child in db.children(todo.pop()):
            if child not in out:
                out.add(child)
                todo.append(child)
    return out


def _keep(record: dict, f, ancestors) -> bool:
    from ..services import container_status as status
    state = status.docker_status(record)
    if not f.exact_match("status", state):
        return False
    if "exited" in f and not (state == "exited" and f.exact_match("exited", str(record["State"]["ExitCode"]))):
        return False
    if "health" in f and not f.exact_match("health", (record["State"].get("Health") or {}).get("Status") or "none"):
        return False
    return (f.fuzzy_match("id", record["Id"]) and f.match("name", record["Name"].lstrip("/"))
            and f.match_label(record["Config"].get("Labels"))
            and (ancestors is None or record["Image"] in ancestors))


def check_format(fmt: str) -> None:
    """docker/cli runs a `ps --format` on an empty row before it asks for any container, so a
    bad template fails (exit 1) even when nothing would be listed."""
    from ..dockerjson.container import PsRow
    from ..format.template import compile_template
    try:
        template = compile_template(fmt)
    except InvalidArgument as exc:
        raise InvalidArgument(f"failed to parse template: {exc}") from None
    try:
        template.render(PsRow.empty())
    except InvalidArgument as exc:
        raise InvalidArgument(f"failed to execute template: {exc}") from None


def list_rows(svc, o, size: bool = False) -> list[dict]:
    from ..dockerjson.container import ps_row
    from ..opts.filters import Filters
    f = Filters.parse(o.filter, PS_FILTERS)
    for s in f.get("status"):
        if s not in STATUSES:
            raise InvalidArgument(f"invalid filter 'status={s}'")
    for h in f.get("health"):
        if h not in HEALTH_STATES:
            raise InvalidArgument(f"Unrecognised filter value for health: {h}")
    records = svc.list()  # newest first
    show_all = o.all or o.last != -1 or o.latest or "status" in f or "exited" in f
    if not show_all:
        records = [r for r in records if r["State"]["Running"]]
    ancestors = _ancestor_ids(svc, f.get("ancestor")) if "ancestor" in f else None
    records = [r for r in records if _keep(r, f, ancestors)]
    records = _before_since(svc, records, f)
    if o.latest:
        records = records[:1]
    elif o.last > -1:
        records = records[:o.last]
    now = time.time()
    rows = [ps_row(svc, r, trunc=not o.no_trunc, now=now) for r in records]
    if size:
        for row, record in zip(rows, records):
            row["Size"] = _size_text(svc, record)
    return rows


def _size_text(svc, record: dict) -> str:
    """``ps -s``: what the container wrote (Docker's SizeRw: file sizes in its writable
    layer) and, as "virtual", that plus its image."""
    from ..opts.units import human_size
    from ..services.disk import content_size
    written = content_size(svc.paths.container(record["Id"]) / "upper")
    image = svc.engine.db.image(record["Image"])
    return f"{human_size(written)} (virtual {human_size(written + (image.size if image else 0))})"


def _before_since(svc, records: list[dict], f) -> list[dict]:
    for key in ("before", "since"):
        for ref in f.get(key):
            pivot = svc.store.get(svc.resolve(ref))["_created"]
            if key == "before":
                records = [r for r in records if r["_created"] < pivot]
            else:
                records = [r for r in records if r["_created"] > pivot]
    return records
