"""`pallet version`, `pallet info`, `pallet system df`: one engine.system call each, rendered."""
from __future__ import annotations

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


def system_df(ctx, o, args) -> int:
    rows = ctx.engine.system.df()
    render.rows(ctx, rows, o.format,
                "table {{.Type}}\t{{.TotalCount}}\t{{.Active}}\t{{.Size}}\t{{.Reclaimable}}",
                {"Type": "TYPE", "TotalCount": "TOTAL", "Active": "ACTIVE", "Size": "SIZE",
                 "Reclaimable": "RECLAIMABLE"})
    return 0


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
]
