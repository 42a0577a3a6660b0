"""`pallet volume create|ls|inspect|rm|prune`: decode flags, call VolumeService, render."""
from __future__ import annotations

from . import render
from .flags import Command, F

VOLUME_HEADERS = {"Driver": "DRIVER", "Name": "VOLUME NAME", "Mountpoint": "MOUNTPOINT",
                  "Labels": "LABELS", "Scope": "SCOPE", "CreatedAt": "CREATED AT", "Links": "LINKS",
                  "Size": "SIZE"}


def _service(ctx):
    return ctx.engine.volumes


def _pairs(items: list[str], what: str) -> dict[str, str]:
    from ..errors import UsageError
    out = {}
    for item in items:
        key, eq, value = item.partition("=")
        if what == "opt" and not eq:
            raise UsageError(f'invalid argument "{item}" for "-o, --opt" flag: '
                             "invalid key value pair format in driver options")
        out[key] = value
    return out


def volume_create(ctx, o, args) -> int:
    from ..errors import UsageError
    if o.name and args and o.name != args[0]:
        raise UsageError(f"conflicting options: cannot specify a volume-name through both "
                         f"--name and as a positional arg")
    name = o.name or (args[0] if args else None)
    vol = _service(ctx).create(name, o.driver, _pairs(o.label, "label"), _pairs(o.opt, "opt"))
    ctx.out(vol.name)
    return 0


class _Row(dict):
    def Label(self, key: str) -> str:  # noqa: N802 - Docker's template method name
        return (self["_labels"] or {}).get(key, "")

    def __json__(self):
        from ..dockerjson.container import public_sorted
        return public_sorted(self)


def volume_ls(ctx, o, args) -> int:
    from ..opts.filters import parse_filters
    vols = _service(ctx).list(parse_filters(o.filter))
    if o.quiet:
        ctx.stdout.write("".join(v.name + "\n" for v in vols))
        return 0
    rows = [_Row(Driver=v.driver, Name=v.name, Mountpoint=str(v.mountpoint), Scope="local",
                 Labels=",".join(f"{k}={val}" for k, val in v.labels.items()),
                 Links="N/A", Size="N/A", Availability="N/A", Group="N/A", Status="N/A",
                 _labels=v.labels) for v in vols]
    render.rows(ctx, rows, o.format, "table {{.Driver}}\t{{.Name}}", VOLUME_HEADERS,
                "*formatter.volumeContext")
    return 0


def volume_inspect(ctx, o, args) -> int:
    return render.inspect_each(ctx, args, _service(ctx).inspect, o.format)


def volume_rm(ctx, o, args) -> int:
    from ..errors import PalletError
    svc, failed = _service(ctx), False
    for name in args:
        try:
            svc.remove(name, force=o.force)
        except PalletError as exc:  # Docker reports each name and goes on
            ctx.err(f"Error: {exc}")
            failed = True
            continue
        ctx.out(name)
    return 1 if failed else 0


def volume_prune(ctx, o, args) -> int:
    from ..opts.filters import parse_filters
    from ..opts.units import human_size
    filters = parse_filters(o.filter)
    everything = o.all or "all" in filters
    warning = ("WARNING! This will remove all local volumes not used by at least one container."
               if everything else
               "WARNING! This will remove anonymous local volumes not used by at least one container.")
    if not o.force and not render.confirm(ctx, warning):
        return 0
    removed, freed = _service(ctx).prune(o.all, filters)
    if removed:
        ctx.out("Deleted Volumes:")
        for name in removed:
            ctx.out(name)
        ctx.out("")
    ctx.out(f"Total reclaimed space: {human_size(freed)}")
    return 0


COMMANDS = [
    Command("volume create", "[OPTIONS] [VOLUME]", "Create a volume", volume_create, [
        F("driver", "d", kind="str", default="local", help='Specify volume driver name (default "local")'),
        F("label", kind="list", help="Set metadata for a volume"),
        F("name", kind="str", hidden=True),
        F("opt", "o", kind="list", metavar="map", help="Set driver specific options (default map[])"),
    ], 0, 1),
    Command("volume ls", "[OPTIONS]", "List volumes", volume_ls, [
        F("filter", "f", kind="list", metavar="filter",
          help='Provide filter values (e.g. "dangling=true")'),
        F("format", kind="str", help="Format output using a custom template"),
        F("quiet", "q", help="Only display volume names"),
    ], 0, 0, aliases=("volume list",)),
    Command("volume inspect", "[OPTIONS] VOLUME [VOLUME...]",
            "Display detailed information on one or more volumes", volume_inspect, [
                F("format", "f", kind="str", help="Format output using a custom template"),
            ], 1),
    Command("volume rm", "[OPTIONS] VOLUME [VOLUME...]",
            "Remove one or more volumes. You cannot remove a volume that is in use by a container.",
            volume_rm, [F("force", "f", help="Force the removal of one or more volumes")], 1,
            aliases=("volume remove",)),
    Command("volume prune", "[OPTIONS]", "Remove unused local volumes", volume_prune, [
        F("all", "a", help="Remove all unused volumes, not just anonymous ones"),
        F("filter", kind="list", metavar="filter", help='Provide filter values (e.g. "label=<label>")'),
        F("force", "f", help="Do not prompt for confirmation"),
    ], 0, 0),
]
