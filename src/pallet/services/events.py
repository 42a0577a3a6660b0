"""Docker's events: what each use case records, and `events` reading them back.

Owns the event document (Docker's `events.Message`: Type, Action, Actor{ID,
Attributes}, scope, time, timeNano, and the legacy status/id/from of container and
image events) and Docker's event filters (type, event, container, image, label,
volume, network). Services call `record(...)`; the journal (pallet.store.events)
keeps them, so an event made by a CLI process, the API service or a monitor's exit
command (a container dying with nobody connected) is seen by every reader.
"""
from __future__ import annotations

import time

from ..errors import InvalidArgument

FILTERS = ("type", "event", "container", "image", "label", "volume", "network", "scope", "daemon")


class EventService:
    def __init__(self, paths):
        from ..store.events import Journal
        self.journal = Journal(paths.events)

    def record(self, kind: str, action: str, actor_id: str, attributes: dict | None = None) -> None:
        now = time.time_ns()
        doc = {"Type": kind, "Action": action, "Actor": {"ID": actor_id, "Attributes": attributes or {}},
               "scope": "local", "time": now // 1_000_000_000, "timeNano": now}
        if kind in ("container", "image"):
            doc = {"status": action, "id": actor_id,
                   **({"from": attributes.get("image", "")} if kind == "container" and attributes else {}),
                   **doc}
        self.journal.append(doc)

    def container(self, action: str, record: dict, **extra) -> None:
        """A container's event: `extra` attributes, its labels over them, then image and
        name over both (dockerd's LogContainerEventWithAttributes, in that order)."""
        attrs = {k: str(v) for k, v in extra.items()}
        attrs.update(record["Config"].get("Labels") or {})
        attrs.update(image=record["Config"].get("Image") or record["Image"], name=record["Name"].lstrip("/"))
        self.record("container", action, record["Id"], attrs)

    def container_exec(self, stage: str, record: dict, exec_id: str, argv=(), **extra) -> None:
        """An exec's event, for `exec` and for every healthcheck probe, as dockerd logs both:
        `exec_create: CMD ARGS` and `exec_start: CMD ARGS` (the entrypoint, a space, the
        arguments joined, so a bare command keeps a trailing space), then `exec_die` with
        its exitCode; each with the exec's execID."""
        action = f"{stage}: {argv[0]} {' '.join(argv[1:])}" if argv else stage
        self.container(action, record, execID=exec_id, **extra)

    def read(self, since: float | None = None, until: float | None = None, filters: dict | None = None,
             follow: bool = False, stop=lambda: False):
        """Matching events, oldest first; with `follow` (and no `until` passed yet) new ones
        as they come, until `stop()`."""
        f = _Filters(filters or {})
        ends = (lambda: stop() or time.time() > until) if until is not None else stop
        for doc in self.journal.read(follow=follow, stop=ends):
            t = doc.get("timeNano", 0) / 1e9
            if since is not None and t < since:
                continue
            if until is not None and t > until:
                if follow:
                    return
                continue
            if f.match(doc):
                yield doc


class _Filters:
    def __init__(self, filters: dict[str, list[str]]):
        for key in filters:
            if key not in FILTERS:
                raise InvalidArgument(f"invalid filter '{key}'")
        self.f = filters

    def match(self, doc: dict) -> bool:
        kind, actor = doc.get("Type", ""), doc.get("Actor") or {}
        attrs, actor_id = actor.get("Attributes") or {}, actor.get("ID", "")
        for key, values in self.f.items():
            if not values:
                continue
            if key == "type" and kind not in values:
                return False
            if key == "event" and not _event(doc.get("Action", ""), values):
                return False
            if key in ("container", "image", "volume", "network") and not _actor(kind, key, actor_id, attrs, values):
                return False
            if key == "label" and not any(_label(attrs, v) for v in values):
                return False
            if key == "scope" and "local" not in values:
                return False
        return True


# actions that carry a detail after a colon ("health_status: healthy", "exec_start: ls -l")
_DETAILED = frozenset({"health_status", "exec_create", "exec_start"})


def _event(action: str, values: list[str]) -> bool:
    """Docker's event filter (moby#25798): an exact match, except that once a value names
    one of the detailed actions bare, every value matches as a prefix of the action."""
    if _DETAILED.intersection(values):
        return any(action.startswith(v) for v in values)
    return action in values


def _actor(kind: str, key: str, actor_id: str, attrs: dict, values: list[str]) -> bool:
    if key == "image" and kind == "container":
        return attrs.get("image") in values
    if kind != key:
        return False
    names = {actor_id, attrs.get("name", "")}
    return any(v in names or (len(v) >= 1 and actor_id.startswith(v)) for v in values)


def _label(attrs: dict, wanted: str) -> bool:
    key, eq, value = wanted.partition("=")
    return key in attrs and (not eq or attrs[key] == value)
