"""`pallet version`, `pallet info`, `pallet system df|prune`."""
from __future__ import annotations

import os
import platform
import shutil
import subprocess
import sys

from .. import __version__
from .flags import Command, F
from . import render


def _tool_version(cmd: list[str]) -> str:
    if not shutil.which(cmd[0]):
        return "not installed"
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=5).stdout
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"
    return (out.splitlines() or ["unknown"])[0]


def version(ctx, o, args) -> int:
    data = {"Client": {"Version": __version__, "Os": "linux", "Arch": platform.machine(),
                       "PythonVersion": platform.python_version()},
            "Server": {"Runtime": _tool_version(["runc", "--version"]),
                       "Monitor": _tool_version(["conmon", "--version"])}}
    if o.format:
        render.inspect(ctx, [data], o.format)
        return 0
    c = data["Client"]
    ctx.out(f"Client:\n Version:           {c['Version']}\n Python version:    {c['PythonVersion']}\n"
            f" OS/Arch:           linux/{c['Arch']}\n\nEngine:\n Runtime:           "
            f"{data['Server']['Runtime']}\n Monitor:           {data['Server']['Monitor']}")
    return 0


def info(ctx, o, args) -> int:
    eng = ctx.engine
    images = eng.db.images()
    n_layers = len(eng.db.all_layers())
    containers = eng.containers.counts() if hasattr(eng, "containers") and _has("containers") else {}
    data = {
        "Containers": containers.get("total", 0), "ContainersRunning": containers.get("running", 0),
        "ContainersPaused": containers.get("paused", 0), "ContainersStopped": containers.get("stopped", 0),
        "Images": len(images), "Layers": n_layers, "Driver": "overlay",
        "DockerRootDir": str(eng.paths.root), "RunRoot": str(eng.paths.runroot),
        "OperatingSystem": _os_name(), "KernelVersion": platform.release(),
        "Architecture": platform.machine(), "NCPU": os.cpu_count(),
        "CgroupVersion": "2" if os.path.exists("/sys/fs/cgroup/cgroup.controllers") else "1",
        "DefaultRuntime": "runc", "ServerVersion": __version__,
    }
    if o.format:
        render.inspect(ctx, [data], o.format)
        return 0
    ctx.out(f"Client:\n Version:    {__version__}\n\nServer:\n Containers: {data['Containers']}\n"
            f"  Running: {data['ContainersRunning']}\n  Paused: {data['ContainersPaused']}\n"
            f"  Stopped: {data['ContainersStopped']}\n Images: {data['Images']}\n"
            f" Server Version: {__version__}\n Storage Driver: overlay (one unpacked copy per layer)\n"
            f"  Layers: {n_layers}\n Cgroup Version: {data['CgroupVersion']}\n"
            f" Default Runtime: runc\n Kernel Version: {data['KernelVersion']}\n"
            f" Operating System: {data['OperatingSystem']}\n Architecture: {data['Architecture']}\n"
            f" CPUs: {data['NCPU']}\n Pallet Root Dir: {data['DockerRootDir']}\n"
            f" Pallet Run Root: {data['RunRoot']}")
    return 0


def _has(name: str) -> bool:
    import importlib.util
    return importlib.util.find_spec(f"pallet.services.{name}") is not None


def _os_name() -> str:
    try:
        for line in open("/etc/os-release"):
            if line.startswith("PRETTY_NAME="):
                return line.split("=", 1)[1].strip().strip('"')
    except OSError:
        pass
    return "Linux"


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
    from ..services.disk import disk_usage
    usage = disk_usage(ctx.engine, ctx.engine.containers)
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


def system_check(ctx, o, args) -> int:
    """podman's `system check`: damage and leftovers, repaired with -r; fails (podman's words)
    while damage is left."""
    from ..errors import PalletError
    from ..services import system_check as sc
    from ..errors import InvalidArgument, UsageError
    from ..opts.units import parse_duration
    try:
        max_age = parse_duration(o.max)
    except InvalidArgument as exc:
        raise UsageError(f'invalid argument "{o.max}" for "-m, --max" flag: {exc}') from None
    findings = sc.check(ctx.engine, quick=o.quick, max_age=max_age)
    if o.repair or o.force:
        sc.repair(findings, force=o.force)
    for f in findings:
        ctx.out(_finding_line(f))
    if not findings:
        return 0
    if not (o.repair or o.force):
        raise PalletError("damage detected in local storage")
    left = sc.check(ctx.engine, quick=o.quick, max_age=max_age)
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

_ = sys
