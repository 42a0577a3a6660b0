"""What exists of a Compose project: its containers, networks and volumes, found by label.

Owns the reading side docker compose uses: a project is whatever carries
`com.docker.compose.project=<name>` (so a project made by another tool that sets
the same labels is the same project), its containers grouped by service and
ordered by `container-number`, one-off (`run`) containers told apart by
`com.docker.compose.oneoff`, and the list of projects for `ls`. Reads only.
"""
from __future__ import annotations

from .plan import P


def labels_of(record: dict) -> dict:
    return record["Config"].get("Labels") or {}


def containers(engine, project: str, *, oneoff: bool | None = False, services=None) -> list[dict]:
    """The project's container records (live state folded in), by service then number."""
    out = []
    for record in engine.containers.list():
        labels = labels_of(record)
        if labels.get(P + "project") != project:
            continue
        if oneoff is not None and (labels.get(P + "oneoff") == "True") != oneoff:
            continue
        if services and labels.get(P + "service") not in services:
            continue
        out.append(record)
    return sorted(out, key=_order)


def _order(record: dict):
    labels = labels_of(record)
    try:
        number = int(labels.get(P + "container-number", "0"))
    except ValueError:
        number = 0
    return labels.get(P + "service", ""), number, record["Name"]


def service_of(record: dict) -> str:
    return labels_of(record).get(P + "service", "")


def number_of(record: dict) -> int:
    try:
        return int(labels_of(record).get(P + "container-number", "0"))
    except ValueError:
        return 0


def name_of(record: dict) -> str:
    return record["Name"].lstrip("/")


def running(record: dict) -> bool:
    return bool(record["State"]["Running"])


def projects(engine, all_states: bool = False) -> list[dict]:
    """`ls`: one row per project, with docker compose's status text (`running(2)`)."""
    found: dict[str, dict] = {}
    for record in engine.containers.list():
        labels = labels_of(record)
        name = labels.get(P + "project")
        if not name:
            continue
        from ..dockerjson.columns import docker_status
        state = docker_status(record)
        if not all_states and state != "running":
            continue  # compose counts only running containers without -a
        row = found.setdefault(name, {"Name": name, "states": {}, "ConfigFiles": labels.get(
            P + "project.config_files", "")})
        row["states"][state] = row["states"].get(state, 0) + 1
    out = []
    for name in sorted(found):
        row = found[name]
        text = ", ".join(f"{s}({n})" for s, n in sorted(row["states"].items()))
        out.append({"Name": name, "Status": text, "ConfigFiles": row["ConfigFiles"]})
    return out


def project_from_labels(engine, name: str):
    """The project as its labels describe it, for `-p NAME` without a Compose file (down, ps,
    logs, stop ... of a project whose files are gone), as docker compose rebuilds it: its
    services from its containers, its networks and volumes from theirs."""
    from .project import Project
    project = Project(name=name, working_dir="", config_files=[])
    for record in containers(engine, name, oneoff=None):
        project.services.setdefault(service_of(record), {})
    for net in engine.networks.list():
        labels = net.get("Labels") or {}
        if labels.get(P + "project") == name:
            project.networks[labels.get(P + "network", net["Name"])] = {"name": net["Name"]}
    for vol in engine.volumes.list():
        labels = vol.labels or {}
        if labels.get(P + "project") == name:
            project.volumes[labels.get(P + "volume", vol.name)] = {"name": vol.name}
    return project
