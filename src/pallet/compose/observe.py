"""What a project's containers do, as `docker compose events` and `stats` show it.

Owns the project's view of the store's event journal (pallet.services.events): container
events whose labels name the project, one-off (`run`) containers left out, optionally only
some services, with compose's own labels dropped from the attributes (compose v2 does the
same), as records `ProjectEvent`; and the container IDs `stats` samples. Reads only.
"""
from __future__ import annotations

from dataclasses import dataclass

from . import state
from .plan import P


@dataclass(frozen=True)
class ProjectEvent:
    time_nano: int
    service: str
    container: str      # the container's full ID
    action: str         # Docker's Action: create, start, die, health_status: healthy, ...
    attributes: dict    # the actor's attributes without com.docker.compose.* labels


def events(engine, project_name: str, services=(), since: float | None = None, until: float | None = None,
           follow: bool = False, stop=lambda: False):
    """The project's container events, oldest first (see the module docstring)."""
    wanted = set(services)
    filters = {"type": ["container"], "label": [f"{P}project={project_name}"]}
    for doc in engine.events.read(since, until, filters, follow=follow, stop=stop):
        attrs = (doc.get("Actor") or {}).get("Attributes") or {}
        if attrs.get(P + "oneoff") == "True":
            continue
        service = attrs.get(P + "service", "")
        if wanted and service not in wanted:
            continue
        yield ProjectEvent(doc.get("timeNano", 0), service, doc["Actor"]["ID"], doc.get("Action", ""),
                           {k: v for k, v in attrs.items() if not k.startswith(P)})


def stats_targets(compose, services=(), all_containers: bool = False) -> list[str]:
    """The IDs `compose stats` samples: the project's service containers (running ones
    unless `all_containers`), in name order."""
    records = compose.containers(list(services) or None)
    return [r["Id"] for r in sorted(records, key=state.name_of)
            if all_containers or state.running(r)]
