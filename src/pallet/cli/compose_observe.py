"""`pallet compose events`, `stats`, `attach` and `watch`: watching a project's containers
(and, for `watch`, its files).

Thin, as the other verbs (pallet.cli.compose_verbs): the project's events come from
pallet.compose.observe, stats and attach reuse `pallet stats` and `pallet attach` on the
project's containers, watch is ComposeService.watch (pallet.compose.watch).
"""
from __future__ import annotations

import json
import time

from ..errors import NotFound
from .flags import Command, F


def events(cc, o, args) -> int:
    """compose v2's events: `--json` prints one object a line ({time, type, service, id,
    action, attributes}); otherwise `2006-01-02 15:04:05.000000 container ACTION ID (k=v, ...)`."""
    from ..opts.timestamps import parse_timestamp
    from .events import rfc3339_nano
    svc = cc.service(args)
    now = time.time()
    since = parse_timestamp(o.since, now) if o.since else now
    until = parse_timestamp(o.until, now) if o.until else None
    for ev in svc.events(args, since, until, follow=until is None or until > now):
        if o.json:
            cc.ctx.out(json.dumps({"action": ev.action, "attributes": ev.attributes, "id": ev.container,
                                   "service": ev.service, "time": rfc3339_nano(ev.time_nano),
                                   "type": "container"}, separators=(",", ":")))
        else:
            attrs = ", ".join(f"{k}={v}" for k, v in sorted(ev.attributes.items()))
            cc.ctx.out(f"{_local(ev.time_nano)} container {ev.action} {ev.container} ({attrs})")
        cc.ctx.stdout.flush()
    return 0


def _local(time_nano: int) -> str:
    secs, nanos = divmod(time_nano, 1_000_000_000)
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(secs)) + f".{nanos // 1000:06d}"


def stats(cc, o, args) -> int:
    """`pallet stats` (same columns, --format, --no-stream, --no-trunc) over the project's
    containers only: with none (running, or at all with -a), the header alone."""
    from ..format.table import format_rows
    from .container_ops import STATS_HEADERS, STATS_TABLE, _stats_rows
    svc = cc.service(args)
    while True:
        ids = svc.stats_targets(args, o.all)
        rows = _stats_rows(cc.engine.containers, o, ids) if ids else []
        text = format_rows(o.format, rows, STATS_TABLE, headers=STATS_HEADERS)
        if o.no_stream:
            cc.ctx.stdout.write(text)
            return 0
        cc.ctx.stdout.write("\033[2J\033[H" + text)
        cc.ctx.stdout.flush()
        time.sleep(0.5)


def attach(cc, o, args) -> int:
    """`pallet attach` to replica `--index` of the service (0, the default: its first); the
    container's exit code, as compose's."""
    from .containers import container_attach
    svc = cc.service([args[0]])
    svc.project.service(args[0])
    found = [svc.container(args[0], o.index)] if o.index else svc.containers([args[0]])
    if not found or not svc.running(found[0]):
        raise NotFound(f'service "{args[0]}" is not running')
    return container_attach(cc.ctx, o, [found[0]["Id"]])


def watch(cc, o, args) -> int:
    """compose's watch: its messages on stdout; ^C or SIGTERM end it with 130, as compose
    exits on either (the containers keep running)."""
    from ..services.compose_types import WatchOptions
    svc = cc.service(args)

    def log(text: str) -> None:
        cc.ctx.out(text)
        cc.ctx.stdout.flush()
    try:
        svc.watch(WatchOptions(services=list(args), no_up=o.no_up, quiet=o.quiet, prune=o.prune), log)
    except KeyboardInterrupt:
        return 130
    return 0


VERBS = [
    Command("attach", "[OPTIONS] SERVICE", "Attach local standard input, output, and error streams to a "
            "service's running container", attach, [
                F("detach-keys", kind="str", help="Override the key sequence for detaching from a container."),
                F("index", kind="int", default=0, help="index of the container if service has multiple "
                  "replicas."),
                F("no-stdin", help="Do not attach STDIN"),
                F("sig-proxy", kind="bool", default=True, help="Proxy all received signals to the process"),
            ], 1, 1),
    Command("events", "[OPTIONS] [SERVICE...]", "Receive real time events from containers", events, [
        F("json", help="Output events as a stream of json objects"),
        F("since", kind="str", help="Show all events created since timestamp"),
        F("until", kind="str", help="Stream events until this timestamp"),
    ]),
    Command("stats", "[OPTIONS] [SERVICE]", "Display a live stream of container(s) resource usage statistics",
            stats, [
                F("all", "a", help="Show all containers (default shows just running)"),
                F("format", kind="str", help="Format output using a custom template"),
                F("no-stream", help="Disable streaming stats and only pull the first result"),
                F("no-trunc", help="Do not truncate output"),
            ], 0, 1),
    Command("watch", "[SERVICE...]", "Watch build context for service and rebuild/refresh containers when files "
            "are updated", watch, [
                F("no-up", help="Do not build & start services before watching"),
                F("prune", kind="bool", default=True, help="Prune dangling images on rebuild"),
                F("quiet", help="hide build output"),
            ]),
]
