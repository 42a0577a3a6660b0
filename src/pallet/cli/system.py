"""`pallet version`, `pallet info`, `pallet system df`: one engine.system call each, rendered."""
from __future__ import annotations

from ..errors import UsageError
from .flags import Command, F
from . import render


def version(ctx, o, args) -> int:
    data = ctx.engine.system.version()
    if o.format:
        render.inspect(ctx, [data], o.format)
        return 0
    c = data["Client"]
    ctx.out(f"Client:\n Version:           {c['Version']}\n Python version:    {c['PythonVersion']}\n"
            f" OS/Arch:           linux/{c['Arch']}\n\nEngine:\n Runtime:           "
            f"{data['Server']['Runtime']}\n Monitor:           {data['Server']['Monitor']}")
    return 0


def info(ctx, o, args) -> int:
    data = ctx.engine.system.info()
    if o.format:
        render.inspect(ctx, [data], o.format)
        return 0
    ctx.out(f"Client:\n Version:    {data['ServerVersion']}\n\nServer:\n Containers: {data['Containers']}\n"
            f"  Running: {data['ContainersRunning']}\n  Paused: {data['ContainersPaused']}\n"
            f"  Stopped: {data['ContainersStopped']}\n Images: {data['Images']}\n"
            f" Server Version: {data['ServerVersion']}\n Storage Driver: overlay (one unpacked copy per layer)\n"
            f"  Layers: {data['Layers']}\n Cgroup Version: {data['CgroupVersion']}\n"
            f" Default Runtime: runc\n Kernel Version: {data['KernelVersion']}\n"
            f" Operating System: {data['OperatingSystem']}\n Architecture: {data['Architecture']}\n"
            f" CPUs: {data['NCPU']}\n Pallet Root Dir: {data['DockerRootDir']}\n"
            f" Pallet Run Root: {data['RunRoot']}")
    return 0


DF_HEADERS = {"Type": "TYPE", "TotalCount": "TOTAL", "Active": "ACTIVE", "Size": "SIZE",
              "Reclaimable": "RECLAIMABLE"}
# docker/cli's formatter/disk_usage.go: the -v sections, their tables and headers
DF_VERBOSE = (
    ("images", "Images space usage:\n\n",
     "table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}\t{{.SharedSize}}\t"
     "{{.UniqueSize}}\t{{.Containers}}",
     {"Repository": "REPOSITORY", "Tag": "TAG", "ID": "IMAGE ID", "CreatedSince": "CREATED",
      "Size": "SIZE", "SharedSize": "SHARED SIZE", "UniqueSize": "UNIQUE SIZE",
      "Containers": "CONTAINERS"}),
    ("containers", "\nContainers space usage:\n\n",
     "table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.LocalVolumes}}\t{{.Size}}\t{{.RunningFor}}\t"
     "{{.Status}}\t{{.Names}}",
     {"ID": "CONTAINER ID", "Image": "IMAGE", "Command": "COMMAND", "LocalVolumes": "LOCAL VOLUMES",
      "Size": "SIZE", "RunningFor": "CREATED", "Status": "STATUS", "Names": "NAMES"}),
    ("volumes", "\nLocal Volumes space usage:\n\n", "table {{.Name}}\t{{.Links}}\t{{.Size}}",
     {"Name": "VOLUME NAME", "Links": "LINKS", "Size": "SIZE"}),
)


def system_df(ctx, o, args) -> int:
    from ..opts.units import human_size
    usage = ctx.engine.system.df()
    if not o.verbose:
        render.rows(ctx, usage["summary"], o.format,
                    "table {{.Type}}\t{{.TotalCount}}\t{{.Active}}\t{{.Size}}\t{{.Reclaimable}}",
                    DF_HEADERS)
        return 0
    for key, title, table, headers in DF_VERBOSE:
        ctx.stdout.write(title)
        render.rows(ctx, usage[key], None, table, headers)
    ctx.stdout.write(f"\nBuild cache usage: {human_size(usage['build_cache'])}\n\n")
    render.rows(ctx, [], None, "table {{.ID}}\t{{.CacheType}}\t{{.Size}}\t{{.CreatedSince}}\t"
                "{{.LastUsedSince}}\t{{.UsageCount}}\t{{.Shared}}",
                {"ID": "CACHE ID", "CacheType": "CACHE TYPE", "Size": "SIZE", "CreatedSince": "CREATED",
                 "LastUsedSince": "LAST USED", "UsageCount": "USAGE", "Shared": "SHARED"})
    return 0


def system_service(ctx, o, args) -> int:
    """Serve Docker's Engine API (pallet.api) until idle for --timeout seconds (0: forever)."""
    from ..api.server import serve, tls_context
    if o.timeout is not None and o.timeout < 0:
        raise UsageError(f'invalid argument "{o.timeout}" for "-t, --timeout" flag: must not be negative')
    tls = tls_context(o.tlscacert, o.tlscert, o.tlskey) if o.tlsverify else None
    return serve(ctx.engine.paths, args[0] if args else None, o.timeout, o.group, tls)


def system_check(ctx, o, args) -> int:
    """podman's `system check`: damage and leftovers, repaired with -r; fails (podman's words)
    while damage is left."""
    from ..errors import InvalidArgument, PalletError, UsageError
    from ..opts.units import parse_duration
    try:
        max_age = parse_duration(o.max)
    except InvalidArgument as exc:
        raise UsageError(f'invalid argument "{o.max}" for "-m, --max" flag: {exc}') from None
    found, left = ctx.engine.system.check(quick=o.quick, max_age=max_age, repair=o.repair, force=o.force)
    for f in found:
        ctx.out(_finding_line(f))
    if not found:
        return 0
    if not (o.repair or o.force):
        raise PalletError("damage detected in local storage")
    if left:
        for f in left:
            ctx.err(f"still there: {_finding_line(f)}")
        raise PalletError("damage in local storage still present after repair attempt")
    return 0


def _finding_line(f) -> str:
    if f.kind == "leftover":
        return f"{'Removed leftover' if f.repaired else 'Leftover'} {f.subject}: {f.problem}"
    if f.repaired:
        return f"Deleted damaged {f.kind}: {f.subject} ({f.problem})"
    return f"Damaged {f.kind} {f.subject}: {f.problem}"


COMMANDS = [
    Command("version", "[OPTIONS]", "Show the pallet version information", version,
            [F("format", "f", kind="str", help="Format output using a custom template")], 0, 0),
    Command("info", "[OPTIONS]", "Display system-wide information", info,
            [F("format", "f", kind="str", help="Format output using a custom template")], 0, 0,
            aliases=("system info",)),
    Command("system service", "[OPTIONS] [URI]", "Serve the Docker Engine API (default "
            "unix://<runroot>/pallet.sock)", system_service, [
                F("timeout", "t", kind="int", default=5, help="Seconds without a connection before the "
                  "service exits (0: never)"),
                F("group", "G", kind="str", help="Group that may use the unix socket (mode 0660)"),
                F("tlsverify", help="Use TLS and verify the client's certificate"),
                F("tlscacert", kind="str", help="Trust client certificates signed by this CA"),
                F("tlscert", kind="str", help="Path to the TLS certificate file"),
                F("tlskey", kind="str", help="Path to the TLS key file"),
            ], 0, 1),
    Command("system df", "[OPTIONS]", "Show pallet disk usage", system_df, [
        F("format", kind="str", help="Format output using a custom template"),
        F("verbose", "v", help="Show detailed information on space usage"),
    ], 0, 0),
    Command("system check", "[OPTIONS]", "Check storage consistency", system_check, [
        F("force", "f", help="Remove inconsistent images and containers"),
        F("max", "m", kind="str", default="24h", metavar="duration",
          help="Maximum allowed age of unreferenced layers (default 24h0m0s)"),
        F("quick", "q", help="Skip time-consuming checks. The default is to include time-consuming checks"),
        F("repair", "r", help="Remove inconsistent images"),
    ], 0, 0),
]
