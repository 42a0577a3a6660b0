"""`pallet events`: the store's event journal, as `docker events` prints it.

Without --since only what happens from now on is shown; with --until the command
ends at that time; otherwise it follows until interrupted.
"""
from __future__ import annotations

import time

from .flags import Command, F


class _Event(dict):
    """An event for --format: docker/cli's events.Message field names; {{json .}} is the wire form."""

    def __init__(self, doc: dict):
        actor = doc.get("Actor") or {}
        super().__init__(Status=doc.get("status", ""), ID=doc.get("id", ""), From=doc.get("from", ""),
                         Type=doc.get("Type", ""), Action=doc.get("Action", ""),
                         Actor={"ID": actor.get("ID", ""), "Attributes": actor.get("Attributes") or {}},
                         Scope=doc.get("scope", "local"), Time=doc.get("time", 0), TimeNano=doc.get("timeNano", 0))
        self.doc = doc

    def __json__(self):
        return self.doc


def rfc3339_nano(time_nano: int) -> str:
    """Go's time.RFC3339Nano in UTC: fractional zeros trimmed."""
    secs, nanos = divmod(time_nano, 1_000_000_000)
    frac = f".{nanos:09d}".rstrip("0").rstrip(".")
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(secs)) + frac + "Z"


def line(doc: dict) -> str:
    actor = doc.get("Actor") or {}
    attrs = ", ".join(f"{k}={v}" for k, v in sorted((actor.get("Attributes") or {}).items()))
    return (f"{rfc3339_nano(doc.get('timeNano', 0))} {doc.get('Type', '')} {doc.get('Action', '')} "
            f"{actor.get('ID', '')}" + (f" ({attrs})" if attrs else ""))


def system_events(ctx, o, args) -> int:
    from ..opts.filters import parse_filters
    from ..opts.timestamps import parse_timestamp
    now = time.time()
    since = parse_timestamp(o.since, now) if o.since else now
    until = parse_timestamp(o.until, now) if o.until else None
    template = None
    if o.format:
        from ..format.template import compile_template
        template = compile_template(o.format)
    events = ctx.engine.events.read(since, until, parse_filters(o.filter), follow=until is None or until > now)
    for doc in events:
        ctx.out(template.render(_Event(doc)) if template else line(doc))
        ctx.stdout.flush()
    return 0


COMMANDS = [
    Command("system events", "[OPTIONS]", "Get real time events from the server", system_events, [
        F("filter", "f", kind="list", help="Filter output based on conditions provided"),
        F("format", kind="str", help="Format output using a custom template"),
        F("since", kind="str", help="Show all events created since timestamp"),
        F("until", kind="str", help="Stream events until this timestamp"),
    ], 0, 0, aliases=("events",)),
]
